using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Platform.Testing;

namespace Platform.Deploy.Tests.Integration;

/// <summary>
/// Runs the README's <c>./deploy/platform.sh up</c> for real (own state folder and ports), then tries the stack as an
/// unprivileged local user (<c>nobody</c>) would. Root only: `up` installs packages and creates service users.
/// </summary>
[Trait("Category", "Integration")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocalStackSecurityTests(LocalStackFixture stack) : IClassFixture<LocalStackFixture>
{
    [Fact]
    public async Task The_router_and_the_control_plane_run_as_their_own_unprivileged_users()
    {
        Assert.Equal("platform-router", await stack.ProcessUserAsync("router"));
        Assert.Equal("platform-cp", await stack.ProcessUserAsync("controlplane"));
        Assert.Equal("docker-registry", await stack.ProcessUserAsync("registry"));
    }

    [Fact]
    public async Task An_unprivileged_user_cannot_connect_to_postgresql()
    {
        // Over TCP as the platform's role without its password, as the superuser, and through the server's socket.
        var attempts = new[]
        {
            new[] { "psql", $"host=127.0.0.1 port={stack.PgPort} dbname=platform user=platform", "-w", "-c", "select 1" },
            ["psql", $"host=127.0.0.1 port={stack.PgPort} dbname=postgres user=postgres", "-w", "-c", "select 1"],
            ["psql", "-h", Path.Combine(stack.State, "postgres"), "-p", stack.PgPort.ToString(), "-U", "postgres", "-w", "-c", "select 1"],
        };
        foreach (var attempt in attempts)
        {
            var (code, output) = await AsNobodyAsync(attempt);
            Assert.True(code != 0, $"'{string.Join(' ', attempt)}' as nobody succeeded:\n{output}");
            Assert.DoesNotContain("(1 row)", output);
        }
    }

    [Fact]
    public async Task The_registry_refuses_anonymous_pushes_and_pulls_and_deletes_even_with_the_routers_credentials()
    {
        using var http = new HttpClient { BaseAddress = new Uri(stack.RegistryUrl) };
        using (var push = await http.PostAsync("v2/apps/intruder/blobs/uploads/", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, push.StatusCode);
        }
        using (var catalog = await http.GetAsync("v2/_catalog"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, catalog.StatusCode);
        }

        var digest = await stack.DeployHelloAsync();
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"v2/apps/{stack.HelloApp}/manifests/{digest}");
        delete.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("router:" + File.ReadAllText(Path.Combine(stack.State, "registry-router-password")))));
        using var deleted = await http.SendAsync(delete);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, deleted.StatusCode);
    }

    [Fact]
    public async Task Files_holding_secrets_native_code_or_routing_state_are_not_readable_by_another_user()
    {
        await stack.DeployHelloAsync();
        foreach (var file in new[] { "admin-key", "router-token", "postgres-password", "registry-controlplane-password", "registry-router-password" })
        {
            var path = Path.Combine(stack.State, file);
            Assert.True(File.Exists(path), path);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var (code, output) = await AsNobodyAsync(["cat", path]);
            Assert.True(code != 0, $"nobody read {path}: {output}");
        }
        foreach (var dir in new[] { "postgres", "registry", "cache", "router-state", Path.Combine("logs", "router") })
        {
            var path = Path.Combine(stack.State, dir);
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.OtherExecute | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite));
            var (code, output) = await AsNobodyAsync(["ls", path]);
            Assert.True(code != 0, $"nobody listed {path}: {output}");
        }
    }

    [Fact]
    public async Task A_module_deployed_to_the_locked_down_stack_is_served()
    {
        await stack.DeployHelloAsync();
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, stack.RouterUrl + "/hi");
            request.Headers.Host = $"{stack.HelloApp}.apps.localhost";
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Contains("Hello", await response.Content.ReadAsStringAsync());
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the router answered {(int)response.StatusCode} for 30 s: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
    }

    private static Task<(int ExitCode, string Output)> AsNobodyAsync(string[] command) =>
        ExternalProcess.RunAsync("runuser", ["-u", "nobody", "--", .. command], timeout: TimeSpan.FromSeconds(30));
}

/// <summary>One `platform.sh up` for the class (it publishes the services, a minute or more), `down` afterwards.</summary>
public sealed class LocalStackFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "platform-up-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly Dictionary<string, string?> _env = [];
    private string? _helloDigest;

    public string State => Path.Combine(_root, "state");
    public int PgPort { get; } = TestPorts.GetFreeTcpPort();
    public string RegistryUrl { get; private set; } = "";
    public string RouterUrl { get; private set; } = "";
    public string ControlPlaneUrl { get; private set; } = "";
    public string HelloApp { get; } = "hello-" + Guid.NewGuid().ToString("N")[..6];

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("These tests run ./deploy/platform.sh up, which needs root (as the README's commands do).");
        }
        Directory.CreateDirectory(_root);
        var registryPort = TestPorts.GetFreeTcpPort();
        RegistryUrl = $"http://127.0.0.1:{registryPort}";
        ControlPlaneUrl = $"http://127.0.0.1:{TestPorts.GetFreeTcpPort()}";
        RouterUrl = $"http://127.0.0.1:{TestPorts.GetFreeTcpPort()}";
        _env["PLATFORM_STATE_DIR"] = State;
        _env["PLATFORM_PG_PORT"] = PgPort.ToString();
        _env["PLATFORM_REGISTRY_PORT"] = registryPort.ToString();
        _env["PLATFORM_CONTROLPLANE_URL"] = ControlPlaneUrl;
        _env["PLATFORM_ROUTER_URL"] = RouterUrl;
        _env["PLATFORM_ROUTER_MANAGEMENT_URL"] = $"http://127.0.0.1:{TestPorts.GetFreeTcpPort()}";
        _env["PLATFORM_CLI_LINK"] = Path.Combine(_root, "platform");
        _env["XDG_CONFIG_HOME"] = Path.Combine(_root, "config");
        _env["PLATFORM_CONFIGURATION"] = RepoPaths.Configuration;
        var (code, output) = await ExternalProcess.RunAsync("bash", [RepoPaths.Combine("deploy", "platform.sh"), "up"], _env, TimeSpan.FromMinutes(15));
        if (code != 0)
        {
            var logs = Directory.Exists(Path.Combine(State, "logs"))
                ? string.Join("\n", Directory.GetFiles(Path.Combine(State, "logs")).Select(f => $"--- {f}\n{Tail(f)}"))
                : "";
            await DisposeAsync();
            throw new InvalidOperationException($"platform.sh up failed ({code}):\n{output}\n{logs}");
        }
    }

    public async Task DisposeAsync()
    {
        await ExternalProcess.RunAsync("bash", [RepoPaths.Combine("deploy", "platform.sh"), "down"], _env, TimeSpan.FromMinutes(2));
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A process still closing a file; the folder is in /tmp.
        }
    }

    public async Task<string?> ProcessUserAsync(string service)
    {
        var pid = File.ReadAllText(Path.Combine(State, "pids", service + ".pid")).Trim();
        var (_, user) = await ExternalProcess.RunAsync("ps", ["-o", "user:32=", "-p", pid]);
        return user.Trim();
    }

    /// <summary>Creates the app and uploads hello.wasm once, with the admin key `up` generated; returns the manifest digest.</summary>
    public async Task<string> DeployHelloAsync()
    {
        if (_helloDigest is not null)
        {
            return _helloDigest;
        }
        using var http = new HttpClient { BaseAddress = new Uri(ControlPlaneUrl + "/"), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(State, "admin-key")).Trim());
        using (var created = await http.PostAsync("api/v1/apps", new StringContent($$"""{"name":"{{HelloApp}}"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using var content = new ByteArrayContent(TestApps.Bytes("hello"));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        using var uploaded = await http.PostAsync($"api/v1/apps/{HelloApp}/versions", content);
        var body = await uploaded.Content.ReadAsStringAsync();
        Assert.True(uploaded.IsSuccessStatusCode, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        _helloDigest = json.RootElement.GetProperty("manifestDigest").GetString()!;
        return _helloDigest;
    }

    private static string Tail(string file)
    {
        try
        {
            var lines = File.ReadAllLines(file);
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 20)));
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }
}
