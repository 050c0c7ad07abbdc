namespace Platform.Runtime;

/// <summary>The environment variables and argv a WAGI module gets for one request.</summary>
public sealed class WagiEnvironment
{
    public const string ServerSoftware = "Platform-WAGI/1.0";

    // Never exposed: credentials, per-hop headers, the two CGI already carries as CONTENT_*, and "Proxy",
    // whose HTTP_PROXY would redirect a client library's outbound traffic (httpoxy).
    private static readonly HashSet<string> s_excludedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Connection", "Proxy", "Content-Type", "Content-Length",
    };

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
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<KeyValuePair<string, string>>(24 + request.AppVariables.Count + request.Headers.Count);

        void Set(string name, string value)
        {
            CheckName(name);
            CheckValue(name, value);
            if (values.TryGetValue(name, out var index))
            {
                list[index] = new(name, value);
            }
            else
            {
                values[name] = list.Count;
                list.Add(new(name, value));
            }
        }

        foreach (var (name, value) in request.AppVariables)
        {
            Set(name, value);
        }

        Set("REQUEST_METHOD", request.Method);
        Set("PATH_INFO", request.PathInfo);
        Set("X_RAW_PATH_INFO", request.RawPathInfo);
        Set("QUERY_STRING", request.QueryString);
        Set("SCRIPT_NAME", request.ScriptName);
        Set("SERVER_NAME", request.ServerName);
        Set("SERVER_PORT", request.ServerPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set("SERVER_PROTOCOL", request.ServerProtocol);
        Set("SERVER_SOFTWARE", ServerSoftware);
        Set("GATEWAY_INTERFACE", "CGI/1.1");
        Set("CONTENT_TYPE", request.ContentType ?? "");
        Set("CONTENT_LENGTH", request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set("REMOTE_ADDR", request.RemoteAddress);
        Set("REMOTE_HOST", string.IsNullOrEmpty(request.RemoteHost) ? request.RemoteAddress : request.RemoteHost);
        Set("X_MATCHED_ROUTE", request.MatchedRoute);
        Set("X_FULL_URL", request.FullUrl);

        // Headers of the same name are joined, as RFC 3875 asks; an app variable named HTTP_* is overwritten.
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var headerOrder = new List<string>();
        foreach (var (name, value) in request.Headers)
        {
            if (s_excludedHeaders.Contains(name))
            {
                continue;
            }
            var variable = HeaderVariableName(name);
            if (headers.TryGetValue(variable, out var existing))
            {
                headers[variable] = existing + ", " + value;
            }
            else
            {
                headers[variable] = value;
                headerOrder.Add(variable);
            }
        }
        foreach (var variable in headerOrder)
        {
            Set(variable, headers[variable]);
        }

        var arguments = new List<string> { request.ScriptName };
        if (request.QueryString.Length > 0)
        {
            arguments.AddRange(request.QueryString.Split('&'));
        }
        foreach (var argument in arguments)
        {
            CheckValue("argv", argument);
        }
        return new WagiEnvironment(list, arguments);
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
                var c = name[i];
                span[5 + i] = c == '-' ? '_' : char.ToUpperInvariant(c);
            }
        });
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
