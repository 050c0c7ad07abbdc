using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components.Host;

/// <summary>One host-function invocation: the request's state, the guest's arguments and the result slots.</summary>
internal readonly unsafe struct HostCall
{
    private readonly Val* _args;
    private readonly Val* _results;

    public HostCall(RequestState state, IntPtr context, Val* args, int argCount, Val* results, int resultCount, string name)
    {
        State = state;
        Context = context;
        _args = args;
        ArgCount = argCount;
        _results = results;
        ResultCount = resultCount;
        Name = name;
    }

    public RequestState State { get; }

    public IntPtr Context { get; }

    public int ArgCount { get; }

    public int ResultCount { get; }

    public string Name { get; }

    public Val* Arg(int index)
    {
        if ((uint)index >= (uint)ArgCount)
        {
            throw new GuestTrapException($"{Name}: missing argument {index}");
        }
        return _args + index;
    }

    public void Return(Val value)
    {
        if (ResultCount < 1)
        {
            throw new GuestTrapException($"{Name}: the import declares no result");
        }
        _results[0] = value;
    }

    public ulong U64(int index) => ValReader.U64(Arg(index), Name);

    public string String(int index) => ValReader.String(Arg(index), Name);

    /// <summary>The handle's rep, after checking it is a host resource of <paramref name="kind"/>.</summary>
    public uint Rep(Val* value, ResourceKind kind)
    {
        ValReader.Expect(value, ValKind.Resource, Name);
        var any = (IntPtr)value->Pointer8;
        IntPtr host;
        var error = NativeMethods.wasmtime_component_resource_any_to_host(Context, any, &host);
        if (error != IntPtr.Zero)
        {
            throw new GuestTrapException($"{Name}: not a host resource: {NativeMethods.TakeErrorMessage(error)}");
        }
        try
        {
            var type = NativeMethods.wasmtime_component_resource_host_type(host);
            if (type != (uint)kind)
            {
                throw new GuestTrapException($"{Name}: expected a {kind} handle, got a {(ResourceKind)type} handle");
            }
            return NativeMethods.wasmtime_component_resource_host_rep(host);
        }
        finally
        {
            NativeMethods.wasmtime_component_resource_host_delete(host);
        }
    }

    /// <summary>The object behind a borrowed (or owned but kept) handle argument.</summary>
    public T Borrow<T>(int index, ResourceKind kind) where T : class => State.Get<T>(Rep(Arg(index), kind), kind);

    /// <summary>The object behind an owned handle argument, which moves to the host (the guest's handle is gone).</summary>
    public T Take<T>(int index, ResourceKind kind) where T : class => Take<T>(Arg(index), kind);

    public T Take<T>(Val* value, ResourceKind kind) where T : class => State.Remove<T>(Rep(value, kind), kind);

    /// <summary>A new owned handle for the guest.</summary>
    public Val Own(ResourceKind kind, object value)
    {
        var rep = State.Add(kind, value);
        var host = NativeMethods.wasmtime_component_resource_host_new(true, rep, (uint)kind);
        try
        {
            IntPtr any;
            var error = NativeMethods.wasmtime_component_resource_host_to_any(Context, host, &any);
            if (error != IntPtr.Zero)
            {
                State.Drop(rep, kind);
                throw new GuestTrapException($"{Name}: cannot hand out a {kind}: {NativeMethods.TakeErrorMessage(error)}");
            }
            return new Val { Kind = ValKind.Resource, Pointer8 = (Val*)any };
        }
        finally
        {
            NativeMethods.wasmtime_component_resource_host_delete(host);
        }
    }
}

internal delegate void HostFunction(HostCall call);

/// <summary>A function the linker defines: interface, name in the linker's naming (<c>[method]fields.get</c>), arity, body.</summary>
internal sealed record HostFunctionDefinition(string Interface, string Name, int Params, int Results, HostFunction Body);
