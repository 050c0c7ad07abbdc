namespace Platform.Router.Routing;

/// <summary>Maps a request's host name to an app: "hello.apps.localhost" -> "hello" under the domain "apps.localhost".</summary>
public static class AppHost
{
    /// <summary>The app name (lower case), or null when the host is not exactly one label under the app domain.</summary>
    public static string? AppNameOf(string host, string appDomain)
    {
        var domain = appDomain.Trim('.');
        // "hello.apps.localhost." is the same name written fully qualified (RFC 1034); it routes like the name without the dot.
        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }
        if (host.Length <= domain.Length + 1
            || !host.EndsWith(domain, StringComparison.OrdinalIgnoreCase)
            || host[host.Length - domain.Length - 1] != '.')
        {
            return null;
        }
        var app = host[..(host.Length - domain.Length - 1)];
        return app.Contains('.') ? null : app.ToLowerInvariant();
    }
}
