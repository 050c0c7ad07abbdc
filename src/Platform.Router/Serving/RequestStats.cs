using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;

namespace Platform.Router.Serving;

/// <summary>
/// Counts requests per app and minute with a latency histogram. Reports carry deltas since the last report,
/// so the control plane can add up reports from any number of routers and intervals.
/// </summary>
public sealed class RequestStats
{
    private sealed class Cell
    {
        public long Requests;
        public long Errors;
        public readonly long[] Buckets = new long[LatencyHistogram.UpperBoundsMs.Length];
    }

    private ConcurrentDictionary<(string App, DateTimeOffset Minute), Cell> _cells = new();

    public void Record(string app, DateTimeOffset at, double milliseconds, bool error)
    {
        var minute = new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, at.Minute, 0, TimeSpan.Zero);
        var cell = _cells.GetOrAdd((app, minute), static _ => new Cell());
        Interlocked.Increment(ref cell.Requests);
        if (error)
        {
            Interlocked.Increment(ref cell.Errors);
        }
        Interlocked.Increment(ref cell.Buckets[LatencyHistogram.BucketOf(milliseconds)]);
    }

    /// <summary>Takes everything counted so far and starts afresh.</summary>
    public List<AppMinuteStats> Drain()
    {
        var taken = Interlocked.Exchange(ref _cells, new ConcurrentDictionary<(string App, DateTimeOffset Minute), Cell>());
        return taken.Select(kv => new AppMinuteStats(kv.Key.App, kv.Key.Minute, kv.Value.Requests, kv.Value.Errors, kv.Value.Buckets)).ToList();
    }

    /// <summary>Puts back figures a failed report could not deliver.</summary>
    public void Restore(IEnumerable<AppMinuteStats> minutes)
    {
        foreach (var m in minutes)
        {
            var cell = _cells.GetOrAdd((m.App, m.Minute), static _ => new Cell());
            Interlocked.Add(ref cell.Requests, m.Requests);
            Interlocked.Add(ref cell.Errors, m.Errors);
            for (var i = 0; i < cell.Buckets.Length; i++)
            {
                Interlocked.Add(ref cell.Buckets[i], m.LatencyBuckets[i]);
            }
        }
    }
}

/// <summary>Sends the request figures to the control plane every few seconds, for the dashboard's charts.</summary>
public sealed class RequestStatsReporter(HttpClient http, RequestStats stats, IOptions<RouterOptions> options, TimeProvider clock, ILogger<RequestStatsReporter> logger) : BackgroundService
{
    private static readonly TimeSpan s_keep = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(o.StatsIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await ReportAsync(o, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Last figures on the way out; a short, bounded attempt.
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await ReportAsync(o, last.Token);
    }

    private async Task ReportAsync(RouterOptions o, CancellationToken cancellationToken)
    {
        var minutes = stats.Drain();
        if (minutes.Count == 0)
        {
            return;
        }
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{o.ControlPlaneUrl.TrimEnd('/')}/internal/v1/stats")
            {
                Content = JsonContent.Create(new RequestStatsReport(o.RouterId, minutes)),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.Token);
            using var response = await http.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            logger.StatsReportFailed(ex);
            // Keep what is recent; figures older than an hour are of no use to the charts.
            var cutoff = clock.GetUtcNow() - s_keep;
            stats.Restore(minutes.Where(m => m.Minute >= cutoff));
        }
    }
}
