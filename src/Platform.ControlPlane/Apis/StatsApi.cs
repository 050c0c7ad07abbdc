using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/apps/{app}/stats: requests per minute and latency percentiles, as routers reported them.</summary>
public static class StatsApi
{
    public static RouteGroupBuilder MapStatsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/apps/{app}/stats").WithTags("Apps").RequireAuthorization();
        api.MapGet("/", GetStats).WithName("GetAppStats")
            .WithSummary("Requests per minute and p50/p99 latency over the last N minutes (default 60, at most 1440)");
        return api;
    }

    public static async Task<Results<Ok<AppStatsResponse>, ProblemHttpResult>> GetStats(
        string app, [FromQuery] int? minutes, PlatformDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var span = minutes ?? 60;
        if (span is < 1 or > 1440)
        {
            return Problems.Validation($"minutes={span} is out of range 1-1440.", "minutes", span);
        }
        if (!await db.Apps.AnyAsync(a => a.Name == app, cancellationToken))
        {
            return Problems.AppNotFound(app);
        }
        var now = clock.GetUtcNow();
        var end = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        var start = end.AddMinutes(-(span - 1));
        var rows = await db.RequestStats.AsNoTracking()
            .Where(s => s.AppName == app && s.Minute >= start)
            .ToListAsync(cancellationToken);

        // Several routers report the same minute: their histograms add up.
        var byMinute = rows.GroupBy(r => r.Minute).ToDictionary(g => g.Key, g =>
        {
            var buckets = new long[LatencyHistogram.UpperBoundsMs.Length];
            long requests = 0, errors = 0;
            foreach (var r in g)
            {
                requests += r.Requests;
                errors += r.Errors;
                for (var i = 0; i < buckets.Length && i < r.LatencyBuckets.Length; i++)
                {
                    buckets[i] += r.LatencyBuckets[i];
                }
            }
            return (requests, errors, buckets);
        });
        var points = new List<StatsPoint>(span);
        for (var m = start; m <= end; m = m.AddMinutes(1))
        {
            points.Add(byMinute.TryGetValue(m, out var s)
                ? new StatsPoint(m, s.requests, s.errors, LatencyHistogram.Quantile(s.buckets, 0.5), LatencyHistogram.Quantile(s.buckets, 0.99))
                : new StatsPoint(m, 0, 0, null, null));
        }
        return TypedResults.Ok(new AppStatsResponse(app, span, points, points.Sum(p => p.Requests), points.Sum(p => p.Errors)));
    }
}
