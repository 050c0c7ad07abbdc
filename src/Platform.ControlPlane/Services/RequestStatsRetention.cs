using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ControlPlane.Infrastructure;
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
    ILogger<RequestStatsRetention> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RetentionIntervalSeconds), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is NpgsqlException or DbUpdateException or InvalidOperationException or TimeoutException)
                {
                    logger.StatsRetentionFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One pass; returns how many minute rows were deleted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var cutoff = clock.GetUtcNow().AddHours(-options.Value.RetentionHours);
        return await db.RequestStats.Where(s => s.Minute < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
