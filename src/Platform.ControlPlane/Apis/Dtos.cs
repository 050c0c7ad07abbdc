using Platform.Contracts;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <param name="Tenant">Admin keys only: the tenant that owns the app (default "default"); a tenant key's apps are always its own tenant's.</param>
public sealed record CreateAppRequest(string Name, Dictionary<string, string>? Variables = null, int? MemoryLimitMb = null, int? TimeoutSeconds = null,
    int? CpuTimeLimitMs = null, string? Tenant = null);

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
    string Tenant,
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
    string? ManifestUrl,
    IReadOnlyList<VersionVariableResponse>? Variables = null);

/// <summary>An application variable of a bundle version (spin.toml <c>[variables]</c>).</summary>
/// <param name="Default">The default; null when required, or when the variable is secret (never shown).</param>
/// <param name="Source">
/// Where its value comes from now: "app-variable" (the app variable <c>SPIN_VARIABLE_NAME</c> or <c>name</c>),
/// "default", or "unset" (required and no app variable gives it: components reading it get an error).
/// </param>
/// <param name="AppVariable">The app variable that sets it (Spin's environment convention, <c>SPIN_VARIABLE_NAME</c>).</param>
public sealed record VersionVariableResponse(string Name, bool Required, bool Secret, string? Default, string Source, string AppVariable);

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
    string? PrecompiledDigest,
    IReadOnlyDictionary<string, string>? Variables = null);

public sealed record VersionFileResponse(string Path, string Digest, long Size);

public sealed record VersionRouteResponse(string Route, string Component);

/// <param name="Admin">An admin key (no tenant, no scope); only an admin may make one.</param>
/// <param name="Tenant">The key's tenant; default: the caller's own tenant, or "default" for an admin.</param>
/// <param name="Apps">When given, the only apps of the tenant the key sees.</param>
/// <param name="Access">"full" (default), "deploy-only" or "read-only"; never wider than the caller's own.</param>
public sealed record CreateKeyRequest(string Name, bool Admin = false, string? Tenant = null, List<string>? Apps = null, string? Access = null);

/// <param name="Tenant">Null for admin keys.</param>
/// <param name="Apps">Null when the key sees every app of its tenant.</param>
public sealed record KeyResponse(string Name, string Prefix, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt,
    string? Tenant, IReadOnlyList<string>? Apps, string Access);

/// <summary>Returned once, when a key is made: the only time the secret is shown.</summary>
public sealed record CreatedKeyResponse(string Name, string Key, string Prefix, bool Admin, DateTimeOffset CreatedAt,
    string? Tenant, IReadOnlyList<string>? Apps, string Access);

/// <summary>A tenant's quotas; null means unlimited.</summary>
/// <param name="MaxStoredBytes">Sum of the sizes of all versions of all the tenant's apps.</param>
public sealed record TenantQuotasDto(int? MaxApps, long? MaxStoredBytes, int? MaxMemoryLimitMb, int? MaxTimeoutSeconds, int? MaxCpuTimeLimitMs, int? MaxConcurrency);

public sealed record TenantUsage(int Apps, long StoredBytes, int Keys);

public sealed record TenantResponse(string Name, DateTimeOffset CreatedAt, TenantQuotasDto Quotas, TenantUsage Usage);

/// <summary>POST /tenants: a name and, optionally, quotas (absent: unlimited).</summary>
public sealed record CreateTenantRequest(string? Name, int? MaxApps = null, long? MaxStoredBytes = null, int? MaxMemoryLimitMb = null,
    int? MaxTimeoutSeconds = null, int? MaxCpuTimeLimitMs = null, int? MaxConcurrency = null);

public sealed record AppStatsResponse(string App, int Minutes, IReadOnlyList<StatsPoint> Points, long TotalRequests, long TotalErrors);

/// <param name="P50Ms">Median latency (upper bound of its histogram bucket), null when the minute had no requests.</param>
public sealed record StatsPoint(DateTimeOffset Minute, long Requests, long Errors, double? P50Ms, double? P99Ms);

internal static class DtoMapping
{
    /// <summary>Limits are shown as the app runs with them: its own or the default, capped by its tenant's quotas.</summary>
    /// <param name="secrets">Names of the app's secrets (never values).</param>
    public static AppResponse ToResponse(this App app, Configuration.AppsOptions options, DateTimeOffset? lastDeployedAt, IReadOnlyList<string>? secrets = null) => new(
        app.Name,
        options.PublicUrl(app.Name),
        app.ActiveVersionNumber,
        app.CreatedAt,
        app.UpdatedAt,
        lastDeployedAt,
        app.ActiveVersionNumber is null ? "no-version" : "running",
        app.Variables,
        TenantQuotas.Effective(app.MemoryLimitMb, options.DefaultMemoryLimitMb, app.Tenant?.MaxMemoryLimitMb),
        TenantQuotas.Effective(app.TimeoutSeconds, options.DefaultTimeoutSeconds, app.Tenant?.MaxTimeoutSeconds),
        app.AllowedOutboundHosts,
        TenantQuotas.Effective(app.CpuTimeLimitMs, options.DefaultCpuTimeLimitMs, app.Tenant?.MaxCpuTimeLimitMs),
        TenantQuotas.EffectiveOptional(app.MaxConcurrency, app.Tenant?.MaxConcurrency),
        app.Tenant?.Name ?? "",
        secrets ?? []);

    public static TenantQuotasDto Quotas(this Tenant t) =>
        new(t.MaxApps, t.MaxStoredBytes, t.MaxMemoryLimitMb, t.MaxTimeoutSeconds, t.MaxCpuTimeLimitMs, t.MaxConcurrency);

    public static VersionDetailsResponse ToDetails(this AppVersion v, string app, int? activeNumber, IReadOnlyDictionary<string, string>? appVariables = null)
    {
        List<VersionComponentResponse> components;
        List<VersionRouteResponse> routes;
        if (v.Bundle is { } b)
        {
            components = [.. b.Components.Select(c => new VersionComponentResponse(c.Id, c.Kind, c.ModuleDigest, c.ModuleSize, c.Source, c.Entrypoint, c.Argv,
                [.. c.Environment.Keys.Order(StringComparer.Ordinal)], c.AllowedOutboundHosts, c.Files.Count, c.Files.Sum(f => f.Size),
                [.. c.Files.Select(f => new VersionFileResponse(f.Path, f.Digest, f.Size))], c.PrecompiledDigest,
                c.Variables is { Count: > 0 } t ? new SortedDictionary<string, string>(t, StringComparer.Ordinal) : null))];
            routes = [.. b.Routes.Select(r => new VersionRouteResponse(r.Route, r.Component))];
        }
        else
        {
            components = [new VersionComponentResponse(app, v.ModuleKind ?? ComponentKinds.Wagi, v.ModuleDigest, v.SizeBytes, null, null, null, [], [], 0, 0, [], v.PrecompiledDigest)];
            routes = [new VersionRouteResponse("/...", app)];
        }
        return new(v.Number, v.Bundle is null ? "module" : "bundle", v.ModuleDigest, v.ManifestDigest, v.OciReference, v.SizeBytes, v.CreatedAt,
            v.CreatedBy, v.Number == activeNumber, v.Bundle?.Name, v.Bundle?.AppVersion, v.Bundle?.Description, components, routes,
            v.SpinManifest is null ? null : $"/api/v1/apps/{app}/versions/{v.Number}/manifest",
            v.Bundle?.Variables is { Count: > 0 } declared
                ? [.. declared.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => ToResponse(d.Key, d.Value, appVariables))]
                : null);
    }

    private static VersionVariableResponse ToResponse(string name, BundleVariable variable, IReadOnlyDictionary<string, string>? appVariables)
    {
        var declaration = new SpinVariableDeclaration(variable.Default, variable.Required, variable.Secret);
        var fromApp = appVariables is not null && (appVariables.ContainsKey(SpinVariables.EnvironmentName(name)) || appVariables.ContainsKey(name));
        var source = fromApp ? "app-variable" : SpinVariables.ValueOf(name, declaration, null) is null ? "unset" : "default";
        return new VersionVariableResponse(name, variable.Required, variable.Secret, variable.Secret ? null : variable.Default, source, SpinVariables.EnvironmentName(name));
    }

    public static VersionResponse ToResponse(this AppVersion v, int? activeNumber) =>
        new(v.Number, v.ModuleDigest, v.ManifestDigest, v.OciReference, v.SizeBytes, v.CreatedAt, v.CreatedBy, v.Number == activeNumber);
}

/// <summary>One app log line as the logs API returns it.</summary>
public sealed record AppLogEntryResponse(DateTimeOffset Time, int Version, string? Component, string RequestId, string Router, string Stream, string Line);

public sealed record AppLogsResponse(IReadOnlyList<AppLogEntryResponse> Entries);
