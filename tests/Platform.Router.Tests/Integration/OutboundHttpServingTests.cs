using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.Router.Tests.Integration;

/// <summary>Loopback upstreams for the end-to-end outbound tests.</summary>
public sealed class RouterOutboundFixture : IAsyncLifetime
{
    public OutboundUpstreams Upstreams { get; private set; } = null!;

    public async Task InitializeAsync() => Upstreams = await OutboundUpstreams.StartAsync();

    public async Task DisposeAsync() => await Upstreams.DisposeAsync();
}

/// <summary>
/// Outbound HTTP end to end: the http-client module uploaded to the real control plane, served by the real router,
/// calling loopback upstreams; the allow-list set with PATCH and picked up through the routing table.
/// </summary>
[Collection(SharedRouterCollection.Name)]
[Trait("Category", "Integration")]
public sealed class OutboundHttpServingTests(SharedRouterStack shared, RouterOutboundFixture upstream, ITestOutputHelper output)
    : IClassFixture<RouterOutboundFixture>
{
    private PlatformStack Stack => shared.Stack;
    private OutboundUpstreams Up => upstream.Upstreams;

    private async Task<string> CallAsync(string app, string script)
    {
        var response = await Stack.Router.SendAsync(app, "/", HttpMethod.Post, new StringContent(script, Encoding.UTF8, "text/plain"));
        return $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
    }

    private async Task<string> WaitForCallAsync(string app, string script, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        string last;
        do
        {
            last = await CallAsync(app, script);
        }
        while (!last.Contains(expected, StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Pause());
        Assert.Contains(expected, last);
        return last;
    }

    private async Task<HttpResponseMessage> PatchAsync(string app, object body)
    {
        using var client = Stack.ControlPlane.CreateClient();
        return await client.PatchAsJsonAsync($"/api/v1/apps/{app}", body);
    }

    [Fact]
    public async Task Patching_the_allow_list_takes_effect_within_a_second_and_get_shows_it()
    {
        var app = TestApps.UniqueName("outbound");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("http-client"));
        var script = $"url={Up.Url("/echo")}\ngetheader=x-upstream\n";
        await Stack.WaitForAppAsync(app, "/", "");
        Assert.Contains("call 1: error=7", await CallAsync(app, script));

        var entry = $"http://127.0.0.1:{Up.Port}";
        (await PatchAsync(app, new { allowedOutboundHosts = new[] { entry } })).EnsureSuccessStatusCode();
        var watch = Stopwatch.StartNew();
        string last;
        do
        {
            last = await CallAsync(app, script);
        }
        while (!last.Contains("error=0 status=200", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromSeconds(1) && await Pause());
        output.WriteLine($"allow-list change live after {watch.ElapsedMilliseconds} ms");
        Assert.Contains("call 1: error=0 status=200", last);
        Assert.Contains("header x-upstream: kestrel", last);

        using var client = Stack.ControlPlane.CreateClient();
        var shown = await client.GetFromJsonAsync<JsonElement>($"/api/v1/apps/{app}");
        Assert.Equal([entry], shown.GetProperty("allowedOutboundHosts").EnumerateArray().Select(e => e.GetString()));

        // Emptied again, it allows nothing.
        (await PatchAsync(app, new { allowedOutboundHosts = Array.Empty<string>() })).EnsureSuccessStatusCode();
        watch.Restart();
        do
        {
            last = await CallAsync(app, script);
        }
        while (!last.Contains("error=7", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromSeconds(1) && await Pause());
        Assert.Contains("call 1: error=7", last);
    }

    [Fact]
    public async Task Each_bundle_component_calls_out_under_its_own_allowed_outbound_hosts()
    {
        var app = TestApps.UniqueName("bundleout");
        var toml = $$"""
            spin_manifest_version = 2
            [application]
            name = "outbound-bundle"
            [[trigger.http]]
            route = "/open/..."
            component = "open"
            executor = { type = "wagi" }
            [[trigger.http]]
            route = "/closed/..."
            component = "closed"
            executor = { type = "wagi" }
            [component.open]
            source = "client.wasm"
            allowed_outbound_hosts = ["http://127.0.0.1:{{Up.Port}}"]
            [component.closed]
            source = "client.wasm"
            """;
        var bundle = new BundleBuilder().File("spin.toml", toml).File("client.wasm", TestApps.Bytes("http-client")).TarGz();
        using var client = Stack.ControlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();
        var content = new ByteArrayContent(bundle);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/gzip");
        var uploaded = await client.PostAsync($"/api/v1/apps/{app}/versions", content);
        Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());

        var script = $"url={Up.Url("/echo")}\n";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string open;
        do
        {
            var response = await Stack.Router.SendAsync(app, "/open/x", HttpMethod.Post, new StringContent(script));
            open = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
        }
        while (!open.Contains("error=0 status=200", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Pause());
        Assert.Contains("call 1: error=0 status=200", open);

        var closed = await Stack.Router.SendAsync(app, "/closed/x", HttpMethod.Post, new StringContent(script));
        Assert.Contains("call 1: error=7", await closed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_malformed_entry_is_refused_with_a_problem_quoting_it_and_nothing_changes()
    {
        var app = TestApps.UniqueName("badlist");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("http-client"));
        (await PatchAsync(app, new { allowedOutboundHosts = new[] { "https://api.example.com" } })).EnsureSuccessStatusCode();

        var response = await PatchAsync(app, new { allowedOutboundHosts = new[] { "https://fine.example.com", "api.example.com/path" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("'api.example.com/path'", problem.GetProperty("detail").GetString());

        using var client = Stack.ControlPlane.CreateClient();
        var shown = await client.GetFromJsonAsync<JsonElement>($"/api/v1/apps/{app}");
        Assert.Equal(["https://api.example.com"], shown.GetProperty("allowedOutboundHosts").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task The_control_plane_is_not_reachable_through_a_wildcard_port_and_the_log_names_the_host()
    {
        var app = TestApps.UniqueName("noself");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("http-client"));
        (await PatchAsync(app, new { allowedOutboundHosts = new[] { "http://127.0.0.1:*" } })).EnsureSuccessStatusCode();
        // The wildcard list does reach the test's upstream once the change is live ...
        await WaitForCallAsync(app, $"url={Up.Url("/echo")}\n", "error=0 status=200");

        // ... but never the platform's own control plane or the router's management port.
        var controlPlane = await CallAsync(app, $"url={Stack.ControlPlane.Url}/api/v1/apps\n");
        Assert.Contains("call 1: error=7", controlPlane);
        var management = await CallAsync(app, $"url={Stack.Router.ManagementUrl}/metrics\n");
        Assert.Contains("call 1: error=7", management);
        Assert.Contains("platform's own endpoints", Stack.Router.Process.Output);
    }

    [Fact]
    public async Task A_hanging_upstream_with_a_two_second_app_timeout_gives_504_in_under_three_seconds()
    {
        var app = TestApps.UniqueName("slowcall");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("http-client"));
        (await PatchAsync(app, new { allowedOutboundHosts = new[] { $"http://127.0.0.1:{Up.Port}" }, timeoutSeconds = 2 })).EnsureSuccessStatusCode();
        await WaitForCallAsync(app, $"url={Up.Url("/echo")}\n", "error=0 status=200");

        var watch = Stopwatch.StartNew();
        var response = await Stack.Router.SendAsync(app, "/", HttpMethod.Post, new StringContent($"url={Up.Url("/slow?s=30")}\n"));
        watch.Stop();
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_module_that_imports_the_abi_but_never_calls_it_uploads_and_serves()
    {
        var app = TestApps.UniqueName("idle");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("http-idle"));
        await Stack.WaitForAppAsync(app, "/", "idle ok");
    }

    [Fact]
    public async Task Outbound_calls_appear_in_the_routers_metrics_by_app_host_and_status()
    {
        var app = TestApps.UniqueName("counted");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("http-client"));
        (await PatchAsync(app, new { allowedOutboundHosts = new[] { $"http://127.0.0.1:{Up.Port}" } })).EnsureSuccessStatusCode();
        await WaitForCallAsync(app, $"url={Up.Url("/echo")}\n", "error=0 status=200");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string metrics;
        do
        {
            metrics = await Stack.Router.MetricsAsync();
        }
        while (Line(metrics) is null && DateTime.UtcNow < deadline && await Pause());
        Assert.True(Line(metrics) is not null, metrics);

        string? Line(string text) => text.Split('\n').FirstOrDefault(l => l.StartsWith("platform_runtime_outbound_calls", StringComparison.Ordinal)
            && l.Contains($"app=\"{app}\"", StringComparison.Ordinal) && l.Contains("host=\"127.0.0.1\"", StringComparison.Ordinal)
            && l.Contains("status=\"200\"", StringComparison.Ordinal));
    }

    /// <summary>
    /// Prints, never asserts on, the latency of another app while 64 requests each wait a second on a slow upstream:
    /// outbound waits hold their execution thread, and these figures show whether other apps starve. A router of its
    /// own with room for all 64 in its concurrency gate, so what is measured is the threads, not the gate's queue.
    /// </summary>
    [Fact]
    public async Task Other_apps_latency_while_64_requests_wait_on_a_slow_upstream_is_measured()
    {
        var slow = TestApps.UniqueName("waiter");
        var other = TestApps.UniqueName("bystander");
        await Stack.ControlPlane.DeployAsync(slow, TestApps.Bytes("http-client"));
        await Stack.ControlPlane.DeployAsync(other, TestApps.Bytes("hello"));
        (await PatchAsync(slow, new { allowedOutboundHosts = new[] { $"http://127.0.0.1:{Up.Port}" } })).EnsureSuccessStatusCode();
        await using var router = await Stack.StartOwnRouterAsync("wide-gate", new Dictionary<string, string?> { ["Platform__Router__MaxConcurrency"] = "256" });
        await Stack.WaitForAppAsync(other, "/", "", router: router);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        string ready;
        do
        {
            var r = await router.SendAsync(slow, "/", HttpMethod.Post, new StringContent($"url={Up.Url("/echo")}\n"));
            ready = await r.Content.ReadAsStringAsync();
        }
        while (!ready.Contains("error=0 status=200", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Pause());

        async Task<List<double>> SampleAsync(TimeSpan span)
        {
            var samples = new List<double>();
            var end = DateTime.UtcNow + span;
            while (DateTime.UtcNow < end)
            {
                var watch = Stopwatch.StartNew();
                (await router.SendAsync(other, "/")).EnsureSuccessStatusCode();
                samples.Add(watch.Elapsed.TotalMilliseconds);
                await Task.Delay(20);
            }
            return samples;
        }

        var idle = await SampleAsync(TimeSpan.FromSeconds(1));
        var waiting = Enumerable.Range(0, 64).Select(_ => router.SendAsync(slow, "/", HttpMethod.Post, new StringContent($"url={Up.Url("/slow?s=1")}\n"))).ToList();
        var loaded = await SampleAsync(TimeSpan.FromSeconds(2));
        var statuses = (await Task.WhenAll(waiting)).Select(r => (int)r.StatusCode).GroupBy(s => s).Select(g => $"{g.Key} x{g.Count()}");

        static string Describe(List<double> s) =>
            s.Count == 0 ? "no samples" : $"n={s.Count} p50={Percentile(s, 0.5):F1} ms p99={Percentile(s, 0.99):F1} ms max={s.Max():F1} ms";
        output.WriteLine($"bystander idle:   {Describe(idle)}");
        output.WriteLine($"bystander while 64 wait 1 s upstream: {Describe(loaded)}");
        output.WriteLine($"slow requests: {string.Join(", ", statuses)}");
        Assert.NotEmpty(loaded);
    }

    private static double Percentile(List<double> samples, double q)
    {
        var sorted = samples.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(25);
        return true;
    }
}
