using System.Buffers;
using System.Globalization;
using System.Text;

namespace Platform.Runtime;

/// <summary>The environment variables and argv a WAGI module gets for one request.</summary>
/// <remarks>
/// The executor does not build this object: it encodes the same variables straight into the NUL-terminated layout
/// <c>environ_get</c> copies out (<see cref="EncodeVariables"/>), with pooled buffers and no per-variable strings.
/// Both go through one collection step, so they cannot disagree about names, order or overwrites.
/// </remarks>
public sealed class WagiEnvironment
{
    public const string ServerSoftware = "Platform-WAGI/1.0";

    // Never exposed: credentials, per-hop headers, the two CGI already carries as CONTENT_*, and "Proxy",
    // whose HTTP_PROXY would redirect a client library's outbound traffic (httpoxy).
    private static readonly HashSet<string> s_excludedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Connection", "Proxy", "Content-Type", "Content-Length",
    };

    private const string HeaderPrefix = "HTTP_";
    private static readonly byte[] s_headerPrefix = "HTTP_"u8.ToArray();

    private WagiEnvironment(IReadOnlyList<KeyValuePair<string, string>> variables, IReadOnlyList<string> arguments)
    {
        Variables = variables;
        Arguments = arguments;
    }

    /// <summary>Variables in the order the module sees them; each name appears once.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Variables { get; }

    /// <summary>argv: SCRIPT_NAME, then the query string's '&amp;'-separated parts as sent.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>
    /// Builds the WAGI environment and argv. Pure: it reads nothing but <paramref name="request"/>, so no host
    /// variable can leak in. Throws <see cref="ArgumentException"/> for a name or value a C environment cannot hold.
    /// </summary>
    public static WagiEnvironment Build(WagiRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var collected = Collect(request);
        try
        {
            var list = new List<KeyValuePair<string, string>>(collected.Count);
            for (var i = 0; i < collected.Count; i++)
            {
                ref readonly var v = ref collected.Items[i];
                if (!v.Removed)
                {
                    list.Add(new(v.Name ?? HeaderVariableName(v.Header!), v.Value));
                }
            }
            var arguments = TemplateArguments(request);
            if (arguments is null)
            {
                arguments = [request.ScriptName];
                if (request.QueryString.Length > 0)
                {
                    arguments.AddRange(request.QueryString.Split('&'));
                }
            }
            foreach (var argument in arguments)
            {
                CheckValue("argv", argument);
            }
            return new WagiEnvironment(list, arguments);
        }
        finally
        {
            collected.Return();
        }
    }

    /// <summary>The variables of <see cref="Build"/>, encoded as "NAME=value\0" each, in pooled buffers.</summary>
    internal static EncodedStrings EncodeVariables(WagiRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var collected = Collect(request);
        try
        {
            // UTF-8 needs at most 3 bytes per UTF-16 char; the pooled buffer is sized for that bound once.
            long bound = 0;
            for (var i = 0; i < collected.Count; i++)
            {
                ref readonly var v = ref collected.Items[i];
                bound += 3L * ((v.Name?.Length ?? HeaderPrefix.Length + v.Header!.Length) + v.Value.Length) + 2;
            }
            var encoded = EncodedStrings.Rent(collected.Count, checked((int)bound));
            for (var i = 0; i < collected.Count; i++)
            {
                ref readonly var v = ref collected.Items[i];
                if (v.Removed)
                {
                    continue;
                }
                var span = encoded.Begin();
                int written;
                if (v.Name is not null)
                {
                    written = Encoding.UTF8.GetBytes(v.Name, span);
                }
                else
                {
                    s_headerPrefix.CopyTo(span);
                    written = s_headerPrefix.Length + WriteHeaderSuffix(v.Header!, span[s_headerPrefix.Length..]);
                }
                span[written++] = (byte)'=';
                written += Encoding.UTF8.GetBytes(v.Value, span[written..]);
                span[written++] = 0;
                encoded.End(written);
            }
            return encoded;
        }
        finally
        {
            collected.Return();
        }
    }

    /// <summary>argv of <see cref="Build"/>, encoded: SCRIPT_NAME, then the query's '&amp;'-separated parts.</summary>
    internal static EncodedStrings EncodeArguments(WagiRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (TemplateArguments(request) is { } templated)
        {
            var total = 0;
            foreach (var argument in templated)
            {
                CheckValue("argv", argument);
                total += 3 * argument.Length + 1;
            }
            var fromTemplate = EncodedStrings.Rent(templated.Count, total);
            foreach (var argument in templated)
            {
                Append(fromTemplate, argument);
            }
            return fromTemplate;
        }
        var query = request.QueryString.AsSpan();
        var count = 1 + (query.Length > 0 ? query.Count('&') + 1 : 0);
        var encoded = EncodedStrings.Rent(count, 3 * (request.ScriptName.Length + query.Length) + count);
        Append(encoded, request.ScriptName);
        if (query.Length > 0)
        {
            foreach (var range in query.Split('&'))
            {
                var part = query[range];
                if (part.Contains('\0'))
                {
                    CheckValue("argv", part.ToString());
                }
                Append(encoded, part);
            }
        }
        return encoded;

        static void Append(EncodedStrings target, ReadOnlySpan<char> value)
        {
            var span = target.Begin();
            var written = Encoding.UTF8.GetBytes(value, span);
            span[written++] = 0;
            target.End(written);
        }
    }

    /// <summary>
    /// argv from Spin's template, as Spin's WAGI executor computes it: <c>${SCRIPT_NAME}</c> is the request's path as
    /// sent, <c>${ARGS}</c> the query with each '&amp;' turned into a space, and the result is split at every space
    /// (so an empty query leaves an empty argument, as in Spin). Null when the request has no template.
    /// </summary>
    internal static List<string>? TemplateArguments(WagiRequest request)
    {
        if (request.ArgvTemplate is not { } template)
        {
            return null;
        }
        var path = (request.ScriptName == "/" ? "" : request.ScriptName) + request.RawPathInfo;
        var expanded = template
            .Replace("${SCRIPT_NAME}", path.Length == 0 ? "/" : path, StringComparison.Ordinal)
            .Replace("${ARGS}", request.QueryString.Replace('&', ' '), StringComparison.Ordinal);
        return [.. expanded.Split(' ')];
    }

    /// <summary>"User-Agent" becomes "HTTP_USER_AGENT".</summary>
    public static string HeaderVariableName(string headerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(headerName);
        return string.Create(headerName.Length + 5, headerName, static (span, name) =>
        {
            "HTTP_".CopyTo(span);
            for (var i = 0; i < name.Length; i++)
            {
                span[5 + i] = VariableChar(name[i]);
            }
        });
    }

    private static char VariableChar(char c) => c == '-' ? '_' : char.ToUpperInvariant(c);

    // One variable while the environment is assembled. A header variable keeps the header's name and spells out
    // "HTTP_..." only when written, so a request's headers cost no name strings.
    private struct Variable
    {
        public string? Name;
        public string? Header;
        public string Value;
        public bool Removed;
    }

    private struct Collected
    {
        public Variable[] Items;
        public int Count;

        public void Add(Variable v) => Items[Count++] = v;

        public readonly void Return() => ArrayPool<Variable>.Shared.Return(Items, clearArray: true);
    }

    /// <summary>
    /// The variables in the order the module sees them: the app's own first, then the request's, which replace an
    /// app variable of the same name in its place; headers that map to one variable name are joined with ", ".
    /// </summary>
    private static Collected Collect(WagiRequest request)
    {
        var appVariables = request.AppVariables;
        var headers = request.Headers;
        var collected = new Collected { Items = ArrayPool<Variable>.Shared.Rent(appVariables.Count + 17 + headers.Count) };
        try
        {
            for (var i = 0; i < appVariables.Count; i++)
            {
                var (name, value) = appVariables[i];
                CheckName(name);
                CheckValue(name, value);
                if (IndexOfName(collected, collected.Count, name) is var at and >= 0)
                {
                    collected.Items[at].Value = value;
                }
                else
                {
                    collected.Add(new Variable { Name = name, Value = value });
                }
            }
            var appCount = collected.Count;

            var invariant = CultureInfo.InvariantCulture;
            SetRequestVariable(ref collected, appCount, "REQUEST_METHOD", request.Method);
            SetRequestVariable(ref collected, appCount, "PATH_INFO", request.PathInfo);
            SetRequestVariable(ref collected, appCount, "X_RAW_PATH_INFO", request.RawPathInfo);
            SetRequestVariable(ref collected, appCount, "QUERY_STRING", request.QueryString);
            SetRequestVariable(ref collected, appCount, "SCRIPT_NAME", request.ScriptName);
            SetRequestVariable(ref collected, appCount, "SERVER_NAME", request.ServerName);
            SetRequestVariable(ref collected, appCount, "SERVER_PORT", request.ServerPort.ToString(invariant));
            SetRequestVariable(ref collected, appCount, "SERVER_PROTOCOL", request.ServerProtocol);
            SetRequestVariable(ref collected, appCount, "SERVER_SOFTWARE", ServerSoftware);
            SetRequestVariable(ref collected, appCount, "GATEWAY_INTERFACE", "CGI/1.1");
            SetRequestVariable(ref collected, appCount, "CONTENT_TYPE", request.ContentType ?? "");
            SetRequestVariable(ref collected, appCount, "CONTENT_LENGTH", request.Body.Length.ToString(invariant));
            SetRequestVariable(ref collected, appCount, "REMOTE_ADDR", request.RemoteAddress);
            SetRequestVariable(ref collected, appCount, "REMOTE_HOST", string.IsNullOrEmpty(request.RemoteHost) ? request.RemoteAddress : request.RemoteHost);
            SetRequestVariable(ref collected, appCount, "X_MATCHED_ROUTE", request.MatchedRoute);
            // What older WAGI file servers read: the path below the route without its leading '/'.
            SetRequestVariable(ref collected, appCount, "X_RELATIVE_PATH", request.PathInfo.StartsWith('/') ? request.PathInfo[1..] : request.PathInfo);
            SetRequestVariable(ref collected, appCount, "X_FULL_URL", request.FullUrl);

            // Headers of the same variable name are joined, as RFC 3875 asks; the request variables above all lack
            // the HTTP_ prefix, so a header can only meet an earlier header or an app variable.
            var firstHeader = collected.Count;
            for (var i = 0; i < headers.Count; i++)
            {
                var (name, value) = headers[i];
                if (s_excludedHeaders.Contains(name))
                {
                    continue;
                }
                ArgumentException.ThrowIfNullOrEmpty(name);
                var at = -1;
                for (var j = firstHeader; j < collected.Count; j++)
                {
                    if (SameVariable(collected.Items[j].Header!, name))
                    {
                        at = j;
                        break;
                    }
                }
                if (at >= 0)
                {
                    collected.Items[at].Value = collected.Items[at].Value + ", " + value;
                }
                else
                {
                    collected.Add(new Variable { Header = name, Value = value });
                }
            }
            for (var j = firstHeader; j < collected.Count; j++)
            {
                ref var header = ref collected.Items[j];
                if (header.Header.AsSpan().IndexOfAny('=', '\0') >= 0)
                {
                    CheckName(HeaderVariableName(header.Header!));
                }
                if (header.Value.Contains('\0'))
                {
                    CheckValue(HeaderVariableName(header.Header!), header.Value);
                }
                // A header replaces an app variable of its name in the app variable's place (an app's HTTP_* is overwritten).
                for (var k = 0; k < appCount; k++)
                {
                    if (IsHeaderVariable(collected.Items[k].Name!, header.Header!))
                    {
                        collected.Items[k].Value = header.Value;
                        header.Removed = true;
                        break;
                    }
                }
            }
            return collected;
        }
        catch
        {
            collected.Return();
            throw;
        }
    }

    private static void SetRequestVariable(ref Collected collected, int appCount, string name, string value)
    {
        CheckValue(name, value);
        if (appCount > 0 && IndexOfName(collected, appCount, name) is var at and >= 0)
        {
            collected.Items[at].Value = value;
        }
        else
        {
            collected.Add(new Variable { Name = name, Value = value });
        }
    }

    private static int IndexOfName(in Collected collected, int end, string name)
    {
        for (var i = 0; i < end; i++)
        {
            if (string.Equals(collected.Items[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>True when two header names give the same variable ("X-A", "x_a" and "X_A" all give HTTP_X_A).</summary>
    private static bool SameVariable(string a, string b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && VariableChar(a[i]) != VariableChar(b[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>True when <paramref name="variable"/> is exactly the variable name <paramref name="header"/> gives.</summary>
    private static bool IsHeaderVariable(string variable, string header)
    {
        if (variable.Length != HeaderPrefix.Length + header.Length || !variable.StartsWith(HeaderPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        for (var i = 0; i < header.Length; i++)
        {
            if (variable[HeaderPrefix.Length + i] != VariableChar(header[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Writes the header's part of its variable name ("user-agent" -> "USER_AGENT") as UTF-8.</summary>
    private static int WriteHeaderSuffix(string header, Span<byte> destination)
    {
        var written = 0;
        Span<char> chars = stackalloc char[128];
        var start = 0;
        while (start < header.Length)
        {
            var length = Math.Min(chars.Length, header.Length - start);
            // A surrogate pair cut in two would encode as two replacement characters: leave the high half for the next piece.
            if (length == chars.Length && char.IsHighSurrogate(header[start + length - 1]))
            {
                length--;
            }
            for (var i = 0; i < length; i++)
            {
                chars[i] = VariableChar(header[start + i]);
            }
            written += Encoding.UTF8.GetBytes(chars[..length], destination[written..]);
            start += length;
        }
        return written;
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('=') || name.Contains('\0'))
        {
            throw new ArgumentException($"Environment variable name '{name}' is empty or contains '=' or NUL.", nameof(name));
        }
    }

    private static void CheckValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Contains('\0'))
        {
            throw new ArgumentException($"The value of '{name}' contains a NUL character, which a WASI environment cannot carry: '{value.Replace("\0", "\\0")}'.", nameof(value));
        }
    }
}
