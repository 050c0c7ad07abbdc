using System.Diagnostics;
using System.Text.Json;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>
/// Uploads compile in a child process under CPU, memory and wall-clock limits. The bomb (tests/apps/compilebomb.sh:
/// 50 KB, 5,000 locals live across 100 nested loops) costs tens of seconds of CPU without them.
/// </summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CompileLimitsTests(ControlPlaneFixture fixture, ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> s_tightLimits = new()
    {
        ["Platform:Compile:CpuSeconds"] = "3",
        ["Platform:Compile:WallSeconds"] = "60",
        ["Platform:Compile:MaxConcurrent"] = "2",
    };

    [Fact]
    public async Task A_compile_bomb_is_refused_at_the_CPU_limit_with_its_figures_while_a_parallel_hello_upload_succeeds()
    {
        await using var factory = fixture.CreateFactory(s_tightLimits);
        using var client = fixture.CreateClient(factory: factory);
        var bombApp = ApiHelpers.UniqueAppName("bomb");
        var helloApp = ApiHelpers.UniqueAppName("beside-bomb");
        await client.CreateAppAsync(bombApp);
        await client.CreateAppAsync(helloApp);

        var started = Stopwatch.GetTimestamp();
        var bomb = client.UploadAsync(bombApp, TestApps.Bytes("compilebomb"));
        await Task.Delay(300);
        var helloStarted = Stopwatch.GetTimestamp();
        var hello = await client.UploadAsync(helloApp, TestApps.Bytes("hello"));
        var helloSeconds = Stopwatch.GetElapsedTime(helloStarted).TotalSeconds;
        await hello.ExpectAsync(201);
        var refused = await bomb;
        var bombSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var problem = await refused.ExpectAsync(422);
        output.WriteLine($"bomb refused after {bombSeconds:F1} s: {problem.GetProperty("detail").GetString()}");
        output.WriteLine($"hello uploaded beside it in {helloSeconds:F2} s; load average {LoadAverage()}");
        Assert.EndsWith("/module-too-expensive", problem.GetProperty("type").GetString());
        Assert.Equal("Module too expensive to compile", problem.GetProperty("title").GetString());
        // Normally the CPU limit stops it; on a machine loaded far beyond its cores 3 s of CPU can take more than
        // the wall-clock limit, which then stops it instead. Either way it is refused at a limit, with the figures.
        Assert.Matches("CPU-time limit of 3 s|wall-clock limit of 60 s", problem.GetProperty("detail").GetString());
        Assert.True(problem.GetProperty("cpuSeconds").GetDouble() >= 3 || problem.GetProperty("wallSeconds").GetDouble() >= 60);
        Assert.Equal(3, problem.GetProperty("cpuLimitSeconds").GetInt32());
        // Nothing was stored for it.
        Assert.Empty((await (await client.GetAsync($"/api/v1/apps/{bombApp}/versions")).ExpectAsync(200)).EnumerateArray());
        Assert.Empty(CompileChildren());
    }

    [Fact]
    public async Task A_compile_stops_when_its_client_goes_away()
    {
        await using var factory = fixture.CreateFactory(new Dictionary<string, string>(s_tightLimits) { ["Platform:Compile:CpuSeconds"] = "120", ["Platform:Compile:WallSeconds"] = "120" });
        using var client = fixture.CreateClient(factory: factory);
        var app = ApiHelpers.UniqueAppName("gone");
        await client.CreateAppAsync(app);

        using var cancel = new CancellationTokenSource();
        var upload = client.PostAsync($"/api/v1/apps/{app}/versions",
            new ByteArrayContent(TestApps.Bytes("compilebomb")) { Headers = { ContentType = new("application/wasm") } }, cancel.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (CompileChildren().Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no compile process started");
            await Task.Delay(50);
        }
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);

        var stopped = Stopwatch.GetTimestamp();
        while (CompileChildren().Count > 0)
        {
            Assert.True(Stopwatch.GetElapsedTime(stopped) < TimeSpan.FromSeconds(10), "the compile kept running after the client went away");
            await Task.Delay(50);
        }
        output.WriteLine($"compile process gone {Stopwatch.GetElapsedTime(stopped).TotalMilliseconds:F0} ms after the client left; load average {LoadAverage()}");
        Assert.Empty((await (await client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200)).EnumerateArray());
    }

    [Fact]
    public async Task The_default_limits_admit_an_ordinary_module_and_its_precompiled_artifact()
    {
        using var client = fixture.CreateClient();
        var app = ApiHelpers.UniqueAppName("ordinary");
        await client.CreateAppAsync(app);
        var started = Stopwatch.GetTimestamp();
        var version = await (await client.UploadAsync(app, TestApps.Bytes("bigmodule"))).ExpectAsync(201);
        output.WriteLine($"bigmodule ({TestApps.Bytes("bigmodule").Length} bytes) uploaded in {Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s; load average {LoadAverage()}");
        Assert.Equal(1, version.GetProperty("number").GetInt32());
    }

    /// <summary>Compile processes started by this test process (the in-process control plane).</summary>
    private static List<int> CompileChildren()
    {
        var me = Environment.ProcessId.ToString();
        var found = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!cmdline.Contains("--compile-module", StringComparison.Ordinal))
                {
                    continue;
                }
                var ppid = File.ReadAllLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).Last().Trim();
                if (ppid == me)
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
