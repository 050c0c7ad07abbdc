using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Oci;

namespace Platform.Bundles;

/// <summary>
/// How a bundle version is stored: one OCI artifact in Spin's layout (what <c>spin registry push</c> writes, see
/// docs/bundles.md for where it differs). Config: the resolved ("locked") app as JSON with media type
/// <see cref="SpinConfigMediaType"/>; one layer per distinct module and per distinct file content, so identical
/// content is one layer and one blob; the original spin.toml as a last layer, so the artifact is complete on its own.
/// </summary>
public static class BundleLayout
{
    public const string SpinConfigMediaType = "application/vnd.fermyon.spin.application.v1+config";
    public const string WasmLayerMediaType = "application/vnd.wasm.content.layer.v1+wasm";
    public const string DataLayerMediaType = "application/vnd.wasm.content.layer.v1+data";

    /// <summary>Our own: the manifest as uploaded (Spin does not ship it; its config holds the locked app only).</summary>
    public const string ManifestLayerMediaType = "application/vnd.platform.spin.manifest.v2+toml";

    public static OciArtifact ToArtifact(ResolvedBundle bundle, string appName, int number, string created)
    {
        var layers = new List<OciBlob>();
        var added = new HashSet<(string MediaType, string Digest)>();
        foreach (var component in bundle.Components)
        {
            if (added.Add((WasmLayerMediaType, component.ModuleDigest)))
            {
                layers.Add(new OciBlob(WasmLayerMediaType, component.Module,
                    new Dictionary<string, string> { [OciAnnotations.Title] = component.Source }));
            }
        }
        foreach (var file in bundle.Components.SelectMany(c => c.Files))
        {
            if (added.Add((DataLayerMediaType, file.Digest)))
            {
                layers.Add(new OciBlob(DataLayerMediaType, file.Content, new Dictionary<string, string> { [OciAnnotations.Title] = file.ArchivePath }));
            }
        }
        if (bundle.ManifestText.Length > 0)
        {
            layers.Add(new OciBlob(ManifestLayerMediaType, System.Text.Encoding.UTF8.GetBytes(bundle.ManifestText),
                new Dictionary<string, string> { [OciAnnotations.Title] = BundleArchive.ManifestFileName }));
        }

        return new OciArtifact
        {
            Config = new OciBlob(SpinConfigMediaType, LockedApp(bundle)),
            Layers = layers,
            Annotations = new Dictionary<string, string>
            {
                [OciAnnotations.Title] = bundle.Manifest.Application.Name,
                [OciAnnotations.Version] = $"v{number}",
                [OciAnnotations.Created] = created,
                ["local.platform.app"] = appName,
            },
        };
    }

    /// <summary>The locked app in the shape of Spin's <c>LockedApp</c> (spin_lock_version 1), contents referred to by digest.</summary>
    public static byte[] LockedApp(ResolvedBundle bundle)
    {
        var app = bundle.Manifest.Application;
        var metadata = new JsonObject { ["name"] = app.Name };
        if (app.Version is not null)
        {
            metadata["version"] = app.Version;
        }
        if (app.Description is not null)
        {
            metadata["description"] = app.Description;
        }
        var triggers = new JsonArray();
        foreach (var t in bundle.Manifest.Triggers)
        {
            var config = new JsonObject { ["component"] = t.Component };
            config["route"] = t.Route is null ? new JsonObject { ["private"] = true } : t.Route;
            var executor = new JsonObject { ["type"] = t.Executor };
            if (t.Entrypoint is not null)
            {
                executor["entrypoint"] = t.Entrypoint;
            }
            if (t.Argv is not null)
            {
                executor["argv"] = t.Argv;
            }
            config["executor"] = executor;
            triggers.Add(new JsonObject { ["id"] = t.Id, ["trigger_type"] = "http", ["trigger_config"] = config });
        }
        var components = new JsonArray();
        foreach (var c in bundle.Components)
        {
            var env = new JsonObject();
            foreach (var (k, v) in c.Environment)
            {
                env[k] = v;
            }
            var config = new JsonObject();
            foreach (var (k, v) in c.Variables)
            {
                config[k] = v;
            }
            components.Add(new JsonObject
            {
                ["id"] = c.Id,
                ["config"] = config,
                ["metadata"] = new JsonObject { ["allowed_outbound_hosts"] = new JsonArray([.. c.AllowedOutboundHosts.Select(h => (JsonNode)h!)]) },
                ["source"] = new JsonObject { ["content_type"] = "application/wasm", ["content"] = new JsonObject { ["digest"] = c.ModuleDigest } },
                ["env"] = env,
                ["files"] = new JsonArray([.. c.Files.Select(f => (JsonNode)new JsonObject { ["content"] = new JsonObject { ["digest"] = f.Digest }, ["path"] = f.GuestPath })]),
            });
        }
        var variables = new JsonObject();
        foreach (var (name, declaration) in bundle.Manifest.Variables)
        {
            // Spin's locked form: a variable without a default is required.
            var variable = new JsonObject();
            if (declaration.Default is not null)
            {
                variable["default"] = declaration.Default;
            }
            if (declaration.Secret)
            {
                variable["secret"] = true;
            }
            variables[name] = variable;
        }
        var locked = new JsonObject
        {
            ["spin_lock_version"] = 1,
            ["metadata"] = metadata,
            ["variables"] = variables,
            ["triggers"] = triggers,
            ["components"] = components,
        };
        return JsonSerializer.SerializeToUtf8Bytes(locked);
    }
}

/// <summary>A locked app read back from an artifact's config: the manifest as Spin resolved it, contents by digest.</summary>
public sealed record LockedBundle(SpinManifest Manifest, IReadOnlyList<LockedComponent> Components);

public sealed record LockedComponent(string Id, string ModuleDigest, IReadOnlyList<(string Path, string Digest)> Files);

public static class LockedAppReader
{
    /// <summary>Reads the config of a Spin app artifact (ours or one <c>spin registry push</c> wrote).</summary>
    /// <exception cref="BundleException">Not a locked app, or one using what this platform does not run.</exception>
    public static LockedBundle Read(ReadOnlySpan<byte> config)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(config);
        }
        catch (JsonException ex)
        {
            throw BundleException.Invalid("invalid-artifact", "Invalid Spin artifact", $"The artifact's config is not JSON: {ex.Message}");
        }
        try
        {
            return ReadCore(root as JsonObject ?? throw new InvalidOperationException("the config is not a JSON object"));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw BundleException.Invalid("invalid-artifact", "Invalid Spin artifact", $"The artifact's locked app cannot be read: {ex.Message}");
        }
    }

    private static LockedBundle ReadCore(JsonObject root)
    {
        var declarations = new SortedDictionary<string, SpinVariableDeclaration>(StringComparer.Ordinal);
        foreach (var (name, v) in root["variables"] as JsonObject ?? [])
        {
            if (SpinVariables.NameError(name) is { } nameError)
            {
                throw BundleException.Invalid("invalid-variable", "Invalid variable", $"The artifact's locked app declares the variable '{name}', which is not a valid name: {nameError}.");
            }
            var defaultValue = v?["default"]?.GetValue<string>();
            declarations[name] = new SpinVariableDeclaration(defaultValue, defaultValue is null, v?["secret"]?.GetValue<bool>() ?? false);
        }
        var metadata = root["metadata"] as JsonObject;
        var application = new SpinApplication(metadata?["name"]?.GetValue<string>() ?? "app", metadata?["version"]?.GetValue<string>(),
            metadata?["description"]?.GetValue<string>(), []);
        var triggers = new List<SpinHttpTrigger>();
        foreach (var t in root["triggers"]?.AsArray() ?? [])
        {
            var type = t!["trigger_type"]?.GetValue<string>();
            if (type != "http")
            {
                throw BundleException.Unsupported($"trigger.{type}", $"Trigger type '{type}' is not supported; only http is");
            }
            var config = t["trigger_config"]!.AsObject();
            var component = config["component"]!.GetValue<string>();
            var route = config["route"] is JsonValue r ? r.GetValue<string>() : null;
            var executor = config["executor"] as JsonObject;
            var kind = executor?["type"]?.GetValue<string>() switch
            {
                "wagi" => SpinExecutors.Wagi,
                null or "spin" or "http" => SpinExecutors.Http,
                var other => throw BundleException.Unsupported("executor.type", $"Executor type '{other}' is not supported"),
            };
            triggers.Add(new SpinHttpTrigger(t["id"]?.GetValue<string>() ?? $"{component}-http-trigger", component, route, kind,
                executor?["entrypoint"]?.GetValue<string>(), executor?["argv"]?.GetValue<string>()));
        }
        var components = new List<SpinComponent>();
        var locked = new List<LockedComponent>();
        foreach (var c in root["components"]?.AsArray() ?? [])
        {
            var id = c!["id"]!.GetValue<string>();
            var digest = c["source"]?["content"]?["digest"]?.GetValue<string>()
                ?? throw BundleException.Unsupported($"component.{id}.source", $"Component '{id}' has no content digest for its module");
            var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in c["env"] as JsonObject ?? [])
            {
                env[k] = v!.GetValue<string>();
            }
            var hosts = (c["metadata"]?["allowed_outbound_hosts"] as JsonArray ?? []).Select(h => h!.GetValue<string>()).ToList();
            var files = new List<(string, string)>();
            foreach (var f in c["files"]?.AsArray() ?? [])
            {
                var path = f!["path"]!.GetValue<string>();
                var fileDigest = f["content"]?["digest"]?.GetValue<string>()
                    ?? throw BundleException.Unsupported($"component.{id}.files", $"Component '{id}' has the file '{path}' without a content digest (archive layers are not supported)");
                files.Add((ResolvedBundle.NormalizeGuest(path.StartsWith('/') ? path : "/" + path, $"component '{id}': file"), fileDigest));
            }
            var templates = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, v) in c["config"] as JsonObject ?? [])
            {
                var text = v!.GetValue<string>();
                if (SpinVariables.NameError(key) is { } keyError)
                {
                    throw BundleException.Invalid("invalid-variable", "Invalid variable", $"Component '{id}' has the variable '{key}', which is not a valid name: {keyError}.");
                }
                if (!SpinTemplate.TryParse(text, out var template, out var templateError))
                {
                    throw BundleException.Invalid("invalid-variable", "Invalid variable", $"Component '{id}' variable '{key}' has the template \"{text}\", which is invalid: {templateError}.");
                }
                if (template.References.FirstOrDefault(r => !declarations.ContainsKey(r)) is { } unknown)
                {
                    throw BundleException.Invalid("unknown-variable", "Unknown variable",
                        $"Component '{id}' variable '{key}' refers to '{unknown}' (template \"{text}\"), which the app's variables do not declare.");
                }
                templates[key] = text;
            }
            components.Add(new SpinComponent(id, $"{id}.wasm", null, env, [], [], hosts, templates));
            locked.Add(new LockedComponent(id, digest, files));
        }
        return new LockedBundle(new SpinManifest(application, triggers, components, declarations), locked);
    }
}
