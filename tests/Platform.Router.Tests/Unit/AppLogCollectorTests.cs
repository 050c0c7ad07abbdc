using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;
using Platform.Router.Serving;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppLogCollectorTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly DateTimeOffset s_at = new DateTimeOffset(2026, 12, 1, 12, 0, 0, 123, TimeSpan.Zero).AddTicks(4567);

    private static (AppLogCollector Collector, Clock Clock) Create(Action<AppLogOptions>? configure = null)
    {
        var options = new AppLogOptions();
        configure?.Invoke(options);
        var clock = new Clock(s_at);
        var collector = new AppLogCollector(Options.Create(options), Options.Create(new RouterOptions { RouterId = "r1" }), clock, NullLogger<AppLogCollector>.Instance);
        return (collector, clock);
    }

    [Fact]
    public void A_request_log_records_its_lines_with_app_version_request_stream_and_a_millisecond_time()
    {
        var (collector, _) = Create();
        var log = collector.Begin("shop", 3, null, "abc123");
        log.Stderr("hello");
        log.Platform("[Trap] boom");
        log.Complete();

        var batch = collector.Drain(100);
        Assert.Equal(2, batch.Count);
        Assert.Equal(new AppLogRecord(new DateTimeOffset(2026, 12, 1, 12, 0, 0, 123, TimeSpan.Zero), "shop", 3, null, "abc123", AppLogStreams.Stderr, "hello"), batch[0]);
        Assert.Equal(AppLogStreams.Platform, batch[1].Stream);
        Assert.Equal(0, collector.BufferedLines);
        Assert.Empty(collector.Drain(100));
    }

    [Fact]
    public void Lines_past_the_per_request_cap_are_counted_in_one_entry_but_platform_lines_still_pass()
    {
        var (collector, _) = Create(o => o.MaxLinesPerRequest = 5);
        var log = collector.Begin("shop", 1, null, "req");
        for (var i = 0; i < 12; i++)
        {
            log.Stderr("line " + i);
        }
        log.Platform("[Timeout] the wall-time limit passed");
        log.Complete();

        var batch = collector.Drain(100);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => "line " + i), batch.Where(e => e.Stream == AppLogStreams.Stderr).Select(e => e.Line));
        Assert.Contains(batch, e => e.Line == "[Timeout] the wall-time limit passed");
        var dropped = Assert.Single(batch, e => e.Line.Contains("lines dropped", StringComparison.Ordinal));
        Assert.StartsWith("[platform] 7 lines dropped", dropped.Line);
        Assert.Equal(("req", AppLogStreams.Platform), (dropped.RequestId, dropped.Stream));
    }

    [Fact]
    public void An_app_over_its_rate_loses_lines_that_are_counted_while_other_apps_are_untouched()
    {
        var (collector, clock) = Create(o => o.MaxLinesPerAppPerSecond = 10);
        for (var r = 0; r < 5; r++)
        {
            var log = collector.Begin("noisy", 1, null, "n" + r);
            for (var i = 0; i < 10; i++)
            {
                log.Stderr("x");
            }
            log.Complete();
        }
        collector.Begin("calm", 1, null, "c").Stderr("calm line");

        var batch = collector.Drain(1000);
        Assert.Equal(10, batch.Count(e => e.App == "noisy" && e.Stream == AppLogStreams.Stderr));
        Assert.StartsWith("[platform] 40 lines dropped", Assert.Single(batch, e => e.App == "noisy" && e.Stream == AppLogStreams.Platform).Line);
        Assert.Single(batch, e => e.App == "calm");

        // A new second, a new allowance.
        clock.Now = clock.Now.AddSeconds(1);
        collector.Begin("noisy", 1, null, "n9").Stderr("again");
        Assert.Equal("again", Assert.Single(collector.Drain(1000)).Line);
    }

    [Fact]
    public void The_buffer_is_bounded_in_lines_and_characters_and_what_did_not_fit_is_counted()
    {
        var (collector, _) = Create(o =>
        {
            o.MaxBufferedLines = 100;
            o.MaxBufferedChars = 64 * 1024;
        });
        for (var i = 0; i < 150; i++)
        {
            collector.Write("a", 1, null, "r" + i, AppLogStreams.Stderr, "short");
        }
        Assert.Equal(100, collector.BufferedLines);
        var big = new string('b', 40 * 1024);
        collector.Write("b", 1, null, "big", AppLogStreams.Stderr, big);
        Assert.Equal(100, collector.BufferedLines);

        var batch = collector.Drain(1000);
        Assert.Equal(100, batch.Count(e => e.Stream == AppLogStreams.Stderr));
        Assert.StartsWith("[platform] 50 lines dropped", Assert.Single(batch, e => e.App == "a" && e.Stream == AppLogStreams.Platform).Line);
        Assert.StartsWith("[platform] 1 lines dropped", Assert.Single(batch, e => e.App == "b").Line);
    }

    [Fact]
    public void Drain_takes_at_most_a_batch_and_restore_puts_undelivered_lines_back()
    {
        var (collector, _) = Create();
        for (var i = 0; i < 30; i++)
        {
            collector.Write("a", 1, null, "r", AppLogStreams.Stdout, "l" + i);
        }
        var first = collector.Drain(20);
        Assert.Equal(20, first.Count);
        Assert.Equal(10, collector.BufferedLines);
        collector.Restore(first);
        Assert.Equal(30, collector.BufferedLines);
        Assert.Equal(30, collector.Drain(100).Count);
    }
}
