using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;
using Platform.Router.Serving;
using Xunit.Abstractions;

namespace Platform.Router.Tests.Benchmarks;

/// <summary>
/// What a stderr flood costs the router's log path: concurrent requests of one route each writing the 16,384 lines
/// of a flood's first MiB through their request log and the route's shared console limiter, as workers do. Prints
/// figures (no timing is asserted) and checks that every line is either kept or counted.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class AppLogPathBenchmark(ITestOutputHelper output)
{
    [Fact]
    public void Concurrent_floods_of_one_route_go_through_the_log_path_with_every_line_kept_or_counted()
    {
        var options = new AppLogOptions();
        var collector = new AppLogCollector(Options.Create(options), Options.Create(new RouterOptions { RouterId = "bench", Token = "t" }),
            TimeProvider.System, NullLogger<AppLogCollector>.Instance);
        long consoleLines = 0, consoleReported = 0;
        var limiter = new AppLogLimiter(20, 200, 2000, written =>
        {
            var report = System.Text.RegularExpressions.Regex.Match(written, @"^\[platform\] (\d+) app log line\(s\) dropped");
            if (report.Success)
            {
                Interlocked.Add(ref consoleReported, long.Parse(report.Groups[1].Value));
            }
            else
            {
                Interlocked.Increment(ref consoleLines);
            }
        });
        var line = new string('f', 63);
        const int requests = 3, lines = 16_384;
        for (var round = 0; round < 5; round++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            var threads = Enumerable.Range(0, requests).Select(r => new Thread(() =>
            {
                var log = collector.Begin("bench", 1, null, $"r{round}-{r}", limiter.Write);
                for (var i = 0; i < lines; i++)
                {
                    log.Stderr(line);
                }
                log.Complete();
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            output.WriteLine($"round {round}: {requests} requests x {lines} lines at once: {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F2} ms wall, " +
                $"{(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms CPU; load average {LoadAverage()}");

            var batch = collector.Drain(1_000_000);
            var kept = batch.Count(r => r.Stream == AppLogStreams.Stderr);
            var counted = batch.Where(r => r.Stream == AppLogStreams.Platform)
                .Select(r => System.Text.RegularExpressions.Regex.Match(r.Line, @"^\[platform\] (\d+) lines dropped"))
                .Where(m => m.Success)
                .Sum(m => long.Parse(m.Groups[1].Value));
            Assert.Equal((long)requests * lines, kept + counted);
        }
        // The router's own log: each line written, reported as dropped, or still counted for the next report.
        Assert.Equal(5L * requests * lines, Interlocked.Read(ref consoleLines) + Interlocked.Read(ref consoleReported) + limiter.Dropped);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
