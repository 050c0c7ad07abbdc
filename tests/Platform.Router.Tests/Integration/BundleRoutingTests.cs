using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Contracts;
using Platform.Oci;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// Apps of several components on several routes, served by a real router process from a real registry with real
/// Wasmtime. The routing tables are built here and served by <see cref="TableServer"/>, with every module and file a
/// blob pushed to the registry, as the control plane lays out a bundle version.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BundleRoutingTests : IAsyncLifetime
{
    private const string App = "bundle";
    private const string Repository = "apps/bundle";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "platform-bundle-" + Guid.NewGuid().ToString("N")[..10]);
    private RegistryServer _registry = null!;
    private TableServer _tables = null!;
    private RouterProcess _router = null!;
    private OciClient _oci = null!;
    private RoutingTable _v1 = null!;
    private RoutingTable _v2 = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartNewAsync();
        _oci = new OciClient(new HttpClient(), new OciRegistryOptions { Url = _registry.Url });
        _tables = new TableServer();
        _v1 = await BuildTableAsync(1, "<h1>version one</h1>\n", "api-v1", withExactRoute: true);
        _v2 = await BuildTableAsync(2, "<h1>version two</h1>\n", "api-v2", withExactRoute: false);
        _tables.Publish(_v1);
        _router = await PlatformProcesses.StartRouterAsync(_tables.Url, _registry.Url, Path.Combine(_root, "cache"), Path.Combine(_root, "state"));
    }

    private async Task<string> PushAsync(byte[] content) => (await _oci.PushBlobAsync(Repository, content)).Digest;

    private async Task<FileEntry> FileAsync(string path, string content)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        return new FileEntry(path, await PushAsync(bytes), bytes.Length);
    }

    private async Task<RoutingTable> BuildTableAsync(int version, string index, string apiLabel, bool withExactRoute)
    {
        var fileserver = await PushAsync(TestApps.Bytes("fileserver"));
        var cgienv = await PushAsync(TestApps.Bytes("cgienv"));
        var entrypoints = await PushAsync(TestApps.Bytes("entrypoints"));
        var files = new[]
        {
            await FileAsync("/index.html", index),
            await FileAsync("/sub/deep.txt", "deep file\n"),
            await FileAsync("/same-as-deep.txt", "deep file\n"),
        };
        var components = new List<ComponentEntry>
        {
            new("static", fileserver, "wagi", null, null, new Dictionary<string, string>(), [], files),
            new("api", cgienv, "wagi", null, null, new Dictionary<string, string> { ["COMPONENT"] = apiLabel, ["API_ONLY"] = "1", ["APP_LEVEL"] = "component" }, [], []),
            new("exact", cgienv, "wagi", null, "exact ${SCRIPT_NAME} ${ARGS}", new Dictionary<string, string> { ["COMPONENT"] = "exact" }, [], []),
            new("dyn", entrypoints, "wagi", null, null, new Dictionary<string, string>(), [], []),
            new("entry", entrypoints, "wagi", "custom_entry", null, new Dictionary<string, string>(), [], []),
        };
        var routes = new List<HttpRouteEntry>
        {
            new("/static/...", "static"),
            new("/api/...", "api"),
            new("/dyn/...", "dyn"),
            new("/entry", "entry"),
        };
        if (withExactRoute)
        {
            routes.Add(new("/api/exact", "exact"));
        }
        var entry = new RouteEntry(App, version, cgienv, Repository, $"{_registry.HostPort}/{Repository}:v{version}", 64L * 1024 * 1024, 10_000,
            new Dictionary<string, string> { ["APP_LEVEL"] = "app" }, Components: components, HttpRoutes: routes);
        var revision = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(entry)))[..16];
        return new RoutingTable(revision, DateTimeOffset.UtcNow, [entry]);
    }

    private async Task<(HttpStatusCode Status, string Body, string? ContentType)> GetAsync(string path)
    {
        using var response = await _router.SendAsync(App, path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    private static Dictionary<string, string> Variables(string body) =>
        body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains('='))
            .Select(l => (Name: l[..l.IndexOf('=')], Value: l[(l.IndexOf('=') + 1)..]))
            .GroupBy(v => v.Name).ToDictionary(g => g.Key, g => g.First().Value);

    private async Task WaitForAsync(string path, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var (status, body, _) = await GetAsync(path);
            last = $"{(int)status}: {body}";
            if (body.Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"'{path}' never answered with '{expected}'; last {last}\n{_router.Process.Output}");
    }

    [Fact]
    public async Task Each_route_of_a_three_route_app_is_served_by_its_component_with_the_right_cgi_variables()
    {
        var (status, body, type) = await GetAsync("/static/sub/deep.txt");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("deep file\n", body);
        Assert.Equal("text/plain", type);
        Assert.Equal("deep file\n", (await GetAsync("/static/same-as-deep.txt")).Body);
        Assert.Equal("<h1>version one</h1>\n", (await GetAsync("/static/index.html")).Body);

        (status, body, _) = await GetAsync("/api/items/42?x=1");
        Assert.Equal(HttpStatusCode.OK, status);
        var api = Variables(body);
        Assert.Equal("/api", api["SCRIPT_NAME"]);
        Assert.Equal("/items/42", api["PATH_INFO"]);
        Assert.Equal("/api/...", api["X_MATCHED_ROUTE"]);
        Assert.Equal("items/42", api["X_RELATIVE_PATH"]);
        Assert.Equal("/items/42", api["X_RAW_PATH_INFO"]);
        Assert.Equal("x=1", api["QUERY_STRING"]);
        Assert.Equal("api-v1", api["COMPONENT"]);
        Assert.Equal("1", api["API_ONLY"]);
        Assert.Equal("app", api["APP_LEVEL"]); // the app's variables override the component's

        (status, body, _) = await GetAsync("/api/exact?a=1&b=2");
        Assert.Equal(HttpStatusCode.OK, status);
        var exact = Variables(body);
        Assert.Equal("exact", exact["COMPONENT"]);
        Assert.False(exact.ContainsKey("API_ONLY"), "one component's environment reached another");
        Assert.Equal("/api/exact", exact["SCRIPT_NAME"]);
        Assert.Equal("", exact["PATH_INFO"]);
        Assert.Equal("/api/exact", exact["X_MATCHED_ROUTE"]);
        Assert.Equal("exact", exact["argv[0]"]);
        Assert.Equal("/api/exact", exact["argv[1]"]);
        Assert.Equal("a=1", exact["argv[2]"]);
        Assert.Equal("b=2", exact["argv[3]"]);

        // Below the exact route the wildcard takes over again.
        Assert.Equal("api-v1", Variables((await GetAsync("/api/exact/more")).Body)["COMPONENT"]);
        Assert.Equal("/api", Variables((await GetAsync("/api")).Body)["SCRIPT_NAME"]);
    }

    [Fact]
    public async Task A_path_no_route_matches_is_a_404_problem_naming_the_path()
    {
        using var response = await _router.SendAsync(App, "/elsewhere/x");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("route-not-found", body);
        Assert.Contains("'/elsewhere/x'", body);
    }

    [Fact]
    public async Task Static_files_are_missing_outside_the_tree_and_the_file_server_gives_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/static/missing.txt")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/static/%2e%2e/%2e%2e/etc/passwd")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/static/..%2f..%2fetc%2fpasswd")).Status);
        var (status, listing, _) = await GetAsync("/static/");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("index.html\nsame-as-deep.txt\nsub/\n", listing);
    }

    [Fact]
    public async Task An_entrypoint_and_dynamic_routes_dispatch_to_the_right_export()
    {
        Assert.Equal("custom_entry PATH_INFO= X_MATCHED_ROUTE=/entry\n", (await GetAsync("/entry")).Body);
        Assert.Equal("hello PATH_INFO= X_MATCHED_ROUTE=/dyn/hello\n", (await GetAsync("/dyn/hello")).Body);
        Assert.Equal("files PATH_INFO=/a/b X_MATCHED_ROUTE=/dyn/files/...\n", (await GetAsync("/dyn/files/a/b")).Body);
        Assert.Equal("start PATH_INFO=/other X_MATCHED_ROUTE=/dyn/...\n", (await GetAsync("/dyn/other")).Body);
    }

    [Fact]
    public async Task Switching_the_table_to_another_version_swaps_routes_files_and_modules_together_and_back()
    {
        Assert.Equal("exact", Variables((await GetAsync("/api/exact")).Body)["COMPONENT"]);

        _tables.Publish(_v2);
        await WaitForAsync("/static/index.html", "version two");
        Assert.Equal("api-v2", Variables((await GetAsync("/api/items")).Body)["COMPONENT"]);
        // v2 has no exact route: the wildcard serves it.
        Assert.Equal("api-v2", Variables((await GetAsync("/api/exact")).Body)["COMPONENT"]);

        _tables.Publish(_v1);
        await WaitForAsync("/static/index.html", "version one");
        Assert.Equal("exact", Variables((await GetAsync("/api/exact")).Body)["COMPONENT"]);
        Assert.Equal("api-v1", Variables((await GetAsync("/api/items")).Body)["COMPONENT"]);
    }

    [Fact]
    public async Task A_version_whose_files_are_not_all_in_the_registry_is_not_served_and_says_which_component()
    {
        var entry = _v1.Routes[0];
        var missing = "sha256:" + new string('0', 64);
        var components = entry.Components!.Select(c => c.Id == "static"
            ? c with { Files = [.. c.Files, new FileEntry("/missing.txt", missing, 12)] }
            : c).ToArray();
        _tables.Publish(new RoutingTable("broken", DateTimeOffset.UtcNow, [entry with { Version = 9, Components = components }]));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        HttpStatusCode status;
        string body;
        do
        {
            (status, body, _) = await GetAsync("/api/items");
            await Task.Delay(50);
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        // Not even the routes of intact components answer: a version is served whole or not at all.
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("component 'static' could not be loaded", body);
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("/static/index.html")).Status);

        _tables.Publish(_v1);
        await WaitForAsync("/static/index.html", "version one");
    }

    [Fact]
    public async Task A_component_whose_entrypoint_the_module_does_not_export_is_refused_naming_it()
    {
        var entry = _v1.Routes[0];
        var components = entry.Components!.Select(c => c.Id == "entry" ? c with { Entrypoint = "no_such_export" } : c).ToArray();
        _tables.Publish(new RoutingTable("bad-entry", DateTimeOffset.UtcNow, [entry with { Version = 8, Components = components }]));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        (HttpStatusCode Status, string Body, string? _) answer;
        do
        {
            answer = await GetAsync("/entry");
            await Task.Delay(50);
        }
        while (answer.Status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
        Assert.Contains("no export 'no_such_export'", answer.Body);
    }

    [Fact]
    public async Task A_version_whose_limits_are_out_of_range_is_not_served_and_says_which_limit()
    {
        var entry = _v1.Routes[0];
        // Memory as today; a CPU time out of range is checked when the table is applied too, like every other limit.
        foreach (var (broken, limit) in new[] { (entry with { Version = 7, MemoryLimitBytes = 10 }, "MemoryBytes"), (entry with { Version = 8, CpuTimeMilliseconds = 0 }, "CpuTime") })
        {
            _tables.Publish(new RoutingTable($"bad-{limit}", DateTimeOffset.UtcNow, [broken]));

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            (HttpStatusCode Status, string Body, string? _) answer;
            do
            {
                answer = await GetAsync("/api/items");
                await Task.Delay(50);
            }
            while (!answer.Body.Contains(limit, StringComparison.Ordinal) && DateTime.UtcNow < deadline);

            Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
            Assert.Contains("app-unservable", answer.Body);
            Assert.Contains("limits are out of range", answer.Body);
            Assert.Contains(limit, answer.Body);
        }

        _tables.Publish(_v1);
        await WaitForAsync("/static/index.html", "version one");
    }

    public async Task DisposeAsync()
    {
        await _router.DisposeAsync();
        await _tables.DisposeAsync();
        await _registry.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
