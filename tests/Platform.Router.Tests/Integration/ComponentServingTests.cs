using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// One stack (real PostgreSQL, registry, control plane and router processes) with the Spin JS SDK app built by j2w
/// uploaded once (its compile takes a minute on a busy machine) and a WAGI app beside it.
/// </summary>
public sealed class ComponentStack : PlatformStackFixture
{
    public const string JsApp = "js-echo";
    public const string WagiApp = "wagi-hello";

    public OutboundUpstreams Upstreams { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Upstreams = await OutboundUpstreams.StartAsync();
        await CreateAsync(JsApp, new { name = JsApp, variables = new Dictionary<string, string> { ["GREETING"] = "hi" } });
        await Stack.ControlPlane.DeployAsync(WagiApp, TestApps.Bytes("hello"));
        var upload = await UploadAsync(JsApp, TestApps.Bytes("components/js-echo"));
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());
        await Stack.WaitForAppAsync(JsApp, "/ready", "\"path\":\"/ready\"", TimeSpan.FromSeconds(60));
        await Stack.WaitForAppAsync(WagiApp, "/ready", "Hello from GET /ready");
    }

    /// <summary>A client whose timeout leaves room for a component compile on a loaded machine (the README's curl has none).</summary>
    public HttpClient Client()
    {
        var client = Stack.ControlPlane.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }

    public async Task CreateAsync(string app, object body)
    {
        using var client = Client();
        var created = await client.PostAsJsonAsync("/api/v1/apps", body);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
    }

    public async Task<HttpResponseMessage> UploadAsync(string app, byte[] module, string contentType = "application/wasm")
    {
        using var client = Client();
        var content = new ByteArrayContent(module);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await client.PostAsync($"/api/v1/apps/{app}/versions", content);
    }

    public override async Task DisposeAsync()
    {
        await Upstreams.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// wasi:http components uploaded through the real control plane and served by the real router: a Spin JS SDK v3 app
/// built with Spin's own tooling (j2w) and handwritten WAT components, each request in a fresh instance.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ComponentServingTests(ComponentStack fixture) : IClassFixture<ComponentStack>
{
    private PlatformStack Stack => fixture.Stack;

    private static string Hits(string source) => $"platform_runtime_module_cache_hits_total\\{{[^}}]*source=\"{Regex.Escape(source)}\"[^}}]*\\}} [1-9]";

    /// <param name="settings">The create-app body for the generated name (limits, variables); just the name by default.</param>
    private async Task<string> DeployComponentAsync(string fixtureName, Func<string, object>? settings = null)
    {
        var app = TestApps.UniqueName(fixtureName);
        await fixture.CreateAsync(app, settings?.Invoke(app) ?? new { name = app });
        var upload = await fixture.UploadAsync(app, TestApps.Bytes("components/" + fixtureName));
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());
        return app;
    }

    /// <summary>Waits until the router has the app's version (any answer but 404 "app not found").</summary>
    private async Task<HttpResponseMessage> FirstAnswerAsync(string app, string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var response = await Stack.Router.SendAsync(app, path);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.NotFound || !text.Contains("app-not-found", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return response;
            }
            await Task.Delay(50);
        }
    }

    private async Task<List<JsonElement>> WaitForLogsAsync(string app, Func<List<JsonElement>, bool> done)
    {
        using var client = fixture.Client();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        List<JsonElement> entries = [];
        while (DateTime.UtcNow < deadline)
        {
            var page = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/logs?tail=1000")).RootElement;
            entries = [.. page.GetProperty("entries").EnumerateArray().Select(e => e.Clone())];
            if (done(entries))
            {
                return entries;
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"The log of '{app}' never showed what was expected: {string.Join(" | ", entries.Select(e => e.GetProperty("line").GetString()))}");
    }

    [Fact]
    public async Task The_js_app_answers_a_get_with_its_status_headers_and_a_body_describing_the_request()
    {
        using var response = await Stack.Router.SendAsync(ComponentStack.JsApp, "/items/7?q=1&r=two");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("GET", response.Headers.GetValues("x-echo-method").Single());
        var echo = JsonDocument.Parse(body).RootElement;
        Assert.Equal(("GET", "/items/7", "?q=1&r=two"), (echo.GetProperty("method").GetString(), echo.GetProperty("path").GetString(), echo.GetProperty("query").GetString()));
        Assert.Equal($"js-echo.apps.localhost:{Stack.Router.AppPort}", echo.GetProperty("headers").GetProperty("host").GetString());

        using var teapot = await Stack.Router.SendAsync(ComponentStack.JsApp, "/status/418");
        Assert.Equal((HttpStatusCode)418, teapot.StatusCode);
        Assert.Equal("yes", teapot.Headers.GetValues("x-teapot").Single());
        Assert.Equal("short and stout\n", await teapot.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_js_app_receives_a_posted_body_and_its_console_log_line_reaches_the_apps_log()
    {
        var marker = Guid.NewGuid().ToString("N");
        using var response = await Stack.Router.SendAsync(ComponentStack.JsApp, $"/post/{marker}", HttpMethod.Post,
            new StringContent("{\"hello\":\"component\"}", Encoding.UTF8, "application/json"));
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("POST", echo.GetProperty("method").GetString());
        Assert.Equal("{\"hello\":\"component\"}", echo.GetProperty("body").GetString());
        Assert.StartsWith("application/json", echo.GetProperty("headers").GetProperty("content-type").GetString());
        var entries = await WaitForLogsAsync(ComponentStack.JsApp, e => e.Any(x => x.GetProperty("line").GetString() == $"js-echo POST /post/{marker}"));
        Assert.Equal("stdout", entries.First(x => x.GetProperty("line").GetString() == $"js-echo POST /post/{marker}").GetProperty("stream").GetString());
    }

    [Fact]
    public async Task Fifty_parallel_posts_each_get_their_own_body_back()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await Stack.Router.SendAsync(ComponentStack.JsApp, $"/parallel/{i}", HttpMethod.Post, new StringContent($"body number {i}"));
            var text = await response.Content.ReadAsStringAsync();
            return (i, response.StatusCode, text);
        }));

        foreach (var (i, status, text) in results)
        {
            Assert.True(status == HttpStatusCode.OK, $"request {i}: {(int)status} {text}");
            var echo = JsonDocument.Parse(text).RootElement;
            Assert.Equal($"body number {i}", echo.GetProperty("body").GetString());
            Assert.Equal($"/parallel/{i}", echo.GetProperty("path").GetString());
        }
    }

    [Fact]
    public async Task Trapping_looping_and_memory_hungry_components_give_500_504_and_500_while_a_wagi_app_keeps_answering()
    {
        var trap = await DeployComponentAsync("trap");
        var loop = await DeployComponentAsync("loop", name => new { name, timeoutSeconds = 1 });
        var membomb = await DeployComponentAsync("membomb", name => new { name, memoryLimitMb = 16 });

        using var stop = new CancellationTokenSource();
        var bystander = Task.Run(async () =>
        {
            var answers = new List<HttpStatusCode>();
            while (!stop.IsCancellationRequested)
            {
                using var response = await Stack.Router.SendAsync(ComponentStack.WagiApp, "/still-here");
                answers.Add(response.StatusCode);
            }
            return answers;
        });
        var failures = await Task.WhenAll(
            StatusAndTypeAsync(trap), StatusAndTypeAsync(loop), StatusAndTypeAsync(membomb),
            StatusAndTypeAsync(loop), StatusAndTypeAsync(trap));
        await stop.CancelAsync();
        var answers = await bystander;

        Assert.Equal((HttpStatusCode.InternalServerError, "app-failed"), failures[0]);
        Assert.Equal((HttpStatusCode.GatewayTimeout, "app-timeout"), failures[1]);
        Assert.Equal((HttpStatusCode.InternalServerError, "app-failed"), failures[2]);
        Assert.Equal((HttpStatusCode.GatewayTimeout, "app-timeout"), failures[3]);
        Assert.Equal((HttpStatusCode.InternalServerError, "app-failed"), failures[4]);
        Assert.NotEmpty(answers);
        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        var entries = await WaitForLogsAsync(membomb, e => e.Any(x => x.GetProperty("line").GetString()!.StartsWith("[MemoryLimit]", StringComparison.Ordinal)));
        Assert.Contains(entries, x => x.GetProperty("line").GetString()!.Contains("memory allocation of 1048576 bytes failed", StringComparison.Ordinal));

        async Task<(HttpStatusCode, string)> StatusAndTypeAsync(string app)
        {
            using var response = await FirstAnswerAsync(app, "/");
            var text = await response.Content.ReadAsStringAsync();
            var type = JsonDocument.Parse(text).RootElement.TryGetProperty("type", out var t) ? t.GetString()! : text;
            return (response.StatusCode, type[(type.LastIndexOf('/') + 1)..]);
        }
    }

    [Fact]
    public async Task A_component_that_never_sets_a_response_gives_500_and_the_reason_is_in_the_apps_log()
    {
        var app = await DeployComponentAsync("noresponse");

        using var response = await FirstAnswerAsync(app, "/");
        var problem = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("returned without setting a response", problem);
        var entries = await WaitForLogsAsync(app, e => e.Any(x => x.GetProperty("line").GetString()!.Contains("returned without setting a response", StringComparison.Ordinal)));
        Assert.Equal("platform", entries.First(x => x.GetProperty("line").GetString()!.Contains("without setting a response", StringComparison.Ordinal)).GetProperty("stream").GetString());
    }

    [Fact]
    public async Task The_apps_variables_are_the_components_environment()
    {
        var app = await DeployComponentAsync("env", name => new { name, variables = new Dictionary<string, string> { ["GREETING"] = "hello world" } });

        using var response = await FirstAnswerAsync(app, "/");

        // env.wat prints its environment on stdout and sets no response.
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var entries = await WaitForLogsAsync(app, e => e.Any(x => x.GetProperty("line").GetString() == "GREETING=hello world"));
        var stdout = entries.Where(x => x.GetProperty("stream").GetString() == "stdout").Select(x => x.GetProperty("line").GetString()).ToList();
        Assert.Equal(["GREETING=hello world"], stdout);
    }

    [Fact]
    public async Task A_component_importing_what_the_platform_does_not_provide_is_refused_at_upload_with_422_naming_the_import_and_its_exports()
    {
        var app = TestApps.UniqueName("missing");
        await fixture.CreateAsync(app, new { name = app });

        using var response = await fixture.UploadAsync(app, TestApps.Bytes("components/missing-import"));
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("'fermyon:spin/key-value@2.0.0'", detail);
        Assert.Contains("'wasi:http/incoming-handler@0.2.3'", detail);
        using var client = fixture.Client();
        var versions = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/versions")).RootElement;
        Assert.Equal(0, versions.ValueKind == JsonValueKind.Array ? versions.GetArrayLength() : versions.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task A_component_fetches_an_allowed_loopback_upstream_and_a_host_not_on_its_list_is_refused_without_a_connection()
    {
        using var client = fixture.Client();
        var allowed = new { allowedOutboundHosts = new[] { $"http://127.0.0.1:{fixture.Upstreams.Port}" } };
        (await client.PatchAsJsonAsync($"/api/v1/apps/{ComponentStack.JsApp}", allowed)).EnsureSuccessStatusCode();
        var target = Uri.EscapeDataString(fixture.Upstreams.Url("/echo"));

        // The allow-list is live within a second of the PATCH; until then the fetch is refused.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var (status, body) = (HttpStatusCode.OK, "");
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Stack.Router.SendAsync(ComponentStack.JsApp, $"/fetch?url={target}");
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
            if (status == HttpStatusCode.OK)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.StartsWith("method=GET path=/echo", body);
        Assert.True(fixture.Upstreams.EchoRequests > 0);

        var before = fixture.Upstreams.TrapConnections;
        using var refused = await Stack.Router.SendAsync(ComponentStack.JsApp, $"/fetch?url={Uri.EscapeDataString($"http://127.0.0.1:{fixture.Upstreams.TrapPort}/")}");
        var refusedBody = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains("fetch failed", refusedBody);
        Assert.Equal(before, fixture.Upstreams.TrapConnections);
        // The same policy, log and metrics as WAGI's outbound calls: the refusal names scheme://host:port in the platform stream.
        var denied = $"denied GET http://127.0.0.1:{fixture.Upstreams.TrapPort}";
        var entries = await WaitForLogsAsync(ComponentStack.JsApp, e => e.Any(x => x.GetProperty("line").GetString()!.Contains(denied, StringComparison.Ordinal)));
        Assert.Equal("platform", entries.First(x => x.GetProperty("line").GetString()!.Contains(denied, StringComparison.Ordinal)).GetProperty("stream").GetString());
        await Task.Delay(400); // the Prometheus exporter caches a scrape for 300 ms
        var metrics = await Stack.Router.MetricsAsync();
        Assert.Matches($"platform_runtime_outbound_calls_total\\{{(?=[^}}]*app=\"{ComponentStack.JsApp}\")(?=[^}}]*status=\"denied\")[^}}]*\\}} [1-9]", metrics);
        Assert.Matches($"platform_runtime_outbound_calls_total\\{{(?=[^}}]*app=\"{ComponentStack.JsApp}\")(?=[^}}]*status=\"200\")[^}}]*\\}} [1-9]", metrics);
    }

    [Fact]
    public async Task A_second_router_serves_the_components_first_request_from_the_precompiled_artifact_without_compiling()
    {
        await using var second = await Stack.StartOwnRouterAsync("second");

        await Stack.WaitForAppAsync(ComponentStack.JsApp, "/first", "\"path\":\"/first\"", TimeSpan.FromSeconds(30), second);

        var metrics = await second.MetricsAsync();
        Assert.DoesNotMatch("platform_runtime_module_cache_misses_total", metrics);
        Assert.Matches(Hits("precompiled"), metrics);
    }

    [Fact]
    public async Task A_bundle_serves_a_component_on_api_and_a_wagi_module_on_everything_else_side_by_side()
    {
        var app = TestApps.UniqueName("mixed");
        await fixture.CreateAsync(app, new { name = app });
        const string manifest = """
            spin_manifest_version = 2

            [application]
            name = "mixed"

            [[trigger.http]]
            route = "/api/..."
            component = "api"

            [[trigger.http]]
            route = "/..."
            component = "site"
            executor = { type = "wagi" }

            [component.api]
            source = "modules/respond.wasm"

            [component.site]
            source = "modules/hello.wasm"
            """;
        var bundle = new BundleBuilder()
            .File("spin.toml", manifest)
            .File("modules/respond.wasm", TestApps.Bytes("components/respond"))
            .File("modules/hello.wasm", TestApps.Bytes("hello"))
            .TarGz();

        using var upload = await fixture.UploadAsync(app, bundle, "application/gzip");
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());
        await Stack.WaitForAppAsync(app, "/page", "Hello from GET /page");

        using var api = await Stack.Router.SendAsync(app, "/api/things");
        Assert.Equal(HttpStatusCode.Created, api.StatusCode);
        Assert.Equal("wat", api.Headers.GetValues("x-fixture").Single());
        Assert.Equal("hello from a component\n", await api.Content.ReadAsStringAsync());
        using var client = fixture.Client();
        var version = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/versions/1")).RootElement;
        var kinds = version.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("kind").GetString());
        Assert.Equal("http", kinds["api"]);
        Assert.Equal("wagi", kinds["site"]);
    }
}
