using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Runs one HTTP request through a WASI preview-1 command module the WAGI way: a fresh Store and instance per
/// call, the request as environment, argv and stdin, the CGI response from stdout, stderr to the app log.
/// </summary>
/// <remarks>
/// <para>Execute is synchronous and CPU-bound: it runs the module on the calling thread. An ASP.NET Core handler
/// can call it directly; the wall-time limit bounds how long the thread is held.</para>
/// <para>WASI is the platform's own (<see cref="WasiPreview1"/>), so no Wasmtime WASI context exists and the
/// "Store without SetWasiConfiguration aborts the process" hazard cannot occur. Every Store gets its memory
/// limit, epoch deadline and deadline callback before the module is instantiated.</para>
/// <para>Exit codes follow CGI: proc_exit(0) is success; a nonzero exit with a valid CGI response still sends
/// that response (the app chose its status) and the code is logged; a nonzero exit without one is a failure.</para>
/// </remarks>
public sealed partial class WagiExecutor : IDisposable
{
    private const long WasmPageSize = 64 * 1024;

    // Static, so setting it per Store allocates no closure; it reads the request's state from the Store.
    private static readonly Store.EpochDeadlineCallback s_onEpochDeadline = OnEpochDeadline;

    private readonly WasmEngineHost _host;
    private readonly Linker _linker;
    private readonly ILogger _logger;
    private readonly Outbound.OutboundHttpClient? _outbound;

    /// <param name="outbound">Sends the modules' outbound HTTP calls; without one every call is destination_not_allowed.</param>
    public WagiExecutor(WasmEngineHost host, ILogger<WagiExecutor>? logger = null, Outbound.OutboundHttpClient? outbound = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _outbound = outbound;
        _linker = new Linker(host.Engine);
        WasiPreview1.Define(_linker);
        WasiExperimentalHttp.Define(_linker);
    }

    /// <summary>
    /// Whether executions go into the runtime's metrics and spans (on by default). Off for executions that serve
    /// no app, such as a router's warm-up.
    /// </summary>
    public bool RecordTelemetry { get; init; } = true;

    /// <summary>
    /// Executes <paramref name="request"/> against <paramref name="module"/>. Never throws for anything the module
    /// does; throws <see cref="ArgumentException"/> for a request or limits that cannot be given to a module.
    /// </summary>
    /// <param name="logLine">Receives each stderr line as the module writes it, and a line per failure; may be null.</param>
    /// <param name="cancellationToken">Stops the module within one epoch tick (outcome <see cref="WagiOutcome.Cancelled"/>).</param>
    public WagiResult Execute(CachedModule module, WagiRequest request, AppLimits limits, Action<string>? logLine, CancellationToken cancellationToken) =>
        Execute(module, request, limits, logLine, logLine, cancellationToken);

    /// <summary>
    /// As <see cref="Execute(CachedModule, WagiRequest, AppLimits, Action{string}?, CancellationToken)"/>, with the
    /// platform's own lines (why an execution failed, dropped headers) kept apart from what the module wrote, so a
    /// module cannot forge them.
    /// </summary>
    /// <param name="stderrLine">Receives each stderr line as the module writes it; may be null.</param>
    /// <param name="platformLine">Receives a line per failure or correction the platform made; may be null.</param>
    public WagiResult Execute(CachedModule module, WagiRequest request, AppLimits limits, Action<string>? stderrLine, Action<string>? platformLine,
        CancellationToken cancellationToken)
    {
        var logLine = stderrLine;
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        var started = Stopwatch.GetTimestamp();

        // The span is a child of the request's span. When that one is not recorded (sampled out), a child could
        // only be dropped too, so none is created; without any current activity (a direct caller) it is up to the listener.
        using var activity = !RecordTelemetry || Activity.Current is { Recorded: false } ? null : RuntimeTelemetry.ActivitySource.StartActivity("wagi.execute");
        // An activity that is only propagated (not sampled) gets no tags: they would be allocated for nobody.
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("app", request.AppName);
            activity.SetTag("version", request.AppVersion);
            activity.SetTag("digest", module.Digest);
            activity.SetTag("cache_source", SourceTag(module.Source));
        }

        WagiResult result;
        if (request.Body.Length > limits.MaxRequestBodyBytes)
        {
            result = WagiResult.Failure(WagiOutcome.RequestTooLarge,
                $"the request body has {request.Body.Length} bytes; the app allows {limits.MaxRequestBodyBytes}", null, Stopwatch.GetElapsedTime(started));
        }
        else if (cancellationToken.IsCancellationRequested)
        {
            result = WagiResult.Failure(WagiOutcome.Cancelled, "the request was cancelled before the module started", null, Stopwatch.GetElapsedTime(started));
        }
        else
        {
            // Encoded straight into the layout args_get/environ_get copy out; a request that cannot be expressed
            // as a C environment throws ArgumentException here, before anything runs.
            var arguments = WagiEnvironment.EncodeArguments(request);
            EncodedStrings variables;
            try
            {
                variables = WagiEnvironment.EncodeVariables(request);
            }
            catch
            {
                arguments.Return();
                throw;
            }
            result = Run(module, request, arguments, variables, limits, logLine, platformLine, started, cancellationToken);
        }

        if (!result.IsSuccess && result.Error is not null)
        {
            SafeLog(platformLine, $"[{result.Outcome}] {result.Error}");
            LogExecutionFailed(_logger, request.AppName, module.Digest, result.Outcome);
        }
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("outcome", OutcomeTag(result.Outcome));
        }
        if (activity is not null && !result.IsSuccess)
        {
            activity.SetStatus(ActivityStatusCode.Error, result.Outcome.ToString());
        }
        if (RecordTelemetry)
        {
            RuntimeTelemetry.ExecutionDuration.Record(result.Duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", OutcomeTag(result.Outcome)));
        }
        return result;
    }

    private WagiResult Run(CachedModule module, WagiRequest request, EncodedStrings arguments, EncodedStrings variables, AppLimits limits,
        Action<string>? logLine, Action<string>? platformLine, long started, CancellationToken cancellationToken, bool rawOutput = false)
    {
        var memoryLimit = Math.Min(limits.MemoryBytes, _host.MaxMemoryBytes);
        var deadline = started + (long)(limits.WallTime.TotalSeconds * Stopwatch.Frequency);
        // The context owns the encoded strings from here and returns them to the pool when it is disposed.
        using var context = new WasiContext(arguments, variables, request.Body, (int)limits.MaxResponseBytes,
            logLine, deadline, cancellationToken)
        {
            FileTable = request.Files is { } files ? new WasiFileTable(files) : null,
        };
        if (request.Outbound is not null)
        {
            context.Outbound = new WagiOutboundState(_outbound, request.Outbound, platformLine);
        }
        using var store = new Store(_host.Engine, context);

        // Limits and the deadline go in before anything runs; with epoch interruption on, a Store without a
        // deadline would trap at once. One tick, then the callback decides each tick: it compares real time with
        // the deadline (so timeouts do not depend on counting ticks) and notices cancellation.
        store.SetLimits(memorySize: memoryLimit, instances: 1, memories: 1);
        store.SetEpochDeadline(1);
        store.SetEpochDeadlineCallback(s_onEpochDeadline);
        if (limits.CpuTime is { } cpuTime && ThreadCpuTime.IsSupported)
        {
            // Measured on this thread, which runs the guest to its end: the callback compares at every tick.
            context.CpuDeadlineNanoseconds = ThreadCpuTime.NowNanoseconds() + (long)(cpuTime.TotalMilliseconds * 1_000_000);
        }

        Instance instance;
        try
        {
            var instantiateStarted = Stopwatch.GetTimestamp();
            instance = _linker.Instantiate(store, module.Module);
            if (RecordTelemetry)
            {
                RuntimeTelemetry.InstantiationDuration.Record(Stopwatch.GetElapsedTime(instantiateStarted).TotalSeconds);
            }
        }
        catch (WasmtimeException ex)
        {
            var outcome = Classify(context, ex, memory: null, memoryLimit, instantiating: true);
            return WagiResult.Failure(outcome, $"instantiation failed: {ex.Message}", context.ExitCode, Stopwatch.GetElapsedTime(started));
        }

        var memory = instance.GetMemory("memory");
        context.Memory = memory;
        var export = request.Entrypoint ?? "_start";
        var start = instance.GetAction(export);
        if (start is null)
        {
            return WagiResult.Failure(WagiOutcome.Trap, $"the module exports no function '{export}' taking and returning nothing", null, Stopwatch.GetElapsedTime(started));
        }

        try
        {
            start();
        }
        catch (WasmtimeException ex)
        {
            context.FlushStderr();
            if (context.ExitCode is null)
            {
                var outcome = Classify(context, ex, memory, memoryLimit, instantiating: false);
                return WagiResult.Failure(outcome, Describe(outcome, ex, limits, memoryLimit), null, Stopwatch.GetElapsedTime(started));
            }
            // proc_exit: the module ended itself; its output decides the response below.
        }
        context.FlushStderr();
        return rawOutput ? RawOutput(context, Stopwatch.GetElapsedTime(started)) : BuildResponse(context, platformLine, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Stdout as it is (no CGI parsing): what <c>_routes</c> prints.</summary>
    private static WagiResult RawOutput(WasiContext context, TimeSpan duration)
    {
        var (buffer, length) = context.DetachStdout();
        return new WagiResult(WagiOutcome.Ok, 200, [], buffer, 0, length, null, context.ExitCode, duration);
    }

    /// <summary>
    /// WAGI dynamic routes: when the module exports <c>_routes</c>, runs it once (same limits, no request, no files)
    /// and parses what it prints, one <c>/sub/path entrypoint</c> per line. Null when the module has no such export.
    /// Throws <see cref="FormatException"/> quoting a bad line, or when <c>_routes</c> fails.
    /// </summary>
    public IReadOnlyList<WagiDynamicRoute>? DiscoverRoutes(CachedModule module, AppLimits limits, Action<string>? logLine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        if (!module.Module.Exports.Any(e => e.Name == WagiDynamicRoute.ExportName && e is FunctionExport))
        {
            return null;
        }
        var request = new WagiRequest { Method = "GET", Entrypoint = WagiDynamicRoute.ExportName };
        var started = Stopwatch.GetTimestamp();
        using var result = Run(module, request, WagiEnvironment.EncodeArguments(request), WagiEnvironment.EncodeVariables(request), limits, logLine,
            logLine, started, cancellationToken, rawOutput: true);
        if (!result.IsSuccess || result.ExitCode is > 0 or < 0)
        {
            throw new FormatException($"the module's '{WagiDynamicRoute.ExportName}' export failed ({result.Outcome}{(result.ExitCode is int c && c != 0 ? $", exit code {c}" : "")}): {result.Error}");
        }
        return WagiDynamicRoute.Parse(System.Text.Encoding.UTF8.GetString(result.Body.Span));
    }

    private static WagiResult BuildResponse(WasiContext context, Action<string>? logLine, TimeSpan duration)
    {
        var exitCode = context.ExitCode;
        var output = context.StdoutSpan;
        if (!CgiResponseParser.TryParse(output, out var response, out var error))
        {
            var outcome = exitCode is > 0 or < 0 ? WagiOutcome.Trap : WagiOutcome.InvalidResponse;
            var prefix = exitCode is > 0 or < 0 ? $"the module exited with code {exitCode} and " : "";
            return WagiResult.Failure(outcome, prefix + error, exitCode, duration);
        }
        foreach (var name in response.DroppedHeaders)
        {
            SafeLog(logLine, $"[platform] dropped response header '{name}': the server sets it, not the app");
        }
        if (exitCode is int code && code != 0)
        {
            SafeLog(logLine, $"[platform] the module exited with code {code} after writing a valid response, which is sent");
        }
        var (buffer, length) = context.DetachStdout();
        var result = new WagiResult(WagiOutcome.Ok, response.StatusCode, response.Headers, buffer, response.BodyOffset,
            length - response.BodyOffset, null, exitCode, duration);
        return result;
    }

    private static WagiOutcome Classify(WasiContext context, WasmtimeException exception, Memory? memory, long memoryLimit, bool instantiating)
    {
        if (context.Cancelled)
        {
            return WagiOutcome.Cancelled;
        }
        if (context.CpuLimitExceeded)
        {
            return WagiOutcome.CpuLimit;
        }
        if (context.TimedOut || exception is TrapException { Type: TrapCode.Interrupt })
        {
            return WagiOutcome.Timeout;
        }
        if (context.StdoutOverflow)
        {
            return WagiOutcome.ResponseTooLarge;
        }
        if (instantiating)
        {
            // Wasmtime's messages are the only signal here; they name the pool or the memory limit.
            var message = exception.Message;
            // "maximum concurrent core instance count of N reached" when the pooling allocator is full.
            if (message.Contains("maximum concurrent", StringComparison.OrdinalIgnoreCase))
            {
                return WagiOutcome.Overloaded;
            }
            if (message.Contains("memory", StringComparison.OrdinalIgnoreCase))
            {
                return WagiOutcome.MemoryLimit;
            }
            return WagiOutcome.Trap;
        }
        // A trap with memory grown to within a page of the cap is what a failed memory.grow (or malloc) looks like.
        if (memory is not null && memory.GetLength() + WasmPageSize > memoryLimit)
        {
            return WagiOutcome.MemoryLimit;
        }
        return WagiOutcome.Trap;
    }

    private static string Describe(WagiOutcome outcome, WasmtimeException exception, AppLimits limits, long memoryLimit) => outcome switch
    {
        WagiOutcome.Timeout => $"the module ran longer than its wall-time limit of {limits.WallTime.TotalMilliseconds:F0} ms and was stopped",
        WagiOutcome.CpuLimit => $"the module used more than its CPU-time limit of {limits.CpuTime?.TotalMilliseconds:F0} ms and was stopped",
        WagiOutcome.Cancelled => "the request was cancelled while the module ran",
        WagiOutcome.ResponseTooLarge => $"the module wrote more than the response limit of {limits.MaxResponseBytes} bytes",
        WagiOutcome.MemoryLimit => $"the module failed after reaching its memory limit of {memoryLimit} bytes: {exception.Message}",
        _ => $"the module trapped: {exception.Message}",
    };

    private static ulong OnEpochDeadline(Store store)
    {
        var context = (WasiContext)store.GetData()!;
        if (context.CancellationToken.IsCancellationRequested)
        {
            context.Cancelled = true;
            throw new GuestStoppedException("the request was cancelled");
        }
        if (Stopwatch.GetTimestamp() >= context.DeadlineTimestamp)
        {
            context.TimedOut = true;
            throw new GuestStoppedException("the wall-time limit passed");
        }
        if (context.CpuDeadlineNanoseconds != long.MaxValue && ThreadCpuTime.NowNanoseconds() >= context.CpuDeadlineNanoseconds)
        {
            context.CpuLimitExceeded = true;
            throw new GuestStoppedException("the CPU-time limit passed");
        }
        return 1;
    }

    private static void SafeLog(Action<string>? logLine, string line)
    {
        try
        {
            logLine?.Invoke(line);
        }
        catch (Exception)
        {
            // The app log is best effort; the result still goes back to the caller.
        }
    }

    private static string SourceTag(ModuleSource source) => source switch
    {
        ModuleSource.Memory => "memory",
        ModuleSource.Disk => "disk",
        ModuleSource.Compiled => "compiled",
        _ => "precompiled",
    };

    private static string OutcomeTag(WagiOutcome outcome) => outcome switch
    {
        WagiOutcome.Ok => "ok",
        WagiOutcome.Trap => "trap",
        WagiOutcome.Timeout => "timeout",
        WagiOutcome.InvalidResponse => "invalid_response",
        WagiOutcome.ResponseTooLarge => "response_too_large",
        WagiOutcome.MemoryLimit => "memory_limit",
        WagiOutcome.RequestTooLarge => "request_too_large",
        WagiOutcome.Cancelled => "cancelled",
        WagiOutcome.CpuLimit => "cpu_limit",
        _ => "overloaded",
    };

    public void Dispose() => _linker.Dispose();

    // The module's own message goes to the app log (logLine), which the app's owner reads; the platform log gets
    // only the outcome, so guest output never floods or forges it.
    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Execution of app {App} (module {Digest}) ended with {Outcome}")]
    private static partial void LogExecutionFailed(ILogger logger, string? app, string digest, WagiOutcome outcome);
}
