using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Platform.Contracts;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;
using Platform.Runtime.Components;

namespace Platform.Router.Serving;

/// <summary>The wasi:http component path of app traffic: same route, body, queue, limits and logs as WAGI, another guest ABI.</summary>
public sealed partial class AppTrafficHandler
{
    /// <summary>One fresh store and instance of the component for this request, on the router's workers, and its answer written back.</summary>
    private async ValueTask<int> RunComponentAsync(HttpContext context, AppRouting routing, Platform.Runtime.CachedModule module,
        ReadOnlyMemory<byte> body, CancellationToken aborted, RouteMatch match)
    {
        var route = routing.Entry;
        var state = routing.State;
        var id = match.Route.Component.Id;
        if (module.Code is not LoadedComponent component)
        {
            return await Problem(context, StatusCodes.Status502BadGateway, "module-unavailable", "Module could not be loaded",
                $"App '{route.App}' (version {route.Version}): component '{id}' is listed as a wasi:http component but its module is not one.");
        }
        var request = ComponentRequests.From(context, route, match, body, match.Route.Component.Outbound);
        var log = _logs.Begin(route.App, route.Version, state.IsSingleModule ? null : id, RequestLog.RequestIdOf(context), state.LogLine);
        ComponentExecutionOutcome execution;
        try
        {
            execution = await _workers.ExecuteAsync(route.App, state.Concurrency, _components, component, request, state.Limits,
                new ComponentLog(log.Stdout, log.Stderr, log.Platform), aborted);
        }
        finally
        {
            log.Complete();
        }
        if (execution.Result is not { } result)
        {
            return await Rejected(context, routing, execution.Rejection, execution.RetryAfterMilliseconds);
        }
        if (result.Outcome == ComponentOutcome.Ok)
        {
            await WriteComponentResultAsync(context, result, aborted);
            return result.StatusCode;
        }
        return await ExecutionFailed(context, routing, FailureOf(result.Outcome), result.Outcome.ToString(), result.Error, StatusCodes.Status500InternalServerError);
    }

    private static ValueTask WriteComponentResultAsync(HttpContext context, ComponentResult result, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = result.StatusCode;
        foreach (var (name, value) in result.Headers)
        {
            // The host validated names and values; framing headers are the server's, never the guest's.
            if (!ComponentRequests.IsHopByHop(name))
            {
                response.Headers.Append(name, value);
            }
        }
        if (result.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified or StatusCodes.Status205ResetContent
            || result.StatusCode < 200)
        {
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
        var flush = response.BodyWriter.WriteAsync(result.Body, cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            _ = flush.Result;
            return ValueTask.CompletedTask;
        }
        return AwaitFlushAsync(flush);

        static async ValueTask AwaitFlushAsync(ValueTask<System.IO.Pipelines.FlushResult> pending) => await pending;
    }
}

/// <summary>Turns an ASP.NET Core request into the <c>incoming-request</c> a wasi:http component sees.</summary>
public static class ComponentRequests
{
    /// <summary>Framing headers are the server's: the hop-by-hop list and <c>content-length</c> (the router frames the body it writes).</summary>
    public static bool IsHopByHop(string name) =>
        Platform.Runtime.Http.HopByHopHeaders.Contains(name) || name.Equals("content-length", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Method, scheme, authority (the Host header), path and query as sent, and the headers; plus the headers Spin
    /// gives its components (<c>spin-full-url</c>, <c>spin-path-info</c>, <c>spin-matched-route</c>, ...), so apps
    /// built with Spin's SDKs route as under Spin. Headers of those names sent by the client are dropped, never trusted.
    /// </summary>
    public static ComponentRequest From(HttpContext context, RouteEntry route, RouteMatch match, ReadOnlyMemory<byte> body,
        Platform.Runtime.Outbound.OutboundPolicy outbound)
    {
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/'
            ? raw
            : request.Path.ToUriComponent() + request.QueryString.ToUriComponent();
        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count + 8);
        foreach (var (name, values) in request.Headers)
        {
            if (name.StartsWith("spin-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? ""));
            }
        }
        var pattern = match.Route.Pattern.Route;
        headers.Add(new("spin-full-url", request.GetDisplayUrl()));
        headers.Add(new("spin-path-info", match.PathInfo));
        headers.Add(new("spin-matched-route", pattern));
        headers.Add(new("spin-raw-component-route", pattern));
        headers.Add(new("spin-component-route", pattern.EndsWith("/...", StringComparison.Ordinal) ? pattern[..^4] : pattern));
        headers.Add(new("spin-base-path", "/"));
        headers.Add(new("spin-client-addr", context.Connection.RemoteIpAddress is { } ip
            ? $"{ip}:{context.Connection.RemotePort}" : ""));
        return new ComponentRequest
        {
            Method = request.Method,
            Scheme = request.Scheme,
            Authority = request.Host.HasValue ? request.Host.Value! : $"{context.Connection.LocalIpAddress}:{context.Connection.LocalPort}",
            PathWithQuery = rawTarget,
            Headers = headers,
            Body = body,
            Environment = match.Route.Component.Variables,
            Variables = match.Route.Component.SpinVariables,
            AppName = route.App,
            Outbound = outbound,
        };
    }
}
