using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// The whole path for a Spin-style bundle: a tar.gz with spin.toml uploaded to the real control plane, pushed to the
/// real registry, carried by the routing table and served by the real router, route by route.
/// </summary>
[Collection(SharedRouterCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BundleDeploymentTests(SharedRouterStack shared)
{
    private PlatformStack Stack => shared.Stack;

    private static string Manifest(string label) => $$"""
        spin_manifest_version = 2

        [application]
        name = "three-routes"
        version = "1.0.0"

        [[trigger.http]]
        route = "/static/..."
        component = "files"
        executor = { type = "wagi" }

        [[trigger.http]]
        route = "/api/..."
        component = "echo"
        executor = { type = "wagi" }

        [[trigger.http]]
        route = "/api/exact"
        component = "exact"
        executor = { type = "wagi", argv = "exact ${SCRIPT_NAME} ${ARGS}" }

        [component.files]
        source = "modules/fileserver.wasm"
        files = [{ source = "assets", destination = "/" }]

        [component.echo]
        source = "modules/cgienv.wasm"
        environment = { COMPONENT = "echo-{{label}}", ECHO_ONLY = "1" }

        [component.exact]
        source = "modules/cgienv.wasm"
        environment = { COMPONENT = "exact-{{label}}" }
        """;

    private static byte[] Bundle(string label) => new BundleBuilder()
        .File("spin.toml", Manifest(label))
        .File("modules/fileserver.wasm", TestApps.Bytes("fileserver"))
        .File("modules/cgienv.wasm", TestApps.Bytes("cgienv"))
        .File("assets/index.html", $"<h1>{label}</h1>\n")
        .File("assets/css/site.css", "body { color: red }\n")
        .TarGz();

    private async Task UploadAsync(string app, byte[] bundle, bool create)
    {
        using var client = Stack.ControlPlane.CreateClient();
        if (create)
        {
            (await client.PostAsync("/api/v1/apps", new StringContent($$"""{"name":"{{app}}"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        }
        var content = new ByteArrayContent(bundle);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        var response = await client.PostAsync($"/api/v1/apps/{app}/versions", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string app, string path)
    {
        using var response = await Stack.Router.SendAsync(app, path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Dictionary<string, string> Variables(string body) =>
        body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains('='))
            .GroupBy(l => l[..l.IndexOf('=')]).ToDictionary(g => g.Key, g => g.First()[(g.First().IndexOf('=') + 1)..]);

    [Fact]
    public async Task An_uploaded_three_route_bundle_serves_each_route_and_activating_the_previous_version_swaps_everything_back()
    {
        var app = $"bundle-{Guid.NewGuid().ToString("N")[..8]}";
        await UploadAsync(app, Bundle("one"), create: true);
        await Stack.WaitForAppAsync(app, "/static/index.html", "<h1>one</h1>");

        Assert.Equal((HttpStatusCode.OK, "body { color: red }\n"), await GetAsync(app, "/static/css/site.css"));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(app, "/static/missing.css")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(app, "/nowhere")).Status);

        var echo = Variables((await GetAsync(app, "/api/items/7?q=1")).Body);
        Assert.Equal(("echo-one", "/api", "/items/7", "/api/...", "items/7"),
            (echo["COMPONENT"], echo["SCRIPT_NAME"], echo["PATH_INFO"], echo["X_MATCHED_ROUTE"], echo["X_RELATIVE_PATH"]));
        var exact = Variables((await GetAsync(app, "/api/exact?a=1")).Body);
        Assert.Equal(("exact-one", "/api/exact", "/api/exact", "exact", "a=1"),
            (exact["COMPONENT"], exact["X_MATCHED_ROUTE"], exact["argv[1]"], exact["argv[0]"], exact["argv[2]"]));
        Assert.False(exact.ContainsKey("ECHO_ONLY"));

        await UploadAsync(app, Bundle("two"), create: false);
        await Stack.WaitForAppAsync(app, "/static/index.html", "<h1>two</h1>");
        Assert.Equal("echo-two", Variables((await GetAsync(app, "/api/x")).Body)["COMPONENT"]);
        Assert.Equal("exact-two", Variables((await GetAsync(app, "/api/exact")).Body)["COMPONENT"]);

        using var client = Stack.ControlPlane.CreateClient();
        (await client.PostAsync($"/api/v1/apps/{app}/versions/1/activate", null)).EnsureSuccessStatusCode();
        await Stack.WaitForAppAsync(app, "/static/index.html", "<h1>one</h1>", TimeSpan.FromSeconds(2));
        Assert.Equal("echo-one", Variables((await GetAsync(app, "/api/x")).Body)["COMPONENT"]);
        Assert.Equal("exact-one", Variables((await GetAsync(app, "/api/exact")).Body)["COMPONENT"]);
    }

    [Fact]
    public async Task A_bundle_deployed_by_reference_from_another_registry_still_serves_once_that_registry_is_gone()
    {
        await using var other = await RegistryServer.StartNewAsync();
        var source = new Platform.Oci.OciClient(new HttpClient(), new Platform.Oci.OciRegistryOptions { Url = other.Url, RepositoryPrefix = "" });
        var archive = Platform.Bundles.BundleArchive.Read(new MemoryStream(Bundle("byref")), new Platform.Bundles.BundleOptions());
        var resolved = Platform.Bundles.ResolvedBundle.Resolve(archive, Platform.Bundles.SpinManifestParser.Parse(archive.ManifestText));
        await source.PushArtifactAsync("team/site", "1.0", Platform.Bundles.BundleLayout.ToArtifact(resolved, "site", 1, "2026-01-01T00:00:00Z"));

        var app = $"byref-{Guid.NewGuid().ToString("N")[..8]}";
        using var client = Stack.ControlPlane.CreateClient();
        (await client.PostAsync("/api/v1/apps", new StringContent($$"""{"name":"{{app}}"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var deployed = await client.PostAsync($"/api/v1/apps/{app}/versions",
            new StringContent($$"""{"ociReference":"{{other.HostPort}}/team/site:1.0"}""", Encoding.UTF8, "application/json"));
        Assert.True(deployed.IsSuccessStatusCode, await deployed.Content.ReadAsStringAsync());
        // From here on only the platform's own registry holds the version: the router has never fetched any of it.
        await other.StopAsync();

        await Stack.WaitForAppAsync(app, "/static/index.html", "<h1>byref</h1>");
        Assert.Equal((HttpStatusCode.OK, "body { color: red }\n"), await GetAsync(app, "/static/css/site.css"));
        Assert.Equal("echo-byref", Variables((await GetAsync(app, "/api/items/1")).Body)["COMPONENT"]);
        Assert.Equal("exact-byref", Variables((await GetAsync(app, "/api/exact")).Body)["COMPONENT"]);
    }
}
