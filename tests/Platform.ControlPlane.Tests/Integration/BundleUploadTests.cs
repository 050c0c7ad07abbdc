using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BundleUploadTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _client = fixture.CreateClient();
    private readonly HttpClient _router = fixture.CreateClient(ControlPlaneFixture.RouterToken);

    internal const string ThreeRoutes = """
        spin_manifest_version = 2

        [application]
        name = "three-routes"
        version = "1.2.3"
        description = "static files, an echo API and an exact route"

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
        executor = { type = "wagi", entrypoint = "_start", argv = "${SCRIPT_NAME} ${ARGS} extra" }

        [component.files]
        source = "modules/probe.wasm"
        files = [{ source = "assets", destination = "/static" }, "docs/*.txt"]

        [component.echo]
        source = "modules/hello.wasm"
        environment = { GREETING = "hi", PLACE = "there" }
        allowed_outbound_hosts = ["https://example.com"]
        [component.echo.build]
        command = "make"

        [component.exact]
        source = "modules/hello.wasm"
        """;

    internal static BundleBuilder ThreeRouteBundle() => new BundleBuilder()
        .File("spin.toml", ThreeRoutes)
        .File("modules/probe.wasm", TestApps.Bytes("probe"))
        .File("modules/hello.wasm", TestApps.Bytes("hello"))
        .File("assets/index.html", "<h1>hello</h1>")
        .File("assets/css/site.css", "body { color: red }")
        .File("docs/a.txt", "same text")
        .File("docs/b.txt", "same text")
        .File("docs/skip.md", "not mounted");

    private static string Sha(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string Sha(string text) => Sha(System.Text.Encoding.UTF8.GetBytes(text));

    private Task<HttpResponseMessage> UploadBundleAsync(string app, byte[] bundle, string contentType = "application/gzip") =>
        _client.UploadAsync(app, bundle, contentType);

    [Fact]
    public async Task A_three_route_bundle_stores_its_routes_components_and_files_and_the_routing_table_carries_them()
    {
        var app = ApiHelpers.UniqueAppName("three");
        await _client.CreateAppAsync(app);
        var created = await (await UploadBundleAsync(app, ThreeRouteBundle().TarGz())).ExpectAsync(201);
        Assert.Equal(1, created.GetProperty("number").GetInt32());

        var details = await (await _client.GetAsync($"/api/v1/apps/{app}/versions/1")).ExpectAsync(200);
        Assert.Equal("bundle", details.GetProperty("kind").GetString());
        Assert.Equal("three-routes", details.GetProperty("applicationName").GetString());
        Assert.Equal("1.2.3", details.GetProperty("applicationVersion").GetString());
        Assert.Equal([("/static/...", "files"), ("/api/...", "echo"), ("/api/exact", "exact")],
            details.GetProperty("routes").EnumerateArray().Select(r => (r.GetProperty("route").GetString(), r.GetProperty("component").GetString())));
        var components = details.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
        Assert.Equal(Sha(TestApps.Bytes("probe")), components["files"].GetProperty("digest").GetString());
        Assert.Equal(Sha(TestApps.Bytes("hello")), components["echo"].GetProperty("digest").GetString());
        Assert.Equal(["/docs/a.txt", "/docs/b.txt", "/static/css/site.css", "/static/index.html"],
            components["files"].GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal(4, components["files"].GetProperty("fileCount").GetInt32());
        Assert.Equal("<h1>hello</h1>".Length + "body { color: red }".Length + 2 * "same text".Length, components["files"].GetProperty("fileBytes").GetInt64());
        Assert.Equal(["GREETING", "PLACE"], components["echo"].GetProperty("environmentNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["https://example.com"], components["echo"].GetProperty("allowedOutboundHosts").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("${SCRIPT_NAME} ${ARGS} extra", components["exact"].GetProperty("argv").GetString());
        Assert.Equal("_start", components["exact"].GetProperty("entrypoint").GetString());
        Assert.All(components.Values, c => Assert.Equal("wagi", c.GetProperty("kind").GetString()));

        var table = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        var route = table.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
        Assert.Equal(3, route.GetProperty("httpRoutes").GetArrayLength());
        var tableComponents = route.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
        Assert.Equal("hi", tableComponents["echo"].GetProperty("environment").GetProperty("GREETING").GetString());
        Assert.Empty(tableComponents["exact"].GetProperty("environment").EnumerateObject());
        var indexFile = tableComponents["files"].GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "/static/index.html");
        Assert.Equal(Sha("<h1>hello</h1>"), indexFile.GetProperty("digest").GetString());
        Assert.Equal("<h1>hello</h1>".Length, indexFile.GetProperty("size").GetInt64());
        Assert.Equal(Sha(TestApps.Bytes("hello")), tableComponents["exact"].GetProperty("moduleDigest").GetString());
        // Each distinct module got its precompiled artifact, carried per component.
        Assert.All(tableComponents.Values, c => Assert.StartsWith("sha256:", c.GetProperty("precompiledDigest").GetString()));
        Assert.Equal(tableComponents["echo"].GetProperty("precompiledDigest").GetString(), tableComponents["exact"].GetProperty("precompiledDigest").GetString());
        // The legacy fields still name a module a component-unaware router can pull.
        Assert.Contains(route.GetProperty("moduleDigest").GetString(), tableComponents.Values.Select(c => c.GetProperty("moduleDigest").GetString()));

        // One artifact in Spin's layout; hello.wasm (two components) and the two identical texts are one layer each.
        var manifest = await GetManifestAsync(app, "v1");
        Assert.Equal("application/vnd.fermyon.spin.application.v1+config", manifest.GetProperty("config").GetProperty("mediaType").GetString());
        var layers = manifest.GetProperty("layers").EnumerateArray().Select(l => (Type: l.GetProperty("mediaType").GetString(), Digest: l.GetProperty("digest").GetString())).ToList();
        Assert.Equal(2, layers.Count(l => l.Type == "application/vnd.wasm.content.layer.v1+wasm"));
        Assert.Equal(3, layers.Count(l => l.Type == "application/vnd.wasm.content.layer.v1+data"));
        Assert.Single(layers, l => l.Digest == Sha("same text"));
        foreach (var layer in layers)
        {
            Assert.True(await BlobExistsAsync(fixture.Registry.Url, app, layer.Digest!), $"blob {layer.Digest} is in the registry");
        }
        var config = await GetBlobJsonAsync(fixture.Registry.Url, app, manifest.GetProperty("config").GetProperty("digest").GetString()!);
        Assert.Equal(1, config.GetProperty("spin_lock_version").GetInt32());
        Assert.Equal(3, config.GetProperty("components").GetArrayLength());

        var toml = await _client.GetAsync($"/api/v1/apps/{app}/versions/1/manifest");
        Assert.Equal(HttpStatusCode.OK, toml.StatusCode);
        Assert.Equal("application/toml", toml.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ThreeRoutes, await toml.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_single_module_version_is_one_component_on_the_catch_all_in_the_table_and_has_no_manifest()
    {
        var app = ApiHelpers.UniqueAppName("single");
        await _client.CreateAppAsync(app);
        var created = await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);

        var table = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        var route = table.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
        var component = Assert.Single(route.GetProperty("components").EnumerateArray());
        Assert.Equal(app, component.GetProperty("id").GetString());
        Assert.Equal("wagi", component.GetProperty("kind").GetString());
        Assert.Equal(created.GetProperty("digest").GetString(), component.GetProperty("moduleDigest").GetString());
        var httpRoute = Assert.Single(route.GetProperty("httpRoutes").EnumerateArray());
        Assert.Equal("/...", httpRoute.GetProperty("route").GetString());
        Assert.Equal(app, httpRoute.GetProperty("component").GetString());

        var details = await (await _client.GetAsync($"/api/v1/apps/{app}/versions/1")).ExpectAsync(200);
        Assert.Equal("module", details.GetProperty("kind").GetString());
        await (await _client.GetAsync($"/api/v1/apps/{app}/versions/1/manifest")).ExpectProblemAsync(404, "no spin.toml");
    }

    [Fact]
    public async Task A_plain_tar_with_one_top_level_directory_and_a_multipart_bundle_part_are_accepted_and_identical_content_is_pushed_once()
    {
        var app = ApiHelpers.UniqueAppName("forms");
        await _client.CreateAppAsync(app);
        var nested = new BundleBuilder().Directory("app/");
        foreach (var (name, content) in new[] { ("spin.toml", ThreeRoutes), ("assets/index.html", "<h1>hello</h1>"), ("assets/css/site.css", "body { color: red }"), ("docs/a.txt", "same text"), ("docs/b.txt", "same text") })
        {
            nested.File("app/" + name, content);
        }
        nested.File("app/modules/probe.wasm", TestApps.Bytes("probe")).File("app/modules/hello.wasm", TestApps.Bytes("hello"));
        var first = await (await UploadBundleAsync(app, nested.Tar(), "application/x-tar")).ExpectAsync(201);

        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(ThreeRouteBundle().TarGz());
        part.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        form.Add(part, "bundle", "app.tgz");
        var second = await (await _client.PostAsync($"/api/v1/apps/{app}/versions", form)).ExpectAsync(201);
        Assert.Equal(2, second.GetProperty("number").GetInt32());

        // Same content, same blobs: v2's layers are exactly v1's.
        var v1 = (await GetManifestAsync(app, "v1")).GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()).ToList();
        var v2 = (await GetManifestAsync(app, "v2")).GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()).ToList();
        Assert.Equal(v1, v2);
        Assert.Equal(first.GetProperty("digest").GetString(), second.GetProperty("digest").GetString());
    }

    [Fact]
    public async Task Uploading_an_unchanged_bundle_again_uploads_no_blob_and_a_changed_file_uploads_only_that_file()
    {
        var uploads = new List<string>();
        await using var factory = fixture.CreateFactory().WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.AddHttpClient(OciServiceCollectionExtensions.HttpClientName).AddHttpMessageHandler(() => new BlobUploadRecorder(uploads))));
        var client = fixture.CreateClient(factory: factory);
        var app = ApiHelpers.UniqueAppName("dedupe");
        await client.CreateAppAsync(app);

        await (await client.UploadAsync(app, ThreeRouteBundle().TarGz(), "application/gzip")).ExpectAsync(201);
        Assert.NotEmpty(uploads);
        uploads.Clear();
        await (await client.UploadAsync(app, ThreeRouteBundle().TarGz(), "application/gzip")).ExpectAsync(201);
        Assert.Empty(uploads);

        var changed = new BundleBuilder()
            .File("spin.toml", ThreeRoutes)
            .File("modules/probe.wasm", TestApps.Bytes("probe"))
            .File("modules/hello.wasm", TestApps.Bytes("hello"))
            .File("assets/index.html", "<h1>changed</h1>")
            .File("assets/css/site.css", "body { color: red }")
            .File("docs/a.txt", "same text")
            .File("docs/b.txt", "same text")
            .TarGz();
        await (await client.UploadAsync(app, changed, "application/gzip")).ExpectAsync(201);
        // The new file and the locked-app config that names it; nothing else.
        Assert.Equal(2, uploads.Count);
    }

    /// <summary>Counts blob upload sessions (POST .../blobs/uploads/) the control plane opens.</summary>
    private sealed class BlobUploadRecorder(List<string> uploads) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/blobs/uploads/", StringComparison.Ordinal))
            {
                lock (uploads)
                {
                    uploads.Add(request.RequestUri.AbsolutePath);
                }
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task Activating_a_single_module_version_after_a_bundle_swaps_components_and_routes_in_the_table()
    {
        var app = ApiHelpers.UniqueAppName("swap");
        await _client.CreateAppAsync(app);
        await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        await (await UploadBundleAsync(app, ThreeRouteBundle().TarGz())).ExpectAsync(201);
        Assert.Equal(3, (await RouteOfAsync(app)).GetProperty("components").GetArrayLength());

        await (await _client.PostAsync($"/api/v1/apps/{app}/versions/1/activate", null)).ExpectAsync(200);
        var route = await RouteOfAsync(app);
        Assert.Equal(1, route.GetProperty("version").GetInt32());
        Assert.Equal(app, Assert.Single(route.GetProperty("components").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal("/...", Assert.Single(route.GetProperty("httpRoutes").EnumerateArray()).GetProperty("route").GetString());

        await (await _client.PostAsync($"/api/v1/apps/{app}/versions/2/activate", null)).ExpectAsync(200);
        Assert.Equal(3, (await RouteOfAsync(app)).GetProperty("httpRoutes").GetArrayLength());
    }

    private async Task<JsonElement> RouteOfAsync(string app)
    {
        var table = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        return table.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
    }

    public static TheoryData<string, string, string> BadBundles => new()
    {
        { "malformed-toml", "invalid-manifest", "line 5" },
        { "unknown-component", "unknown-component", "'ghost'" },
        { "missing-source", "missing-file", "'modules/missing.wasm'" },
        { "missing-file", "missing-file", "'docs/none.txt'" },
        { "duplicate-route", "duplicate-route", "'/api/'" },
        { "malformed-route", "invalid-route", "'api/no-slash'" },
        { "dotdot-in-files", "path-not-allowed", "'../outside'" },
        { "absolute-in-files", "path-not-allowed", "'/etc'" },
        { "dotdot-entry", "bundle-path-not-allowed", "'../evil.txt'" },
        { "absolute-entry", "bundle-path-not-allowed", "'/etc/evil.txt'" },
        { "symlink", "bundle-entry-not-allowed", "'assets/link'" },
        { "hardlink", "bundle-entry-not-allowed", "'assets/hard'" },
        { "device", "bundle-entry-not-allowed", "'assets/null'" },
        { "wasi-http", "component-kind-mismatch", "'web'" },
        { "variable-unknown-reference", "unknown-variable", "'ghost'" },
        { "variable-bad-name", "invalid-variable", "'Token'" },
        { "variable-default-and-required", "invalid-variable", "'token'" },
        { "kv", "unsupported-manifest-key", "'component.web.key_value_stores'" },
        { "url-source", "unsupported-manifest-key", "'component.web.source.url'" },
        { "invalid-wasm", "invalid-module", "'modules/nostart.wasm'" },
        { "not-wasm", "not-wasm", "'modules/invalid.wasm'" },
        { "bad-outbound-host", "invalid-allowed-outbound-hosts", "'example.com'" },
        { "no-manifest", "bundle-missing-manifest", "spin.toml" },
        { "not-an-archive", "invalid-bundle", "tar" },
        { "version-1", "unsupported-manifest-version", "version 1" },
        { "bad-outbound-host-path", "invalid-allowed-outbound-hosts", "'api.example.com/path'" },
    };

    private static byte[] BadBundle(string name)
    {
        const string head = "spin_manifest_version = 2\n[application]\nname = \"bad\"\n";
        static string Web(string extra = "", string route = "/...", string executor = "executor = { type = \"wagi\" }") =>
            $"{head}[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"web\"\n{executor}\n[component.web]\nsource = \"modules/hello.wasm\"\n{extra}\n";
        var hello = TestApps.Bytes("hello");
        BundleBuilder With(string toml) => new BundleBuilder().File("spin.toml", toml).File("modules/hello.wasm", hello).File("assets/index.html", "x");
        return name switch
        {
            "malformed-toml" => With(head + "[[trigger.http]]\nroute = \"/\ncomponent = \"web\"\n").TarGz(),
            "unknown-component" => With(Web().Replace("component = \"web\"", "component = \"ghost\"")).TarGz(),
            "missing-source" => With(Web().Replace("modules/hello.wasm", "modules/missing.wasm")).TarGz(),
            "missing-file" => With(Web("files = [\"docs/none.txt\"]")).TarGz(),
            "duplicate-route" => With(Web() + "[[trigger.http]]\nroute = \"/api/\"\ncomponent = \"web\"\nexecutor = { type = \"wagi\" }\n[[trigger.http]]\nroute = \"/api\"\ncomponent = \"web\"\nexecutor = { type = \"wagi\" }\n").TarGz(),
            "malformed-route" => With(Web(route: "api/no-slash")).TarGz(),
            "dotdot-in-files" => With(Web("files = [{ source = \"../outside\", destination = \"/\" }]")).TarGz(),
            "absolute-in-files" => With(Web("files = [\"/etc\"]")).TarGz(),
            "dotdot-entry" => With(Web()).File("../evil.txt", "x").TarGz(),
            "absolute-entry" => With(Web()).File("/etc/evil.txt", "x").TarGz(),
            "symlink" => With(Web("files = [\"assets/*\"]")).Link(TarEntryType.SymbolicLink, "assets/link", "/etc/passwd").TarGz(),
            "hardlink" => With(Web()).Link(TarEntryType.HardLink, "assets/hard", "assets/index.html").TarGz(),
            "device" => With(Web()).Device("assets/null").TarGz(),
            "wasi-http" => With(Web(executor: "")).TarGz(),
            "variable-unknown-reference" => With(Web("variables = { api = \"key {{ ghost }}\" }") + "[variables]\ntoken = { required = true }\n").TarGz(),
            "variable-bad-name" => With(Web() + "[variables]\nToken = { required = true }\n").TarGz(),
            "variable-default-and-required" => With(Web() + "[variables]\ntoken = { required = true, default = \"x\" }\n").TarGz(),
            "kv" => With(Web("key_value_stores = [\"default\"]")).TarGz(),
            "url-source" => With(Web().Replace("source = \"modules/hello.wasm\"", "source = { url = \"https://example.com/x.wasm\", digest = \"sha256:00\" }")).TarGz(),
            "invalid-wasm" => With(Web().Replace("modules/hello.wasm", "modules/nostart.wasm")).File("modules/nostart.wasm", TestApps.Bytes("nostart")).TarGz(),
            "not-wasm" => With(Web().Replace("modules/hello.wasm", "modules/invalid.wasm")).File("modules/invalid.wasm", TestApps.Bytes("invalid")).TarGz(),
            "bad-outbound-host" => With(Web("allowed_outbound_hosts = [\"example.com\"]")).TarGz(),
            "no-manifest" => new BundleBuilder().File("modules/hello.wasm", hello).TarGz(),
            "not-an-archive" => System.Text.Encoding.UTF8.GetBytes("this is not a tar archive, just some text that is long enough to be read"),
            "bad-outbound-host-path" => With(Web("allowed_outbound_hosts = [\"https://fine.example.com\", \"api.example.com/path\"]")).TarGz(),
            "version-1" => With("spin_manifest_version = \"1\"\nname = \"old\"\ntrigger = { type = \"http\", base = \"/\" }\n").TarGz(),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    [Theory]
    [MemberData(nameof(BadBundles))]
    public async Task A_bad_bundle_is_refused_with_a_problem_naming_the_offending_value_and_nothing_is_stored(string bundle, string kind, string quoted)
    {
        var app = ApiHelpers.UniqueAppName("bad");
        await _client.CreateAppAsync(app);

        var response = await UploadBundleAsync(app, BadBundle(bundle));
        var status = (int)response.StatusCode;
        Assert.True(status is 400 or 422, $"{bundle}: expected 400/422, got {status}: {await response.Content.ReadAsStringAsync()}");
        var problem = await response.JsonAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("/" + kind, problem.GetProperty("type").GetString());
        Assert.Contains(quoted, problem.GetProperty("detail").GetString());

        await AssertNothingStoredAsync(app);
    }

    [Fact]
    public async Task Archive_caps_hold_and_a_body_over_the_bundle_limit_is_a_413_with_nothing_stored()
    {
        await using var factory = fixture.CreateFactory(new Dictionary<string, string>
        {
            ["Platform:Bundles:MaxBundleBytes"] = (256 * 1024).ToString(),
            ["Platform:Bundles:MaxEntries"] = "20",
        });
        var client = fixture.CreateClient(factory: factory);
        var app = ApiHelpers.UniqueAppName("caps");
        await client.CreateAppAsync(app);

        var big = RandomNumberGenerator.GetBytes(300 * 1024);
        await (await client.UploadAsync(app, big, "application/gzip")).ExpectProblemAsync(413, "262144");

        var many = ThreeRouteBundle();
        for (var i = 0; i < 30; i++)
        {
            many.File($"docs/extra{i}.md", "x");
        }
        await (await client.UploadAsync(app, many.TarGz(), "application/gzip")).ExpectProblemAsync(422, "more than 20 entries");

        var bomb = new BundleBuilder().File("spin.toml", ThreeRoutes).File("zeros.bin", new byte[64 * 1024 * 1024]).TarGz();
        Assert.True(bomb.Length < 256 * 1024);
        await (await client.UploadAsync(app, bomb, "application/gzip")).ExpectProblemAsync(422, "times its compressed size");

        await AssertNothingStoredAsync(app);
    }

    [Fact]
    public async Task Deploy_by_reference_copies_a_bundle_and_a_wasm_artifact_from_another_registry_which_is_then_not_needed()
    {
        await using var other = await RegistryServer.StartNewAsync();
        var source = new Platform.Oci.OciClient(new HttpClient(), new Platform.Oci.OciRegistryOptions { Url = other.Url, RepositoryPrefix = "" });
        var archive = Platform.Bundles.BundleArchive.Read(new MemoryStream(ThreeRouteBundle().TarGz()), new Platform.Bundles.BundleOptions());
        var resolved = Platform.Bundles.ResolvedBundle.Resolve(archive, Platform.Bundles.SpinManifestParser.Parse(archive.ManifestText));
        await source.PushArtifactAsync("team/three", "1.0", Platform.Bundles.BundleLayout.ToArtifact(resolved, "three", 1, "2026-01-01T00:00:00Z"));
        var wasm = await source.PushWasmModuleAsync("hello", 3, TestApps.Bytes("hello"));

        // What `spin registry push` writes: Spin's media types, a LockedApp config, file paths relative, no spin.toml layer.
        var probe = TestApps.Bytes("probe");
        var page = System.Text.Encoding.UTF8.GetBytes("<p>from spin</p>");
        var locked = JsonSerializer.SerializeToUtf8Bytes(new
        {
            spin_lock_version = 1,
            metadata = new { name = "spin-pushed", version = "0.1.0", origin = "file:///app/spin.toml" },
            triggers = new object[]
            {
                new { id = "trigger-web", trigger_type = "http", trigger_config = new { component = "web", route = "/...", executor = new { type = "wagi", argv = "${SCRIPT_NAME} ${ARGS}" } } },
            },
            components = new object[]
            {
                new
                {
                    id = "web",
                    metadata = new { allowed_outbound_hosts = new[] { "https://example.com" } },
                    source = new { content_type = "application/wasm", content = new { digest = Sha(probe) } },
                    env = new Dictionary<string, string> { ["MODE"] = "spin" },
                    files = new object[] { new { content = new { digest = Sha(page) }, path = "static/index.html" } },
                },
            },
        });
        await source.PushArtifactAsync("spin/pushed", "latest", new Platform.Oci.OciArtifact
        {
            Config = new Platform.Oci.OciBlob("application/vnd.fermyon.spin.application.v1+config", locked),
            Layers =
            [
                new Platform.Oci.OciBlob("application/vnd.wasm.content.layer.v1+wasm", probe),
                new Platform.Oci.OciBlob("application/vnd.wasm.content.layer.v1+data", page),
            ],
        });

        var bundleApp = ApiHelpers.UniqueAppName("byref");
        var moduleApp = ApiHelpers.UniqueAppName("byrefwasm");
        var spinApp = ApiHelpers.UniqueAppName("byrefspin");
        await _client.CreateAppAsync(bundleApp);
        await _client.CreateAppAsync(moduleApp);
        await _client.CreateAppAsync(spinApp);
        await (await _client.PostAsJsonAsync($"/api/v1/apps/{spinApp}/versions", new { ociReference = $"{other.HostPort}/spin/pushed" })).ExpectAsync(201);
        await (await _client.PostAsJsonAsync($"/api/v1/apps/{bundleApp}/versions", new { ociReference = $"{other.HostPort}/team/three:1.0" })).ExpectAsync(201);
        var module = await (await _client.PostAsJsonAsync($"/api/v1/apps/{moduleApp}/versions",
            new { ociReference = $"{other.HostPort}/{wasm.Repository}@{wasm.ManifestDigest}" })).ExpectAsync(201);
        Assert.Equal(Sha(TestApps.Bytes("hello")), module.GetProperty("digest").GetString());
        await other.StopAsync();

        // Everything the version refers to now lives in the platform's own repository.
        var details = await (await _client.GetAsync($"/api/v1/apps/{bundleApp}/versions/1")).ExpectAsync(200);
        Assert.StartsWith(new Uri(fixture.Registry.Url).Authority + "/apps/" + bundleApp + "@", details.GetProperty("ociReference").GetString());
        Assert.Equal(3, details.GetProperty("routes").GetArrayLength());
        foreach (var component in details.GetProperty("components").EnumerateArray())
        {
            Assert.True(await BlobExistsAsync(fixture.Registry.Url, bundleApp, component.GetProperty("digest").GetString()!));
            foreach (var file in component.GetProperty("files").EnumerateArray())
            {
                Assert.True(await BlobExistsAsync(fixture.Registry.Url, bundleApp, file.GetProperty("digest").GetString()!));
            }
        }
        Assert.Equal(ThreeRoutes, await _client.GetStringAsync($"/api/v1/apps/{bundleApp}/versions/1/manifest"));
        Assert.True(await BlobExistsAsync(fixture.Registry.Url, moduleApp, module.GetProperty("digest").GetString()!));

        var spin = await (await _client.GetAsync($"/api/v1/apps/{spinApp}/versions/1")).ExpectAsync(200);
        Assert.Equal("spin-pushed", spin.GetProperty("applicationName").GetString());
        var web = Assert.Single(spin.GetProperty("components").EnumerateArray());
        Assert.Equal(Sha(probe), web.GetProperty("digest").GetString());
        Assert.Equal(["MODE"], web.GetProperty("environmentNames").EnumerateArray().Select(e => e.GetString()));
        var mounted = Assert.Single(web.GetProperty("files").EnumerateArray());
        Assert.Equal("/static/index.html", mounted.GetProperty("path").GetString());
        Assert.True(await BlobExistsAsync(fixture.Registry.Url, spinApp, Sha(page)));
        Assert.True(await BlobExistsAsync(fixture.Registry.Url, spinApp, Sha(probe)));
        await (await _client.GetAsync($"/api/v1/apps/{spinApp}/versions/1/manifest")).ExpectProblemAsync(404);

        // A reference to a registry that is gone now is a 502 problem and stores nothing.
        var failed = ApiHelpers.UniqueAppName("byrefgone");
        await _client.CreateAppAsync(failed);
        await (await _client.PostAsJsonAsync($"/api/v1/apps/{failed}/versions", new { ociReference = $"{other.HostPort}/team/three:1.0" })).ExpectProblemAsync(502, other.HostPort);
        await (await _client.PostAsJsonAsync($"/api/v1/apps/{failed}/versions", new { ociReference = "no-host-here" })).ExpectProblemAsync(400, "'no-host-here'");
        await AssertNothingStoredAsync(failed);
    }

    private async Task AssertNothingStoredAsync(string app)
    {
        var versions = await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        Assert.Empty(versions.EnumerateArray());
        using var registry = new HttpClient();
        var tags = await registry.GetAsync($"{fixture.Registry.Url}/v2/apps/{app}/tags/list");
        var body = await tags.Content.ReadAsStringAsync();
        Assert.True(tags.StatusCode == HttpStatusCode.NotFound || !body.Contains("\"v1\""), $"the registry has a tag for '{app}': {body}");
    }

    private async Task<JsonElement> GetManifestAsync(string app, string reference)
    {
        using var registry = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fixture.Registry.Url}/v2/apps/{app}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        var response = await registry.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static async Task<bool> BlobExistsAsync(string registryUrl, string app, string digest)
    {
        using var registry = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"{registryUrl}/v2/apps/{app}/blobs/{digest}");
        return (await registry.SendAsync(request)).IsSuccessStatusCode;
    }

    private static async Task<JsonElement> GetBlobJsonAsync(string registryUrl, string app, string digest)
    {
        using var registry = new HttpClient();
        return JsonDocument.Parse(await registry.GetStringAsync($"{registryUrl}/v2/apps/{app}/blobs/{digest}")).RootElement.Clone();
    }
}
