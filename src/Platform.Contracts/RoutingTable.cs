namespace Platform.Contracts;

/// <summary>
/// What the control plane tells routers: every app that has an active version. Routers never see the database;
/// this document (and the registry) is all they need to serve traffic.
/// </summary>
/// <param name="Revision">Opaque content hash; also the HTTP ETag of the document. A router's own table (built from
/// <see cref="RoutingChanges"/>) has its revision number here.</param>
/// <param name="Epoch">The <see cref="RoutingChanges.Epoch"/> the table's revision belongs to; null for a content-hash table.</param>
/// <param name="RevisionNumber">The change-log revision the table is at; null for a content-hash table.</param>
public sealed record RoutingTable(string Revision, DateTimeOffset GeneratedAt, IReadOnlyList<RouteEntry> Routes,
    string? Epoch = null, long? RevisionNumber = null)
{
    public static readonly RoutingTable Empty = new("empty", DateTimeOffset.UnixEpoch, []);
}

/// <summary>
/// What a router that asks <c>?since=R</c> gets: the apps that changed after revision <paramref name="Since"/>, or the
/// whole table (a snapshot: <paramref name="Since"/> null) on first contact, when R is older than the change log
/// keeps, or when R belongs to another <paramref name="Epoch"/>. Revisions count changes in PostgreSQL, so every
/// control-plane replica answers the same for the same revision.
/// </summary>
/// <param name="Epoch">Identifies the revision sequence (one per database); revisions of another epoch mean nothing here.</param>
/// <param name="Revision">The revision the router has once it applied this document.</param>
/// <param name="Since">The revision these changes apply to; null for a snapshot, which replaces the whole table.</param>
/// <param name="Upserts">Apps to add or replace, each a full entry (for a snapshot: every app).</param>
/// <param name="Deletions">Names of apps that no longer serve (deleted, or without an active version).</param>
public sealed record RoutingChanges(
    string Epoch,
    long Revision,
    long? Since,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<RouteEntry> Upserts,
    IReadOnlyList<string> Deletions)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsSnapshot => Since is null;
}

/// <param name="App">App name, the first label of the app's host name.</param>
/// <param name="Version">Active version number.</param>
/// <param name="ModuleDigest">sha256 digest of the module bytes: routers pull this blob and verify it.</param>
/// <param name="Repository">OCI repository that holds the module (prefix/app).</param>
/// <param name="OciReference">Full reference of the version's manifest, for people and logs.</param>
/// <param name="PrecompiledDigest">
/// sha256 digest of the precompiled artifact (the serialized Wasmtime module, a blob in <see cref="Repository"/>) the
/// control plane pushed for this module, or null. Routers trust an artifact only through this digest.
/// </param>
/// <param name="PrecompiledFingerprint">Engine fingerprint the artifact was compiled for; routers with another one compile the module.</param>
/// <param name="MaxConcurrency">Requests of this app a router runs at once (an admin's setting); null means the router's default share.</param>
/// <param name="CpuTimeMilliseconds">CPU time one request may use; null means only the wall-time limit applies.</param>
/// <param name="PrecompiledSignature">
/// The control plane's signature of (module digest, precompiled digest, fingerprint), made when it pushed the artifact
/// with the artifact signing key routers also hold; a router maps the artifact as native code only when it verifies.
/// </param>
/// <param name="Secrets">
/// The app's secrets (name -> value) for every component's environment; a secret wins over a variable of the same
/// name. Plain text only on the wire (behind the router token); a router's saved copy of the table seals them.
/// </param>
public sealed record RouteEntry(
    string App,
    int Version,
    string ModuleDigest,
    string Repository,
    string OciReference,
    long MemoryLimitBytes,
    int TimeoutMilliseconds,
    IReadOnlyDictionary<string, string> Variables,
    string? PrecompiledDigest = null,
    string? PrecompiledFingerprint = null,
    IReadOnlyList<string>? AllowedOutboundHosts = null,
    IReadOnlyList<ComponentEntry>? Components = null,
    IReadOnlyList<HttpRouteEntry>? HttpRoutes = null,
    int? MaxConcurrency = null,
    int? CpuTimeMilliseconds = null,
    string? PrecompiledSignature = null,
    IReadOnlyDictionary<string, string>? Secrets = null);

/// <summary>
/// One component of an app version (a Spin-style bundle has several; a single uploaded module is one component on
/// <c>/...</c>). When <see cref="RouteEntry.Components"/> is null the route's own module fields describe the only
/// component (tables written before bundles existed).
/// </summary>
/// <param name="Id">Component id as written in spin.toml (<c>[component.ID]</c>).</param>
/// <param name="ModuleDigest">sha256 digest of the component's Wasm bytes (a blob in the route's repository).</param>
/// <param name="Kind">"wagi" (a WASI preview-1 command module speaking CGI) or "http" (a wasi:http component).</param>
/// <param name="Entrypoint">WAGI: the export to call instead of <c>_start</c>; null means <c>_start</c>.</param>
/// <param name="Argv">WAGI: Spin's argv template (<c>${SCRIPT_NAME}</c>, <c>${ARGS}</c>); null means <c>${SCRIPT_NAME} ${ARGS}</c>.</param>
/// <param name="Environment">The component's own environment from the manifest (the app's variables override it).</param>
/// <param name="AllowedOutboundHosts">The component's allow-list in Spin's syntax; empty allows nothing.</param>
/// <param name="Files">The component's read-only files, each a blob in the route's repository.</param>
/// <param name="VariableTemplates">
/// The component's <c>variables</c> from spin.toml: key -> template (<c>{{ name }}</c> refers to an application
/// variable); what <c>fermyon:spin/variables.get(key)</c> and <c>wasi:config/store</c> answer. Null when it has none.
/// </param>
/// <param name="AppVariableDeclarations">The app's <c>[variables]</c> the templates refer to (name -> default/required/secret); null when none.</param>
public sealed record ComponentEntry(
    string Id,
    string ModuleDigest,
    string Kind,
    string? Entrypoint,
    string? Argv,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> AllowedOutboundHosts,
    IReadOnlyList<FileEntry> Files,
    string? PrecompiledDigest = null,
    string? PrecompiledFingerprint = null,
    IReadOnlyDictionary<string, string>? VariableTemplates = null,
    IReadOnlyDictionary<string, SpinVariableDeclaration>? AppVariableDeclarations = null,
    string? PrecompiledSignature = null);

/// <summary>The values of <see cref="ComponentEntry.Kind"/>.</summary>
public static class ComponentKinds
{
    /// <summary>A WASI preview-1 command module speaking CGI (WAGI).</summary>
    public const string Wagi = "wagi";

    /// <summary>A component exporting <c>wasi:http/incoming-handler@0.2.x</c>.</summary>
    public const string Http = "http";
}

/// <param name="Path">Absolute path the guest sees (<c>/static/index.html</c>); always normalised, never <c>..</c>.</param>
/// <param name="Digest">sha256 digest of the content (a blob in the route's repository; identical files share one).</param>
public sealed record FileEntry(string Path, string Digest, long Size);

/// <param name="Route">The route as written in spin.toml: <c>/a/b</c> (exact), <c>/a/...</c> (wildcard) or <c>/...</c>.</param>
/// <param name="Component">Id of the component in <see cref="RouteEntry.Components"/> that serves it.</param>
public sealed record HttpRouteEntry(string Route, string Component);

/// <summary>Per-app request figures a router reports for whole minutes (latency as histogram counts).</summary>
public sealed record RequestStatsReport(string RouterId, IReadOnlyList<AppMinuteStats> Minutes);

public sealed record AppMinuteStats(string App, DateTimeOffset Minute, long Requests, long Errors, long[] LatencyBuckets);

/// <summary>Latency bucket bounds shared by routers (who count) and the control plane (who reads percentiles).</summary>
public static class LatencyHistogram
{
    /// <summary>Upper bounds in milliseconds; the last bucket is open-ended.</summary>
    public static readonly double[] UpperBoundsMs = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, double.PositiveInfinity];

    public static int BucketOf(double milliseconds)
    {
        var i = 0;
        while (milliseconds > UpperBoundsMs[i])
        {
            i++;
        }
        return i;
    }

    /// <summary>The upper bound of the bucket holding quantile q (0..1); null when there are no samples.</summary>
    public static double? Quantile(IReadOnlyList<long> buckets, double q)
    {
        long total = 0;
        foreach (var b in buckets)
        {
            total += b;
        }
        if (total == 0)
        {
            return null;
        }
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            seen += buckets[i];
            if (seen >= rank)
            {
                // Open-ended last bucket: report the last finite bound rather than infinity.
                return double.IsPositiveInfinity(UpperBoundsMs[i]) ? UpperBoundsMs[i - 1] : UpperBoundsMs[i];
            }
        }
        return UpperBoundsMs[^2];
    }
}
