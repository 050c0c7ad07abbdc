using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Platform.Contracts;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>Turns an ASP.NET Core request into what the WAGI executor needs; the executor never sees HttpContext.</summary>
public static class WagiRequests
{
    public static WagiRequest From(HttpContext context, RouteEntry route, ReadOnlyMemory<byte> body)
    {
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToUriComponent();
        var queryAt = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count);
        foreach (var (name, values) in request.Headers)
        {
            headers.Add(new(name, values.ToString()));
        }
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "";
        return new WagiRequest
        {
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
            Headers = headers,
            Body = body,
            MatchedRoute = "/...",
            FullUrl = request.GetDisplayUrl(),
            AppVariables = [.. route.Variables],
            AppName = route.App,
            AppVersion = route.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
