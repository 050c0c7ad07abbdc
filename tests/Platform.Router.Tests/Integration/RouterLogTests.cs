using System.Net;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.Router.Tests.Integration;

/// <summary>The router's own log stays bounded however much an app writes to stderr.</summary>
[Trait("Category", "Integration")]
public sealed class RouterLogTests(SharedRouterStack shared, ITestOutputHelper output) : IClassFixture<SharedRouterStack>
{
    [Fact]
    public async Task A_noisy_app_is_rate_limited_and_cut_in_the_router_log_which_rotates_by_size()
    {
        var stack = shared.Stack;
        var folder = stack.FolderOf("logging");
        var logFile = Path.Combine(folder, "router.log");
        const long MaxBytes = 64 * 1024;
        await using var router = await stack.StartOwnRouterAsync("logging", new Dictionary<string, string?>
        {
            ["Platform__Router__LogFile"] = logFile,
            ["Platform__Router__LogFileMaxBytes"] = MaxBytes.ToString(),
            ["Platform__Router__LogFileCount"] = "3",
            ["Platform__Router__AppLogLinesPerSecond"] = "50",
            ["Platform__Router__AppLogBurst"] = "100",
            ["Platform__Router__AppLogMaxLineChars"] = "1000",
        });
        var app = $"noisy-{Guid.NewGuid().ToString("N")[..6]}";
        await stack.ControlPlane.DeployAsync(app, TestApps.Bytes("noisy"));
        await stack.WaitForAppAsync(app, "/", "noisy done", router: router);

        // 60 requests x about 220 KB of stderr: 13 MB that the router's log must not take in.
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await router.SendAsync(app, $"/{i}")).StatusCode);
        }
        await Task.Delay(500); // the writer thread flushes what is queued

        var files = Directory.GetFiles(folder, "router.log*");
        var sizes = files.ToDictionary(f => Path.GetFileName(f), f => new FileInfo(f).Length);
        output.WriteLine($"router log files: {string.Join(", ", sizes.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"))}");
        Assert.All(sizes.Values, size => Assert.True(size <= MaxBytes + 4096, $"a log file grew to {size} bytes"));
        Assert.True(files.Length <= 4, $"{files.Length} log files; 3 rotated ones are kept");
        var text = string.Concat(files.Select(f => File.ReadAllText(f)));
        Assert.Contains("app log line(s) dropped", text);
        Assert.Contains("more characters cut", text);
        // The router's own lines are there too.
        Assert.Contains("Routing table", text);
    }
}
