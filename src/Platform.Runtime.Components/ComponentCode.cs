namespace Platform.Runtime.Components;

/// <summary>
/// The upload check for components (<see cref="IComponentValidator"/>): compiles, requires the
/// <c>wasi:http/incoming-handler@0.2.x</c> export and only imports this host provides, and returns the artifact.
/// </summary>
public sealed class ComponentValidator(ComponentHost host) : IComponentValidator
{
    public ModuleValidationResult ValidateAndPrecompile(ReadOnlySpan<byte> component, out byte[]? precompiled)
    {
        precompiled = null;
        LoadedComponent loaded;
        try
        {
            loaded = host.Compile(component);
        }
        catch (ComponentLoadException ex)
        {
            return ModuleValidationResult.Invalid($"The component is not valid: {ex.Message}.");
        }
        using (loaded)
        {
            if (Problem(loaded.Info) is { } problem)
            {
                return ModuleValidationResult.Invalid(problem);
            }
            try
            {
                precompiled = loaded.Serialize();
            }
            catch (ComponentLoadException)
            {
                // The artifact only saves routers a compile; a component that cannot be serialized is still valid.
                precompiled = null;
            }
        }
        return ModuleValidationResult.Valid;
    }

    /// <summary>Why a compiled component cannot serve HTTP here, quoting its exports and what it imports that is missing; null when it can.</summary>
    public static string? Problem(ComponentInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var exports = info.Exports.Count == 0 ? "nothing" : string.Join(", ", info.Exports.Select(e => $"'{e}'"));
        if (info.HandlerExport is null)
        {
            return $"The component does not export 'wasi:http/incoming-handler@0.2.x' (the wasi:http proxy world), so it cannot serve HTTP; it exports {exports}.";
        }
        if (info.MissingImports.Count > 0)
        {
            var missing = string.Join(", ", info.MissingImports.Select(i => $"'{i}'"));
            return $"The component imports {missing}, which this platform does not provide (it provides {string.Join(", ", ComponentHost.ProvidedInterfaces.Where(i => !i.StartsWith("fermyon:", StringComparison.Ordinal)))} at any 0.2.x version, and fermyon:spin/variables@2.0.0 and fermyon:spin/config); it exports {exports}.";
        }
        return null;
    }
}

/// <summary>Lets the module cache compile, store and load components like core modules (<see cref="ICodeLoader"/>).</summary>
public sealed class ComponentCodeLoader(ComponentHost host) : ICodeLoader
{
    public IDisposable Compile(string digest, byte[] wasm)
    {
        var component = host.Compile(wasm);
        if (!component.Info.IsServable)
        {
            // The control plane refused such uploads; a table naming one anyway gets a clear error, not traps per request.
            var problem = ComponentValidator.Problem(component.Info);
            component.Dispose();
            throw new ComponentLoadException(problem ?? "the component cannot be served");
        }
        return component;
    }

    public IDisposable Deserialize(string digest, byte[] artifact) => host.Deserialize(artifact);

    public IDisposable DeserializeFile(string digest, string path) => host.DeserializeFile(path);

    public byte[] Serialize(IDisposable code) => ((LoadedComponent)code).Serialize();

    public bool IsLoadFailure(Exception exception) => exception is ComponentLoadException;
}
