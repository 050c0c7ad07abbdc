using Platform.Data;

namespace Platform.ControlPlane.Apis;

public sealed record CreateAppRequest(string Name, Dictionary<string, string>? Variables = null, int? MemoryLimitMb = null, int? TimeoutSeconds = null,
    int? CpuTimeLimitMs = null);

/// <summary>Changes to an app's settings; absent fields stay as they are.</summary>
/// <param name="AllowedOutboundHosts">Replaces the app's outbound allow-list (Spin's allowed_outbound_hosts syntax); an empty list allows nothing.</param>
/// <param name="MaxConcurrency">Admin only: requests of the app a router runs at once.</param>
public sealed record UpdateAppRequest(Dictionary<string, string>? Variables = null, int? MemoryLimitMb = null, int? TimeoutSeconds = null,
    List<string>? AllowedOutboundHosts = null, int? CpuTimeLimitMs = null, int? MaxConcurrency = null);

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
    IReadOnlyList<string> AllowedOutboundHosts,
    int CpuTimeLimitMs,
    int? MaxConcurrency,
    IReadOnlyList<string> Secrets);

/// <summary>PUT /apps/{app}/secrets/{name}: the value is write-only.</summary>
public sealed record SetSecretRequest(string? Value)
{
    public override string ToString() => nameof(SetSecretRequest); // never the value
}

/// <summary>A secret as the API shows it: its name and times, never its value.</summary>
public sealed record SecretResponse(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record SecretListResponse(IReadOnlyList<SecretResponse> Secrets);

public sealed record VersionResponse(
    int Number,
    string Digest,
    string ManifestDigest,
    string OciReference,
    long Size,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    bool Active);

/// <summary>One version in full: what <c>GET /apps/{app}/versions/{n}</c> returns.</summary>
/// <param name="Kind">"module" (one uploaded module) or "bundle" (a spin.toml bundle).</param>
public sealed record VersionDetailsResponse(
    int Number,
    string Kind,
    string Digest,
    string ManifestDigest,
    string OciReference,
    long Size,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    bool Active,
    string? ApplicationName,
    string? ApplicationVersion,
    string? Description,
    IReadOnlyList<VersionComponentResponse> Components,
    IReadOnlyList<VersionRouteResponse> Routes,
    string? ManifestUrl);

/// <param name="EnvironmentNames">Names only: values may be secrets.</param>
public sealed record VersionComponentResponse(
    string Id,
    string Kind,
    string Digest,
    long Size,
    string? Source,
    string? Entrypoint,
    string? Argv,
    IReadOnlyList<string> EnvironmentNames,
    IReadOnlyList<string> AllowedOutboundHosts,
    int FileCount,
    long FileBytes,
    IReadOnlyList<VersionFileResponse> Files,
    string? PrecompiledDigest);

public sealed record VersionFileResponse(string Path, string Digest, long Size);

public sealed record VersionRouteResponse(string Route, string Component);

public sealed record CreateKeyRequest(string Name, bool Admin = false);

public sealed record KeyResponse(string Name, string Prefix, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>Returned once, when a key is made: the only time the secret is shown.</summary>
public sealed record CreatedKeyResponse(string Name, string Key, string Prefix, bool Admin, DateTimeOffset CreatedAt);

public sealed record AppStatsResponse(string App, int Minutes, IReadOnlyList<StatsPoint> Points, long TotalRequests, long TotalErrors);

/// <param name="P50Ms">Median latency (upper bound of its histogram bucket), null when the minute had no requests.</param>
public sealed record StatsPoint(DateTimeOffset Minute, long Requests, long Errors, double? P50Ms, double? P99Ms);

internal static class DtoMapping
{
    /// <param name="secrets">Names of the app's secrets (never values).</param>
    public static AppResponse ToResponse(this App app, Infrastructure.AppsOptions options, DateTimeOffset? lastDeployedAt, IReadOnlyList<string>? secrets = null) => new(
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
        app.AllowedOutboundHosts,
        app.CpuTimeLimitMs ?? options.DefaultCpuTimeLimitMs,
        app.MaxConcurrency,
        secrets ?? []);

    public static VersionDetailsResponse ToDetails(this AppVersion v, string app, int? activeNumber)
    {
        List<VersionComponentResponse> components;
        List<VersionRouteResponse> routes;
        if (v.Bundle is { } b)
        {
            components = [.. b.Components.Select(c => new VersionComponentResponse(c.Id, c.Kind, c.ModuleDigest, c.ModuleSize, c.Source, c.Entrypoint, c.Argv,
                [.. c.Environment.Keys.Order(StringComparer.Ordinal)], c.AllowedOutboundHosts, c.Files.Count, c.Files.Sum(f => f.Size),
                [.. c.Files.Select(f => new VersionFileResponse(f.Path, f.Digest, f.Size))], c.PrecompiledDigest))];
            routes = [.. b.Routes.Select(r => new VersionRouteResponse(r.Route, r.Component))];
        }
        else
        {
            components = [new VersionComponentResponse(app, "wagi", v.ModuleDigest, v.SizeBytes, null, null, null, [], [], 0, 0, [], v.PrecompiledDigest)];
            routes = [new VersionRouteResponse("/...", app)];
        }
        return new(v.Number, v.Bundle is null ? "module" : "bundle", v.ModuleDigest, v.ManifestDigest, v.OciReference, v.SizeBytes, v.CreatedAt,
            v.CreatedBy, v.Number == activeNumber, v.Bundle?.Name, v.Bundle?.AppVersion, v.Bundle?.Description, components, routes,
            v.SpinManifest is null ? null : $"/api/v1/apps/{app}/versions/{v.Number}/manifest");
    }

    public static VersionResponse ToResponse(this AppVersion v, int? activeNumber) =>
        new(v.Number, v.ModuleDigest, v.ManifestDigest, v.OciReference, v.SizeBytes, v.CreatedAt, v.CreatedBy, v.Number == activeNumber);
}

/// <summary>One app log line as the logs API returns it.</summary>
public sealed record AppLogEntryResponse(DateTimeOffset Time, int Version, string? Component, string RequestId, string Router, string Stream, string Line);

public sealed record AppLogsResponse(IReadOnlyList<AppLogEntryResponse> Entries);
