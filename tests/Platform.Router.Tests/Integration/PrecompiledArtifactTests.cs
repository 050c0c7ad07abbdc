using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// The control plane pushes a precompiled module beside each upload; routers with the same engine load it instead of
/// compiling, routers with another engine (or without the artifact) compile. Each test gets a stack of its own, so
/// every router starts with an empty cache.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PrecompiledArtifactTests
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    [Fact]
    public async Task A_fresh_router_serves_the_first_request_from_the_precompiled_artifact_without_compiling()
    {
        await using var stack = await PlatformStack.StartAsync();
        var hello = TestApps.Bytes("hello");
        await stack.ControlPlane.DeployAsync("pre", hello);

        await stack.WaitForAppAsync("pre", "/first", "Hello from GET /first");

        var metrics = await stack.Router.MetricsAsync();
        Assert.DoesNotMatch("platform_runtime_module_cache_misses_total", metrics);
        Assert.Matches(Hits("precompiled"), metrics);
    }

    [Fact]
    public async Task A_router_fetches_a_new_apps_module_when_the_change_arrives_so_its_first_request_finds_it_in_memory()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("ahead", TestApps.Bytes("hello"));

        // Nothing has asked for the app yet: the router loaded its artifact when the routing change arrived.
        var metrics = await WaitForMetricsAsync(stack.Router, Hits("precompiled"));
        Assert.DoesNotMatch(Hits("memory"), metrics);

        await stack.WaitForAppAsync("ahead", "/first", "Hello from GET /first");
        metrics = await WaitForMetricsAsync(stack.Router, Hits("memory"));
        Assert.DoesNotMatch("platform_runtime_module_cache_misses_total", metrics);
    }

    [Fact]
    public async Task A_router_told_not_to_fetch_ahead_loads_a_module_on_its_first_request()
    {
        await using var stack = await PlatformStack.StartAsync();
        var lazy = await stack.StartOwnRouterAsync("lazy", new Dictionary<string, string?> { ["Platform__Router__PrefetchApps"] = "0" });
        await stack.ControlPlane.DeployAsync("lazy", TestApps.Bytes("hello"));
        // The default router beside it fetches ahead; once it has, the lazy one has had the same change as long.
        await WaitForMetricsAsync(stack.Router, Hits("precompiled"));
        await RouteAsync(stack, "lazy");
        await Task.Delay(500);
        Assert.DoesNotMatch(Hits("precompiled"), await lazy.MetricsAsync());

        await stack.WaitForAppAsync("lazy", "/first", "Hello from GET /first", router: lazy);
        Assert.Matches(Hits("precompiled"), await WaitForMetricsAsync(lazy, Hits("precompiled")));
    }

    /// <summary>Polls the router's metrics (the exporter caches a scrape for 300 ms) until they match.</summary>
    private static async Task<string> WaitForMetricsAsync(RouterProcess router, string pattern)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var metrics = await router.MetricsAsync();
            if (Regex.IsMatch(metrics, pattern))
            {
                return metrics;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The router's metrics never matched {pattern}:\n{metrics}");
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_artifact_sits_beside_the_module_as_a_referrer_tagged_by_module_digest_and_engine_fingerprint()
    {
        await using var stack = await PlatformStack.StartAsync();
        var hello = TestApps.Bytes("hello");
        await stack.ControlPlane.DeployAsync("beside", hello);
        var route = await RouteAsync(stack, "beside");
        var artifactDigest = route.GetProperty("precompiledDigest").GetString()!;
        var fingerprint = route.GetProperty("precompiledFingerprint").GetString()!;
        Assert.Matches("^[0-9a-f]{16}$", fingerprint);

        using var registry = new HttpClient { BaseAddress = new Uri(stack.Registry.Url) };
        var tag = $"sha256-{Convert.ToHexStringLower(SHA256.HashData(hello))}.cwasm-{fingerprint}";
        var manifest = await ManifestAsync(registry, "apps/beside", tag);
        var moduleManifest = await ManifestDigestAsync(registry, "apps/beside", "v1");

        Assert.Equal(moduleManifest, manifest.GetProperty("subject").GetProperty("digest").GetString());
        // The subject descriptor comes from the push result: its size and type are those of the manifest the registry serves.
        Assert.Equal(OciManifest, manifest.GetProperty("subject").GetProperty("mediaType").GetString());
        Assert.Equal(await ManifestSizeAsync(registry, "apps/beside", "v1"), manifest.GetProperty("subject").GetProperty("size").GetInt64());
        Assert.Equal(fingerprint, manifest.GetProperty("annotations").GetProperty("local.platform.wasmtime.fingerprint").GetString());
        var layer = Assert.Single(manifest.GetProperty("layers").EnumerateArray());
        Assert.Equal(artifactDigest, layer.GetProperty("digest").GetString());
        // The routing table names the layer the registry holds, and the bytes are what its digest says.
        var blob = await registry.GetByteArrayAsync($"/v2/apps/beside/blobs/{artifactDigest}");
        Assert.Equal(artifactDigest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob)));
    }

    [Fact]
    public async Task A_router_with_another_engine_fingerprint_compiles_the_module_and_serves_it()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("other", TestApps.Bytes("hello"));
        // Another pool size is another engine: its fingerprint differs from the control plane's.
        await using var other = await stack.StartOwnRouterAsync("other-engine", new Dictionary<string, string?> { ["Platform__Runtime__PoolMaxInstances"] = "500" });

        await stack.WaitForAppAsync("other", "/compiled", "Hello from GET /compiled", router: other);

        var metrics = await other.MetricsAsync();
        Assert.Matches(Compiles(1), metrics);
        Assert.DoesNotMatch(Hits("precompiled"), metrics);
    }

    [Fact]
    public async Task A_router_that_cannot_pull_the_artifact_falls_back_to_compiling_the_module()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("gone", TestApps.Bytes("hello"));
        var artifactDigest = (await RouteAsync(stack, "gone")).GetProperty("precompiledDigest").GetString()!;
        using var registry = new HttpClient { BaseAddress = new Uri(stack.Registry.Url) };
        (await registry.DeleteAsync($"/v2/apps/gone/blobs/{artifactDigest}")).EnsureSuccessStatusCode();

        // A router that has not loaded the module yet (the stack's own fetched it ahead when it was deployed).
        var fresh = await stack.StartOwnRouterAsync("fresh");
        await stack.WaitForAppAsync("gone", "/anyway", "Hello from GET /anyway", router: fresh);

        var metrics = await fresh.MetricsAsync();
        Assert.Matches(Compiles(1), metrics);
        Assert.DoesNotMatch(Hits("precompiled"), metrics);
    }

    /// <summary>The app's entry in the router's /routing document, once the router has it.</summary>
    private static async Task<JsonElement> RouteAsync(PlatformStack stack, string app)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var table = JsonDocument.Parse(await http.GetStringAsync($"{stack.Router.ManagementUrl}/routing")).RootElement;
            var route = table.GetProperty("routes").EnumerateArray().FirstOrDefault(r => r.GetProperty("app").GetString() == app);
            if (route.ValueKind == JsonValueKind.Object)
            {
                return route;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The router never listed app '{app}': {table}");
            }
            await Task.Delay(50);
        }
    }

    private static async Task<JsonElement> ManifestAsync(HttpClient registry, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciManifest));
        using var response = await registry.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET manifest {repository}:{reference} answered {(int)response.StatusCode}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static async Task<string> ManifestDigestAsync(HttpClient registry, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciManifest));
        using var response = await registry.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("Docker-Content-Digest").Single();
    }

    private static async Task<long> ManifestSizeAsync(HttpClient registry, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciManifest));
        using var response = await registry.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsByteArrayAsync()).LongLength;
    }

    private static string Compiles(int n) => $"platform_runtime_module_cache_misses_total(\\{{[^}}]*\\}})? {n}\\b";

    private static string Hits(string source) => $"platform_runtime_module_cache_hits_total\\{{[^}}]*source=\"{Regex.Escape(source)}\"[^}}]*\\}} [1-9]";
}
