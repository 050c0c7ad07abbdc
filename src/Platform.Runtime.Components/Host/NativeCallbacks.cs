using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components.Host;

/// <summary>
/// The only entry points native code calls. Each catches every exception: one escaping an
/// <see cref="UnmanagedCallersOnlyAttribute"/> method would abort the process. Failures become a Wasmtime error,
/// which traps the guest.
/// </summary>
internal static unsafe class NativeCallbacks
{
    [UnmanagedCallersOnly]
    public static IntPtr Dispatch(IntPtr data, IntPtr context, IntPtr functionType, Val* args, nuint argCount, Val* results, nuint resultCount)
    {
        RequestState? state = null;
        try
        {
            var index = (int)data;
            if ((uint)index >= (uint)WasiImports.Functions.Length)
            {
                return NativeMethods.NewError("unknown host function");
            }
            var function = WasiImports.Functions[index];
            state = RequestState.FromContext(context);
            if ((int)argCount != function.Params || (int)resultCount != function.Results)
            {
                return Trap(state, $"{function.Interface}#{function.Name} was imported with {argCount} parameters and {resultCount} results; it has {function.Params} and {function.Results}");
            }
            function.Body(new HostCall(state, context, args, (int)argCount, results, (int)resultCount, function.Name));
            return IntPtr.Zero;
        }
        catch (GuestTrapException ex)
        {
            return Trap(state, ex.Message);
        }
        catch (Exception ex)
        {
            return Trap(state, $"host function failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    [UnmanagedCallersOnly]
    public static IntPtr Destroy(IntPtr data, IntPtr context, uint rep)
    {
        try
        {
            RequestState.FromContext(context).Drop(rep, (ResourceKind)(uint)data);
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return NativeMethods.NewError($"resource destructor failed: {ex.Message}");
        }
    }

    [UnmanagedCallersOnly]
    public static IntPtr OnEpochDeadline(IntPtr context, IntPtr data, ulong* delta, byte* kind)
    {
        try
        {
            RequestState.FromContext(context).ThrowIfStopped();
            *delta = 1;
            *kind = 0;
            return IntPtr.Zero;
        }
        catch (GuestTrapException ex)
        {
            return NativeMethods.NewError(ex.Message);
        }
        catch (Exception ex)
        {
            return NativeMethods.NewError($"epoch callback failed: {ex.Message}");
        }
    }

    private static IntPtr Trap(RequestState? state, string message)
    {
        try
        {
            if (state is not null)
            {
                state.HostTrap ??= message;
            }
            return NativeMethods.NewError(message);
        }
        catch (Exception)
        {
            return NativeMethods.NewError("host function failed");
        }
    }
}
