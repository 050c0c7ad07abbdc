using System.Text.RegularExpressions;
using Platform.Contracts;
using Tomlyn;
using Tomlyn.Model;

namespace Platform.Bundles;

/// <summary>
/// Parses spin.toml (manifest version 2) into <see cref="SpinManifest"/>, field names and forms as Spin's
/// <c>crates/manifest/src/schema/v2.rs</c> has them. Anything Spin has that this platform does not run is refused
/// with the key named, never silently dropped; keys Spin itself ignores (<c>tool</c>, <c>build</c>) are ignored.
/// </summary>
public static partial class SpinManifestParser
{
    /// <exception cref="BundleException">Malformed TOML (with line and column), an unknown or unsupported key, a bad value.</exception>
    public static SpinManifest Parse(string text)
    {
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text)
                ?? throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", "spin.toml is empty.");
        }
        catch (TomlException ex)
        {
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml",
                $"spin.toml is not valid TOML at line {ex.Line}, column {ex.Column}: {FirstLine(ex.Message)}");
        }

        CheckVersion(root);
        CheckKeys(root, "", ["spin_manifest_version", "application", "variables", "trigger", "component"]);
        var declarations = ParseVariables(root);
        var application = ParseApplication(Required<TomlTable>(root, "application", ""));
        var components = new List<SpinComponent>();
        var componentIds = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetValue("component", out var componentValue))
        {
            var table = As<TomlTable>(componentValue, "component");
            foreach (var (id, value) in table)
            {
                CheckComponentId(id, $"component.{id}");
                components.Add(ParseComponent(id, As<TomlTable>(value, $"component.{id}"), $"component.{id}", declarations));
                componentIds.Add(id);
            }
        }

        var triggers = ParseTriggers(root, components, componentIds, HttpBase(root), declarations);
        return new SpinManifest(application, triggers, components, declarations);
    }

    private static void CheckVersion(TomlTable root)
    {
        if (root.TryGetValue("spin_version", out var old) || (root.TryGetValue("spin_manifest_version", out var v1) && v1 is "1" or 1L))
        {
            _ = old;
            throw BundleException.Invalid("unsupported-manifest-version", "Manifest version 1 not supported",
                "spin.toml is a version 1 manifest (spin_manifest_version = \"1\"); only version 2 is supported. `spin doctor` or the Spin docs' upgrade guide convert it (spin_manifest_version = 2, [[trigger.http]] with component = \"...\").");
        }
        if (!root.TryGetValue("spin_manifest_version", out var version))
        {
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", "spin.toml has no 'spin_manifest_version'; write spin_manifest_version = 2 at its top.");
        }
        if (version is not (2L or "2"))
        {
            throw BundleException.Invalid("unsupported-manifest-version", "Unsupported manifest version",
                $"spin_manifest_version is '{version}'; only version 2 is supported.");
        }
    }

    private static SpinApplication ParseApplication(TomlTable table)
    {
        CheckKeys(table, "application", ["name", "version", "description", "authors", "tool", "trigger"]);
        if (table.TryGetValue("trigger", out var global))
        {
            foreach (var (type, settings) in As<TomlTable>(global, "application.trigger"))
            {
                if (type != "http")
                {
                    throw BundleException.Unsupported($"application.trigger.{type}", $"Trigger type '{type}' is not supported; only http is");
                }
                CheckKeys(As<TomlTable>(settings, "application.trigger.http"), "application.trigger.http", ["base"]);
            }
        }
        var name = Required<string>(table, "name", "application");
        if (name.Length == 0)
        {
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", "application.name must not be empty.");
        }
        return new SpinApplication(name, Optional<string>(table, "version", "application"), Optional<string>(table, "description", "application"),
            StringList(table, "authors", "application"));
    }

    /// <summary>
    /// <c>[variables]</c>: each <c>name = { default = "..." }</c>, <c>{ required = true }</c>, optionally
    /// <c>secret = true</c>; exactly one of default and required, as Spin requires.
    /// </summary>
    private static SortedDictionary<string, SpinVariableDeclaration> ParseVariables(TomlTable root)
    {
        var declarations = new SortedDictionary<string, SpinVariableDeclaration>(StringComparer.Ordinal);
        if (!root.TryGetValue("variables", out var value))
        {
            return declarations;
        }
        foreach (var (name, item) in As<TomlTable>(value, "variables"))
        {
            var path = $"variables.{name}";
            if (SpinVariables.NameError(name) is { } nameError)
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable", $"[variables] declares '{name}', which is not a valid variable name: {nameError}.");
            }
            var table = As<TomlTable>(item, path);
            CheckKeys(table, path, ["description", "default", "required", "secret"]);
            _ = Optional<string>(table, "description", path);
            var defaultValue = Optional<string>(table, "default", path);
            var required = table.TryGetValue("required", out var r) && As<bool>(r, $"{path}.required");
            var secret = table.TryGetValue("secret", out var sv) && As<bool>(sv, $"{path}.secret");
            if (required && defaultValue is not null)
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable",
                    $"Variable '{name}' has both a default and required = true; give one of them.");
            }
            if (!required && defaultValue is null)
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable",
                    $"Variable '{name}' has neither a default nor required = true; write {name} = {{ default = \"...\" }} or {name} = {{ required = true }}.");
            }
            if (defaultValue is { Length: > SpinVariables.MaxTemplateLength } || defaultValue?.Contains('\0') == true)
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable",
                    $"The default of variable '{name}' is longer than {SpinVariables.MaxTemplateLength} characters or has a NUL character.");
            }
            declarations[name] = new SpinVariableDeclaration(defaultValue, required, secret);
        }
        return declarations;
    }

    private static SortedDictionary<string, string> ParseComponentVariables(string id, TomlTable table, string path, IReadOnlyDictionary<string, SpinVariableDeclaration> declarations)
    {
        var templates = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!table.TryGetValue("variables", out var value))
        {
            return templates;
        }
        foreach (var (key, item) in As<TomlTable>(value, $"{path}.variables"))
        {
            if (SpinVariables.NameError(key) is { } keyError)
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable",
                    $"Component '{id}' has the variable '{key}', which is not a valid variable name: {keyError}.");
            }
            var text = As<string>(item, $"{path}.variables.{key}");
            if (!SpinTemplate.TryParse(text, out var template, out var templateError))
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable",
                    $"Component '{id}' variable '{key}' has the template \"{text}\", which is invalid: {templateError}.");
            }
            foreach (var reference in template.References)
            {
                if (!declarations.ContainsKey(reference))
                {
                    throw BundleException.Invalid("unknown-variable", "Unknown variable",
                        $"Component '{id}' variable '{key}' refers to '{reference}' (template \"{text}\"), but [variables] declares {(declarations.Count == 0 ? "no variables" : string.Join(", ", declarations.Keys.Select(k => $"'{k}'")))}.");
                }
            }
            templates[key] = text;
        }
        return templates;
    }

    private static SpinComponent ParseComponent(string id, TomlTable table, string path, IReadOnlyDictionary<string, SpinVariableDeclaration> declarations)
    {
        CheckKeys(table, path, ["source", "description", "variables", "environment", "files", "exclude_files", "allowed_http_hosts",
            "allowed_outbound_hosts", "key_value_stores", "sqlite_databases", "ai_models", "build", "tool",
            "dependencies_inherit_configuration", "dependencies"]);
        foreach (var key in (string[])["key_value_stores", "sqlite_databases", "ai_models", "dependencies"])
        {
            if (table.TryGetValue(key, out var value) && !IsEmpty(value))
            {
                throw BundleException.Unsupported($"{path}.{key}", $"Component '{id}' uses '{key}', which this platform does not offer");
            }
        }
        if (table.TryGetValue("allowed_http_hosts", out var httpHosts) && !IsEmpty(httpHosts))
        {
            throw BundleException.Unsupported($"{path}.allowed_http_hosts",
                $"Component '{id}' uses the deprecated 'allowed_http_hosts'; write 'allowed_outbound_hosts' (e.g. [\"https://example.com\"]) instead");
        }
        if (table.TryGetValue("dependencies_inherit_configuration", out var inherit) && inherit is true)
        {
            throw BundleException.Unsupported($"{path}.dependencies_inherit_configuration", $"Component '{id}' asks for component dependencies, which this platform does not offer");
        }

        var source = Required<object>(table, "source", path);
        if (source is TomlTable remote)
        {
            var key = remote.ContainsKey("url") ? "source.url" : remote.ContainsKey("package") || remote.ContainsKey("registry") ? "source.package" : "source";
            throw BundleException.Unsupported($"{path}.{key}",
                $"Component '{id}' takes its Wasm from outside the bundle ({key}); put the .wasm file in the bundle and give its path as source = \"...\"");
        }
        var sourcePath = As<string>(source, $"{path}.source");

        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (table.TryGetValue("environment", out var env))
        {
            foreach (var (name, value) in As<TomlTable>(env, $"{path}.environment"))
            {
                if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                {
                    throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"{path}.environment has the variable name '{name}', which cannot be an environment variable.");
                }
                environment[name] = As<string>(value, $"{path}.environment.{name}");
            }
        }

        var files = new List<SpinFileMount>();
        if (table.TryGetValue("files", out var filesValue))
        {
            var i = 0;
            foreach (var item in As<TomlArray>(filesValue, $"{path}.files"))
            {
                var where = $"{path}.files[{i++}]";
                switch (item)
                {
                    case string pattern:
                        files.Add(new SpinFileMount(pattern, null, null));
                        break;
                    case TomlTable placement:
                        CheckKeys(placement, where, ["source", "destination"]);
                        files.Add(new SpinFileMount(null, Required<string>(placement, "source", where), Required<string>(placement, "destination", where)));
                        break;
                    default:
                        throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"{where} must be a glob string or a {{ source, destination }} table, not {Describe(item)}.");
                }
            }
        }
        return new SpinComponent(id, sourcePath, Optional<string>(table, "description", path), environment, files,
            StringList(table, "exclude_files", path), StringList(table, "allowed_outbound_hosts", path),
            ParseComponentVariables(id, table, path, declarations));
    }

    /// <summary>Spin 2's <c>[application.trigger.http] base</c>: a prefix of every HTTP route ("/" when absent).</summary>
    private static string HttpBase(TomlTable root)
    {
        if (root["application"] is TomlTable app && app.TryGetValue("trigger", out var t) && t is TomlTable triggers
            && triggers.TryGetValue("http", out var h) && h is TomlTable http && http.TryGetValue("base", out var b))
        {
            var value = As<string>(b, "application.trigger.http.base");
            if (!value.StartsWith('/'))
            {
                throw BundleException.Invalid("invalid-route", "Invalid route", $"application.trigger.http.base '{value}' must start with '/'.");
            }
            return value;
        }
        return "/";
    }

    private static string WithBase(string httpBase, string route) =>
        httpBase is "/" or "" || !route.StartsWith('/') ? route : httpBase.TrimEnd('/') + route;

    private static List<SpinHttpTrigger> ParseTriggers(TomlTable root, List<SpinComponent> components, HashSet<string> componentIds, string httpBase,
        IReadOnlyDictionary<string, SpinVariableDeclaration> declarations)
    {
        var raw = new List<(TomlTable Table, string Path)>();
        if (root.TryGetValue("trigger", out var triggerValue))
        {
            foreach (var (type, list) in As<TomlTable>(triggerValue, "trigger"))
            {
                if (type != "http")
                {
                    throw BundleException.Unsupported($"trigger.{type}", $"Trigger type '{type}' is not supported; only [[trigger.http]] is");
                }
                var i = 0;
                foreach (var item in list switch
                {
                    TomlTableArray array => array.ToList(),
                    TomlArray array => array.Select((t, j) => As<TomlTable>(t, $"trigger.http[{j}]")).ToList(),
                    _ => throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", "trigger.http must be an array of tables ([[trigger.http]])."),
                })
                {
                    raw.Add((item, $"trigger.http[{i++}]"));
                }
            }
        }

        // Trigger ids first (Spin: "{component}-http-trigger", else "http-trigger{n}"), then inline components
        // ("{trigger-id}-component", else "inline-component{n}"), so ids match what Spin would assign.
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (table, path) in raw)
        {
            if (Optional<string>(table, "id", path) is { Length: > 0 } given)
            {
                ids.Add(given);
            }
        }
        var triggers = new List<SpinHttpTrigger>();
        var triggerCounter = 1;
        var inlineCounter = 1;
        foreach (var (table, path) in raw)
        {
            CheckKeys(table, path, ["id", "component", "components", "route", "executor"]);
            if (table.TryGetValue("components", out var extra) && !IsEmpty(extra))
            {
                throw BundleException.Unsupported($"{path}.components", "Per-trigger component maps (middleware, dependencies) are not supported");
            }
            var componentValue = Required<object>(table, "component", path);
            var id = Optional<string>(table, "id", path);
            if (string.IsNullOrEmpty(id))
            {
                var candidate = componentValue is string reference ? $"{reference}-http-trigger" : null;
                if (candidate is not null && ids.Add(candidate))
                {
                    id = candidate;
                }
                else
                {
                    do
                    {
                        id = $"http-trigger{triggerCounter++}";
                    }
                    while (!ids.Add(id));
                }
            }

            string component;
            switch (componentValue)
            {
                case string reference:
                    if (!componentIds.Contains(reference))
                    {
                        throw BundleException.Invalid("unknown-component", "Unknown component",
                            $"{path}.component names '{reference}', but no [component.{reference}] exists (components: {(componentIds.Count == 0 ? "none" : string.Join(", ", componentIds.Select(c => $"'{c}'")))}).");
                    }
                    component = reference;
                    break;
                case TomlTable inline:
                    var natural = $"{id}-component";
                    if (!KebabId().IsMatch(natural) || componentIds.Contains(natural))
                    {
                        do
                        {
                            natural = $"inline-component{inlineCounter++}";
                        }
                        while (componentIds.Contains(natural));
                    }
                    components.Add(ParseComponent(natural, inline, $"{path}.component", declarations));
                    componentIds.Add(natural);
                    component = natural;
                    break;
                default:
                    throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"{path}.component must be a component id or an inline table, not {Describe(componentValue)}.");
            }

            string? route;
            var routeValue = Required<object>(table, "route", path);
            switch (routeValue)
            {
                case string r:
                    route = WithBase(httpBase, r);
                    break;
                case TomlTable routeTable:
                    CheckKeys(routeTable, $"{path}.route", ["private"]);
                    if (!routeTable.TryGetValue("private", out var isPrivate) || isPrivate is not true)
                    {
                        throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"{path}.route as a table must be {{ private = true }}.");
                    }
                    route = null;
                    break;
                default:
                    throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"{path}.route must be a string such as \"/api/...\", not {Describe(routeValue)}.");
            }

            var executor = SpinExecutors.Http;
            string? entrypoint = null, argv = null;
            if (table.TryGetValue("executor", out var executorValue))
            {
                var executorTable = As<TomlTable>(executorValue, $"{path}.executor");
                var type = Required<string>(executorTable, "type", $"{path}.executor");
                switch (type)
                {
                    case "wagi":
                        CheckKeys(executorTable, $"{path}.executor", ["type", "entrypoint", "argv"]);
                        executor = SpinExecutors.Wagi;
                        entrypoint = Optional<string>(executorTable, "entrypoint", $"{path}.executor");
                        argv = Optional<string>(executorTable, "argv", $"{path}.executor");
                        if (entrypoint is { Length: 0 })
                        {
                            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"{path}.executor.entrypoint must not be empty.");
                        }
                        break;
                    case "spin" or "http":
                        CheckKeys(executorTable, $"{path}.executor", ["type"]);
                        break;
                    default:
                        throw BundleException.Unsupported($"{path}.executor.type", $"Executor type '{type}' is not supported (only 'wagi', and 'spin'/'http' for wasi:http components)");
                }
            }
            triggers.Add(new SpinHttpTrigger(id, component, route, executor, entrypoint, argv));
        }
        return triggers;
    }

    private static void CheckComponentId(string id, string path)
    {
        if (!KebabId().IsMatch(id))
        {
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml",
                $"[{path}]: '{id}' is not a valid component id; ids are kebab-case (lower-case letters, digits and single '-', starting with a letter).");
        }
    }

    private static void CheckKeys(TomlTable table, string path, string[] known)
    {
        foreach (var key in table.Keys)
        {
            if (Array.IndexOf(known, key) < 0)
            {
                var full = path.Length == 0 ? key : $"{path}.{key}";
                throw BundleException.Unsupported(full,
                    $"spin.toml has '{full}', which this platform does not know or does not offer{(path.Length == 0 ? "" : $" (known here: {string.Join(", ", known)})")}");
            }
        }
    }

    private static T Required<T>(TomlTable table, string key, string path)
    {
        if (!table.TryGetValue(key, out var value))
        {
            var full = path.Length == 0 ? key : $"{path}.{key}";
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"spin.toml is missing '{full}'.");
        }
        return As<T>(value, path.Length == 0 ? key : $"{path}.{key}");
    }

    private static T? Optional<T>(TomlTable table, string key, string path) where T : class =>
        table.TryGetValue(key, out var value) ? As<T>(value, $"{path}.{key}") : null;

    private static T As<T>(object? value, string path) => value is T typed
        ? typed
        : throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", $"'{path}' must be {Expected(typeof(T))}, not {Describe(value)}.");

    private static List<string> StringList(TomlTable table, string key, string path)
    {
        if (!table.TryGetValue(key, out var value))
        {
            return [];
        }
        var i = 0;
        return [.. As<TomlArray>(value, $"{path}.{key}").Select(item => As<string>(item, $"{path}.{key}[{i++}]"))];
    }

    private static bool IsEmpty(object? value) => value switch
    {
        TomlTable t => t.Count == 0,
        TomlArray a => a.Count == 0,
        TomlTableArray a => a.Count == 0,
        false => true,
        _ => false,
    };

    private static string Expected(Type t) =>
        t == typeof(string) ? "a string" : t == typeof(bool) ? "a boolean" : t == typeof(TomlTable) ? "a table" : t == typeof(TomlArray) ? "an array" : "a value";

    private static string Describe(object? value) => value switch
    {
        null => "nothing",
        string s => $"the string \"{s}\"",
        bool b => $"the boolean {(b ? "true" : "false")}",
        long or double => $"the number {value}",
        TomlTable => "a table",
        TomlArray or TomlTableArray => "an array",
        _ => $"a {value.GetType().Name}",
    };

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n');
        return (end < 0 ? message : message[..end]).Trim();
    }

    [GeneratedRegex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
    private static partial Regex KebabId();
}
