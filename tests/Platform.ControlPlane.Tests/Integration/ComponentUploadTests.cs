using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>
/// wasi:http components uploaded to the real control plane (compile child, real registry, real PostgreSQL): stored as
/// WASI preview-2 artifacts with their precompiled form beside them, and listed to routers as kind "http".
/// </summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ComponentUploadTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _client = fixture.CreateClient();
    private readonly HttpClient _router = fixture.CreateClient(ControlPlaneFixture.RouterToken);

    private async Task<JsonElement> ManifestAsync(string repository, string reference)
    {
        using var registry = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fixture.Registry.Url}/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var response = await registry.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET manifest {repository}:{reference} answered {(int)response.StatusCode}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task A_component_upload_is_a_wasip2_artifact_with_its_precompiled_form_beside_it_and_routers_see_kind_http()
    {
        var app = ApiHelpers.UniqueAppName("comp");
        await _client.CreateAppAsync(app);
        var component = TestApps.Bytes("components/respond");

        var version = await (await _client.UploadAsync(app, component)).ExpectAsync(201);

        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(component));
        Assert.Equal(digest, version.GetProperty("digest").GetString());
        var manifest = await ManifestAsync($"apps/{app}", "v1");
        using (var registry = new HttpClient())
        {
            var config = JsonDocument.Parse(await registry.GetStringAsync(
                $"{fixture.Registry.Url}/v2/apps/{app}/blobs/{manifest.GetProperty("config").GetProperty("digest").GetString()}")).RootElement;
            Assert.Equal(("wasm", "wasip2"), (config.GetProperty("architecture").GetString(), config.GetProperty("os").GetString()));
        }

        var table = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        var route = table.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
        var entry = Assert.Single(route.GetProperty("components").EnumerateArray());
        Assert.Equal("http", entry.GetProperty("kind").GetString());
        var fingerprint = entry.GetProperty("precompiledFingerprint").GetString()!;
        var artifact = await ManifestAsync($"apps/{app}", $"{digest.Replace(':', '-')}.cwasm-{fingerprint}");
        Assert.Equal(entry.GetProperty("precompiledDigest").GetString(), Assert.Single(artifact.GetProperty("layers").EnumerateArray()).GetProperty("digest").GetString());

        var shown = await (await _client.GetAsync($"/api/v1/apps/{app}/versions/1")).ExpectAsync(200);
        Assert.Equal("http", Assert.Single(shown.GetProperty("components").EnumerateArray()).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_component_without_the_http_handler_is_refused_with_422_quoting_what_it_exports_and_no_version_is_recorded()
    {
        var app = ApiHelpers.UniqueAppName("nohandler");
        await _client.CreateAppAsync(app);

        var problem = await (await _client.UploadAsync(app, TestApps.Bytes("components/not-a-handler"))).ExpectAsync(422);

        Assert.Contains("does not export 'wasi:http/incoming-handler@0.2.x'", problem.GetProperty("detail").GetString());
        Assert.Contains("it exports '", problem.GetProperty("detail").GetString());
        Assert.Equal(0, (await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200)).GetArrayLength());
    }

    public static TheoryData<string, string, string> MismatchedBundles => new()
    {
        { "wagi-executor-on-a-component", "component-kind-mismatch", "'modules/respond.wasm' is a WebAssembly component" },
        { "component-with-files", "unsupported-component-files", "'/index.html'" },
        { "both-kinds-of-trigger", "conflicting-executor", "'web'" },
    };

    [Theory]
    [MemberData(nameof(MismatchedBundles))]
    public async Task A_bundle_whose_triggers_do_not_fit_its_modules_is_refused_and_changes_nothing(string name, string kind, string quoted)
    {
        var app = ApiHelpers.UniqueAppName("mismatch");
        await _client.CreateAppAsync(app);
        const string head = "spin_manifest_version = 2\n[application]\nname = \"mismatch\"\n";
        var toml = name switch
        {
            "wagi-executor-on-a-component" =>
                head + "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\nexecutor = { type = \"wagi\" }\n[component.web]\nsource = \"modules/respond.wasm\"\n",
            "component-with-files" =>
                head + "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n[component.web]\nsource = \"modules/respond.wasm\"\nfiles = [\"index.html\"]\n",
            "both-kinds-of-trigger" =>
                head + "[[trigger.http]]\nroute = \"/a/...\"\ncomponent = \"web\"\n[[trigger.http]]\nroute = \"/b/...\"\ncomponent = \"web\"\nexecutor = { type = \"wagi\" }\n" +
                "[component.web]\nsource = \"modules/respond.wasm\"\n",
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var bundle = new BundleBuilder().File("spin.toml", toml).File("modules/respond.wasm", TestApps.Bytes("components/respond")).File("index.html", "<p>x</p>").TarGz();

        var response = await _client.UploadAsync(app, bundle, "application/gzip");
        var problem = await response.ExpectAsync(422);

        Assert.EndsWith("/" + kind, problem.GetProperty("type").GetString());
        Assert.Contains(quoted, problem.GetProperty("detail").GetString());
        Assert.Equal(0, (await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200)).GetArrayLength());
    }
}
