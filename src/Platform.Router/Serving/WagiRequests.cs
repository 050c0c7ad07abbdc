using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Platform.Contracts;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>Turns an ASP.NET Core request into what the WAGI executor needs; the executor never sees HttpContext.</summary>
public static class WagiRequests
{
    /// <param name="appVariables">The route's variables as a list, built once per route rather than per request.</param>
    /// <param name="version">The route's version number as text, for telemetry.</param>
    /// <param name="outbound">The route's (or component's) outbound policy, built once per route.</param>
    public static WagiRequest From(HttpContext context, RouteEntry route, IReadOnlyList<KeyValuePair<string, string>> appVariables, string version,
        ReadOnlyMemory<byte> body, Platform.Runtime.Outbound.OutboundPolicy? outbound = null)
    {
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToUriComponent();
        var queryAt = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var headers = new KeyValuePair<string, string>[request.Headers.Count];
        var count = 0;
        foreach (var (name, values) in request.Headers)
        {
            headers[count++] = new(name, values.ToString());
        }
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "";
        return new WagiRequest
        {
            Outbound = outbound,
            Method = request.Method,
            PathInfo = request.Path.Value ?? "/",
            RawPathInfo = queryAt >= 0 ? rawTarget[..queryAt] : rawTarget,
            QueryString = request.QueryString.HasValue ? request.QueryString.Value![1..] : "",
            ScriptName = "/",
            ServerName = request.Host.Host,
            ServerPort = request.Host.Port ?? context.Connection.LocalPort,
            ServerProtocol = request.Protocol,
            Scheme = request.Scheme,
            ContentType = request.ContentType,
            ContentLength = request.ContentLength,
            RemoteAddress = remote,
            RemoteHost = remote,
            Headers = count == headers.Length ? headers : headers[..count],
            Body = body,
            MatchedRoute = "/...",
            FullUrl = request.GetDisplayUrl(),
            AppVariables = appVariables,
            AppName = route.App,
            AppVersion = version,
        };
    }
}
