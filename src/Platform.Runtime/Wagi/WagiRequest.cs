namespace Platform.Runtime;

/// <summary>
/// One HTTP request as the WAGI executor sees it. The router fills it from HttpContext; the executor never
/// touches ASP.NET Core types, so this class is all it needs.
/// </summary>
public sealed class WagiRequest
{
    public required string Method { get; init; }

    /// <summary>Path below the matched route, percent-decoded (PATH_INFO).</summary>
    public string PathInfo { get; init; } = "";

    /// <summary>The same path as sent, still percent-encoded (X_RAW_PATH_INFO).</summary>
    public string RawPathInfo { get; init; } = "";

    /// <summary>Query string without the leading '?' (QUERY_STRING).</summary>
    public string QueryString { get; init; } = "";

    /// <summary>Path of the route the module is mounted at, e.g. "/" (SCRIPT_NAME).</summary>
    public string ScriptName { get; init; } = "/";

    public string ServerName { get; init; } = "localhost";
    public int ServerPort { get; init; } = 80;
    public string ServerProtocol { get; init; } = "HTTP/1.1";
    public string? ContentType { get; init; }

    public string RemoteAddress { get; init; } = "";

    /// <summary>Client host name; WAGI passes the address when no name is known.</summary>
    public string? RemoteHost { get; init; }

    /// <summary>Request headers in arrival order; repeated names are joined with ", " in the environment.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The whole request body, given to the module as stdin.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The route pattern that matched, e.g. "/..." (X_MATCHED_ROUTE).</summary>
    public string MatchedRoute { get; init; } = "/...";

    /// <summary>The full request URL (X_FULL_URL).</summary>
    public string FullUrl { get; init; } = "";

    /// <summary>The app's own environment variables; request variables of the same name replace them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> AppVariables { get; init; } = [];

    /// <summary>The export to call instead of <c>_start</c> (the component's WAGI <c>entrypoint</c> or a dynamic route's); null means <c>_start</c>.</summary>
    public string? Entrypoint { get; init; }

    /// <summary>
    /// Spin's argv template (<c>${SCRIPT_NAME}</c>, <c>${ARGS}</c>, split on spaces); null keeps WAGI's argv: SCRIPT_NAME,
    /// then the query's '&amp;'-separated parts.
    /// </summary>
    public string? ArgvTemplate { get; init; }

    /// <summary>The component's read-only files, preopened as <c>/</c>; null gives the module no preopen at all.</summary>
    public ComponentFiles? Files { get; init; }

    /// <summary>App name for telemetry only (not passed to the module).</summary>
    public string? AppName { get; init; }

    /// <summary>App version for telemetry only (not passed to the module).</summary>
    public string? AppVersion { get; init; }

    /// <summary>
    /// Governs the module's outbound HTTP calls (wasi_experimental_http); build it once per route or component, not
    /// per request. Null allows nothing.
    /// </summary>
    public Outbound.OutboundPolicy? Outbound { get; init; }
}
