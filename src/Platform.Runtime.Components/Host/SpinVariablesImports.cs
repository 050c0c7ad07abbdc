using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components.Host;

/// <summary>
/// Spin's application variables as a component reads them: <c>fermyon:spin/variables@2.0.0</c> (<c>get</c>), the
/// older unversioned <c>fermyon:spin/config</c> (<c>get-config</c>) and <c>wasi:config/store@0.2.0-draft</c>
/// (<c>get</c>, <c>get-all</c>), with the error cases and mappings Spin's host uses. Values come from the request's
/// <see cref="ComponentRequest.Variables"/>; nothing is computed per call beyond the name check and a lookup.
/// </summary>
internal static class SpinVariablesImports
{
    public const string Variables = "fermyon:spin/variables";
    public const string Config = "fermyon:spin/config";
    public const string Store = "wasi:config/store";

    /// <summary>Interfaces outside the wasi 0.2.x family and the exact versions accepted ("" = unversioned).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> ExactVersions = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [Variables] = ["2.0.0"],
        [Config] = [""],
    };

    public static void Add(Action<string, string, int, int, HostFunction> add)
    {
        add(Variables, "get", 1, 1, c =>
        {
            // A declared variable left without a value is undefined too: the name is right, the value is not there.
            var (value, errorCase, message) = Lookup(c);
            c.Return(value is not null ? V.Ok(V.String(value)) : V.Err(V.Variant(errorCase == Unset ? "undefined" : errorCase!, V.String(message!))));
        });
        add(Config, "get-config", 1, 1, c =>
        {
            // Spin maps invalid-name to invalid-key and undefined to provider for this interface.
            var (value, errorCase, message) = Lookup(c);
            c.Return(value is not null ? V.Ok(V.String(value))
                : V.Err(V.Variant(errorCase == "invalid-name" ? "invalid-key" : "provider", V.String(message!))));
        });
        add(Store, "get", 1, 1, c =>
        {
            // wasi:config: an unknown or invalid key is "no value", not an error; a variable without a value is upstream's.
            var (value, errorCase, message) = Lookup(c);
            c.Return(value is not null ? V.Ok(V.Some(V.String(value)))
                : errorCase is not Unset ? V.Ok(V.None())
                : V.Err(V.Variant("upstream", V.String(message!))));
        });
        add(Store, "get-all", 0, 1, c =>
        {
            var all = c.State.Request.Variables.All;
            foreach (var (key, variable) in all)
            {
                if (variable.Value is null)
                {
                    c.Return(V.Err(V.Variant("upstream", V.String($"variable '{key}': {variable.Error}"))));
                    return;
                }
            }
            c.Return(V.Ok(V.List(all.Count, i => V.Tuple(V.String(all[i].Key), V.String(all[i].Value.Value!)))));
        });
    }

    // The key exists but has no value (a required variable nobody set); each interface names this its own way.
    private const string Unset = "unset";

    /// <summary>The value, or the error case (invalid-name, undefined, or <see cref="Unset"/>) and its message.</summary>
    private static (string? Value, string? ErrorCase, string? Message) Lookup(HostCall c)
    {
        // The host lifted the string (UTF-8 checked by Wasmtime); a name of any length is only compared, never stored.
        var name = c.String(0);
        if (NameError(name) is { } invalid)
        {
            return (null, "invalid-name", $"{Quote(name)}: {invalid}");
        }
        var variables = c.State.Request.Variables;
        if (!variables.TryGet(name, out var variable))
        {
            return (null, "undefined", $"no variable for \"{variables.ComponentId}\".\"{name}\"");
        }
        return variable.Value is { } value ? (value, null, null) : (null, Unset, variable.Error ?? $"variable \"{name}\" has no value");
    }

    // Spin's key rule (spin-expressions Key::validate); kept here because this project does not reference the contracts.
    private static string? NameError(string name)
    {
        if (name.Length == 0)
        {
            return "must not be empty";
        }
        foreach (var ch in name)
        {
            if (!(ch is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return "variable names may contain only lower-case letters, numbers, and underscores";
            }
        }
        if (name[0] is not (>= 'a' and <= 'z'))
        {
            return "must start with a lowercase ASCII letter";
        }
        if (name[^1] == '_')
        {
            return "must end with a lowercase ASCII letter or digit";
        }
        return name.Contains("__", StringComparison.Ordinal) ? "must not contain multiple consecutive underscores" : null;
    }

    private static string Quote(string name) => name.Length <= 64 ? $"\"{name}\"" : $"\"{name[..64]}...\"";
}
