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
        var rows = await db.Apps.AsNoTracking()
            .Where(a => a.ActiveVersionNumber != null)
            .OrderBy(a => a.Name)
            .Select(a => new
            {
                App = a,
                Version = a.Versions.First(v => v.Number == a.ActiveVersionNumber),
            })
            .ToListAsync(cancellationToken);

        var defaults = options.Value;
        var routes = rows.Select(r => new RouteEntry(
            r.App.Name,
            r.Version.Number,
            r.Version.ModuleDigest,
            r.Version.Repository,
            r.Version.OciReference,
            (long)(r.App.MemoryLimitMb ?? defaults.DefaultMemoryLimitMb) * 1024 * 1024,
            (r.App.TimeoutSeconds ?? defaults.DefaultTimeoutSeconds) * 1000,
            new SortedDictionary<string, string>(r.App.Variables, StringComparer.Ordinal),
            // Both or neither: a digest without the engine it fits is of no use to a router.
            r.Version.PrecompiledFingerprint is null ? null : r.Version.PrecompiledDigest,
            r.Version.PrecompiledDigest is null ? null : r.Version.PrecompiledFingerprint,
            MaxConcurrency: r.App.MaxConcurrency,
            CpuTimeMilliseconds: r.App.CpuTimeLimitMs ?? defaults.DefaultCpuTimeLimitMs)).ToList();

        var revision = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(routes)))[..32];
        return new RoutingTable(revision, clock.GetUtcNow(), routes);
    }
}
