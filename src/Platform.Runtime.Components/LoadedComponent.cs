using System.Runtime.InteropServices;
using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components;

/// <summary>What a component imports and exports, and what the host cannot give it.</summary>
/// <param name="HandlerExport">The exported <c>wasi:http/incoming-handler@0.2.x</c> instance name, or null.</param>
/// <param name="Imports">Every import name, as the component spells it (with its version).</param>
/// <param name="Exports">Every export name.</param>
/// <param name="MissingImports">Imports the host does not provide; the component cannot be served while any remain.</param>
public sealed record ComponentInfo(string? HandlerExport, IReadOnlyList<string> Imports, IReadOnlyList<string> Exports, IReadOnlyList<string> MissingImports)
{
    /// <summary>Whether the component can serve HTTP here: it exports the handler and imports nothing unknown.</summary>
    public bool IsServable => HandlerExport is not null && MissingImports.Count == 0;

    /// <summary>A one-line reason it cannot be served (null when it can), naming what it exports and what is missing.</summary>
    public string? Problem => IsServable
        ? null
        : HandlerExport is null
            ? $"the component does not export wasi:http/incoming-handler@0.2.x; it exports: {(Exports.Count == 0 ? "nothing" : string.Join(", ", Exports))}"
            : $"the component imports what this platform does not provide: {string.Join(", ", MissingImports)}";
}

/// <summary>Thrown when bytes are not a component or do not compile or deserialize; the message says why.</summary>
public sealed class ComponentLoadException(string message) : Exception(message);

/// <summary>
/// A compiled component with its own linker (the host's imports plus traps for the functions it only names) and the
/// export index of its handler. Immutable and safe to use from many requests at once.
/// </summary>
public sealed class LoadedComponent : IDisposable
{
    private readonly NativeHandle _component;
    private readonly NativeHandle _linker;
    private readonly NativeHandle? _handleIndex;

    internal LoadedComponent(IntPtr component, IntPtr linker, IntPtr handleIndex, ComponentInfo info, TimeSpan loadTime, bool fromArtifact)
    {
        _component = new NativeHandle(component, NativeMethods.wasmtime_component_delete);
        _linker = new NativeHandle(linker, NativeMethods.wasmtime_component_linker_delete);
        _handleIndex = handleIndex == IntPtr.Zero ? null : new NativeHandle(handleIndex, NativeMethods.wasmtime_component_export_index_delete);
        Info = info;
        LoadTime = loadTime;
        FromArtifact = fromArtifact;
    }

    public ComponentInfo Info { get; }

    /// <summary>Time the compile or deserialize took.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>True when it came from a precompiled artifact (nothing was compiled).</summary>
    public bool FromArtifact { get; }

    internal NativeHandle Component => _component;

    internal NativeHandle Linker => _linker;

    internal NativeHandle? HandleIndex => _handleIndex;

    /// <summary>
    /// The precompiled artifact: native code that only loads into an engine with the same fingerprint
    /// (<c>WasmEngineHost.Fingerprint</c>). Deserializing it trusts it completely, so only offer artifacts this
    /// platform produced.
    /// </summary>
    public unsafe byte[] Serialize()
    {
        var added = false;
        _component.DangerousAddRef(ref added);
        try
        {
            ByteVec output;
            var error = NativeMethods.wasmtime_component_serialize(_component.DangerousGetHandle(), &output);
            if (error != IntPtr.Zero)
            {
                throw new ComponentLoadException($"serializing the component failed: {NativeMethods.TakeErrorMessage(error)}");
            }
            try
            {
                return new ReadOnlySpan<byte>(output.Data, checked((int)output.Size)).ToArray();
            }
            finally
            {
                NativeMethods.wasm_byte_vec_delete(&output);
            }
        }
        finally
        {
            _component.DangerousRelease();
        }
    }

    public void Dispose()
    {
        _handleIndex?.Dispose();
        _linker.Dispose();
        _component.Dispose();
    }
}

/// <summary>A native pointer freed by the given function once no request uses it (reference counted by SafeHandle).</summary>
internal sealed class NativeHandle : SafeHandle
{
    private readonly Action<IntPtr> _free;

    public NativeHandle(IntPtr handle, Action<IntPtr> free)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _free = free;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _free(handle);
        return true;
    }
}
