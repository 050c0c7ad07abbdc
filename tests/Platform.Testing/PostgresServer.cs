using Npgsql;

namespace Platform.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster (Debian's postgresql package) on a free loopback port, with its data in a temp folder.
/// initdb refuses root, so as root the server runs as the 'postgres' user.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly string _binDir;
    private ExternalProcess? _process;

    private PostgresServer(string binDir, string dataDir, int port)
    {
        _binDir = binDir;
        _dataDir = dataDir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The cluster's files (tests check what is, and is not, written to disk).</summary>
    public string DataDirectory => _dataDir;

    /// <summary>Connection string for the cluster's maintenance database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=5;Command Timeout=30";

    public static async Task<PostgresServer> StartAsync()
    {
        var binDir = FindBinDir();
        var dataDir = Path.Combine(Path.GetTempPath(), "platform-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDir);
        if (IsRoot)
        {
            var (chownCode, chownOut) = await ExternalProcess.RunAsync("chown", ["postgres:postgres", dataDir]);
            if (chownCode != 0)
            {
                throw new InvalidOperationException($"chown of '{dataDir}' failed: {chownOut}");
            }
        }
        var (code, output) = await ExternalProcess.RunAsync(AsPostgres(Path.Combine(binDir, "initdb")).File,
            [.. AsPostgres(Path.Combine(binDir, "initdb")).Args, "-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--locale=C"]);
        if (code != 0)
        {
            throw new InvalidOperationException($"initdb failed with exit code {code}:\n{output}");
        }
        var server = new PostgresServer(binDir, dataDir, TestPorts.GetFreeTcpPort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>(Re)starts the server on the same port and data; used after <see cref="StopAsync"/> to simulate an outage ending.</summary>
    public async Task StartAgainAsync()
    {
        var (file, args) = AsPostgres(Path.Combine(_binDir, "postgres"));
        _process = ExternalProcess.Start(file, [.. args, "-D", _dataDir, "-p", Port.ToString(), "-k", _dataDir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200"]);
        var process = _process;
        await TestPorts.WaitForListenerAsync(Port, TimeSpan.FromSeconds(30), () => process.Output);
        // The port opens slightly before the server accepts logins.
        for (var i = 0; ; i++)
        {
            try
            {
                await using var c = new NpgsqlConnection(AdminConnectionString);
                await c.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (i < 100)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
            // The postmaster (a child of runuser as root) can outlive the process killed above by a moment, and a
            // restart before it has gone fails on its lock file ("another postmaster is running").
            for (var i = 0; i < 300 && PostmasterAlive(); i++)
            {
                await Task.Delay(100);
            }
        }
        NpgsqlConnection.ClearAllPools();
    }

    private bool PostmasterAlive()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(_dataDir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, out var pid) && Directory.Exists($"/proc/{pid}");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "test_" + Guid.NewGuid().ToString("N")[..12];
        await using var c = new NpgsqlConnection(AdminConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
        await cmd.ExecuteNonQueryAsync();
        return ConnectionStringFor(name);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying server process; the temp folder is reclaimed later.
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static (string File, string[] Args) AsPostgres(string command) =>
        IsRoot ? ("runuser", ["-u", "postgres", "--", command]) : (command, []);

    private static string FindBinDir()
    {
        const string root = "/usr/lib/postgresql";
        var candidates = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException($"PostgreSQL server binaries not found under '{root}'; install the Debian package 'postgresql' (deploy/platform.sh test does).");
    }
}
