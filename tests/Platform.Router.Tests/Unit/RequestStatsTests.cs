using Platform.Contracts;
using Platform.Router.Serving;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class RequestStatsTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 26, 12, 30, 15, TimeSpan.Zero);

    [Fact]
    public void Requests_are_counted_per_app_and_whole_minute_with_errors_and_latency_buckets()
    {
        var stats = new RequestStats();
        stats.Record("a", s_at, 0.7, error: false);
        stats.Record("a", s_at.AddSeconds(30), 40, error: true);
        stats.Record("b", s_at, 3, error: false);

        var drained = stats.Drain();
        var a = Assert.Single(drained, m => m.App == "a");
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 12, 30, 0, TimeSpan.Zero), a.Minute);
        Assert.Equal(2, a.Requests);
        Assert.Equal(1, a.Errors);
        Assert.Equal(1, a.LatencyBuckets[LatencyHistogram.BucketOf(0.7)]);
        Assert.Equal(1, a.LatencyBuckets[LatencyHistogram.BucketOf(40)]);
        Assert.Single(drained, m => m.App == "b");
    }

    [Fact]
    public void Draining_starts_afresh_and_restored_figures_come_back_in_the_next_drain()
    {
        var stats = new RequestStats();
        stats.Record("a", s_at, 1, error: false);
        var first = stats.Drain();
        Assert.Empty(stats.Drain());

        stats.Restore(first);
        stats.Record("a", s_at, 1, error: false);
        var again = Assert.Single(stats.Drain());
        Assert.Equal(2, again.Requests);
    }
}
