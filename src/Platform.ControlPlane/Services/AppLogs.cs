using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>How long app log lines are kept.</summary>
public sealed class AppLogRetentionOptions
{
    public const string Section = "Platform:Logs";

    /// <summary>Lines older than this are deleted.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 7;

    /// <summary>Newest lines kept per app; older ones are deleted.</summary>
    [Range(10, 10_000_000)]
    public int MaxLinesPerApp { get; set; } = 10_000;

    /// <summary>How often the retention runs.</summary>
    [Range(1, 86_400)]
    public int RetentionIntervalSeconds { get; set; } = 60;
}

/// <summary>Wakes log followers of one app. As for routing changes, a waiter captures the task before it reads.</summary>
public sealed class AppLogNotifier
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _waiting = new();

    /// <summary>Completes when lines of <paramref name="appId"/> were stored (by any replica).</summary>
    public Task NextAppend(Guid appId) =>
        _waiting.GetOrAdd(appId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Appended(Guid appId)
    {
        if (_waiting.TryRemove(appId, out var source))
        {
            source.TrySetResult();
        }
    }

    /// <summary>After a lost LISTEN connection nobody knows what was missed: every follower reads again.</summary>
    public void AppendedToAll()
    {
        foreach (var id in _waiting.Keys)
        {
            Appended(id);
        }
    }
}

/// <summary>Stores what routers report and announces it on <see cref="PlatformDbContext.LogsAppendedChannel"/>.</summary>
public sealed class AppLogStore(PlatformDbContext db)
{
    public const int MaxEntriesPerReport = 20_000;
    public const int MaxLineChars = 16 * 1024;

    /// <summary>Stores the entries of known apps (lines of apps deleted meanwhile are dropped); returns how many were stored.</summary>
    public async Task<int> AppendAsync(AppLogReport report, CancellationToken cancellationToken)
    {
        var names = report.Entries.Select(e => e.App).Distinct(StringComparer.Ordinal).ToList();
        var ids = await db.Apps.AsNoTracking().Where(a => names.Contains(a.Name)).ToDictionaryAsync(a => a.Name, a => a.Id, cancellationToken);
        var router = Clean(report.RouterId, 128);
        var rows = new List<AppLogEntry>(report.Entries.Count);
        foreach (var e in report.Entries)
        {
            if (!ids.TryGetValue(e.App, out var appId))
            {
                continue;
            }
            rows.Add(new AppLogEntry
            {
                AppId = appId,
                Time = e.Time.ToUniversalTime(),
                Version = e.Version,
                Component = e.Component is null ? null : Clean(e.Component, 128),
                RequestId = Clean(e.RequestId, 64),
                Router = router,
                Stream = e.Stream,
                Line = Clean(e.Line, MaxLineChars),
            });
        }
        if (rows.Count == 0)
        {
            return 0;
        }
        db.AppLogs.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        var appIds = rows.Select(r => r.AppId.ToString()).Distinct().ToArray();
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({PlatformDbContext.LogsAppendedChannel}, id) FROM unnest({appIds}) AS id", cancellationToken);
        return rows.Count;
    }

    /// <summary>PostgreSQL text cannot hold NUL; a guest may well write one. Over-long values are cut.</summary>
    private static string Clean(string value, int max)
    {
        var s = value.Length > max ? value[..max] : value;
        return s.Contains('\0', StringComparison.Ordinal) ? s.Replace('\0', '\uFFFD') : s;
    }
}

/// <summary>LISTENs for stored log lines, so followers on every control-plane replica see lines any replica stored.</summary>
public sealed class AppLogListener(IOptions<DatabaseOptions> database, AppLogNotifier notifier, ILogger<AppLogListener> logger)
    : PostgresChannelListener(database, PlatformDbContext.LogsAppendedChannel)
{
    protected override void OnNotification(string payload)
    {
        if (Guid.TryParse(payload, out var appId))
        {
            notifier.Appended(appId);
        }
    }

    protected override void OnListening(string channel)
    {
        logger.ListeningForLogs(channel);
        // Lines stored while we were not listening are unknown: every follower reads again.
        notifier.AppendedToAll();
    }

    protected override void OnFailed(Exception exception, TimeSpan retryIn) => logger.LogListenerFailed(exception, retryIn);
}

/// <summary>Deletes log lines past their age and past each app's count, on a timer.</summary>
public sealed class AppLogRetention(IServiceScopeFactory scopes, IOptions<AppLogRetentionOptions> options, TimeProvider clock, ILogger<AppLogRetention> logger)
    : PeriodicDatabaseJob<(int ByAge, int ByCount)>(scopes, clock)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.RetentionIntervalSeconds);

    protected override void OnCompleted((int ByAge, int ByCount) result)
    {
        if (result.ByAge + result.ByCount > 0)
        {
            logger.LogRetentionRan(result.ByAge, result.ByCount);
        }
    }

    protected override void OnFailed(Exception exception) => logger.LogRetentionFailed(exception);

    /// <summary>One pass: lines older than the retention, then each app's lines beyond its newest MaxLinesPerApp.</summary>
    protected override async Task<(int ByAge, int ByCount)> RunAsync(PlatformDbContext db, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var cutoff = Clock.GetUtcNow().AddDays(-o.RetentionDays);
        var byAge = await db.AppLogs.Where(l => l.Time < cutoff).ExecuteDeleteAsync(cancellationToken);
        var max = o.MaxLinesPerApp;
        var byCount = await db.Database.ExecuteSqlAsync($"""
            DELETE FROM app_logs AS l USING (
                SELECT "Id" FROM (
                    SELECT "Id", row_number() OVER (PARTITION BY "AppId" ORDER BY "Id" DESC) AS rn FROM app_logs
                ) AS ranked WHERE ranked.rn > {max}
            ) AS old WHERE l."Id" = old."Id"
            """, cancellationToken);
        return (byAge, byCount);
    }
}
