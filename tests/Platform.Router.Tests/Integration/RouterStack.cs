using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// A whole platform on loopback: real PostgreSQL, docker-registry, the control plane and one router, as processes.
/// Tests that stop parts of it make their own; the others share one through <see cref="SharedRouterStack"/>.
/// </summary>
public sealed class RouterStack : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "platform-router-" + Guid.NewGuid().ToString("N")[..10]);

    public PostgresServer Postgres { get; private set; } = null!;
    public RegistryServer Registry { get; private set; } = null!;
    public ControlPlaneProcess ControlPlane { get; private set; } = null!;
    public RouterProcess Router { get; private set; } = null!;
    public string Root => _root;
    public string DatabaseConnectionString { get; private set; } = "";
    public string CacheDirectory => Path.Combine(_root, "cache");
    public string StateDirectory => Path.Combine(_root, "state");
    public int RouterPort { get; } = TestPorts.GetFreeTcpPort();

    public static async Task<RouterStack> StartAsync()
    {
        var stack = new RouterStack();
        stack.Postgres = await PostgresServer.StartAsync();
        var db = await stack.Postgres.CreateDatabaseAsync();
        stack.DatabaseConnectionString = db;
        stack.Registry = await RegistryServer.StartNewAsync();
        stack.ControlPlane = await PlatformProcesses.StartControlPlaneAsync(db, stack.Registry.Url, stack.RouterPort);
        stack.Router = await stack.StartRouterAsync();
        return stack;
    }

    /// <summary>Starts another router process on this stack's cache and state folders.</summary>
    public Task<RouterProcess> StartRouterAsync(int? port = null, bool waitReady = true) =>
        PlatformProcesses.StartRouterAsync(ControlPlane.Url, Registry.Url, CacheDirectory, StateDirectory, port ?? RouterPort, waitReady: waitReady);

    public async Task ReplaceRouterAsync()
    {
        await Router.DisposeAsync();
        Router = await StartRouterAsync();
    }

    /// <summary>Waits until the router answers the app with a body containing the text (routing changes are asynchronous).</summary>
    public async Task<string> WaitForAppAsync(string app, string path, string expected, TimeSpan? timeout = null, RouterProcess? router = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var response = await (router ?? Router).SendAsync(app, path);
            last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
            if (response.IsSuccessStatusCode && last.Contains(expected, StringComparison.Ordinal))
            {
                return last;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"App '{app}' never answered with '{expected}'; last answer {last}\nRouter output:\n{(router ?? Router).Process.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        await Router.DisposeAsync();
        await ControlPlane.DisposeAsync();
        await Registry.DisposeAsync();
        await Postgres.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

public sealed class SharedRouterStack : IAsyncLifetime
{
    public RouterStack Stack { get; private set; } = null!;

    public async Task InitializeAsync() => Stack = await RouterStack.StartAsync();

    public async Task DisposeAsync() => await Stack.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedRouterCollection : ICollectionFixture<SharedRouterStack>
{
    public const string Name = "shared router stack";
}
