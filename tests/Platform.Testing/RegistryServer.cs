using System.Diagnostics;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Testing;

/// <summary>Settings of a <see cref="RegistryServer"/>.</summary>
public sealed record RegistryServerOptions
{
    /// <summary>With both set, the registry requires htpasswd (bcrypt) basic auth for this user.</summary>
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Token (bearer) auth per the distribution token spec; mutually exclusive with <see cref="Username"/>.</summary>
    public RegistryTokenAuth? TokenAuth { get; init; }

    /// <summary>Allows DELETE of manifests and blobs (<c>storage.delete.enabled</c>).</summary>
    public bool EnableDelete { get; init; } = true;

    /// <summary>Path of the registry binary; defaults to <c>$PLATFORM_DOCKER_REGISTRY</c> or <c>/usr/bin/docker-registry</c>.</summary>
    public string? BinaryPath { get; init; }
}

/// <summary>
/// Token auth settings written to the registry's <c>auth.token</c> section: the registry answers 401 with
/// <c>Bearer realm=..,service=..,scope=..</c> and accepts JWTs issued by <paramref name="Issuer"/> for <paramref name="Service"/>,
/// signed by a key whose certificate chains to <paramref name="RootCertBundlePath"/> (PEM).
/// </summary>
public sealed record RegistryTokenAuth(string Realm, string Service, string Issuer, string RootCertBundlePath);

/// <summary>
/// A real distribution registry (<c>/usr/bin/docker-registry</c>, Debian package docker-registry) on a free loopback port,
/// with its storage in a temp folder. <see cref="StopAsync"/> and <see cref="StartAsync"/> take it down and bring it back
/// on the same port and storage, so tests can simulate a registry outage.
/// </summary>
/// <example>
/// <code>
/// await using var registry = await RegistryServer.StartNewAsync();                       // anonymous
/// await using var secured = await RegistryServer.StartNewAsync(new() { Username = "u", Password = "p" });
/// var url = registry.Url;            // http://127.0.0.1:PORT
/// await registry.StopAsync();        // connections now refused
/// await registry.StartAsync();       // same port, same content
/// </code>
/// </example>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string DefaultBinaryPath = "/usr/bin/docker-registry";

    private static readonly HttpClient s_probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly RegistryServerOptions _options;
    private readonly string _binary;
    private readonly StringBuilder _previousOutput = new();
    private ExternalProcess? _process;

    private RegistryServer(RegistryServerOptions options, string binary, string rootDirectory, int port)
    {
        _options = options;
        _binary = binary;
        RootDirectory = rootDirectory;
        Port = port;
    }

    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:PORT</c>, the registry host as it appears in image references.</summary>
    public string HostPort => $"127.0.0.1:{Port}";

    /// <summary><c>http://127.0.0.1:PORT</c>, the value for <c>Platform:Registry:Url</c>.</summary>
    public string Url => $"http://{HostPort}";

    /// <summary>Temp folder holding the config, the htpasswd file and the storage.</summary>
    public string RootDirectory { get; }

    public string StorageDirectory => Path.Combine(RootDirectory, "storage");

    public string ConfigPath => Path.Combine(RootDirectory, "config.yml");

    public string? Username => _options.Username;

    public string? Password => _options.Password;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Everything the registry printed, across restarts (for failure messages).</summary>
    public string Output => _previousOutput.ToString() + (_process?.Output ?? "");

    /// <summary>Creates the storage and config, starts the registry and waits until <c>/v2/</c> answers.</summary>
    /// <exception cref="InvalidOperationException">The binary is missing, or the registry did not come up (its output is in the message).</exception>
    public static async Task<RegistryServer> StartNewAsync(RegistryServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RegistryServerOptions();
        if (options.TokenAuth is not null && options.Username is not null)
        {
            throw new ArgumentException("A registry uses either htpasswd (Username/Password) or token auth, not both.", nameof(options));
        }
        if ((options.Username is null) != (options.Password is null))
        {
            throw new ArgumentException("Username and Password must be set together.", nameof(options));
        }
        var binary = options.BinaryPath ?? Environment.GetEnvironmentVariable("PLATFORM_DOCKER_REGISTRY") ?? DefaultBinaryPath;
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException(
                $"The registry binary '{binary}' does not exist. Install the Debian package 'docker-registry' " +
                "(apt-get install docker-registry; deploy/platform.sh test does) or point PLATFORM_DOCKER_REGISTRY at a distribution 'registry' binary.");
        }

        var root = Directory.CreateTempSubdirectory("platform-registry-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "storage"));
        if (options.Username is not null)
        {
            var line = await Htpasswd.CreateBcryptLineAsync(options.Username, options.Password!, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(root, "htpasswd"), line + "\n", cancellationToken);
        }

        // Another process can take the free port between the probe and the registry's bind; try a few.
        InvalidOperationException? lastFailure = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var server = new RegistryServer(options, binary, root, TestPorts.GetFreeTcpPort());
            await server.WriteConfigAsync(cancellationToken);
            try
            {
                await server.StartAsync(cancellationToken);
                return server;
            }
            catch (InvalidOperationException ex) when (server.Output.Contains("address already in use", StringComparison.Ordinal))
            {
                lastFailure = ex;
                await server.StopAsync();
            }
            catch
            {
                await server.StopAsync();
                TryDelete(root);
                throw;
            }
        }
        TryDelete(root);
        throw lastFailure!;
    }

    /// <summary>(Re)starts the registry on the same port, config and storage; returns once <c>/v2/</c> answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"The registry on {HostPort} is already running.");
        }
        if (_process is not null)
        {
            _previousOutput.AppendLine(_process.Output);
            await _process.DisposeAsync();
        }
        var process = ExternalProcess.Start(_binary, ["serve", ConfigPath], workingDirectory: RootDirectory);
        _process = process;
        await WaitUntilAnsweringAsync(process, TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Stops the registry (SIGTERM, then kill); connections to <see cref="Url"/> are refused afterwards.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }
        var process = _process;
        if (!process.HasExited)
        {
            process.Terminate();
            try
            {
                await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
                // DisposeAsync below kills it.
            }
        }
        _previousOutput.AppendLine(process.Output);
        await process.DisposeAsync();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TryDelete(RootDirectory);
    }

    private async Task WaitUntilAnsweringAsync(ExternalProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Let the output readers drain before quoting them.
                await Task.Delay(100, CancellationToken.None);
                throw new InvalidOperationException(
                    $"docker-registry exited with code {process.ExitCode} before answering on {HostPort}. Config '{ConfigPath}'. Output:\n{process.Output}");
            }
            try
            {
                // Any HTTP answer (200, or 401 with auth on) means the registry is serving.
                using var response = await s_probe.GetAsync($"{Url}/v2/", cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (stopwatch.Elapsed > timeout)
                {
                    throw new InvalidOperationException(
                        $"docker-registry did not answer GET {Url}/v2/ within {timeout} ({ex.Message}). Output:\n{process.Output}", ex);
                }
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private Task WriteConfigAsync(CancellationToken cancellationToken)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("version: 0.1");
        yaml.AppendLine("log:");
        yaml.AppendLine("  level: info");
        yaml.AppendLine("storage:");
        yaml.AppendLine("  filesystem:");
        yaml.AppendLine($"    rootdirectory: {Quote(StorageDirectory)}");
        yaml.AppendLine("  delete:");
        yaml.AppendLine($"    enabled: {(_options.EnableDelete ? "true" : "false")}");
        yaml.AppendLine("  maintenance:");
        yaml.AppendLine("    uploadpurging:");
        yaml.AppendLine("      enabled: false");
        yaml.AppendLine("http:");
        yaml.AppendLine($"  addr: {Quote(HostPort)}");
        // A fixed secret keeps upload-session state valid across a restart.
        yaml.AppendLine($"  secret: {Quote(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)))}");
        if (_options.Username is not null)
        {
            yaml.AppendLine("auth:");
            yaml.AppendLine("  htpasswd:");
            yaml.AppendLine("    realm: \"platform-test-registry\"");
            yaml.AppendLine($"    path: {Quote(Path.Combine(RootDirectory, "htpasswd"))}");
        }
        else if (_options.TokenAuth is { } token)
        {
            yaml.AppendLine("auth:");
            yaml.AppendLine("  token:");
            yaml.AppendLine($"    realm: {Quote(token.Realm)}");
            yaml.AppendLine($"    service: {Quote(token.Service)}");
            yaml.AppendLine($"    issuer: {Quote(token.Issuer)}");
            yaml.AppendLine($"    rootcertbundle: {Quote(token.RootCertBundlePath)}");
        }
        return File.WriteAllTextAsync(ConfigPath, yaml.ToString(), cancellationToken);
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the OS to clean from the temp folder.
        }
    }
}
