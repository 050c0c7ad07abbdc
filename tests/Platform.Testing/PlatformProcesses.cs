using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Platform.Testing;

/// <summary>
/// Starts the platform's own processes (control plane, router) from their build output, the way the run command
/// does, against a real PostgreSQL and registry. Used by router, dashboard and benchmark tests.
/// </summary>
public static class PlatformProcesses
{
    public const string AdminKey = "stack-admin-key-0123456789abcdef";
    public const string RouterToken = "stack-router-token-0123456789abcdef";

    /// <summary>The key the control plane signs precompiled artifacts with and routers verify them with.</summary>
    public const string ArtifactSigningKey = "stack-artifact-signing-key-0123456789abcdef";

    public static string DllOf(string project, string folder = "src") =>
        RepoPaths.Combine(folder, project, "bin", RepoPaths.Configuration, "net10.0", project + ".dll");

    public static async Task<ControlPlaneProcess> StartControlPlaneAsync(string connectionString, string registryUrl, int routerPort, IDictionary<string, string?>? extra = null)
    {
        var port = TestPorts.GetFreeTcpPort();
        var env = new Dictionary<string, string?>
        {
            ["Platform__Database__ConnectionString"] = connectionString,
            ["Platform__Database__MigrateOnStart"] = "true",
            ["Platform__Registry__Url"] = registryUrl,
            ["Platform__ControlPlane__Url"] = $"http://127.0.0.1:{port}",
            ["Platform__Apps__PublicUrlTemplate"] = $"http://{{app}}.apps.localhost:{routerPort}/",
            ["PLATFORM_ADMIN_KEY"] = AdminKey,
        };
        var process = StartHost("Platform.ControlPlane", env, extra);
        var cp = new ControlPlaneProcess(process, port);
        await WaitReadyAsync($"{cp.Url}/readyz", process, "control plane");
        return cp;
    }

    public static async Task<RouterProcess> StartRouterAsync(string controlPlaneUrl, string registryUrl, string cacheDirectory, string stateDirectory,
        int? port = null, IDictionary<string, string?>? extra = null, bool waitReady = true)
    {
        var appPort = port ?? TestPorts.GetFreeTcpPort();
        var managementPort = TestPorts.GetFreeTcpPort();
        var env = new Dictionary<string, string?>
        {
            ["Platform__Router__Url"] = $"http://127.0.0.1:{appPort}",
            ["Platform__Router__ManagementUrl"] = $"http://127.0.0.1:{managementPort}",
            ["Platform__Router__ControlPlaneUrl"] = controlPlaneUrl,
            ["Platform__Router__CacheDirectory"] = cacheDirectory,
            ["Platform__Router__StateDirectory"] = stateDirectory,
            ["Platform__Router__StatsIntervalSeconds"] = "1",
            ["Platform__Registry__Url"] = registryUrl,
        };
        var process = StartHost("Platform.Router", env, extra);
        var router = new RouterProcess(process, appPort, managementPort);
        if (waitReady)
        {
            await WaitReadyAsync($"{router.ManagementUrl}/readyz", process, "router");
        }
        return router;
    }

    /// <summary>Runs a host's build output with its settings, the secrets both hosts share, and a test's extra settings last.</summary>
    private static ExternalProcess StartHost(string project, Dictionary<string, string?> env, IDictionary<string, string?>? extra)
    {
        env["PLATFORM_ROUTER_TOKEN"] = RouterToken;
        env["PLATFORM_ARTIFACT_SIGNING_KEY"] = ArtifactSigningKey;
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            env[k] = v;
        }
        var dll = DllOf(project);
        return ExternalProcess.Start("dotnet", [dll], env, Path.GetDirectoryName(dll));
    }

    private static async Task WaitReadyAsync(string url, ExternalProcess process, string what)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The {what} exited with code {process.ExitCode}:\n{process.Output}");
            }
            try
            {
                if ((await http.GetAsync(url)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The {what} was not ready at {url} within 60 s:\n{process.Output}");
    }
}

public sealed class ControlPlaneProcess(ExternalProcess process, int port) : IAsyncDisposable
{
    public ExternalProcess Process { get; } = process;
    public int Port { get; } = port;
    public string Url => $"http://127.0.0.1:{Port}";

    public HttpClient CreateClient(string? key = PlatformProcesses.AdminKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>Creates an app and uploads a module; returns the version number.</summary>
    public async Task<int> DeployAsync(string app, byte[] module, bool create = true)
    {
        using var client = CreateClient();
        if (create)
        {
            var created = await client.PostAsJsonAsync("/api/v1/apps", new { name = app });
            if (!created.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"create app '{app}': {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }
        }
        var content = new ByteArrayContent(module);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        var response = await client.PostAsync($"/api/v1/apps/{app}/versions", content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"upload to '{app}': {(int)response.StatusCode} {text}");
        }
        return System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("number").GetInt32();
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}

public sealed class RouterProcess(ExternalProcess process, int appPort, int managementPort) : IAsyncDisposable
{
    public ExternalProcess Process { get; } = process;
    public int AppPort { get; } = appPort;
    public int ManagementPort { get; } = managementPort;
    public string ManagementUrl => $"http://127.0.0.1:{ManagementPort}";

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30), MaxConnectionsPerServer = 512, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Sends a request to an app through this router, with the app's host name, as a browser would.</summary>
    public Task<HttpResponseMessage> SendAsync(string app, string pathAndQuery, HttpMethod? method = null, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, $"http://127.0.0.1:{AppPort}{pathAndQuery}") { Content = content };
        request.Headers.Host = $"{app}.apps.localhost:{AppPort}";
        return _http.SendAsync(request, cancellationToken);
    }

    public async Task<string> MetricsAsync() => await _http.GetStringAsync($"{ManagementUrl}/metrics");

    /// <summary>
    /// Waits until this router answers the app with a success whose body contains the text (routing changes reach
    /// routers asynchronously); returns the last answer as "status: body".
    /// </summary>
    public async Task<string> WaitForAppAsync(string app, string pathAndQuery, string expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await SendAsync(app, pathAndQuery);
            last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
            if (response.IsSuccessStatusCode && last.Contains(expected, StringComparison.Ordinal))
            {
                return last;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"App '{app}' never answered with '{expected}' on port {AppPort}; last answer {last}\nRouter output:\n{Process.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Process.DisposeAsync();
    }
}
