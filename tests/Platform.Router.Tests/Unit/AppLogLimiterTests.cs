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
}
