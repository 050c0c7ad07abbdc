using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>How long routing changes stay in the log (a router further behind gets a snapshot) and how often it is pruned.</summary>
public sealed class RoutingOptions
{
    public const string Section = "Platform:Routing";

    [Range(1, 30 * 86_400)]
    public int ChangeLogRetentionSeconds { get; set; } = 3600;

    [Range(1, 86_400)]
    public int PruneIntervalSeconds { get; set; } = 60;
}

/// <summary>The revision a database's routing table is at (<see cref="RoutingState"/>).</summary>
public readonly record struct RoutingHead(string Epoch, long Revision);

/// <summary>
/// Answers routers from the change log that a trigger on <c>apps</c> writes (<see cref="RouteChange"/>): the apps
/// changed after a revision are found through the log's primary key, so a delta costs the same whatever the number of
/// apps. All state lives in PostgreSQL; what is cached here (the head per change generation, one answer per question
/// per revision, the last snapshot) is only a shortcut to the same answer any replica gives.
/// </summary>
public sealed class RoutingChangeLog(IServiceScopeFactory scopes, RouteChangeNotifier notifier, RoutingTableProvider tables, TimeProvider clock)
{
    private readonly SemaphoreSlim _snapshotBuild = new(1, 1);
    private (long Generation, RoutingHead Head)? _head;
    private (RoutingHead Head, ConcurrentDictionary<(string?, long), Lazy<Task<RoutingChanges>>> Answers)? _answers;
    private RoutingChanges? _snapshot;

    public static string EpochText(Guid epoch) => epoch.ToString("N");

    /// <summary>The current revision; read from PostgreSQL once per change notification, however many routers ask.</summary>
    public async Task<RoutingHead> GetHeadAsync(CancellationToken cancellationToken)
    {
        var generation = notifier.Generation;
        if (_head is { } cached && cached.Generation == generation)
        {
            return cached.Head;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var state = await db.RoutingState.AsNoTracking().SingleAsync(s => s.Id == 1, cancellationToken);
        var head = new RoutingHead(EpochText(state.Epoch), state.Revision);
        _head = (generation, head);
        return head;
    }

    /// <summary>
    /// What changed after <paramref name="since"/> of <paramref name="epoch"/>, or a snapshot when that revision is
    /// unknown here (another epoch, pruned away, or ahead of the database). Routers asking the same question at the
    /// same head share one answer.
    /// </summary>
    public Task<RoutingChanges> ReadAsync(string? epoch, long since, RoutingHead head, CancellationToken cancellationToken)
    {
        var answers = _answers is { } a && a.Head == head ? a.Answers : null;
        if (answers is null)
        {
            answers = new();
            _answers = (head, answers);
        }
        var lazy = answers.GetOrAdd((epoch, since), key => new Lazy<Task<RoutingChanges>>(() => ReadCoreAsync(key.Item1, key.Item2, CancellationToken.None)));
        var task = lazy.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            // A failed read (database away) is not kept: the next router asks again.
            answers.TryRemove(new KeyValuePair<(string?, long), Lazy<Task<RoutingChanges>>>((epoch, since), lazy));
        }
        return task.WaitAsync(cancellationToken);
    }

    private async Task<RoutingChanges> ReadCoreAsync(string? epoch, long since, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        // One snapshot of the database for the head and the rows: the answer is exactly the table at that revision.
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var state = await db.RoutingState.AsNoTracking().SingleAsync(s => s.Id == 1, cancellationToken);
        var stateEpoch = EpochText(state.Epoch);
        var inLog = string.Equals(epoch, stateEpoch, StringComparison.Ordinal) && since >= state.PrunedThrough && since <= state.Revision;
        if (!inLog)
        {
            return await SnapshotAsync(db, stateEpoch, state.Revision, cancellationToken);
        }
        var names = await db.RouteChanges.AsNoTracking().Where(c => c.Revision > since).Select(c => c.AppName).Distinct().ToListAsync(cancellationToken);
        var upserts = names.Count == 0 ? [] : await RoutesAsync(db, db.Apps.AsNoTracking().Where(a => names.Contains(a.Name)), cancellationToken);
        var served = upserts.Select(r => r.App).ToHashSet(StringComparer.Ordinal);
        // Deleted apps and apps left without an active version both stop serving.
        var deletions = names.Where(n => !served.Contains(n)).Order(StringComparer.Ordinal).ToList();
        return new RoutingChanges(stateEpoch, state.Revision, since, clock.GetUtcNow(), upserts, deletions);
    }

    private async Task<RoutingChanges> SnapshotAsync(PlatformDbContext db, string epoch, long revision, CancellationToken cancellationToken)
    {
        if (_snapshot is { } cached && cached.Epoch == epoch && cached.Revision == revision)
        {
            return cached;
        }
        await _snapshotBuild.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } again && again.Epoch == epoch && again.Revision == revision)
            {
                return again;
            }
            var routes = await RoutesAsync(db, db.Apps.AsNoTracking(), cancellationToken);
            var snapshot = new RoutingChanges(epoch, revision, null, clock.GetUtcNow(), routes, []);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _snapshotBuild.Release();
        }
    }

    private async Task<List<RouteEntry>> RoutesAsync(PlatformDbContext db, IQueryable<App> query, CancellationToken cancellationToken)
    {
        // The tenant's quotas cap each route's limits (RoutingTableProvider.ToRoute).
        var rows = await query.Include(a => a.Tenant)
            .Where(a => a.ActiveVersionNumber != null)
            .OrderBy(a => a.Name)
            .Select(a => new { App = a, Version = a.Versions.First(v => v.Number == a.ActiveVersionNumber) })
            .ToListAsync(cancellationToken);
        // Secrets come in the same way as in the full table (decrypted, behind the router token).
        var (routes, _) = await tables.ToRoutesAsync(db, [.. rows.Select(r => (r.App, r.Version))], cancellationToken);
        return routes;
    }

    /// <summary>
    /// Deletes changes older than <paramref name="cutoff"/>, always keeping what the newest revision needs; routers
    /// behind the pruned revision get a snapshot. Returns how many changes were deleted and the revision the log now starts after.
    /// </summary>
    public async Task<(int Deleted, long PrunedThrough)> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await PruneAsync(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), cutoff, cancellationToken);
    }

    internal static async Task<(int Deleted, long PrunedThrough)> PruneAsync(PlatformDbContext db, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var newest = await db.RouteChanges.Where(c => c.ChangedAt < cutoff).MaxAsync(c => (long?)c.Revision, cancellationToken);
        if (newest is not { } through)
        {
            return (0, 0);
        }
        // Raise the floor first (under the state row's lock, so no writer is between revisions), then delete below it.
        await db.RoutingState.Where(s => s.Id == 1 && s.PrunedThrough < through)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.PrunedThrough, through), cancellationToken);
        var deleted = await db.RouteChanges.Where(c => c.Revision <= through).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (deleted, through);
    }
}

/// <summary>Prunes the routing change log on a timer.</summary>
public sealed class RoutingChangeLogPruner(IServiceScopeFactory scopes, IOptions<RoutingOptions> options, TimeProvider clock, ILogger<RoutingChangeLogPruner> logger)
    : PeriodicDatabaseJob<(int Deleted, long PrunedThrough)>(scopes, clock)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.PruneIntervalSeconds);

    protected override Task<(int Deleted, long PrunedThrough)> RunAsync(PlatformDbContext db, CancellationToken cancellationToken) =>
        RoutingChangeLog.PruneAsync(db, Clock.GetUtcNow() - TimeSpan.FromSeconds(options.Value.ChangeLogRetentionSeconds), cancellationToken);

    protected override void OnCompleted((int Deleted, long PrunedThrough) result)
    {
        if (result.Deleted > 0)
        {
            logger.RouteChangesPruned(result.Deleted, result.PrunedThrough);
        }
    }

    protected override void OnFailed(Exception exception) => logger.RouteChangePruneFailed(exception);
}
