using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ControlPlane.Configuration;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>
/// Builds the routing table from PostgreSQL once per change generation, however many routers ask.
/// The revision is a hash of the content, so every control-plane replica computes the same ETag.
/// </summary>
public sealed partial class RoutingTableProvider(IServiceScopeFactory scopes, RouteChangeNotifier notifier, IOptions<AppsOptions> options, TimeProvider clock,
    Microsoft.AspNetCore.DataProtection.IDataProtectionProvider protection, ILogger<RoutingTableProvider> logger)
{
    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private (long Generation, RoutingTable Table)? _cached;

    public async Task<RoutingTable> GetAsync(CancellationToken cancellationToken)
    {
        var generation = notifier.Generation;
        if (_cached is { } c && c.Generation == generation)
        {
            return c.Table;
        }
        await _rebuild.WaitAsync(cancellationToken);
        try
        {
            generation = notifier.Generation;
            if (_cached is { } again && again.Generation == generation)
            {
                return again.Table;
            }
            var table = await BuildAsync(cancellationToken);
            _cached = (generation, table);
            return table;
        }
        finally
        {
            _rebuild.Release();
        }
    }

    private async Task<RoutingTable> BuildAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var rows = await db.Apps.AsNoTracking().Include(a => a.Tenant)
            .Where(a => a.ActiveVersionNumber != null)
            .OrderBy(a => a.Name)
            .Select(a => new
            {
                App = a,
                Version = a.Versions.First(v => v.Number == a.ActiveVersionNumber),
            })
            .ToListAsync(cancellationToken);

        var (routes, hashed) = await ToRoutesAsync(db, [.. rows.Select(r => (r.App, r.Version))], cancellationToken);
        var revision = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(hashed)))[..32];
        return new RoutingTable(revision, clock.GetUtcNow(), routes);
    }

    /// <summary>
    /// The routes of (app, active version) rows with each app's secrets decrypted in; the same list with each secret's
    /// ciphertext digest instead of its value is what a revision may hash. The one place both the full table and the
    /// change log (deltas) build routes from.
    /// </summary>
    internal async Task<(List<RouteEntry> Routes, List<RouteEntry> Hashed)> ToRoutesAsync(PlatformDbContext db,
        IReadOnlyList<(App App, AppVersion Version)> rows, CancellationToken cancellationToken)
    {
        var defaults = options.Value;
        var appIds = rows.Select(r => r.App.Id).ToList();
        var secretRows = await db.AppSecrets.AsNoTracking().Where(s => appIds.Contains(s.AppId)).ToListAsync(cancellationToken);
        var secretsByApp = secretRows.GroupBy(s => s.AppId).ToDictionary(g => g.Key, g => g.ToList());
        var routes = new List<RouteEntry>(rows.Count);
        var hashed = new List<RouteEntry>(rows.Count);
        foreach (var r in rows)
        {
            var route = ToRoute(r.App, r.Version, defaults);
            if (secretsByApp.TryGetValue(r.App.Id, out var appSecrets))
            {
                var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
                var digests = new SortedDictionary<string, string>(StringComparer.Ordinal);
                foreach (var secret in appSecrets)
                {
                    if (AppSecretStore.Unprotect(protection, secret) is { } value)
                    {
                        values[secret.Name] = value;
                        digests[secret.Name] = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret.Ciphertext)));
                    }
                    else
                    {
                        logger.SecretUnreadable(r.App.Name, secret.Name);
                    }
                }
                route = route with { Secrets = values };
                // The revision is public to routers and in logs: it hashes each secret's ciphertext, never its value.
                hashed.Add(route with { Secrets = digests });
            }
            else
            {
                hashed.Add(route);
            }
            routes.Add(route);
        }

        return (routes, hashed);
    }

    /// <summary>
    /// Every version is described as components and HTTP routes (a single module is one component named after the
    /// app on <c>/...</c>); the legacy module fields stay filled (a bundle's component on <c>/...</c>, else its
    /// first routed one) so a router that does not read components still serves single-module apps.
    /// </summary>
    internal static RouteEntry ToRoute(App app, AppVersion version, AppsOptions defaults)
    {
        // Both or neither: a digest without the engine it fits is of no use to a router.
        static (string?, string?, string?) Precompiled(string? digest, string? fingerprint, string? signature) =>
            digest is null || fingerprint is null ? (null, null, null) : (digest, fingerprint, signature);

        var (digest, fingerprint, signature) = Precompiled(version.PrecompiledDigest, version.PrecompiledFingerprint, version.PrecompiledSignature);
        IReadOnlyList<ComponentEntry> components;
        IReadOnlyList<HttpRouteEntry> httpRoutes;
        if (version.Bundle is { } bundle)
        {
            // Declarations go only with components that have templates (the only ones that read them).
            IReadOnlyDictionary<string, SpinVariableDeclaration>? declarations = bundle.Variables is { Count: > 0 } vars
                ? new SortedDictionary<string, SpinVariableDeclaration>(vars.ToDictionary(v => v.Key, v => new SpinVariableDeclaration(v.Value.Default, v.Value.Required, v.Value.Secret)), StringComparer.Ordinal)
                : null;
            components = [.. bundle.Components.Select(c =>
            {
                var (d, f, sig) = Precompiled(c.PrecompiledDigest, c.PrecompiledFingerprint, c.PrecompiledSignature);
                var templates = c.Variables is { Count: > 0 } t ? new SortedDictionary<string, string>(t, StringComparer.Ordinal) : null;
                return new ComponentEntry(c.Id, c.ModuleDigest, c.Kind, c.Entrypoint, c.Argv,
                    new SortedDictionary<string, string>(c.Environment, StringComparer.Ordinal),
                    [.. c.AllowedOutboundHosts],
                    [.. c.Files.Select(x => new FileEntry(x.Path, x.Digest, x.Size))], d, f,
                    templates, templates is null ? null : declarations, sig);
            })];
            httpRoutes = [.. bundle.Routes.Select(r => new HttpRouteEntry(r.Route, r.Component))];
        }
        else
        {
            // A single module's allow-list is the app's own (PATCH /apps/{app}); a bundle's come from its manifest.
            components = [new ComponentEntry(app.Name, version.ModuleDigest, version.ModuleKind ?? ComponentKinds.Wagi, null, null,
                new SortedDictionary<string, string>(StringComparer.Ordinal), [.. app.AllowedOutboundHosts], [], digest, fingerprint, null, null, signature)];
            httpRoutes = [new HttpRouteEntry("/...", app.Name)];
        }
        return new RouteEntry(
            app.Name,
            version.Number,
            version.ModuleDigest,
            version.Repository,
            version.OciReference,
            // Capped by the tenant's quotas, so lowering one applies to apps that already asked for more.
            (long)TenantQuotas.Effective(app.MemoryLimitMb, defaults.DefaultMemoryLimitMb, app.Tenant?.MaxMemoryLimitMb) * 1024 * 1024,
            TenantQuotas.Effective(app.TimeoutSeconds, defaults.DefaultTimeoutSeconds, app.Tenant?.MaxTimeoutSeconds) * 1000,
            new SortedDictionary<string, string>(app.Variables, StringComparer.Ordinal),
            digest,
            fingerprint,
            AllowedOutboundHosts: app.AllowedOutboundHosts.Count == 0 ? null : [.. app.AllowedOutboundHosts],
            Components: components,
            HttpRoutes: httpRoutes,
            MaxConcurrency: TenantQuotas.EffectiveOptional(app.MaxConcurrency, app.Tenant?.MaxConcurrency),
            CpuTimeMilliseconds: TenantQuotas.Effective(app.CpuTimeLimitMs, defaults.DefaultCpuTimeLimitMs, app.Tenant?.MaxCpuTimeLimitMs),
            PrecompiledSignature: signature);
    }
}
