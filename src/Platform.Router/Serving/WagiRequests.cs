using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Platform.Contracts;
using Platform.Router.Routing;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>Turns an ASP.NET Core request into what the WAGI executor needs; the executor never sees HttpContext.</summary>
public static class WagiRequests
{
    /// <param name="appVariables">The route's variables as a list, built once per route rather than per request.</param>
    /// <param name="version">The route's version number as text, for telemetry.</param>
    /// <param name="match">The route that matched and the path below it; null serves the whole path as one <c>/...</c> route.</param>
    /// <param name="outbound">The component's outbound policy, built once per route.</param>
    public static WagiRequest From(HttpContext context, RouteEntry route, IReadOnlyList<KeyValuePair<string, string>> appVariables, string version,
        ReadOnlyMemory<byte> body, RouteMatch? match = null, Platform.Runtime.Outbound.OutboundPolicy? outbound = null)
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
        var path = request.Path.Value is { Length: > 0 } p ? p : "/";
        var rawPath = queryAt >= 0 ? rawTarget[..queryAt] : rawTarget;
        var scriptName = "/";
        if (match is { PathInfo: var pathInfo })
        {
            // SCRIPT_NAME is the part of the path the route consumed, PATH_INFO the rest; the raw path loses as many segments.
            var consumed = path.EndsWith(pathInfo, StringComparison.Ordinal) ? path[..^pathInfo.Length] : path;
            path = pathInfo;
            scriptName = consumed.Length > 1 && consumed.EndsWith('/') ? consumed[..^1] : consumed.Length == 0 ? "/" : consumed;
            rawPath = scriptName == "/" ? rawPath : RawRest(rawPath, scriptName.AsSpan().Count('/'));
        }
        return new WagiRequest
        {
            Outbound = outbound,
            Method = request.Method,
            PathInfo = path,
            RawPathInfo = rawPath,
            QueryString = request.QueryString.HasValue ? request.QueryString.Value![1..] : "",
            ScriptName = scriptName,
            ServerName = request.Host.Host,
            ServerPort = request.Host.Port ?? context.Connection.LocalPort,
            ServerProtocol = request.Protocol,
            ContentType = request.ContentType,
            RemoteAddress = remote,
            RemoteHost = remote,
            Headers = count == headers.Length ? headers : headers[..count],
            Body = body,
            MatchedRoute = match?.Route.Pattern.Route ?? "/...",
            Entrypoint = match?.Route.Entrypoint,
            ArgvTemplate = match?.Route.Component.ArgvTemplate,
            Files = match?.Route.Files,
            FullUrl = request.GetDisplayUrl(),
            AppVariables = appVariables,
            AppName = route.App,
            AppVersion = version,
        };
    }

    /// <summary>The raw path after its first <paramref name="segments"/> segments ("" when nothing is left).</summary>
    private static string RawRest(string rawPath, int segments)
    {
        var at = 0;
        for (var i = 0; i < segments; i++)
        {
            var next = rawPath.IndexOf('/', at + 1);
            if (next < 0)
            {
                return "";
            }
            at = next;
        }
        return rawPath[at..];
    }
}
