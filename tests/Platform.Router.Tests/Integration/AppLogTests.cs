using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.Router.Tests.Integration;

/// <summary>PostgreSQL, a registry, one control plane and two routers (router-a, router-b) for the app-log tests.</summary>
public sealed class LogStack() : PlatformStackFixture(new PlatformStackOptions { RouterEnvironment = RouterId("router-a") })
{
    public RouterProcess RouterA => Router;
    public RouterProcess RouterB { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        RouterB = await Stack.StartOwnRouterAsync("router-b", RouterId("router-b"));
    }

    private static Dictionary<string, string?> RouterId(string id) => new() { ["Platform__Router__RouterId"] = id };
}

[Trait("Category", "Integration")]
public sealed class AppLogTests(LogStack stack, ITestOutputHelper output) : IClassFixture<LogStack>
{
    private sealed record Entry(DateTimeOffset Time, int Version, string? Component, string RequestId, string Router, string Stream, string Line);

    private sealed record Page(List<Entry> Entries);

    private async Task<string> DeployLoggerAsync(int? timeoutSeconds = null)
    {
        var app = TestApps.UniqueName("logs");
        await stack.ControlPlane.DeployAsync(app, TestApps.Bytes("logger"));
        if (timeoutSeconds is { } t)
        {
            using var client = stack.ControlPlane.CreateClient();
            (await client.PatchAsJsonAsync($"/api/v1/apps/{app}", new { timeoutSeconds = t })).EnsureSuccessStatusCode();
        }
        await stack.RouterA.WaitForAppAsync(app, "/?warmup", "", TimeSpan.FromSeconds(15));
        await stack.RouterB.WaitForAppAsync(app, "/?warmup", "", TimeSpan.FromSeconds(15));
        // The warm-up lines are stored before the test's own requests, so they never mix into a tail.
        await WaitForLogsAsync(app, e => e.Count(x => x.Line == "token=warmup") >= 2);
        return app;
    }

    private async Task<List<Entry>> LogsAsync(string app, string query = "")
    {
        using var client = stack.ControlPlane.CreateClient();
        var response = await client.GetAsync($"/api/v1/apps/{app}/logs{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonSerializer.Deserialize<Page>(text, JsonSerializerOptions.Web)!.Entries;
    }

    /// <summary>Polls the logs until <paramref name="done"/> holds (routers ship every quarter second).</summary>
    private async Task<List<Entry>> WaitForLogsAsync(string app, Func<List<Entry>, bool> done, string query = "?tail=10000", int seconds = 15)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        List<Entry> entries = [];
        while (DateTime.UtcNow < deadline)
        {
            entries = await LogsAsync(app, query);
            if (done(entries))
            {
                return entries;
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"The logs of '{app}' never got there; last {entries.Count} entries:\n" +
            string.Join('\n', entries.TakeLast(20).Select(e => $"{e.Stream} {e.Line}")));
    }

    [Fact]
    public async Task Fifty_requests_over_two_routers_give_fifty_entries_with_every_field_filled_oldest_first()
    {
        var app = await DeployLoggerAsync();
        var tokens = Enumerable.Range(0, 50).Select(i => $"t{i:D2}-{Guid.NewGuid():N}").ToList();
        for (var i = 0; i < tokens.Count; i++)
        {
            using var response = await (i % 2 == 0 ? stack.RouterA : stack.RouterB).SendAsync(app, "/?" + tokens[i]);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var entries = await WaitForLogsAsync(app, e => tokens.All(t => e.Any(x => x.Line == "token=" + t)));
        var tail = await LogsAsync(app, "?tail=50");
        Assert.Equal(50, tail.Count);
        Assert.Equal(tokens.Select(t => "token=" + t).Order(), tail.Select(e => e.Line).Order());
        Assert.All(tail, e =>
        {
            Assert.Equal(1, e.Version);
            Assert.Null(e.Component);
            Assert.Equal("stderr", e.Stream);
            Assert.Matches("^[0-9a-f]{32}$", e.RequestId);
            Assert.InRange(e.Time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        });
        Assert.Equal(50, tail.Select(e => e.RequestId).Distinct().Count());
        Assert.Equal(["router-a", "router-b"], tail.Select(e => e.Router).Distinct().Order());
        Assert.True(tail.Zip(tail.Skip(1)).All(p => p.First.Time <= p.Second.Time), "entries are oldest first");

        // since= keeps only what came at or after it.
        var middle = tail[25].Time;
        var since = await LogsAsync(app, "?tail=10000&since=" + Uri.EscapeDataString(middle.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")));
        Assert.All(since, e => Assert.True(e.Time >= middle));
        Assert.Contains(since, e => e.Line == "token=" + tokens[49]);
        Assert.DoesNotContain(since, e => e.Line == "token=" + tokens[0] && e.Time < middle);
    }

    [Fact]
    public async Task Two_followers_see_a_new_line_within_two_seconds_from_either_router()
    {
        var app = await DeployLoggerAsync();
        using var client = stack.ControlPlane.CreateClient();
        client.Timeout = Timeout.InfiniteTimeSpan;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var followers = new[] { await OpenFollowerAsync(client, app, cts.Token), await OpenFollowerAsync(client, app, cts.Token) };

        foreach (var router in new[] { stack.RouterA, stack.RouterB })
        {
            var token = Guid.NewGuid().ToString("N");
            var started = Stopwatch.StartNew();
            using (var response = await router.SendAsync(app, "/?" + token))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            foreach (var follower in followers)
            {
                var line = await follower.WaitForAsync(l => l.Contains("token=" + token, StringComparison.Ordinal), cts.Token);
                output.WriteLine($"follower saw the line {started.ElapsedMilliseconds} ms after the request was sent ({line})");
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"seen after {started.ElapsedMilliseconds} ms");
                using var doc = JsonDocument.Parse(line);
                Assert.Equal("stderr", doc.RootElement.GetProperty("stream").GetString());
            }
        }
        cts.Cancel();
        foreach (var f in followers)
        {
            f.Dispose();
        }
    }

    private sealed class Follower(HttpResponseMessage response, StreamReader reader) : IDisposable
    {
        public async Task<string> WaitForAsync(Func<string, bool> match, CancellationToken cancellationToken)
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && match(line[6..]))
                {
                    return line[6..];
                }
            }
            throw new Xunit.Sdk.XunitException("the event stream ended");
        }

        public void Dispose()
        {
            reader.Dispose();
            response.Dispose();
        }
    }

    private static async Task<Follower> OpenFollowerAsync(HttpClient client, string app, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/apps/{app}/logs?follow=true&tail=1");
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        // The first event (the tail) or the "following" comment says the server is listening.
        while (await reader.ReadLineAsync(cancellationToken) is { } line && line.Length > 0)
        {
        }
        return new Follower(response, reader);
    }

    [Fact]
    public async Task A_trap_and_a_timeout_leave_their_reasons_in_the_log_under_the_request_id_the_problem_names()
    {
        var app = await DeployLoggerAsync(timeoutSeconds: 1);

        using var trap = await stack.RouterA.SendAsync(app, "/trap");
        Assert.Equal(HttpStatusCode.InternalServerError, trap.StatusCode);
        using var trapProblem = JsonDocument.Parse(await trap.Content.ReadAsStringAsync());
        Assert.Contains($"/api/v1/apps/{app}/logs", trapProblem.RootElement.GetProperty("detail").GetString());
        var trapId = trapProblem.RootElement.GetProperty("traceId").GetString();

        using var hang = await stack.RouterB.SendAsync(app, "/hang");
        Assert.Equal(HttpStatusCode.GatewayTimeout, hang.StatusCode);
        using var hangProblem = JsonDocument.Parse(await hang.Content.ReadAsStringAsync());
        Assert.Contains($"/api/v1/apps/{app}/logs", hangProblem.RootElement.GetProperty("detail").GetString());
        var hangId = hangProblem.RootElement.GetProperty("traceId").GetString();

        var entries = await WaitForLogsAsync(app, e => e.Count(x => x.Stream == "platform") >= 2);
        var trapReason = Assert.Single(entries, e => e.Stream == "platform" && e.RequestId == trapId);
        Assert.StartsWith("[Trap]", trapReason.Line);
        Assert.Contains("unreachable", trapReason.Line, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(entries, e => e.Stream == "stderr" && e.RequestId == trapId && e.Line == "about to trap");
        var hangReason = Assert.Single(entries, e => e.Stream == "platform" && e.RequestId == hangId);
        Assert.StartsWith("[Timeout]", hangReason.Line);
        Assert.Contains("wall-time", hangReason.Line);
        Assert.Equal("router-b", hangReason.Router);

        // Only the platform's own lines: what the module wrote cannot pose as one.
        var platformOnly = await LogsAsync(app, "?stream=platform");
        Assert.All(platformOnly, e => Assert.Equal("platform", e.Stream));
        Assert.Equal(2, platformOnly.Count);
    }

    [Fact]
    public async Task Another_apps_logs_never_show_and_a_new_app_of_the_same_name_starts_empty()
    {
        var first = await DeployLoggerAsync();
        var second = await DeployLoggerAsync();
        var secret = Guid.NewGuid().ToString("N");
        (await stack.RouterA.SendAsync(first, "/?" + secret)).Dispose();
        (await stack.RouterA.SendAsync(second, "/?mine")).Dispose();
        await WaitForLogsAsync(first, e => e.Any(x => x.Line.Contains(secret, StringComparison.Ordinal)));
        var others = await WaitForLogsAsync(second, e => e.Any(x => x.Line == "token=mine"));
        Assert.DoesNotContain(others, e => e.Line.Contains(secret, StringComparison.Ordinal));

        using var client = stack.ControlPlane.CreateClient();
        (await client.DeleteAsync($"/api/v1/apps/{first}")).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = first })).EnsureSuccessStatusCode();
        Assert.Empty(await LogsAsync(first));
    }

    [Fact]
    public async Task Bad_query_values_get_a_problem_that_quotes_them_and_an_unknown_app_is_404()
    {
        var app = await DeployLoggerAsync();
        using var client = stack.ControlPlane.CreateClient();
        foreach (var (query, quoted) in new[] { ("tail=abc", "abc"), ("tail=0", "0"), ("tail=10001", "10001"), ("since=yesterday", "yesterday"),
            ("since=2026-13-01T00:00:00Z", "2026-13-01T00:00:00Z"), ("follow=maybe", "maybe"), ("stream=stdlog", "stdlog"), ("version=x", "x") })
        {
            var response = await client.GetAsync($"/api/v1/apps/{app}/logs?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains($"'{quoted}'", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/apps/{TestApps.UniqueName("nope")}/logs")).StatusCode);
        using var anonymous = stack.ControlPlane.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/apps/{app}/logs")).StatusCode);
    }

    [Fact]
    public async Task A_100_MB_stderr_flood_is_cut_and_counted_while_another_apps_latency_is_measured_beside_it()
    {
        var flood = await DeployLoggerAsync();
        var quiet = TestApps.UniqueName("quiet");
        await stack.ControlPlane.DeployAsync(quiet, TestApps.Bytes("hello"));
        await stack.RouterA.WaitForAppAsync(quiet, "/?warmup", "", TimeSpan.FromSeconds(15));

        // Figures only (the machine is shared and its load moves them): the quiet app alone, then beside the floods.
        var cpuBefore = ProcessCpu(stack.RouterA.Process.Id);
        var baseline = await MeasureLatencyAsync(quiet, 300);
        var cpuQuiet = ProcessCpu(stack.RouterA.Process.Id) - cpuBefore;
        output.WriteLine($"load average before: {LoadAverage()}");
        // Where a flood's time goes: the first MiB of stderr passes the log path (16,384 lines split, cut and
        // counted); past it the runtime drops the bytes at once, so the rest is the guest's own writing.
        // One untimed first, so neither figure includes the first use of the log path (JIT, console logger start).
        using (await stack.RouterA.SendAsync(flood, "/flood?1"))
        {
        }
        var oneMb = await TimedAsync(() => stack.RouterA.SendAsync(flood, "/flood?1"));
        var hundredMb = await TimedAsync(() => stack.RouterA.SendAsync(flood, "/flood?100"));
        output.WriteLine($"one request alone: 1 MB of stderr {oneMb.Ms:F1} ms, 100 MB {hundredMb.Ms:F1} ms");

        const int floods = 3;
        cpuBefore = ProcessCpu(stack.RouterA.Process.Id);
        var measured = Task.Run(async () =>
        {
            await Task.Delay(100);
            return await MeasureLatencyAsync(quiet, 300);
        });
        var flooding = Enumerable.Range(0, floods).Select(_ => TimedAsync(() => stack.RouterA.SendAsync(flood, "/flood?100"))).ToList();
        var during = await measured;
        var floodTimes = new List<double>();
        foreach (var f in flooding)
        {
            var (status, ms) = await f;
            Assert.Equal(HttpStatusCode.OK, status);
            floodTimes.Add(ms);
        }
        var cpuFlood = ProcessCpu(stack.RouterA.Process.Id) - cpuBefore;
        output.WriteLine($"quiet app without the flood: p50 {baseline.P50:F2} ms, p99 {baseline.P99:F2} ms (router CPU {cpuQuiet.TotalMilliseconds:F0} ms)");
        output.WriteLine($"quiet app beside {floods} requests writing 100 MB of stderr each: p50 {during.P50:F2} ms ({during.P50 / baseline.P50:F2}x), " +
            $"p99 {during.P99:F2} ms ({during.P99 / baseline.P99:F2}x); floods took {string.Join(", ", floodTimes.Select(t => $"{t:F0}"))} ms; " +
            $"router CPU {cpuFlood.TotalMilliseconds:F0} ms; load average after: {LoadAverage()}");

        // The same CPU without any stderr (a loop stopped by its CPU-time limit), to tell the cost of the log path
        // from the cost of a neighbour that simply burns CPU.
        var burner = TestApps.UniqueName("burn");
        var perFloodMs = Math.Clamp((int)((cpuFlood - cpuQuiet).TotalMilliseconds / floods), 10, 2000);
        using (var client = stack.ControlPlane.CreateClient())
        {
            // Created with its CPU limit, so no request of it ever runs under the default one.
            (await client.PostAsJsonAsync("/api/v1/apps", new { name = burner, cpuTimeLimitMs = perFloodMs })).EnsureSuccessStatusCode();
        }
        await stack.ControlPlane.DeployAsync(burner, TestApps.Bytes("loop"), create: false);
        output.WriteLine($"burner: a loop stopped after {perFloodMs} ms of CPU");
        var burnerServed = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < burnerServed)
        {
            using var probe = await stack.RouterA.SendAsync(burner, "/");
            if (probe.StatusCode != HttpStatusCode.NotFound)
            {
                break;
            }
            await Task.Delay(50);
        }
        var beside = Task.Run(async () =>
        {
            await Task.Delay(100);
            return await MeasureLatencyAsync(quiet, 300);
        });
        var burning = Enumerable.Range(0, floods).Select(_ => TimedAsync(() => stack.RouterA.SendAsync(burner, "/"))).ToList();
        var besideBurners = await beside;
        var burnTimes = new List<double>();
        foreach (var b in burning)
        {
            burnTimes.Add((await b).Ms);
        }
        output.WriteLine($"quiet app beside {floods} CPU burners without stderr: p50 {besideBurners.P50:F2} ms ({besideBurners.P50 / baseline.P50:F2}x), " +
            $"p99 {besideBurners.P99:F2} ms ({besideBurners.P99 / baseline.P99:F2}x); burners took {string.Join(", ", burnTimes.Select(t => $"{t:F0}"))} ms; " +
            $"load average: {LoadAverage()}");

        // The three alone plus the concurrent ones; each is cut at the request's 1,000 lines.
        const int flooded = floods + 3;
        var entries = await WaitForLogsAsync(flood, e => e.Count(x => x.Line.Contains("lines dropped", StringComparison.Ordinal)) >= flooded);
        var floodLines = entries.Count(e => e.Stream == "stderr" && e.Line.StartsWith("fff", StringComparison.Ordinal));
        Assert.InRange(floodLines, 1, flooded * 1000);
        var dropped = entries.Where(e => e.Stream == "platform")
            .Select(e => Regex.Match(e.Line, @"(\d+) lines dropped"))
            .Where(m => m.Success)
            .Sum(m => long.Parse(m.Groups[1].Value));
        output.WriteLine($"stored {floodLines} flood lines, {dropped} counted as dropped");
        // Each request wrote 16,384 lines before the runtime's 1 MiB cut; whatever was not stored is counted.
        Assert.True(floodLines + dropped >= flooded * 16_384L, $"{floodLines} stored + {dropped} dropped");
    }

    [Fact]
    public async Task Retention_deletes_lines_older_than_the_age_limit_and_beyond_the_count_per_app()
    {
        await using var controlPlane = await stack.Stack.StartControlPlaneAsync(new Dictionary<string, string?>
            {
                ["Platform__Logs__RetentionIntervalSeconds"] = "1",
                ["Platform__Logs__MaxLinesPerApp"] = "20",
                ["Platform__Logs__RetentionDays"] = "7",
            }, await stack.Postgres.CreateDatabaseAsync(), TestPorts.GetFreeTcpPort());
        using var admin = controlPlane.CreateClient();
        var app = TestApps.UniqueName("kept");
        var other = TestApps.UniqueName("other");
        (await admin.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/apps", new { name = other })).EnsureSuccessStatusCode();

        var now = DateTimeOffset.UtcNow;
        var entries = new List<object>();
        for (var i = 0; i < 5; i++)
        {
            entries.Add(new { time = now.AddDays(-8), app = other, version = 1, component = (string?)null, requestId = "old", stream = "stderr", line = $"old {i}" });
        }
        entries.Add(new { time = now.AddDays(-6), app = other, version = 1, component = (string?)null, requestId = "recent", stream = "stderr", line = "six days old" });
        for (var i = 0; i < 30; i++)
        {
            entries.Add(new { time = now, app, version = 1, component = (string?)null, requestId = "r" + i, stream = "stderr", line = $"line {i:D2}" });
        }
        using var router = controlPlane.CreateClient(PlatformProcesses.RouterToken);
        var posted = await router.PostAsJsonAsync("/internal/v1/logs", new { routerId = "test-router", entries });
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        List<Entry> kept = [], otherKept = [];
        while (DateTime.UtcNow < deadline)
        {
            kept = JsonSerializer.Deserialize<Page>(await admin.GetStringAsync($"/api/v1/apps/{app}/logs?tail=10000"), JsonSerializerOptions.Web)!.Entries;
            otherKept = JsonSerializer.Deserialize<Page>(await admin.GetStringAsync($"/api/v1/apps/{other}/logs?tail=10000"), JsonSerializerOptions.Web)!.Entries;
            if (kept.Count == 20 && otherKept.Count == 1)
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.Equal(Enumerable.Range(10, 20).Select(i => $"line {i:D2}"), kept.Select(e => e.Line));
        Assert.Equal("six days old", Assert.Single(otherKept).Line);
        Assert.All(kept, e => Assert.Equal("test-router", e.Router));
    }

    private async Task<(double P50, double P99)> MeasureLatencyAsync(string app, int requests)
    {
        var times = new List<double>(requests);
        for (var i = 0; i < requests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await stack.RouterA.SendAsync(app, "/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        times.Sort();
        return (times[(int)Math.Ceiling(0.50 * times.Count) - 1], times[(int)Math.Ceiling(0.99 * times.Count) - 1]);
    }

    private static async Task<(HttpStatusCode Status, double Ms)> TimedAsync(Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await send();
        return (response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>User plus system CPU time of a process so far (Linux /proc; zero elsewhere).</summary>
    private static TimeSpan ProcessCpu(int pid)
    {
        var path = $"/proc/{pid}/stat";
        if (!File.Exists(path))
        {
            return TimeSpan.Zero;
        }
        // Fields after the command name (which may hold spaces) start at state; utime and stime are fields 14 and 15.
        var stat = File.ReadAllText(path);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }
}
