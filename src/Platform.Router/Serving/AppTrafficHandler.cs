using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Oci;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;
using Platform.Runtime;
using Platform.ServiceDefaults;

namespace Platform.Router.Serving;

/// <summary>
/// Serves app traffic: host name -> app -> most specific route -> component (module and files, cache or registry) ->
/// a fresh Wasm instance per request (WAGI).
/// Every failure becomes a problem response; nothing an app does can take the router down.
/// </summary>
/// <remarks>
/// The hot path (a loaded module, a request without a body) completes synchronously and allocates little: what
/// only depends on the route (limits, variables, outbound policies, the app-log callback) is built when the routing
/// table is applied (<see cref="AppRouting.State"/>, <see cref="ComponentState"/>) and only read here, the
/// concurrency gate takes a slot without a lease object, and the module lookup does not allocate on a hit.
/// </remarks>
public sealed partial class AppTrafficHandler : IDisposable
{
    private readonly RoutingTableStore _routes;
    private readonly ModuleLoader _modules;
    private readonly AppRouteResolver _resolver;
    private readonly WagiExecutor _executor;
    private readonly RouterMetrics _metrics;
    private readonly RequestStats _stats;
    private readonly AppLogCollector _logs;
    private readonly RouterOptions _options;
    private readonly IProblemDetailsService _problems;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly ExecutionWorkers _workers;
    private readonly BodyBudget _bodies;
    private readonly Platform.Runtime.Components.ComponentHost _components;
    private readonly string _logsUrlBase;

    public AppTrafficHandler(
        RoutingTableStore routes,
        ModuleLoader modules,
        AppRouteResolver resolver,
        WagiExecutor executor,
        RouterMetrics metrics,
        RequestStats stats,
        AppLogCollector logs,
        IOptions<RouterOptions> options,
        IProblemDetailsService problems,
        ILoggerFactory loggerFactory,
        TimeProvider clock,
        ExecutionWorkers workers,
        Platform.Runtime.Components.ComponentHost components)
    {
        _components = components;
        _routes = routes;
        _modules = modules;
        _resolver = resolver;
        _executor = executor;
        _metrics = metrics;
        _stats = stats;
        _logs = logs;
        _options = options.Value;
        _problems = problems;
        _logger = loggerFactory.CreateLogger(RouteStateFactory.AppLogCategory);
        _clock = clock;
        _workers = workers;
        _bodies = new BodyBudget(_options.MaxBufferedBodyBytes);
        _logsUrlBase = (_options.PublicControlPlaneUrl ?? _options.ControlPlaneUrl).TrimEnd('/') + "/api/v1/apps/";
    }

    public const long DefaultMaxBodyBytes = 10L * 1024 * 1024;
    public const long DefaultMaxResponseBytes = 10L * 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        // App requests are measured by platform.router.* (with the app); ASP.NET Core's generic request-duration
        // metric would record each of them a second time, without it.
        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } hostingMetrics)
        {
            hostingMetrics.MetricsDisabled = true;
        }
        var app = AppHost.AppNameOf(context.Request.Host.Host, _options.AppDomain);
        if (app is null || !_routes.TryGetApp(app, out var routing))
        {
            await Problem(context, StatusCodes.Status404NotFound, "app-not-found", "App not found",
                app is null
                    ? $"Host '{context.Request.Host.Host}' is not an app host; apps answer at <app>.{_options.AppDomain}."
                    : $"No app named '{app}' is deployed here.");
            return;
        }

        var route = routing.Entry;
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            status = await ServeAsync(context, routing);
        }
        finally
        {
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            _metrics.RequestServed(route.App, status, elapsedMs);
            _stats.Record(route.App, _clock.GetUtcNow(), elapsedMs, status >= 500);
        }
    }

    private ValueTask<int> ServeAsync(HttpContext context, AppRouting routing)
    {
        var reserve = BodyBudget.ReservationFor(context.Request, routing.State.Limits.MaxRequestBodyBytes);
        return reserve == 0
            ? ServeWithSlotAsync(context, routing, context.RequestAborted)
            : ServeWithBodyAsync(context, routing, reserve);
    }

    private async ValueTask<int> ServeWithBodyAsync(HttpContext context, AppRouting routing, long reserve)
    {
        if (!_bodies.TryReserve(reserve))
        {
            context.Response.Headers.RetryAfter = "1";
            context.Response.Headers["Retry-After-Ms"] = "1000";
            return await Problem(context, StatusCodes.Status503ServiceUnavailable, "overloaded", "Router busy",
                $"Request bodies of {_bodies.MaxBytes} bytes in all are being received already; retry in about 1000 ms.");
        }
        try
        {
            return await ServeWithSlotAsync(context, routing, context.RequestAborted);
        }
        finally
        {
            _bodies.Release(reserve);
        }
    }

    private async ValueTask<int> ServeWithSlotAsync(HttpContext context, AppRouting routing, CancellationToken aborted)
    {
        var route = routing.Entry;
        var limits = routing.State.Limits;
        // Read in full (within the app's limit and Kestrel's minimum data rate) before a worker is asked for, so a
        // slow client holds a connection, never an execution slot.
        var body = await ReadBodyAsync(context, limits.MaxRequestBodyBytes, aborted);
        if (body is null)
        {
            return await Problem(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Request body too large",
                $"The request body exceeds the app's limit of {limits.MaxRequestBodyBytes} bytes.");
        }
        if (routing.Error is { } invalid)
        {
            return await Problem(context, StatusCodes.Status502BadGateway, "app-unservable", "App cannot be served",
                $"Version {route.Version} of app '{route.App}' cannot be served: {invalid}");
        }

        ResolvedRoute match;
        string pathInfo;
        CachedModule module;
        try
        {
            var routes = await _resolver.GetAsync(routing, aborted);
            var path = context.Request.Path.Value is { Length: > 0 } p ? p : "/";
            if (!routes.TryMatch(path, out match, out pathInfo))
            {
                return await Problem(context, StatusCodes.Status404NotFound, "route-not-found", "No route matches",
                    $"No route of app '{route.App}' matches the path '{path}'.");
            }
            module = await _modules.GetAsync(match.Component, aborted);
        }
        catch (OciRegistryUnavailableException ex)
        {
            _logger.ModuleLoadFailed(ex, route.App, route.ModuleDigest);
            context.Response.Headers.RetryAfter = "5";
            return await Problem(context, StatusCodes.Status503ServiceUnavailable, "registry-unavailable", "Module not available",
                $"The module of app '{route.App}' is not cached here and the registry cannot be reached; retry shortly.");
        }
        catch (Exception ex) when (ex is ComponentLoadException or OciRegistryException or Wasmtime.WasmtimeException
            or Platform.Runtime.Components.ComponentLoadException)
        {
            _logger.ModuleLoadFailed(ex, route.App, route.ModuleDigest);
            return await Problem(context, StatusCodes.Status502BadGateway, "module-unavailable", "Module could not be loaded",
                ex is ComponentLoadException or Platform.Runtime.Components.ComponentLoadException
                    ? $"App '{route.App}' (version {route.Version}): {ex.Message}"
                    : $"The module of app '{route.App}' (version {route.Version}) could not be loaded.");
        }

        if (match.Component.IsHttpComponent)
        {
            return await RunComponentAsync(context, routing, module, body.Value, aborted, new RouteMatch(match, pathInfo));
        }
        return await RunAsync(context, routing, _executor, module, body.Value, aborted, new RouteMatch(match, pathInfo));
    }

    /// <summary>One fresh instance of the module for this request, and its answer written back.</summary>
    /// <param name="match">The route that matched; null (the warm-up) serves the whole path with the entry's one component.</param>
    private async ValueTask<int> RunAsync(HttpContext context, AppRouting routing, WagiExecutor executor, CachedModule module,
        ReadOnlyMemory<byte> body, CancellationToken aborted, RouteMatch? match = null)
    {
        var route = routing.Entry;
        var state = routing.State;
        // Variables and the allow-list are the component's (a bundle's own, or the app's for an entry without components).
        var component = match is { } matched ? matched.Route.Component : routing.Components[0];
        var request = WagiRequests.From(context, route, component.Variables, state.Version, body, match, component.Outbound);
        // Warm-up executions (no telemetry) serve no app: nothing of theirs belongs in an app's log.
        var log = executor.RecordTelemetry
            ? _logs.Begin(route.App, route.Version, state.IsSingleModule || match is null ? null : component.Id, RequestLog.RequestIdOf(context), state.LogLine)
            : null;
        ExecutionOutcome execution;
        try
        {
            // Every execution (one that waits on outbound HTTP included) runs on the router's workers, within the app's share.
            execution = await _workers.ExecuteAsync(route.App, state.Concurrency, executor, module, request, state.Limits, log?.Stderr, log?.Platform, aborted);
        }
        catch (ArgumentException ex)
        {
            // A header or path that cannot become a CGI variable (a NUL character, say): the request is at fault.
            return await Problem(context, StatusCodes.Status400BadRequest, "bad-request", "Request cannot be passed to the app", ex.Message);
        }
        finally
        {
            log?.Complete();
        }
        if (execution.Result is not { } result)
        {
            return await Rejected(context, routing, execution.Rejection, execution.RetryAfterMilliseconds);
        }
        using var disposeResult = result;
        if (result.Outcome == WagiOutcome.Ok)
        {
            await WriteResultAsync(context, result, _options.AppDomain, log, aborted);
            return result.StatusCode;
        }
        return await ExecutionFailed(context, routing, FailureOf(result.Outcome), result.Outcome.ToString(), result.Error, WagiResult.StatusFor(result.Outcome));
    }

    /// <summary>How an execution that gave no answer of the app's ended, whichever kind of guest ran.</summary>
    private enum Failure
    {
        Cancelled,
        Timeout,
        CpuLimit,
        Overloaded,
        RequestTooLarge,
        /// <summary>A WAGI module's output is no valid CGI response.</summary>
        InvalidResponse,
        /// <summary>A wasi:http component returned without setting a response.</summary>
        NoResponse,
        /// <summary>Anything else (traps, memory exhaustion, oversized output, an error-code answer).</summary>
        Other,
    }

    private static Failure FailureOf(WagiOutcome outcome) => outcome switch
    {
        WagiOutcome.Cancelled => Failure.Cancelled,
        WagiOutcome.Timeout => Failure.Timeout,
        WagiOutcome.CpuLimit => Failure.CpuLimit,
        WagiOutcome.Overloaded => Failure.Overloaded,
        WagiOutcome.RequestTooLarge => Failure.RequestTooLarge,
        WagiOutcome.InvalidResponse => Failure.InvalidResponse,
        _ => Failure.Other,
    };

    private static Failure FailureOf(Platform.Runtime.Components.ComponentOutcome outcome) => outcome switch
    {
        Platform.Runtime.Components.ComponentOutcome.Cancelled => Failure.Cancelled,
        Platform.Runtime.Components.ComponentOutcome.Timeout => Failure.Timeout,
        Platform.Runtime.Components.ComponentOutcome.CpuLimit => Failure.CpuLimit,
        Platform.Runtime.Components.ComponentOutcome.Overloaded => Failure.Overloaded,
        Platform.Runtime.Components.ComponentOutcome.RequestTooLarge => Failure.RequestTooLarge,
        Platform.Runtime.Components.ComponentOutcome.NoResponse => Failure.NoResponse,
        _ => Failure.Other,
    };

    /// <summary>
    /// The one mapping of a failed execution to its answer (status, problem, the router's log line), for WAGI modules
    /// and wasi:http components alike.
    /// </summary>
    /// <param name="outcome">The guest's own outcome, named in the log and in the problem of <see cref="Failure.Other"/>.</param>
    /// <param name="otherStatus">The status of <see cref="Failure.Other"/>.</param>
    private Task<int> ExecutionFailed(HttpContext context, AppRouting routing, Failure failure, string outcome, string? error, int otherStatus)
    {
        var route = routing.Entry;
        var limits = routing.State.Limits;
        switch (failure)
        {
            case Failure.Cancelled:
                // The client went away (or the router is stopping): nobody reads this answer.
                return Task.FromResult(499);
            case Failure.Timeout:
                _logger.AppFailed(route.App, route.Version, "timeout", error ?? "");
                return Problem(context, StatusCodes.Status504GatewayTimeout, "app-timeout", "App timed out",
                    $"App '{route.App}' did not finish within {limits.WallTime.TotalSeconds:0.###} s; see the app's log: {LogsUrl(route.App)}");
            case Failure.CpuLimit:
                _logger.AppFailed(route.App, route.Version, "cpu limit", error ?? "");
                return Problem(context, StatusCodes.Status504GatewayTimeout, "app-cpu-limit", "App exceeded its CPU-time limit",
                    $"App '{route.App}' used more than its CPU-time limit of {limits.CpuTime?.TotalMilliseconds:0} ms; see the app's log: {LogsUrl(route.App)}");
            case Failure.Overloaded:
                context.Response.Headers.RetryAfter = "1";
                return Problem(context, StatusCodes.Status503ServiceUnavailable, "overloaded", "Router busy",
                    "No Wasm instance slot is free right now; retry shortly.");
            case Failure.RequestTooLarge:
                return Problem(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Request body too large",
                    $"The request body exceeds the app's limit of {limits.MaxRequestBodyBytes} bytes.");
            case Failure.InvalidResponse:
                _logger.AppFailed(route.App, route.Version, "invalid CGI response", error ?? "");
                return Problem(context, StatusCodes.Status500InternalServerError, "invalid-app-response", "Invalid app response",
                    $"App '{route.App}' wrote an invalid CGI response: {error}; see the app's log: {LogsUrl(route.App)}");
            case Failure.NoResponse:
                _logger.AppFailed(route.App, route.Version, "no response", error ?? "");
                return Problem(context, StatusCodes.Status500InternalServerError, "app-no-response", "App set no response",
                    $"App '{route.App}': the component returned without setting a response; see the app's log: {LogsUrl(route.App)}");
            default:
                // The details go to the app's log, not to the caller.
                _logger.AppFailed(route.App, route.Version, outcome, error ?? "");
                return Problem(context, otherStatus, "app-failed", "App failed",
                    $"App '{route.App}' failed ({outcome}); see the app's log: {LogsUrl(route.App)}");
        }
    }

    /// <summary>Where the app's owner reads what went wrong (the control plane's logs API).</summary>
    private string LogsUrl(string app) => _logsUrlBase + app + "/logs";

    /// <summary>503 with Retry-After (seconds, as HTTP defines it) and Retry-After-Ms (the estimate itself).</summary>
    private Task<int> Rejected(HttpContext context, AppRouting routing, ExecutionRejection rejection, int retryAfterMilliseconds)
    {
        var (app, share) = (routing.Entry.App, routing.State.Concurrency);
        var ms = Math.Max(1, retryAfterMilliseconds);
        context.Response.Headers.RetryAfter = ((ms + 999) / 1000).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["Retry-After-Ms"] = ms.ToString(CultureInfo.InvariantCulture);
        var detail = rejection switch
        {
            ExecutionRejection.AppBusy => $"App '{app}' is running its share of {share} concurrent requests and has a full queue; retry in about {ms} ms.",
            ExecutionRejection.QueueTimeout => $"App '{app}' is running its share of {share} concurrent requests and this request waited {_options.MaxQueueWaitMilliseconds} ms for a turn; retry in about {ms} ms.",
            ExecutionRejection.Stopping => "The router is shutting down; retry on another one.",
            _ => $"All {_workers.Workers} execution workers are busy and {_options.QueueLength} requests are waiting; retry in about {ms} ms.",
        };
        var kind = rejection is ExecutionRejection.AppBusy or ExecutionRejection.QueueTimeout ? "app-overloaded" : "overloaded";
        return Problem(context, StatusCodes.Status503ServiceUnavailable, kind, kind == "app-overloaded" ? "App busy" : "Router busy", detail);
    }

    /// <summary>
    /// Copies an app's answer to the client: the one place response headers pass from a guest to the client, so the
    /// shared-domain cookie rule (<see cref="SharedDomainCookies"/>) applies to every kind of guest that answers here.
    /// </summary>
    private static ValueTask WriteResultAsync(HttpContext context, WagiResult result, string appDomain, RequestLog? log, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = result.StatusCode;
        var headers = result.Headers;
        for (var i = 0; i < headers.Count; i++)
        {
            var (name, value) = (headers[i].Key, headers[i].Value);
            if (name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase)
                && SharedDomainCookies.ShouldDrop(value, context.Request.Host.Host, appDomain, out var domain))
            {
                log?.Platform($"[platform] Set-Cookie '{SharedDomainCookies.NameOf(value)}' dropped: Domain={domain} is shared with other apps; " +
                              "set cookies without Domain (host-only) or for the app's own host");
                continue;
            }
            response.Headers.Append(name, value);
        }
        if (result.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified or StatusCodes.Status205ResetContent)
        {
            // These carry no content (RFC 9110 15.3.5, 15.3.6, 15.4.5): a body the app wrote anyway is dropped, not an error.
            if (result.StatusCode == StatusCodes.Status205ResetContent)
            {
                response.ContentLength = 0;
            }
            return ValueTask.CompletedTask;
        }
        response.ContentLength = result.Body.Length;
        if (result.Body.Length == 0 || HttpMethods.IsHead(context.Request.Method))
        {
            return ValueTask.CompletedTask;
        }
        // Straight into Kestrel's response pipe; the flush usually completes at once, so no state machine is boxed.
        var flush = response.BodyWriter.WriteAsync(result.Body, cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            _ = flush.Result; // completes a pooled value-task source
            return ValueTask.CompletedTask;
        }
        return AwaitFlushAsync(flush);

        static async ValueTask AwaitFlushAsync(ValueTask<System.IO.Pipelines.FlushResult> pending) => await pending;
    }

    /// <summary>Reads the whole body, or returns null when it is larger than the limit.</summary>
    private static ValueTask<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext context, long max, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding")))
        {
            return ValueTask.FromResult<ReadOnlyMemory<byte>?>(ReadOnlyMemory<byte>.Empty);
        }
        return ReadNonEmptyBodyAsync(context, max, cancellationToken);
    }

    private static async ValueTask<ReadOnlyMemory<byte>?> ReadNonEmptyBodyAsync(HttpContext context, long max, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (request.ContentLength > max)
        {
            return null;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } f)
        {
            f.MaxRequestBodySize = max + 1;
        }
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, max) + 1);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(4096);
                var n = await request.Body.ReadAsync(memory, cancellationToken);
                if (n == 0)
                {
                    break;
                }
                buffer.Advance(n);
                if (buffer.WrittenCount > max)
                {
                    return null;
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        return buffer.WrittenMemory;
    }

    private async Task<int> Problem(HttpContext context, int status, string kind, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            return status;
        }
        context.Response.StatusCode = status;
        await _problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Type = ProblemTypes.For(kind), Title = title, Detail = detail },
        });
        return status;
    }

    /// <summary>
    /// Serves one synthetic request with <paramref name="module"/> on <paramref name="context"/>, through the same
    /// code as app traffic but without the module lookup, metrics or request figures (give it an executor that
    /// records no telemetry): the router's warm-up, so the first real request does not pay for compiling this path.
    /// </summary>
    internal async Task<int> WarmUpAsync(HttpContext context, RouteEntry route, WagiExecutor executor, CachedModule module, CancellationToken cancellationToken)
    {
        // Built as a routing table builds it, with this router's settings.
        var routing = AppRouting.Build(route, DefaultMaxBodyBytes, DefaultMaxResponseBytes, _routes.States);
        if (routing.Error is { } error)
        {
            throw new InvalidOperationException($"the warm-up route cannot be served: {error}");
        }
        var body = await ReadBodyAsync(context, routing.State.Limits.MaxRequestBodyBytes, cancellationToken);
        return body is { } b ? await RunAsync(context, routing, executor, module, b, cancellationToken) : StatusCodes.Status413PayloadTooLarge;
    }

    public void Dispose()
    {
    }
}
