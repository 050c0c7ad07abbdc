using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Oci;
using Platform.Runtime.Components.Host;
using Platform.Runtime.Components.Native;
using Wasmtime;

namespace Platform.Runtime.Components;

/// <summary>
/// Loads <c>wasi:http/incoming-handler</c> components and runs each request in a fresh store and instance, with
/// the proxy world's imports implemented here (see docs/components.md). Uses the engine of
/// <see cref="WasmEngineHost"/>, so precompiled artifacts share its fingerprint and its epoch ticker stops loops.
/// </summary>
public sealed unsafe partial class ComponentHost
{
    private const string HandlerInterface = "wasi:http/incoming-handler";
    private const string SupportedVersionPrefix = "0.2.";

    private static readonly Lazy<Dictionary<ResourceKind, IntPtr>> s_resourceTypes = new(() =>
        Enum.GetValues<ResourceKind>().ToDictionary(k => k, k => NativeMethods.wasmtime_component_resource_type_new_host((uint)k)));

    private readonly WasmEngineHost _engineHost;
    private readonly SafeHandle _engineHandle;
    private readonly IComponentOutboundHttp _outbound;
    private readonly ILogger _logger;

    public ComponentHost(WasmEngineHost engineHost, IComponentOutboundHttp? outbound = null, ILogger<ComponentHost>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(engineHost);
        _engineHost = engineHost;
        _engineHandle = EngineHandle(engineHost.Engine);
        _outbound = outbound ?? DenyAllComponentOutbound.Instance;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The interfaces (unversioned) a component may import; any 0.2.x version of each is accepted.</summary>
    public static IReadOnlyList<string> ProvidedInterfaces => WasiImports.Interfaces;

    /// <summary>Compiles a component (seconds for a JS app). Throws <see cref="ComponentLoadException"/> with Wasmtime's reason.</summary>
    public LoadedComponent Compile(ReadOnlySpan<byte> wasm)
    {
        if (!WasmBinary.IsComponent(wasm))
        {
            throw new ComponentLoadException(WasmBinary.HasHeader(wasm)
                ? "this is a core WebAssembly module, not a component"
                : "this is not a WebAssembly component (no \\0asm header with the component layer)");
        }
        var started = Stopwatch.GetTimestamp();
        IntPtr component;
        IntPtr error;
        using (var engine = new EngineLease(_engineHandle))
        fixed (byte* bytes = wasm)
        {
            error = NativeMethods.wasmtime_component_new(engine.Pointer, bytes, (nuint)wasm.Length, &component);
        }
        if (error != IntPtr.Zero)
        {
            throw new ComponentLoadException($"the component does not compile: {NativeMethods.TakeErrorMessage(error)}");
        }
        return Finish(component, Stopwatch.GetElapsedTime(started), fromArtifact: false);
    }

    /// <summary>The binary of a component written in the text format (WAT); throws <see cref="ComponentLoadException"/> with the parser's reason.</summary>
    public static byte[] FromText(string wat)
    {
        ArgumentNullException.ThrowIfNull(wat);
        var text = Encoding.UTF8.GetBytes(wat);
        ByteVec output;
        IntPtr error;
        fixed (byte* p = text)
        {
            error = NativeMethods.wasmtime_wat2wasm(p, (nuint)text.Length, &output);
        }
        if (error != IntPtr.Zero)
        {
            throw new ComponentLoadException($"the component text does not parse: {NativeMethods.TakeErrorMessage(error)}");
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

    /// <summary>
    /// Loads a precompiled artifact made by <see cref="LoadedComponent.Serialize"/> in an engine with the same
    /// fingerprint. The bytes are trusted as native code: only pass artifacts whose digest a trusted source vouches for.
    /// </summary>
    public LoadedComponent Deserialize(ReadOnlySpan<byte> artifact)
    {
        var started = Stopwatch.GetTimestamp();
        IntPtr component;
        IntPtr error;
        using (var engine = new EngineLease(_engineHandle))
        fixed (byte* bytes = artifact)
        {
            error = NativeMethods.wasmtime_component_deserialize(engine.Pointer, bytes, (nuint)artifact.Length, &component);
        }
        if (error != IntPtr.Zero)
        {
            throw new ComponentLoadException($"the precompiled component does not load: {NativeMethods.TakeErrorMessage(error)}");
        }
        return Finish(component, Stopwatch.GetElapsedTime(started), fromArtifact: true);
    }

    /// <summary>Like <see cref="Deserialize"/>, from a file Wasmtime maps instead of copying.</summary>
    public LoadedComponent DeserializeFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var started = Stopwatch.GetTimestamp();
        IntPtr component;
        IntPtr error;
        using (var engine = new EngineLease(_engineHandle))
        {
            error = NativeMethods.wasmtime_component_deserialize_file(engine.Pointer, path, &component);
        }
        if (error != IntPtr.Zero)
        {
            throw new ComponentLoadException($"the precompiled component '{path}' does not load: {NativeMethods.TakeErrorMessage(error)}");
        }
        return Finish(component, Stopwatch.GetElapsedTime(started), fromArtifact: true);
    }

    /// <summary>
    /// Compiles and inspects <paramref name="wasm"/>: null and the loaded component when it can serve HTTP here,
    /// otherwise the reason (not a component, does not compile, no handler export, or the imports it lacks).
    /// </summary>
    public string? Validate(ReadOnlySpan<byte> wasm, out LoadedComponent? component)
    {
        component = null;
        LoadedComponent loaded;
        try
        {
            loaded = Compile(wasm);
        }
        catch (ComponentLoadException ex)
        {
            return ex.Message;
        }
        if (loaded.Info.Problem is { } problem)
        {
            loaded.Dispose();
            return problem;
        }
        component = loaded;
        return null;
    }

    /// <summary>
    /// What an upload needs: null and the precompiled artifact (see <see cref="LoadedComponent.Serialize"/>) when the
    /// component can serve HTTP here, otherwise the reason, which quotes the missing imports or the exports.
    /// </summary>
    public string? ValidateAndPrecompile(ReadOnlySpan<byte> wasm, out byte[]? artifact)
    {
        artifact = null;
        var problem = Validate(wasm, out var component);
        if (component is null)
        {
            return problem;
        }
        using (component)
        {
            artifact = component.Serialize();
        }
        return null;
    }

    private LoadedComponent Finish(IntPtr component, TimeSpan loadTime, bool fromArtifact)
    {
        IntPtr linker = IntPtr.Zero;
        IntPtr handleIndex = IntPtr.Zero;
        try
        {
            using var engine = new EngineLease(_engineHandle);
            var info = Inspect(component, engine.Pointer);
            if (info.HandlerExport is { } export)
            {
                handleIndex = HandleExportIndex(component, export);
            }
            linker = BuildLinker(engine.Pointer, component, info);
            return new LoadedComponent(component, linker, handleIndex, info, loadTime, fromArtifact);
        }
        catch
        {
            if (handleIndex != IntPtr.Zero)
            {
                NativeMethods.wasmtime_component_export_index_delete(handleIndex);
            }
            if (linker != IntPtr.Zero)
            {
                NativeMethods.wasmtime_component_linker_delete(linker);
            }
            NativeMethods.wasmtime_component_delete(component);
            throw;
        }
    }

    private static ComponentInfo Inspect(IntPtr component, IntPtr engine)
    {
        var type = NativeMethods.wasmtime_component_type(component);
        try
        {
            var imports = Names(type, engine, imports: true);
            var exports = Names(type, engine, imports: false);
            var handler = exports.FirstOrDefault(e => e.StartsWith(HandlerInterface + "@" + SupportedVersionPrefix, StringComparison.Ordinal));
            var missing = imports.Where(name => !WasiImports.IsProvided(name, out _)).ToList();
            return new ComponentInfo(handler, imports, exports, missing);
        }
        finally
        {
            NativeMethods.wasmtime_component_type_delete(type);
        }
    }

    private static List<string> Names(IntPtr type, IntPtr engine, bool imports)
    {
        var count = imports
            ? NativeMethods.wasmtime_component_type_import_count(type, engine)
            : NativeMethods.wasmtime_component_type_export_count(type, engine);
        var names = new List<string>((int)count);
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            nuint length;
            IntPtr external = IntPtr.Zero;
            var found = imports
                ? NativeMethods.wasmtime_component_type_import_nth(type, engine, i, &name, &length, &external)
                : NativeMethods.wasmtime_component_type_export_nth(type, engine, i, &name, &length, &external);
            if (!found)
            {
                continue;
            }
            // The name borrows from the component type, which lives until the caller deletes it.
            names.Add(Encoding.UTF8.GetString(name, checked((int)length)));
            if (external != IntPtr.Zero)
            {
                NativeMethods.wasmtime_component_extern_delete(external);
            }
        }
        return names;
    }

    private static IntPtr HandleExportIndex(IntPtr component, string export)
    {
        var exportBytes = Encoding.UTF8.GetBytes(export);
        IntPtr instanceIndex;
        fixed (byte* p = exportBytes)
        {
            instanceIndex = NativeMethods.wasmtime_component_get_export_index(component, IntPtr.Zero, p, (nuint)exportBytes.Length);
        }
        if (instanceIndex == IntPtr.Zero)
        {
            return IntPtr.Zero;
        }
        try
        {
            var handle = "handle"u8;
            fixed (byte* p = handle)
            {
                return NativeMethods.wasmtime_component_get_export_index(component, instanceIndex, p, (nuint)handle.Length);
            }
        }
        finally
        {
            NativeMethods.wasmtime_component_export_index_delete(instanceIndex);
        }
    }

    // One linker per component, defining each provided interface under the exact name (and version) the component
    // imports: define_unknown_imports_as_traps does not match versions the way instantiation does, so an interface
    // defined only at another 0.2.x version would be shadowed by traps with resource types of their own. It also
    // adds definitions, so a shared linker would be mutated while other requests instantiate from it.
    private static IntPtr BuildLinker(IntPtr engine, IntPtr component, ComponentInfo info)
    {
        var linker = NativeMethods.wasmtime_component_linker_new(engine);
        try
        {
            var root = NativeMethods.wasmtime_component_linker_root(linker);
            try
            {
                foreach (var import in info.Imports.Distinct(StringComparer.Ordinal))
                {
                    if (WasiImports.IsProvided(import, out var name))
                    {
                        DefineInterface(root, name, import);
                    }
                }
            }
            finally
            {
                NativeMethods.wasmtime_component_linker_instance_delete(root);
            }
            Check(NativeMethods.wasmtime_component_linker_define_unknown_imports_as_traps(linker, component), "linking the component's other imports");
            return linker;
        }
        catch
        {
            NativeMethods.wasmtime_component_linker_delete(linker);
            throw;
        }
    }

    private static void DefineInterface(IntPtr root, string name, string versionedName)
    {
        var full = Encoding.UTF8.GetBytes(versionedName);
        IntPtr instance;
        fixed (byte* p = full)
        {
            Check(NativeMethods.wasmtime_component_linker_instance_add_instance(root, p, (nuint)full.Length, &instance), $"defining {name}");
        }
        try
        {
            if (WasiImports.Resources.TryGetValue(name, out var resources))
            {
                foreach (var (resourceName, kind) in resources)
                {
                    var bytes = Encoding.UTF8.GetBytes(resourceName);
                    fixed (byte* p = bytes)
                    {
                        Check(NativeMethods.wasmtime_component_linker_instance_add_resource(instance, p, (nuint)bytes.Length,
                            s_resourceTypes.Value[kind], &NativeCallbacks.Destroy, (IntPtr)(uint)kind, IntPtr.Zero), $"defining {name}#{resourceName}");
                    }
                }
            }
            var functions = WasiImports.Functions;
            for (var i = 0; i < functions.Length; i++)
            {
                if (functions[i].Interface != name)
                {
                    continue;
                }
                var bytes = Encoding.UTF8.GetBytes(functions[i].Name);
                fixed (byte* p = bytes)
                {
                    Check(NativeMethods.wasmtime_component_linker_instance_add_func(instance, p, (nuint)bytes.Length,
                        &NativeCallbacks.Dispatch, i, IntPtr.Zero), $"defining {name}#{functions[i].Name}");
                }
            }
        }
        finally
        {
            NativeMethods.wasmtime_component_linker_instance_delete(instance);
        }
    }

    private static void Check(IntPtr error, string what)
    {
        if (error != IntPtr.Zero)
        {
            throw new ComponentLoadException($"{what} failed: {NativeMethods.TakeErrorMessage(error)}");
        }
    }

    // The managed wrapper keeps the wasm_engine_t* in an internal SafeHandle; the component API needs the same engine.
    private static SafeHandle EngineHandle(Engine engine)
    {
        var property = typeof(Engine).GetProperty("NativeHandle", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("Wasmtime.Engine has no NativeHandle property; the Wasmtime package changed");
        return property.GetValue(engine) as SafeHandle
            ?? throw new InvalidOperationException("Wasmtime.Engine.NativeHandle is not a SafeHandle; the Wasmtime package changed");
    }

    /// <summary>Keeps a SafeHandle alive (not released) while native code uses its pointer.</summary>
    private readonly ref struct EngineLease
    {
        private readonly SafeHandle _handle;
        private readonly bool _added;

        public EngineLease(SafeHandle handle)
        {
            _handle = handle;
            _handle.DangerousAddRef(ref _added);
            Pointer = handle.DangerousGetHandle();
        }

        public IntPtr Pointer { get; }

        public void Dispose()
        {
            if (_added)
            {
                _handle.DangerousRelease();
            }
        }
    }
}
