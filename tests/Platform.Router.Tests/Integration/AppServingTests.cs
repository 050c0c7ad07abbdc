using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

[Collection(SharedRouterCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AppServingTests(SharedRouterStack shared)
{
    private PlatformStack Stack => shared.Stack;

    [Fact]
    public async Task Hello_answers_with_method_path_query_and_the_echoed_post_body()
    {
        var app = TestApps.UniqueName("hello");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");

        var response = await Stack.Router.SendAsync(app, "/hi?x=1", HttpMethod.Post, new StringContent("ping-body", Encoding.UTF8, "text/plain"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("POST", body);
        Assert.Contains("/hi", body);
        Assert.Contains("x=1", body);
        Assert.Contains("ping-body", body);
    }

    [Fact]
    public async Task Curl_reaches_the_app_by_its_apps_localhost_host_name()
    {
        var app = TestApps.UniqueName("curl");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");
        var (code, output) = await ExternalProcess.RunAsync("curl", ["-sS", "-i", $"http://{app}.apps.localhost:{Stack.RouterPort}/hi?x=1"]);
        Assert.True(code == 0, output);
        Assert.StartsWith("HTTP/1.1 200", output);
        Assert.Contains("/hi", output);
        Assert.Contains("x=1", output);
    }

    [Fact]
    public async Task A_new_version_is_served_within_two_seconds_rollback_serves_the_old_one_and_delete_makes_it_404()
    {
        var app = TestApps.UniqueName("rollout");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "GET");

        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("greeting-v2"), create: false);
        await Stack.WaitForAppAsync(app, "/", "greeting v2", TimeSpan.FromSeconds(2));

        using var client = Stack.ControlPlane.CreateClient();
        (await client.PostAsync($"/api/v1/apps/{app}/versions/1/activate", null)).EnsureSuccessStatusCode();
        await Stack.WaitForAppAsync(app, "/", "GET", TimeSpan.FromSeconds(2));

        (await client.DeleteAsync($"/api/v1/apps/{app}")).EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        HttpResponseMessage response;
        do
        {
            response = await Stack.Router.SendAsync(app, "/");
        }
        while (response.StatusCode != HttpStatusCode.NotFound && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Headers_the_app_sets_a_status_it_writes_and_a_bare_location_reach_the_client()
    {
        var app = TestApps.UniqueName("cgi");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");

        var header = await Stack.Router.SendAsync(app, "/header");
        Assert.Equal("world", header.Headers.GetValues("X-Hello").Single());

        var notFound = await Stack.Router.SendAsync(app, "/status404");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        var redirect = await Stack.Router.SendAsync(app, "/redirect");
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("/elsewhere", redirect.Headers.Location?.OriginalString);

        var noHeaders = await Stack.Router.SendAsync(app, "/noheaders");
        Assert.Equal(HttpStatusCode.InternalServerError, noHeaders.StatusCode);
        // The caller learns why: the offending line is quoted.
        var why = await noHeaders.Content.ReadAsStringAsync();
        Assert.Contains("invalid-app-response", why);
        Assert.Contains("just a body without headers", why);
    }

    [Fact]
    public async Task An_infinite_loop_times_out_with_504_while_hello_keeps_answering()
    {
        var loop = TestApps.UniqueName("loop");
        var hello = TestApps.UniqueName("beside");
        await Stack.ControlPlane.DeployAsync(loop, TestApps.Bytes("loop"));
        await Stack.ControlPlane.DeployAsync(hello, TestApps.Bytes("hello"));
        using (var client = Stack.ControlPlane.CreateClient())
        {
            (await client.PatchAsJsonAsync($"/api/v1/apps/{loop}", new { timeoutSeconds = 2 })).EnsureSuccessStatusCode();
        }
        await Stack.WaitForAppAsync(hello, "/", "");
        await WaitForTimeoutSettingAsync(loop, 2000);

        var looping = Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Stack.Router.SendAsync(loop, "/")));
        // While three instances spin, other apps are served.
        for (var i = 0; i < 10; i++)
        {
            var r = await Stack.Router.SendAsync(hello, $"/during-loop-{i}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        foreach (var r in await looping)
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        }
    }

    [Fact]
    public async Task A_memory_bomb_and_a_trap_are_500s_and_the_router_survives()
    {
        var bomb = TestApps.UniqueName("bomb");
        var trap = TestApps.UniqueName("trap");
        var hello = TestApps.UniqueName("after");
        await Stack.ControlPlane.DeployAsync(bomb, TestApps.Bytes("membomb"));
        await Stack.ControlPlane.DeployAsync(trap, TestApps.Bytes("trap"));
        await Stack.ControlPlane.DeployAsync(hello, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(hello, "/", "");

        var bombed = await WaitForDeployedAsync(bomb);
        Assert.Equal(HttpStatusCode.InternalServerError, bombed.StatusCode);
        var trapped = await WaitForDeployedAsync(trap);
        Assert.Equal(HttpStatusCode.InternalServerError, trapped.StatusCode);
        // The trap's message goes to the app log, not to the caller.
        Assert.DoesNotContain("unreachable", await trapped.Content.ReadAsStringAsync());
        Assert.False(Stack.Router.Process.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await Stack.Router.SendAsync(hello, "/")).StatusCode);
    }

    [Fact]
    public async Task Two_hundred_concurrent_requests_all_succeed_and_each_sees_only_its_own_body()
    {
        var app = TestApps.UniqueName("many");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var marker = $"body-{i:D3}-{Guid.NewGuid():N}";
            var response = await Stack.Router.SendAsync(app, $"/req/{i}", HttpMethod.Post, new StringContent(marker));
            return (i, marker, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));
        foreach (var (i, marker, status, body) in results)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains(marker, body);
            Assert.Contains($"/req/{i}", body);
            // No other request's body leaked into this instance.
            Assert.DoesNotContain(results.Where(r => r.i != i), r => body.Contains(r.marker, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Unknown_apps_and_foreign_hosts_are_404_problems_and_oversized_bodies_are_413()
    {
        var missing = await Stack.Router.SendAsync(TestApps.UniqueName("nobody"), "/");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        var app = TestApps.UniqueName("limits");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");
        var tooBig = await Stack.Router.SendAsync(app, "/", HttpMethod.Post, new ByteArrayContent(new byte[10 * 1024 * 1024 + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
    }

    [Fact]
    public async Task The_app_port_serves_apps_only_and_the_management_port_serves_health_and_metrics()
    {
        var app = TestApps.UniqueName("mgmt");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");
        // /healthz on an app host is the app's own path.
        var appHealth = await Stack.Router.SendAsync(app, "/healthz");
        Assert.Contains("/healthz", await appHealth.Content.ReadAsStringAsync());

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{Stack.Router.ManagementUrl}/readyz")).StatusCode);
        var metrics = await Stack.Router.MetricsAsync();
        Assert.Contains("platform_router_requests", metrics);
        Assert.Contains($"app=\"{app}\"", metrics);
    }

    [Fact]
    public async Task Request_figures_reach_the_control_plane_for_the_dashboard()
    {
        var app = TestApps.UniqueName("stats");
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "");
        for (var i = 0; i < 5; i++)
        {
            await Stack.Router.SendAsync(app, "/");
        }
        using var client = Stack.ControlPlane.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        long total = 0;
        while (DateTime.UtcNow < deadline && total < 6)
        {
            var stats = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/stats?minutes=5")).RootElement;
            total = stats.GetProperty("totalRequests").GetInt64();
            await Task.Delay(200);
        }
        Assert.True(total >= 6, $"the control plane counted {total} requests for '{app}'");
    }

    /// <summary>Waits until the router itself reports the app's new timeout (it learns changes by long-poll).</summary>
    private async Task WaitForTimeoutSettingAsync(string app, int milliseconds)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            var table = JsonDocument.Parse(await http.GetStringAsync($"{Stack.Router.ManagementUrl}/routing")).RootElement;
            if (table.GetProperty("routes").EnumerateArray().Any(r => r.GetProperty("app").GetString() == app && r.GetProperty("timeoutMilliseconds").GetInt32() == milliseconds))
            {
                return;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"the router never served app '{app}' with a {milliseconds} ms timeout");
    }

    private async Task<HttpResponseMessage> WaitForDeployedAsync(string app)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        HttpResponseMessage response;
        do
        {
            response = await Stack.Router.SendAsync(app, "/");
        }
        while (response.StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline && await Delay());
        return response;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }
}
