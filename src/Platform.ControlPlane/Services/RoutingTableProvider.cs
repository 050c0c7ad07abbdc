using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ControlPlane.Infrastructure;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>
/// Builds the routing table from PostgreSQL once per change generation, however many routers ask.
/// The revision is a hash of the content, so every control-plane replica computes the same ETag.
/// </summary>
public sealed class RoutingTableProvider(IServiceScopeFactory scopes, RouteChangeNotifier notifier, IOptions<AppsOptions> options, TimeProvider clock)
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

        var defaults = options.Value;
        var routes = rows.Select(r => ToRoute(r.App, r.Version, defaults)).ToList();

        var revision = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(routes)))[..32];
        return new RoutingTable(revision, clock.GetUtcNow(), routes);
    }

    /// <summary>
    /// Every version is described as components and HTTP routes (a single module is one component named after the
    /// app on <c>/...</c>); the legacy module fields stay filled (a bundle's component on <c>/...</c>, else its
    /// first routed one) so a router that does not read components still serves single-module apps.
    /// </summary>
    internal static RouteEntry ToRoute(App app, AppVersion version, AppsOptions defaults)
    {
        // Both or neither: a digest without the engine it fits is of no use to a router.
        static (string?, string?) Precompiled(string? digest, string? fingerprint) =>
            digest is null || fingerprint is null ? (null, null) : (digest, fingerprint);

        var (digest, fingerprint) = Precompiled(version.PrecompiledDigest, version.PrecompiledFingerprint);
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
                var (d, f) = Precompiled(c.PrecompiledDigest, c.PrecompiledFingerprint);
                var templates = c.Variables is { Count: > 0 } t ? new SortedDictionary<string, string>(t, StringComparer.Ordinal) : null;
                return new ComponentEntry(c.Id, c.ModuleDigest, c.Kind, c.Entrypoint, c.Argv,
                    new SortedDictionary<string, string>(c.Environment, StringComparer.Ordinal),
                    [.. c.AllowedOutboundHosts],
                    [.. c.Files.Select(x => new FileEntry(x.Path, x.Digest, x.Size))], d, f,
                    templates, templates is null ? null : declarations);
            })];
            httpRoutes = [.. bundle.Routes.Select(r => new HttpRouteEntry(r.Route, r.Component))];
        }
        else
        {
            // A single module's allow-list is the app's own (PATCH /apps/{app}); a bundle's come from its manifest.
            components = [new ComponentEntry(app.Name, version.ModuleDigest, version.ModuleKind ?? ComponentKinds.Wagi, null, null,
                new SortedDictionary<string, string>(StringComparer.Ordinal), [.. app.AllowedOutboundHosts], [], digest, fingerprint)];
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
            CpuTimeMilliseconds: TenantQuotas.Effective(app.CpuTimeLimitMs, defaults.DefaultCpuTimeLimitMs, app.Tenant?.MaxCpuTimeLimitMs));
    }
}
