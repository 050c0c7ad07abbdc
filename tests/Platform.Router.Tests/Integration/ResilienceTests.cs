using System.Net;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>Each test here stops parts of the platform, so each gets a stack of its own.</summary>
[Trait("Category", "Integration")]
public sealed class ResilienceTests
{
    [Fact]
    public async Task With_the_registry_stopped_a_cached_app_still_answers_and_an_uncached_one_is_503()
    {
        // A router that fetches nothing ahead, so "uncached" really is not loaded when the registry stops.
        await using var stack = await PlatformStack.StartAsync(new PlatformStackOptions
        {
            RouterEnvironment = new Dictionary<string, string?> { ["Platform__Router__PrefetchApps"] = "0" },
        });
        await stack.ControlPlane.DeployAsync("cached", TestApps.Bytes("hello"));
        await stack.ControlPlane.DeployAsync("uncached", TestApps.Bytes("greeting-v2"));
        await stack.WaitForAppAsync("cached", "/", "GET");

        await stack.Registry.StopAsync();

        Assert.Equal(HttpStatusCode.OK, (await stack.Router.SendAsync("cached", "/")).StatusCode);
        var uncached = await stack.Router.SendAsync("uncached", "/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, uncached.StatusCode);
        Assert.True(uncached.Headers.Contains("Retry-After"));

        await stack.Registry.StartAsync();
        await stack.WaitForAppAsync("uncached", "/", "greeting v2");
    }

    [Fact]
    public async Task With_the_control_plane_stopped_the_router_keeps_serving_and_a_restarted_router_serves_from_disk()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("steady", TestApps.Bytes("hello"));
        await stack.WaitForAppAsync("steady", "/", "GET");

        await stack.ControlPlane.DisposeAsync();
        await stack.Postgres.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await stack.Router.SendAsync("steady", $"/still-{i}")).StatusCode);
        }

        // A new router process: the routing table comes from its state folder, the module from its cache folder,
        // and with the registry stopped too nothing else could have served it.
        await stack.Registry.StopAsync();
        await stack.ReplaceRouterAsync();
        await stack.WaitForAppAsync("steady", "/after-restart", "/after-restart");
        await stack.Registry.StartAsync();
    }

    [Fact]
    public async Task A_second_router_on_the_same_cache_folder_serves_its_first_request_without_compiling()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("warm", TestApps.Bytes("hello"));
        await stack.WaitForAppAsync("warm", "/", "GET");
        // The first router loaded the control plane's precompiled artifact (no compile) and kept it in the shared cache folder.
        Assert.Matches("platform_runtime_module_cache_hits_total\\{[^}]*source=\"precompiled\"[^}]*\\} 1\\b", await stack.Router.MetricsAsync());

        await using var second = await stack.StartRouterAsync(port: TestPorts.GetFreeTcpPort());
        await stack.WaitForAppAsync("warm", "/", "GET", router: second);
        var metrics = await second.MetricsAsync();
        Assert.Matches(DiskHits(), metrics);
        Assert.DoesNotMatch("platform_runtime_module_cache_misses_total", metrics);
    }

    // The runtime's meter: a miss is a compile; hits are tagged with where the module came from.
    private static string Compiles(int n) => $"platform_runtime_module_cache_misses_total(\\{{[^}}]*\\}})? {n}\\b";

    private static string DiskHits() => "platform_runtime_module_cache_hits_total\\{[^}]*source=\"disk\"[^}]*\\} [1-9]";
}
