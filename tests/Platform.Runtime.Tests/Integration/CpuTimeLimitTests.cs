using System.Diagnostics;
using System.Text;
using Platform.Runtime;

namespace Platform.Runtime.Tests.Integration;

/// <summary>The per-request CPU-time limit: measured on the executing thread, enforced at epoch ticks.</summary>
[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CpuTimeLimitTests(RuntimeFixture fixture)
{
    private static WagiRequest Request() => new()
    {
        Method = "GET",
        PathInfo = "/",
        RawPathInfo = "/",
        QueryString = "",
        ScriptName = "/",
        Body = Array.Empty<byte>(),
        Headers = [],
        ServerName = "cpu.apps.localhost",
        ServerPort = 8080,
        RemoteAddress = "127.0.0.1",
        FullUrl = "http://cpu.apps.localhost:8080/",
    };

    [Fact]
    public void A_loop_stops_at_its_CPU_limit_long_before_its_wall_limit_and_says_so_in_the_app_log()
    {
        Assert.True(ThreadCpuTime.IsSupported, "thread CPU time is not available on this machine");
        var log = new List<string>();
        var limits = AppLimits.Default with { WallTime = TimeSpan.FromSeconds(30), CpuTime = TimeSpan.FromMilliseconds(200) };
        var cpuBefore = ThreadCpuTime.NowNanoseconds();
        var started = Stopwatch.GetTimestamp();
        using var result = fixture.Executor.Execute(fixture.Load("loop"), Request(), limits, log.Add, CancellationToken.None);
        var cpuMs = (ThreadCpuTime.NowNanoseconds() - cpuBefore) / 1e6;

        Assert.Equal(WagiOutcome.CpuLimit, result.Outcome);
        Assert.Equal(504, result.StatusCode);
        Assert.Contains("CPU-time limit of 200 ms", result.Error);
        Assert.Contains(log, l => l.Contains("[CpuLimit]", StringComparison.Ordinal) && l.Contains("200 ms", StringComparison.Ordinal));
        // At least the limit was spent on this thread, and it was stopped within a few ticks of it (CPU, not wall, time:
        // a loaded machine stretches the wall time but not this).
        Assert.InRange(cpuMs, 200, 1000);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Sleeping_costs_no_CPU_time_so_a_sleeper_finishes_under_a_small_CPU_limit()
    {
        var limits = AppLimits.Default with { CpuTime = TimeSpan.FromMilliseconds(30) };
        using var result = fixture.Executor.Execute(fixture.Load("sleep"), Request(), limits, null, CancellationToken.None);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Contains("slept", Encoding.UTF8.GetString(result.Body.Span));
        Assert.True(result.Duration >= TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public void A_CPU_limit_out_of_range_is_refused_quoting_it()
    {
        var limits = AppLimits.Default with { CpuTime = TimeSpan.Zero };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => limits.Validate());
        Assert.Contains("CpuTime", error.Message);
    }
}
