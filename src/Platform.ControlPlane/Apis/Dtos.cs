using Platform.Data;

namespace Platform.ControlPlane.Apis;

public sealed record CreateAppRequest(string Name, Dictionary<string, string>? Variables = null, int? MemoryLimitMb = null, int? TimeoutSeconds = null,
    int? CpuTimeLimitMs = null);

/// <summary>Changes to an app's settings; absent fields stay as they are.</summary>
/// <param name="MaxConcurrency">Admin only: requests of the app a router runs at once.</param>
public sealed record UpdateAppRequest(Dictionary<string, string>? Variables = null, int? MemoryLimitMb = null, int? TimeoutSeconds = null,
    int? CpuTimeLimitMs = null, int? MaxConcurrency = null);

public sealed record AppResponse(
    string Name,
    string Url,
    int? ActiveVersion,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastDeployedAt,
    string Status,
    IReadOnlyDictionary<string, string> Variables,
    int MemoryLimitMb,
    int TimeoutSeconds,
    int CpuTimeLimitMs,
    int? MaxConcurrency);

public sealed record VersionResponse(
    int Number,
    string Digest,
    string ManifestDigest,
    string OciReference,
    long Size,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    bool Active);

public sealed record CreateKeyRequest(string Name, bool Admin = false);

public sealed record KeyResponse(string Name, string Prefix, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>Returned once, when a key is made: the only time the secret is shown.</summary>
public sealed record CreatedKeyResponse(string Name, string Key, string Prefix, bool Admin, DateTimeOffset CreatedAt);

public sealed record AppStatsResponse(string App, int Minutes, IReadOnlyList<StatsPoint> Points, long TotalRequests, long TotalErrors);

/// <param name="P50Ms">Median latency (upper bound of its histogram bucket), null when the minute had no requests.</param>
public sealed record StatsPoint(DateTimeOffset Minute, long Requests, long Errors, double? P50Ms, double? P99Ms);

internal static class DtoMapping
{
    public static AppResponse ToResponse(this App app, Infrastructure.AppsOptions options, DateTimeOffset? lastDeployedAt) => new(
        app.Name,
        options.PublicUrl(app.Name),
        app.ActiveVersionNumber,
        app.CreatedAt,
        app.UpdatedAt,
        lastDeployedAt,
        app.ActiveVersionNumber is null ? "no-version" : "running",
        app.Variables,
        app.MemoryLimitMb ?? options.DefaultMemoryLimitMb,
        app.TimeoutSeconds ?? options.DefaultTimeoutSeconds,
        app.CpuTimeLimitMs ?? options.DefaultCpuTimeLimitMs,
        app.MaxConcurrency);

    public static VersionResponse ToResponse(this AppVersion v, int? activeNumber) =>
        new(v.Number, v.ModuleDigest, v.ManifestDigest, v.OciReference, v.SizeBytes, v.CreatedAt, v.CreatedBy, v.Number == activeNumber);
}
