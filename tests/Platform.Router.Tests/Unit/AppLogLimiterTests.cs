using Platform.Router.Serving;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppLogLimiterTests
{
    [Fact]
    public void Lines_past_the_burst_are_dropped_and_counted_in_the_next_line_that_passes()
    {
        var written = new List<string>();
        var limiter = new AppLogLimiter(linesPerSecond: 1000, burst: 5, maxLineChars: 100, written.Add);
        for (var i = 0; i < 50; i++)
        {
            limiter.Write($"line {i}");
        }
        Assert.Equal(5, written.Count(l => l.StartsWith("line ", StringComparison.Ordinal)));
        Assert.True(limiter.Dropped >= 40);

        Thread.Sleep(20); // about 20 tokens come back at 1000 lines/s
        limiter.Write("after");
        Assert.Matches(@"^\[platform\] \d+ app log line\(s\) dropped", written[^2]);
        Assert.Equal("after", written[^1]);
    }

    [Fact]
    public void A_long_line_is_cut_and_says_how_much_was_cut()
    {
        var written = new List<string>();
        var limiter = new AppLogLimiter(10, 10, maxLineChars: 100, written.Add);
        limiter.Write(new string('x', 1000));
        Assert.StartsWith(new string('x', 100) + "... [900 more characters cut]", written.Single());
    }

    [Fact]
    public void Concurrent_writers_share_one_burst_and_every_line_is_either_written_or_counted()
    {
        var written = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // A rate so low that no token comes back during the test: exactly the burst passes.
        var limiter = new AppLogLimiter(linesPerSecond: 0.01, burst: 100, maxLineChars: 100, written.Enqueue);
        const int threads = 4, lines = 20_000;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (var i = 0; i < lines; i++)
            {
                limiter.Write($"t{t} line {i}");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Equal(100, written.Count);
        Assert.Equal(threads * lines - 100, limiter.Dropped);
    }

    [Fact]
    public void Tokens_come_back_at_the_configured_rate_up_to_the_burst()
    {
        var written = new List<string>();
        var limiter = new AppLogLimiter(linesPerSecond: 100, burst: 3, maxLineChars: 100, written.Add);
        for (var i = 0; i < 10; i++)
        {
            limiter.Write("first");
        }
        Assert.Equal(3, written.Count);

        // Half a second at 100 lines/s is 50 tokens, but the bucket holds 3.
        Thread.Sleep(500);
        for (var i = 0; i < 10; i++)
        {
            limiter.Write("second");
        }
        Assert.Equal(3, written.Count(l => l == "second"));
        Assert.Single(written, l => l.StartsWith("[platform] 7 app log line(s) dropped", StringComparison.Ordinal));
    }
}
