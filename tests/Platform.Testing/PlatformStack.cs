using Xunit;

namespace Platform.Testing;

/// <summary>Settings of a <see cref="PlatformStack"/>.</summary>
public sealed record PlatformStackOptions
{
    /// <summary>Extra environment of the stack's control plane (a null value removes a variable).</summary>
    public IDictionary<string, string?>? ControlPlaneEnvironment { get; init; }

    /// <summary>Extra environment of the stack's router, also when it is started again.</summary>
    public IDictionary<string, string?>? RouterEnvironment { get; init; }

    /// <summary>Port of the stack's router, which the control plane puts in app URLs; a free one when null.</summary>
    public int? RouterPort { get; init; }

    /// <summary>False for tests that start only routers of their own (<see cref="PlatformStack.StartOwnRouterAsync"/>).</summary>
    public bool StartRouter { get; init; } = true;
}

/// <summary>
/// A whole platform on loopback: a real PostgreSQL (one database), a docker-registry, the control plane and a router,
/// as processes, with the routers' folders under one temp folder that disposal deletes. Tests that stop parts of it
/// make their own; the others share one through a <see cref="PlatformStackFixture"/>.
/// </summary>
public sealed class PlatformStack : IAsyncDisposable
{
    private readonly PlatformStackOptions _options;
    private readonly List<IAsyncDisposable> _started = [];
    private PostgresServer? _postgres;
    private RegistryServer? _registry;
    private ControlPlaneProcess? _controlPlane;
    private RouterProcess? _router;

    private PlatformStack(PlatformStackOptions options)
    {
        _options = options;
        RouterPort = options.RouterPort ?? TestPorts.GetFreeTcpPort();
    }

    public PostgresServer Postgres => _postgres ?? throw NotStarted("PostgreSQL");
    public RegistryServer Registry => _registry ?? throw NotStarted("registry");
    public ControlPlaneProcess ControlPlane => _controlPlane ?? throw NotStarted("control plane");

    /// <summary>The stack's router, on <see cref="RouterPort"/> with <see cref="CacheDirectory"/> and <see cref="StateDirectory"/>.</summary>
    public RouterProcess Router => _router ?? throw NotStarted("router");

    /// <summary>The connection string of the stack's database.</summary>
    public string DatabaseConnectionString { get; private set; } = "";

    /// <summary>The temp folder of the routers' caches and states; created by the routers, deleted on disposal.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "platform-stack-" + Guid.NewGuid().ToString("N")[..10]);

    public string CacheDirectory => Path.Combine(Root, "cache");
    public string StateDirectory => Path.Combine(Root, "state");
    public int RouterPort { get; }

    public static async Task<PlatformStack> StartAsync(PlatformStackOptions? options = null)
    {
        var stack = new PlatformStack(options ?? new PlatformStackOptions());
        try
        {
            stack._postgres = await PostgresServer.StartAsync();
            stack.DatabaseConnectionString = await stack._postgres.CreateDatabaseAsync();
            stack._registry = await RegistryServer.StartNewAsync();
            stack._controlPlane = await PlatformProcesses.StartControlPlaneAsync(stack.DatabaseConnectionString, stack._registry.Url, stack.RouterPort,
                stack._options.ControlPlaneEnvironment);
            if (stack._options.StartRouter)
            {
                stack._router = await stack.StartRouterAsync();
            }
            return stack;
        }
        catch
        {
            // Nobody disposes a stack that never came back from here; leave no servers behind.
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts another router process on the stack router's folders and settings (the caller stops it).</summary>
    public Task<RouterProcess> StartRouterAsync(int? port = null, bool waitReady = true) =>
        PlatformProcesses.StartRouterAsync(ControlPlane.Url, Registry.Url, CacheDirectory, StateDirectory, port ?? RouterPort, _options.RouterEnvironment, waitReady);

    /// <summary>Stops the stack's router and starts a new process in its place (same port, cache and state).</summary>
    public async Task ReplaceRouterAsync()
    {
        await Router.DisposeAsync();
        _router = await StartRouterAsync();
    }

    /// <summary>A folder of the stack's own, under <see cref="Root"/>; not created.</summary>
    public string FolderOf(string name) => Path.Combine(Root, name);

    /// <summary>
    /// Starts a router with a cache and state of its own in <see cref="FolderOf"/>(<paramref name="name"/>): the same name
    /// again is a restart of that router. It talks to the stack's control plane unless told another URL. The caller may
    /// stop it; disposal of the stack stops it otherwise.
    /// </summary>
    public async Task<RouterProcess> StartOwnRouterAsync(string name, IDictionary<string, string?>? environment = null, string? controlPlaneUrl = null, int? port = null)
    {
        var folder = FolderOf(name);
        var router = await PlatformProcesses.StartRouterAsync(controlPlaneUrl ?? ControlPlane.Url, Registry.Url,
            Path.Combine(folder, "cache"), Path.Combine(folder, "state"), port, environment);
        Track(router);
        return router;
    }

    /// <summary>
    /// Starts another control plane on the stack's registry and, unless given another, its database (a second replica).
    /// The caller may stop it; disposal of the stack stops it otherwise.
    /// </summary>
    public async Task<ControlPlaneProcess> StartControlPlaneAsync(IDictionary<string, string?>? environment = null, string? connectionString = null, int? routerPort = null)
    {
        var controlPlane = await PlatformProcesses.StartControlPlaneAsync(connectionString ?? DatabaseConnectionString, Registry.Url,
            routerPort ?? RouterPort, environment);
        Track(controlPlane);
        return controlPlane;
    }

    /// <summary>Waits until a router (the stack's unless given) answers the app with a body containing the text.</summary>
    public Task<string> WaitForAppAsync(string app, string path, string expected, TimeSpan? timeout = null, RouterProcess? router = null) =>
        (router ?? Router).WaitForAppAsync(app, path, expected, timeout);

    public async ValueTask DisposeAsync()
    {
        // Processes a test started, newest first, before what they talk to. Disposing one twice is harmless.
        List<IAsyncDisposable> started;
        lock (_started)
        {
            started = [.. _started];
            _started.Clear();
        }
        started.Reverse();
        foreach (var process in started)
        {
            await process.DisposeAsync();
        }
        foreach (IAsyncDisposable? part in new IAsyncDisposable?[] { _router, _controlPlane, _registry, _postgres })
        {
            if (part is not null)
            {
                await part.DisposeAsync();
            }
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // No router ever started.
        }
        catch (IOException)
        {
            // A file still held by a dying process; the temp folder is reclaimed later.
        }
    }

    private void Track(IAsyncDisposable process)
    {
        lock (_started)
        {
            _started.Add(process);
        }
    }

    private static InvalidOperationException NotStarted(string part) => new($"The stack's {part} was not started.");
}

/// <summary>A <see cref="PlatformStack"/> as an xunit class or collection fixture, with its parts at hand.</summary>
public class PlatformStackFixture : IAsyncLifetime
{
    private readonly PlatformStackOptions? _options;

    public PlatformStackFixture()
    {
    }

    protected PlatformStackFixture(PlatformStackOptions options) => _options = options;

    public PlatformStack Stack { get; private set; } = null!;
    public PostgresServer Postgres => Stack.Postgres;
    public RegistryServer Registry => Stack.Registry;
    public ControlPlaneProcess ControlPlane => Stack.ControlPlane;
    public RouterProcess Router => Stack.Router;

    public virtual async Task InitializeAsync() => Stack = await PlatformStack.StartAsync(_options);

    public virtual async Task DisposeAsync()
    {
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }
    }
}
