using System.Buffers;
using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Oci;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>
/// Serves app traffic: host name -> route -> module (cache or registry) -> a fresh Wasm instance per request (WAGI).
/// Every failure becomes a problem response; nothing an app does can take the router down.
/// </summary>
public sealed class AppTrafficHandler(
    RoutingTableStore routes,
    ModuleLoader modules,
    WagiExecutor executor,
    RouterMetrics metrics,
    RequestStats stats,
    IOptions<RouterOptions> options,
    IProblemDetailsService problems,
    ILoggerFactory loggerFactory,
    TimeProvider clock)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Platform.Router.Apps");
    private readonly ConcurrencyLimiter _limiter = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.Value.MaxConcurrency,
        QueueLimit = options.Value.QueueLength,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public const long DefaultMaxBodyBytes = 10L * 1024 * 1024;
    public const long DefaultMaxResponseBytes = 10L * 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var app = AppHost.AppNameOf(context.Request.Host.Host, options.Value.AppDomain);
        if (app is null || !routes.TryGetRoute(app, out var route))
        {
            await Problem(context, StatusCodes.Status404NotFound, "app-not-found", "App not found",
                app is null
                    ? $"Host '{context.Request.Host.Host}' is not an app host; apps answer at <app>.{options.Value.AppDomain}."
                    : $"No app named '{app}' is deployed here.");
            return;
        }

        var status = StatusCodes.Status500InternalServerError;
        try
        {
            status = await ServeAsync(context, route);
        }
        finally
        {
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            metrics.RequestServed(route.App, status, elapsedMs);
            stats.Record(route.App, clock.GetUtcNow(), elapsedMs, status >= 500);
        }
    }

    private async Task<int> ServeAsync(HttpContext context, RouteEntry route)
    {
        var aborted = context.RequestAborted;
        using var lease = await _limiter.AcquireAsync(1, aborted);
        if (!lease.IsAcquired)
        {
            context.Response.Headers.RetryAfter = "1";
            return await Problem(context, StatusCodes.Status503ServiceUnavailable, "overloaded", "Router busy",
                $"More than {options.Value.MaxConcurrency} requests are running and {options.Value.QueueLength} waiting; retry shortly.");
        }

        var limits = new AppLimits
        {
            MemoryBytes = route.MemoryLimitBytes,
            WallTime = TimeSpan.FromMilliseconds(route.TimeoutMilliseconds),
            MaxRequestBodyBytes = DefaultMaxBodyBytes,
            MaxResponseBytes = DefaultMaxResponseBytes,
        };
        var body = await ReadBodyAsync(context, limits.MaxRequestBodyBytes, aborted);
        if (body is null)
        {
            return await Problem(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Request body too large",
                $"The request body exceeds the app's limit of {limits.MaxRequestBodyBytes} bytes.");
        }

        CachedModule module;
        try
        {
            module = await modules.GetAsync(route, aborted);
        }
        catch (OciRegistryUnavailableException ex)
        {
            _logger.ModuleLoadFailed(ex, route.App, route.ModuleDigest);
            context.Response.Headers.RetryAfter = "5";
            return await Problem(context, StatusCodes.Status503ServiceUnavailable, "registry-unavailable", "Module not available",
                $"The module of app '{route.App}' is not cached here and the registry cannot be reached; retry shortly.");
        }
        catch (Exception ex) when (ex is OciRegistryException or ModuleDigestMismatchException or Wasmtime.WasmtimeException)
        {
            _logger.ModuleLoadFailed(ex, route.App, route.ModuleDigest);
            return await Problem(context, StatusCodes.Status502BadGateway, "module-unavailable", "Module could not be loaded",
                $"The module of app '{route.App}' (version {route.Version}) could not be loaded.");
        }

        var request = WagiRequests.From(context, route, body.Value);
        WagiResult result;
        try
        {
            result = executor.Execute(module, request, limits, line => _logger.AppLog(route.App, route.Version, line), aborted);
        }
        catch (ArgumentException ex)
        {
            // A header or path that cannot become a CGI variable (a NUL character, say): the request is at fault.
            return await Problem(context, StatusCodes.Status400BadRequest, "bad-request", "Request cannot be passed to the app", ex.Message);
        }
        using var disposeResult = result;

        switch (result.Outcome)
        {
            case WagiOutcome.Ok:
                await WriteResultAsync(context, result, aborted);
                return result.StatusCode;
            case WagiOutcome.Cancelled:
                // The client went away (or the router is stopping): nobody reads this answer.
                return 499;
            case WagiOutcome.Timeout:
                _logger.AppFailed(route.App, route.Version, "timeout", result.Error ?? "");
                return await Problem(context, StatusCodes.Status504GatewayTimeout, "app-timeout", "App timed out",
                    $"App '{route.App}' did not finish within {limits.WallTime.TotalSeconds:0.###} s.");
            case WagiOutcome.Overloaded:
                context.Response.Headers.RetryAfter = "1";
                return await Problem(context, StatusCodes.Status503ServiceUnavailable, "overloaded", "Router busy",
                    "No Wasm instance slot is free right now; retry shortly.");
            case WagiOutcome.RequestTooLarge:
                return await Problem(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", "Request body too large",
                    $"The request body exceeds the app's limit of {limits.MaxRequestBodyBytes} bytes.");
            case WagiOutcome.InvalidResponse:
                _logger.AppFailed(route.App, route.Version, "invalid CGI response", result.Error ?? "");
                return await Problem(context, StatusCodes.Status500InternalServerError, "invalid-app-response", "Invalid app response",
                    $"App '{route.App}' wrote an invalid CGI response: {result.Error}");
            default:
                // Traps, memory exhaustion, oversized output: the details go to the app's log, not to the caller.
                _logger.AppFailed(route.App, route.Version, result.Outcome.ToString(), result.Error ?? "");
                return await Problem(context, WagiResult.StatusFor(result.Outcome), "app-failed", "App failed",
                    $"App '{route.App}' failed ({result.Outcome}); see the app's log.");
        }
    }

    private static async Task WriteResultAsync(HttpContext context, WagiResult result, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = result.StatusCode;
        foreach (var (name, value) in result.Headers)
        {
            response.Headers.Append(name, value);
        }
        response.ContentLength = result.Body.Length;
        if (result.Body.Length > 0 && !HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(result.Body, cancellationToken);
        }
    }

    /// <summary>Reads the whole body, or returns null when it is larger than the limit.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext context, long max, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding")))
        {
            return ReadOnlyMemory<byte>.Empty;
        }
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
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Type = "https://platform.local/problems/" + kind, Title = title, Detail = detail },
        });
        return status;
    }
}
