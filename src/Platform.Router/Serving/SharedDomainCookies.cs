namespace Platform.Router.Serving;

/// <summary>
/// Keeps apps from setting cookies for one another: every app lives under the shared apps domain, so a
/// <c>Set-Cookie</c> whose <c>Domain</c> is that domain or any parent of the app's host would be sent to (and
/// readable or overwritable by) every other app. Such headers are dropped; host-only cookies (no <c>Domain</c>) and
/// cookies for the app's own host pass. Browsers do the same for domains on the Public Suffix List, which is where
/// operators should put the apps domain in production.
/// </summary>
public static class SharedDomainCookies
{
    /// <summary>
    /// True when <paramref name="setCookie"/> names a <c>Domain</c> other than the app's own host that covers it
    /// (the apps domain or a parent of <paramref name="appHost"/>); <paramref name="domain"/> is that attribute.
    /// </summary>
    /// <param name="appHost">The host the request came to, such as <c>hello.apps.localhost</c>.</param>
    /// <param name="appDomain">The shared apps domain, such as <c>apps.localhost</c>.</param>
    public static bool ShouldDrop(string setCookie, string appHost, string appDomain, out string domain)
    {
        domain = "";
        var host = Normalise(appHost);
        var apps = Normalise(appDomain);
        var attributes = setCookie.AsSpan();
        var first = attributes.IndexOf(';');
        if (first < 0)
        {
            return false;
        }
        attributes = attributes[(first + 1)..];
        var drop = false;
        foreach (var range in attributes.Split(';'))
        {
            var attribute = attributes[range].Trim();
            var eq = attribute.IndexOf('=');
            if (eq < 0 || !attribute[..eq].Trim().Equals("domain", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var value = Normalise(attribute[(eq + 1)..].Trim().ToString());
            if (value.Length == 0 || value == host)
            {
                // An empty Domain is ignored by browsers (host-only); the app's own host is its own.
                continue;
            }
            // Every Domain attribute is judged (browsers use the last one; none may reach beyond the app's host).
            if (value == apps || host.EndsWith("." + value, StringComparison.Ordinal) || apps.EndsWith("." + value, StringComparison.Ordinal))
            {
                domain = attribute[(eq + 1)..].Trim().ToString();
                drop = true;
            }
        }
        return drop;
    }

    /// <summary>The cookie's name (never its value), for the app's log.</summary>
    public static string NameOf(string setCookie)
    {
        var end = setCookie.AsSpan().IndexOfAny('=', ';');
        return (end < 0 ? setCookie : setCookie[..end]).Trim();
    }

    // Case-insensitive, one leading dot ignored (RFC 6265 5.2.3), a trailing dot of a fully qualified name too.
    private static string Normalise(string name) => name.Trim().TrimStart('.').TrimEnd('.').ToLowerInvariant();
}
