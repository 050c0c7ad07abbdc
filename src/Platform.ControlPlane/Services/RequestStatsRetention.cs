using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>Retention of the per-minute request figures routers report. Bound from <c>Platform:Stats</c>.</summary>
public sealed class RequestStatsRetentionOptions
{
    public const string Section = "Platform:Stats";

    /// <summary>Figures older than this are deleted (the dashboard shows the last day).</summary>
    [Range(1, 8760)]
    public int RetentionHours { get; set; } = 24;

    /// <summary>How often the retention runs.</summary>
    [Range(1, 86_400)]
    public int RetentionIntervalSeconds { get; set; } = 60;
}

/// <summary>Deletes old request figures on a timer, so a stats report only inserts (it used to delete on every report).</summary>
public sealed class RequestStatsRetention(IServiceScopeFactory scopes, IOptions<RequestStatsRetentionOptions> options, TimeProvider clock,
    ILogger<RequestStatsRetention> logger) : PeriodicDatabaseJob<int>(scopes, clock)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.RetentionIntervalSeconds);

    protected override void OnFailed(Exception exception) => logger.StatsRetentionFailed(exception);

    /// <summary>One pass; returns how many minute rows were deleted.</summary>
    protected override Task<int> RunAsync(PlatformDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().AddHours(-options.Value.RetentionHours);
        return db.RequestStats.Where(s => s.Minute < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
