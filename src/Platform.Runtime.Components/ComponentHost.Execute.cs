using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Components.Host;
using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components;

public sealed unsafe partial class ComponentHost
{
    /// <summary>
    /// Runs <paramref name="request"/> through the component's <c>incoming-handler.handle</c> in a fresh store and
    /// instance, on the calling thread. Never throws for anything the component does.
    /// </summary>
    /// <param name="logLine">Receives the component's stdout and stderr line by line, and a line per failure; may be null.</param>
    /// <param name="cancellationToken">Stops the component within one epoch tick (outcome <see cref="ComponentOutcome.Cancelled"/>).</param>
    public ComponentResult Execute(LoadedComponent component, ComponentRequest request, AppLimits limits, Action<string>? logLine, CancellationToken cancellationToken) =>
        Execute(component, request, limits, ComponentLog.All(logLine), cancellationToken);

    /// <summary>
    /// Like <see cref="Execute(LoadedComponent, ComponentRequest, AppLimits, Action{string}?, CancellationToken)"/>, with
    /// stdout, stderr and the platform's lines (the reason an execution failed) to sinks of their own. The CPU-time
    /// limit (<see cref="AppLimits.CpuTime"/>) is measured on the calling thread where the OS offers a thread CPU clock.
    /// </summary>
    public ComponentResult Execute(LoadedComponent component, ComponentRequest request, AppLimits limits, ComponentLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        var started = Stopwatch.GetTimestamp();

        ComponentResult result;
        if (component.HandleIndex is null)
        {
            result = Failure(ComponentOutcome.Trap, component.Info.Problem ?? "the component exports no incoming-handler", started, TimeSpan.Zero);
        }
        else if (request.Body.Length > limits.MaxRequestBodyBytes)
        {
            result = Failure(ComponentOutcome.RequestTooLarge, $"the request body has {request.Body.Length} bytes; the app allows {limits.MaxRequestBodyBytes}", started, TimeSpan.Zero);
        }
        else if (cancellationToken.IsCancellationRequested)
        {
            result = Failure(ComponentOutcome.Cancelled, "the request was cancelled before the component started", started, TimeSpan.Zero);
        }
        else
        {
            var deadline = started + (long)(limits.WallTime.TotalSeconds * Stopwatch.Frequency);
            var cpuDeadline = limits.CpuTime is { } cpu && ThreadCpuTime.IsSupported
                ? ThreadCpuTime.NowNanoseconds() + (long)(cpu.TotalMilliseconds * 1_000_000)
                : long.MaxValue;
            var state = new RequestState(request, limits, _outbound, log, deadline, cancellationToken, cpuDeadline);
            result = Run(component, state, limits, started);
        }

        if (!result.IsSuccess && result.Error is not null)
        {
            SafeLog(log.Platform, $"[{result.Outcome}] {result.Error}");
            LogExecutionFailed(_logger, request.AppName, result.Outcome);
        }
        return result;
    }

    private ComponentResult Run(LoadedComponent component, RequestState state, AppLimits limits, long started)
    {
        var memoryLimit = Math.Min(limits.MemoryBytes, _engineHost.MaxMemoryBytes);
        var gcHandle = GCHandle.Alloc(state);
        bool componentAdded = false, linkerAdded = false, indexAdded = false, engineAdded = false;
        IntPtr store = IntPtr.Zero;
        Val* args = stackalloc Val[2];
        var argsBuilt = 0;
        try
        {
            component.Component.DangerousAddRef(ref componentAdded);
            component.Linker.DangerousAddRef(ref linkerAdded);
            component.HandleIndex!.DangerousAddRef(ref indexAdded);
            _engineHandle.DangerousAddRef(ref engineAdded);

            var instantiateStarted = Stopwatch.GetTimestamp();
            store = NativeMethods.wasmtime_store_new(_engineHandle.DangerousGetHandle(), GCHandle.ToIntPtr(gcHandle), IntPtr.Zero);
            var context = NativeMethods.wasmtime_store_context(store);
            state.Context = context;
            // Limits and the deadline go in before anything runs: with epoch interruption on, a store without a
            // deadline traps at once. One tick, then the callback compares real time with the deadline each tick.
            NativeMethods.wasmtime_store_limiter(store, memoryLimit, -1, -1, -1, -1);
            NativeMethods.wasmtime_context_set_epoch_deadline(context, 1);
            NativeMethods.wasmtime_store_epoch_deadline_callback(store, &NativeCallbacks.OnEpochDeadline, IntPtr.Zero, IntPtr.Zero);

            ComponentInstance instance;
            var error = NativeMethods.wasmtime_component_linker_instantiate(component.Linker.DangerousGetHandle(), context,
                component.Component.DangerousGetHandle(), &instance);
            var instantiation = Stopwatch.GetElapsedTime(instantiateStarted);
            if (error != IntPtr.Zero)
            {
                var message = NativeMethods.TakeErrorMessage(error);
                var outcome = state.Cancelled ? ComponentOutcome.Cancelled
                    : state.CpuLimited ? ComponentOutcome.CpuLimit
                    : state.TimedOut ? ComponentOutcome.Timeout
                    // "maximum concurrent ... instance count of N reached" when the pooling allocator is full.
                    : message.Contains("maximum concurrent", StringComparison.OrdinalIgnoreCase) ? ComponentOutcome.Overloaded
                    : message.Contains("memory", StringComparison.OrdinalIgnoreCase) ? ComponentOutcome.MemoryLimit
                    : ComponentOutcome.Trap;
                return Failure(outcome, $"instantiation failed: {message}", started, instantiation);
            }

            ComponentFunc handle;
            if (!NativeMethods.wasmtime_component_instance_get_func(&instance, context, component.HandleIndex.DangerousGetHandle(), &handle))
            {
                return Failure(ComponentOutcome.Trap, "the instance has no incoming-handler.handle function", started, instantiation);
            }

            var headers = new Fields([.. state.Request.Headers
                .Where(h => WasiImports.IsValidFieldName(h.Key) && !WasiImports.IsHopByHop(h.Key))
                .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), WasiImports.Latin1(h.Value)))], immutable: true);
            args[0] = OwnHandle(state, context, ResourceKind.IncomingRequest, new IncomingRequest(state.Request, headers));
            argsBuilt = 1;
            args[1] = OwnHandle(state, context, ResourceKind.ResponseOutparam, new ResponseOutparam());
            argsBuilt = 2;

            error = NativeMethods.wasmtime_component_func_call(&handle, context, args, 2, null, 0);
            state.FlushOutput();
            if (error != IntPtr.Zero)
            {
                var message = NativeMethods.TakeErrorMessage(error);
                if (state.ExitCode is { } code && state.ResponseSet && !state.Cancelled && !state.TimedOut)
                {
                    // wasi:cli/exit after the response was set: the app chose its response; send it.
                    state.Log($"[platform] the component exited with code {code} after setting its response, which is sent");
                    return Response(state, started, instantiation);
                }
                var outcome = Classify(state, message);
                return Failure(outcome, Describe(outcome, state, message, limits, memoryLimit), started, instantiation);
            }
            return Response(state, started, instantiation);
        }
        catch (GuestTrapException ex)
        {
            return Failure(ComponentOutcome.Trap, ex.Message, started, TimeSpan.Zero);
        }
        finally
        {
            for (var i = 0; i < argsBuilt; i++)
            {
                NativeMethods.wasmtime_component_val_delete(args + i);
            }
            if (store != IntPtr.Zero)
            {
                NativeMethods.wasmtime_store_delete(store);
            }
            gcHandle.Free();
            if (engineAdded) _engineHandle.DangerousRelease();
            if (indexAdded) component.HandleIndex!.DangerousRelease();
            if (linkerAdded) component.Linker.DangerousRelease();
            if (componentAdded) component.Component.DangerousRelease();
        }
    }

    private static Val OwnHandle(RequestState state, IntPtr context, ResourceKind kind, object value)
    {
        var call = new HostCall(state, context, null, 0, null, 0, "incoming-handler.handle");
        return call.Own(kind, value);
    }

    private static ComponentResult Response(RequestState state, long started, TimeSpan instantiation)
    {
        if (!state.ResponseSet)
        {
            var reason = state.ExitCode is { } code
                ? $"the component exited with code {code} without setting a response (response-outparam.set was never called)"
                : "the component returned without setting a response (response-outparam.set was never called)";
            return Failure(ComponentOutcome.NoResponse, reason, started, instantiation);
        }
        if (state.Response is not { } response)
        {
            return Failure(ComponentOutcome.ErrorResponse, $"the component answered with the error code '{state.ResponseErrorCode}' instead of a response",
                started, instantiation) with { ErrorCode = state.ResponseErrorCode };
        }
        var headers = new List<KeyValuePair<string, string>>(response.Headers.Entries.Count);
        foreach (var (name, value) in response.Headers.Entries)
        {
            // The server frames the body itself; a guest's length could disagree with what it wrote.
            if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            headers.Add(KeyValuePair.Create(name, WasiImports.Latin1(value)));
        }
        return new ComponentResult
        {
            Outcome = ComponentOutcome.Ok,
            StatusCode = response.Status,
            Headers = headers,
            Body = response.Body.Memory,
            Duration = Stopwatch.GetElapsedTime(started),
            InstantiationDuration = instantiation,
        };
    }

    private static ComponentOutcome Classify(RequestState state, string message)
    {
        if (state.Cancelled)
        {
            return ComponentOutcome.Cancelled;
        }
        if (state.CpuLimited)
        {
            return ComponentOutcome.CpuLimit;
        }
        if (state.TimedOut || message.Contains("interrupt", StringComparison.OrdinalIgnoreCase))
        {
            return ComponentOutcome.Timeout;
        }
        if (state.ResponseTooLarge)
        {
            return ComponentOutcome.ResponseTooLarge;
        }
        if (state.ExitCode is not null)
        {
            return ComponentOutcome.NoResponse;
        }
        // The component API gives the host no view of guest memory, so a failed allocation shows only in what the
        // guest says about it (Rust: "memory allocation of N bytes failed", C and JS engines: "out of memory").
        if (state.SawOutOfMemory || message.Contains("out of memory", StringComparison.OrdinalIgnoreCase))
        {
            return ComponentOutcome.MemoryLimit;
        }
        return ComponentOutcome.Trap;
    }

    private static string Describe(ComponentOutcome outcome, RequestState state, string message, AppLimits limits, long memoryLimit) => outcome switch
    {
        ComponentOutcome.Timeout => $"the component ran longer than its wall-time limit of {limits.WallTime.TotalMilliseconds:F0} ms and was stopped",
        ComponentOutcome.Cancelled => "the request was cancelled while the component ran",
        ComponentOutcome.CpuLimit => $"the component used more than its CPU-time limit of {limits.CpuTime?.TotalMilliseconds:F0} ms and was stopped",
        ComponentOutcome.ResponseTooLarge => $"the component wrote more than the response limit of {limits.MaxResponseBytes} bytes",
        ComponentOutcome.NoResponse => $"the component exited with code {state.ExitCode} without setting a response",
        ComponentOutcome.MemoryLimit => $"the component failed after reaching its memory limit of {memoryLimit} bytes: {message}",
        _ => state.HostTrap is { } reason && !message.Contains(reason, StringComparison.Ordinal)
            ? $"the component trapped: {reason}: {message}"
            : $"the component trapped: {message}",
    };

    private static ComponentResult Failure(ComponentOutcome outcome, string error, long started, TimeSpan instantiation) => new()
    {
        Outcome = outcome,
        StatusCode = outcome switch
        {
            ComponentOutcome.Timeout or ComponentOutcome.CpuLimit => 504,
            ComponentOutcome.RequestTooLarge => 413,
            ComponentOutcome.Cancelled => 499,
            ComponentOutcome.Overloaded => 503,
            _ => 500,
        },
        Error = error,
        Duration = Stopwatch.GetElapsedTime(started),
        InstantiationDuration = instantiation,
    };

    private static void SafeLog(Action<string>? logLine, string line)
    {
        try
        {
            logLine?.Invoke(line);
        }
        catch (Exception)
        {
            // The app log is best effort.
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Debug, Message = "Component execution for app {App} ended with {Outcome}")]
    private static partial void LogExecutionFailed(ILogger logger, string? app, ComponentOutcome outcome);
}
