using System.Diagnostics.CodeAnalysis;

namespace Platform.Contracts;

/// <summary>
/// A Spin HTTP trigger route: exact (<c>/a/b</c>), named segments (<c>/users/:id</c>), a trailing wildcard
/// (<c>/a/...</c>, which also matches <c>/a</c>) or the catch-all <c>/...</c>. One trailing slash is ignored on both
/// the route and the path, as Spin does. The one parser both the control plane (validation) and routers (matching) use.
/// </summary>
public sealed class HttpRoutePattern : IComparable<HttpRoutePattern>
{
    private readonly string[] _segments; // literal segments, or ":name" for a named one (without the wildcard)

    private HttpRoutePattern(string route, string[] segments, bool isWildcard)
    {
        Route = route;
        _segments = segments;
        IsWildcard = isWildcard;
        Prefix = "/" + string.Join('/', segments);
        Canonical = isWildcard ? (segments.Length == 0 ? "/..." : Prefix + "/...") : Prefix;
        HasNamedSegments = segments.Any(s => s[0] == ':');
    }

    /// <summary>The route as written in the manifest (what WAGI's <c>X_MATCHED_ROUTE</c> carries).</summary>
    public string Route { get; }

    /// <summary>The route without its trailing <c>/...</c> or slash: <c>/static</c> for <c>/static/...</c>, <c>/</c> for <c>/...</c>.</summary>
    public string Prefix { get; }

    /// <summary>Normalised form; two routes with the same canonical form are duplicates.</summary>
    public string Canonical { get; }

    public bool IsWildcard { get; }

    public bool HasNamedSegments { get; }

    /// <summary>Parses a route; <paramref name="error"/> says what is wrong, quoting the route.</summary>
    public static bool TryParse(string? route, [NotNullWhen(true)] out HttpRoutePattern? pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = null;
        if (string.IsNullOrEmpty(route))
        {
            error = "a route must not be empty";
            return false;
        }
        if (route[0] != '/')
        {
            error = $"route '{route}' must start with '/'";
            return false;
        }
        foreach (var c in route)
        {
            // Routes are compared with decoded paths; anything outside visible ASCII cannot be typed reliably.
            if (c <= ' ' || c >= 0x7f || c is '?' or '#' or '%' or '\\')
            {
                error = $"route '{route}' contains the character '{(c < ' ' || c >= 0x7f ? $"U+{(int)c:X4}" : c.ToString())}', which routes cannot hold";
                return false;
            }
        }
        var body = route.Length > 1 && route.EndsWith('/') ? route[..^1] : route;
        var wildcard = false;
        if (body == "/...")
        {
            wildcard = true;
            body = "";
        }
        else if (body.EndsWith("/...", StringComparison.Ordinal))
        {
            wildcard = true;
            body = body[..^4];
        }
        var segments = body.Length <= 1 ? [] : body[1..].Split('/');
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var segment in segments)
        {
            if (segment.Length == 0)
            {
                error = $"route '{route}' has an empty segment ('//')";
                return false;
            }
            if (segment is "." or ".." || segment.Contains("...", StringComparison.Ordinal))
            {
                error = $"route '{route}' has the segment '{segment}'; '...' may only end a route, as '/...'";
                return false;
            }
            if (segment[0] == ':' && (segment.Length == 1 || !names.Add(segment)))
            {
                error = segment.Length == 1
                    ? $"route '{route}' has a ':' segment without a name"
                    : $"route '{route}' names the segment '{segment}' twice";
                return false;
            }
        }
        pattern = new HttpRoutePattern(route, segments, wildcard);
        error = null;
        return true;
    }

    public static HttpRoutePattern Parse(string route) =>
        TryParse(route, out var pattern, out var error) ? pattern : throw new FormatException(error);

    /// <summary>
    /// Matches a decoded request path. On success <paramref name="pathInfo"/> is, for a wildcard, the part after the
    /// matched prefix (empty or starting with '/'), what WAGI's <c>PATH_INFO</c> carries; for an exact route it is empty.
    /// </summary>
    public bool TryMatch(string path, out string pathInfo)
    {
        pathInfo = "";
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            return false;
        }
        var position = 1; // just past a '/'
        foreach (var segment in _segments)
        {
            if (position > path.Length)
            {
                return false;
            }
            var end = path.IndexOf('/', position);
            var length = (end < 0 ? path.Length : end) - position;
            if (length == 0)
            {
                return false;
            }
            if (segment[0] != ':' && !path.AsSpan(position, length).SequenceEqual(segment))
            {
                return false;
            }
            position += length + 1;
        }
        // position - 1 is where the matched part ends (0 for a route without segments: the whole path is the rest).
        var rest = position - 1 >= path.Length ? "" : path[(position - 1)..];
        if (IsWildcard)
        {
            pathInfo = rest;
            return true;
        }
        // An exact route takes the path itself or the path with one trailing slash.
        return rest.Length == 0 || rest == "/";
    }

    /// <summary>
    /// Orders routes from the most specific to the least: more segments first; then exact before wildcard (so an exact
    /// route beats the wildcard of the same prefix); then literal before named at the first place they differ; the
    /// catch-all last. Routes that sort apart but match no common path may come in any order.
    /// </summary>
    public int CompareTo(HttpRoutePattern? other)
    {
        if (other is null)
        {
            return -1;
        }
        var byLength = other._segments.Length.CompareTo(_segments.Length);
        if (byLength != 0)
        {
            return byLength;
        }
        if (IsWildcard != other.IsWildcard)
        {
            return IsWildcard ? 1 : -1;
        }
        for (var i = 0; i < _segments.Length; i++)
        {
            var named = _segments[i][0] == ':';
            var otherNamed = other._segments[i][0] == ':';
            if (named != otherNamed)
            {
                return named ? 1 : -1;
            }
        }
        return string.CompareOrdinal(Canonical, other.Canonical);
    }

    /// <summary>Values of the named segments for a path this pattern matched (Spin's <c>spin-path-match-NAME</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> NamedValues(string path)
    {
        if (!HasNamedSegments)
        {
            return [];
        }
        var parts = path.Split('/');
        var values = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < _segments.Length && i + 1 < parts.Length; i++)
        {
            if (_segments[i][0] == ':')
            {
                values.Add(new(_segments[i][1..], parts[i + 1]));
            }
        }
        return values;
    }

    public override string ToString() => Route;
}
