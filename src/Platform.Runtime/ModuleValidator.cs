using System.Text;
using Platform.Oci;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>Outcome of <see cref="ModuleValidator.Validate"/>; <see cref="Error"/> is meant for the uploader.</summary>
public sealed record ModuleValidationResult(bool IsValid, string? Error)
{
    public static ModuleValidationResult Valid { get; } = new(true, null);

    public static ModuleValidationResult Invalid(string error) => new(false, error);
}

/// <summary>
/// Validates and precompiles WebAssembly components (the component model's binary format). Implemented by
/// <c>Platform.Runtime.Components</c>, which this project cannot reference; hosts that accept components register one.
/// </summary>
public interface IComponentValidator
{
    /// <summary>Valid and the precompiled artifact when the component can be served here; otherwise the reason for the uploader.</summary>
    ModuleValidationResult ValidateAndPrecompile(ReadOnlySpan<byte> component, out byte[]? precompiled);
}

/// <summary>
/// Checks that uploaded bytes are a WASI preview-1 command module this runtime can run: valid WebAssembly,
/// exports <c>_start</c> and <c>memory</c>, and imports only <c>wasi_snapshot_preview1</c> and
/// <c>wasi_experimental_http</c> functions this runtime implements, with their exact signatures (so a module that validates here also instantiates).
/// Components (WASI preview 2) go to the <see cref="IComponentValidator"/> when the host registered one, and are refused otherwise.
/// </summary>
public sealed class ModuleValidator(WasmEngineHost host, IComponentValidator? components = null)
{
    /// <summary>Whether this validator accepts components (a host registered an <see cref="IComponentValidator"/>).</summary>
    public bool AcceptsComponents => components is not null;

    public ModuleValidationResult Validate(ReadOnlySpan<byte> bytes) => Validate(bytes, serialize: false, out _);

    /// <summary>
    /// Validates like <see cref="Validate(ReadOnlySpan{byte})"/> and, for a valid module, also returns the compiled
    /// module serialized for this engine (<paramref name="precompiled"/>), so an upload compiles once for both. The
    /// artifact loads only into engines with this engine's <see cref="WasmEngineHost.Fingerprint"/>. It is null when
    /// the module is invalid or Wasmtime could not serialize it.
    /// </summary>
    public ModuleValidationResult ValidateAndPrecompile(ReadOnlySpan<byte> bytes, out byte[]? precompiled) =>
        Validate(bytes, serialize: true, out precompiled);

    private ModuleValidationResult Validate(ReadOnlySpan<byte> bytes, bool serialize, out byte[]? precompiled)
    {
        precompiled = null;
        if (CheckHeader(bytes, AcceptsComponents) is { } header)
        {
            return header;
        }
        if (WasmBinary.IsComponent(bytes))
        {
            // A component always compiles once, and that compilation is the artifact whether or not it is kept.
            var result = components!.ValidateAndPrecompile(bytes, out precompiled);
            if (!serialize)
            {
                precompiled = null;
            }
            return result;
        }
        return ValidateCompiled(bytes, serialize, out precompiled);
    }

    /// <summary>The checks that need no compiling (empty, magic bytes, version); null when they pass.</summary>
    public static ModuleValidationResult? CheckHeader(ReadOnlySpan<byte> bytes) => CheckHeader(bytes, acceptComponents: false);

    /// <summary>Like <see cref="CheckHeader(ReadOnlySpan{byte})"/>; with <paramref name="acceptComponents"/> the component layer passes too.</summary>
    public static ModuleValidationResult? CheckHeader(ReadOnlySpan<byte> bytes, bool acceptComponents)
    {
        if (bytes.IsEmpty)
        {
            return ModuleValidationResult.Invalid("The module is empty.");
        }
        if (!WasmBinary.HasHeader(bytes))
        {
            return ModuleValidationResult.Invalid(
                $"This is not a WebAssembly binary: it starts with '{Hex(bytes[..Math.Min(WasmBinary.HeaderLength, bytes.Length)])}' instead of '00 61 73 6D' (\"\\0asm\").");
        }
        if (acceptComponents && WasmBinary.IsComponent(bytes))
        {
            return null;
        }
        if (!WasmBinary.IsCoreModule(bytes))
        {
            var what = bytes[6] == 1 ? "a WebAssembly component (WASI preview 2)" : $"WebAssembly binary version '{Hex(bytes[4..WasmBinary.HeaderLength])}'";
            return ModuleValidationResult.Invalid($"The upload is {what}; only core modules for WASI preview 1 (version 1) are supported.");
        }
        return null;
    }

    private ModuleValidationResult ValidateCompiled(ReadOnlySpan<byte> bytes, bool serialize, out byte[]? precompiled)
    {
        precompiled = null;

        var validationError = Module.Validate(host.Engine, bytes);
        if (!string.IsNullOrEmpty(validationError))
        {
            return ModuleValidationResult.Invalid($"The module is not valid WebAssembly: {validationError}");
        }

        Module module;
        try
        {
            module = Module.FromBytes(host.Engine, "validation", bytes);
        }
        catch (WasmtimeException ex)
        {
            // Valid WebAssembly the engine still refuses: with the pooling allocator, a memory or table larger than
            // a pool slot (Wasmtime's message names the limit and the module's figure).
            return ModuleValidationResult.Invalid($"The module does not fit this runtime's limits: {ex.Message}");
        }
        using var disposeModule = module;
        var result = CheckInterface(module);
        if (result.IsValid && serialize)
        {
            try
            {
                precompiled = module.Serialize();
            }
            catch (WasmtimeException)
            {
                // The artifact only saves routers a compile; a module that cannot be serialized is still valid.
                precompiled = null;
            }
        }
        return result;
    }

    /// <summary>Checks imports and exports of an already compiled module.</summary>
    public static ModuleValidationResult CheckInterface(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var import in module.Imports)
        {
            var qualified = $"{import.ModuleName}.{import.Name}";
            if (import is not FunctionImport function)
            {
                return ModuleValidationResult.Invalid(
                    $"The module imports the {KindOf(import)} '{qualified}'; only functions from '{WasiPreview1.ModuleName}' and '{WasiExperimentalHttp.ModuleName}' can be imported.");
            }
            var (provider, table) = import.ModuleName switch
            {
                WasiPreview1.ModuleName => ("WASI preview 1", WasiPreview1.Signatures),
                WasiExperimentalHttp.ModuleName => ("wasi_experimental_http", WasiExperimentalHttp.Signatures),
                _ => ((string?)null, (IReadOnlyDictionary<string, string>?)null),
            };
            if (table is null)
            {
                return ModuleValidationResult.Invalid(
                    $"The module imports '{qualified}', which this platform does not provide; only WASI preview 1 ('{WasiPreview1.ModuleName}') and outbound HTTP ('{WasiExperimentalHttp.ModuleName}') imports are allowed.");
            }
            if (!table.TryGetValue(import.Name, out var expected))
            {
                return ModuleValidationResult.Invalid(
                    $"The module imports '{qualified}', which is not a {provider} function.");
            }
            var actual = Signature(function.Parameters, function.Results);
            if (actual != expected)
            {
                return ModuleValidationResult.Invalid(
                    $"The module imports '{qualified}' with signature {Describe(actual)}, but {provider} defines it as {Describe(expected)}.");
            }
        }

        var start = module.Exports.OfType<FunctionExport>().FirstOrDefault(e => e.Name == "_start");
        if (start is null)
        {
            return ModuleValidationResult.Invalid(
                "The module exports no '_start' function, so it is not a WASI command (a reactor or library module cannot serve requests).");
        }
        if (start.Parameters.Count != 0 || start.Results.Count != 0)
        {
            return ModuleValidationResult.Invalid($"The module's '_start' has signature {Describe(Signature(start.Parameters, start.Results))}; a WASI command's '_start' takes and returns nothing.");
        }
        if (!module.Exports.OfType<MemoryExport>().Any(e => e.Name == "memory"))
        {
            return ModuleValidationResult.Invalid("The module exports no memory named 'memory', which WASI needs to pass arguments and data.");
        }
        return ModuleValidationResult.Valid;
    }

    internal static string Signature(IReadOnlyList<ValueKind> parameters, IReadOnlyList<ValueKind> results)
    {
        var builder = new StringBuilder();
        foreach (var p in parameters)
        {
            builder.Append(Code(p));
        }
        builder.Append('>');
        foreach (var r in results)
        {
            builder.Append(Code(r));
        }
        return builder.ToString();
    }

    private static char Code(ValueKind kind) => kind switch
    {
        ValueKind.Int32 => 'i',
        ValueKind.Int64 => 'I',
        ValueKind.Float32 => 'f',
        ValueKind.Float64 => 'F',
        ValueKind.V128 => 'v',
        _ => 'r',
    };

    private static string Describe(string signature)
    {
        static string Names(string codes) => string.Join(", ", codes.Select(c => c switch
        {
            'i' => "i32", 'I' => "i64", 'f' => "f32", 'F' => "f64", 'v' => "v128", _ => "ref",
        }));
        var parts = signature.Split('>');
        return $"({Names(parts[0])}) -> ({Names(parts[1])})";
    }

    private static string KindOf(Import import) => import switch
    {
        MemoryImport => "memory",
        TableImport => "table",
        GlobalImport => "global",
        _ => "item",
    };

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).Chunk(2).Aggregate(new StringBuilder(), (b, c) => b.Append(b.Length > 0 ? " " : "").Append(c)).ToString();
}
