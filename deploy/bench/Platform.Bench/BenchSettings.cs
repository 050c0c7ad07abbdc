using System.Globalization;

namespace Platform.Bench;

/// <summary>What run.sh hands the driver, as environment variables (BENCH_*); every value is checked before anything runs.</summary>
public sealed record BenchSettings
{
    public required string ControlPlaneUrl { get; init; }
    public required string AdminKey { get; init; }
    public required string RouterUrl { get; init; }
    public required string ManagementUrl { get; init; }
    public required string RegistryUrl { get; init; }
    public required string RouterToken { get; init; }

    /// <summary>The router's registry credentials (the stack's registry requires htpasswd auth).</summary>
    public required string RegistryUsername { get; init; }

    public required string RegistryPassword { get; init; }

    /// <summary>Folder of the published router (Platform.Router.dll), for the routers the driver starts itself.</summary>
    public required string RouterDirectory { get; init; }

    public required string BaselineDll { get; init; }
    public required string CgiProgram { get; init; }
    public required string AppsDirectory { get; init; }
    public required string OutputDirectory { get; init; }

    /// <summary>Seconds of each measured wrk run (after a warm-up of <see cref="WarmupSeconds"/>).</summary>
    public int DurationSeconds { get; init; } = 8;
    public int WarmupSeconds { get; init; } = 2;
    public IReadOnlyList<int> Connections { get; init; } = [1, 16, 64];
    public int ColdStartRepeats { get; init; } = 3;
    public int Deploys { get; init; } = 7;
    public int ManyApps { get; init; } = 1000;

    /// <summary>Sections to run: throughput, coldstart, deploy, apps.</summary>
    public IReadOnlySet<string> Sections { get; init; } = new HashSet<string> { "throughput", "coldstart", "deploy", "apps" };

    /// <summary>First port of a block the driver uses for the processes it starts (baseline, lighttpd, extra routers).</summary>
    public int PortBase { get; init; } = 18200;

    public static BenchSettings FromEnvironment()
    {
        static string Need(string name) =>
            Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new ArgumentException($"Environment variable {name} is not set; run deploy/bench/run.sh.");

        static int Int(string name, int fallback, int min, int max)
        {
            var raw = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(raw))
            {
                return fallback;
            }
            if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw new ArgumentException($"{name}='{raw}' is not a whole number between {min} and {max}.");
            }
            return value;
        }

        var settings = new BenchSettings
        {
            ControlPlaneUrl = Need("BENCH_CONTROLPLANE_URL").TrimEnd('/'),
            AdminKey = Need("BENCH_ADMIN_KEY"),
            RouterUrl = Need("BENCH_ROUTER_URL").TrimEnd('/'),
            ManagementUrl = Need("BENCH_ROUTER_MANAGEMENT_URL").TrimEnd('/'),
            RegistryUrl = Need("BENCH_REGISTRY_URL").TrimEnd('/'),
            RouterToken = Need("BENCH_ROUTER_TOKEN"),
            RegistryUsername = Need("BENCH_REGISTRY_USERNAME"),
            RegistryPassword = Need("BENCH_REGISTRY_PASSWORD"),
            RouterDirectory = Need("BENCH_ROUTER_DIR"),
            BaselineDll = Need("BENCH_BASELINE_DLL"),
            CgiProgram = Need("BENCH_CGI_PROGRAM"),
            AppsDirectory = Need("BENCH_APPS_DIR"),
            OutputDirectory = Need("BENCH_OUT"),
            DurationSeconds = Int("BENCH_DURATION", 8, 1, 600),
            WarmupSeconds = Int("BENCH_WARMUP", 2, 0, 60),
            ColdStartRepeats = Int("BENCH_COLD_REPEATS", 3, 1, 50),
            Deploys = Int("BENCH_DEPLOYS", 7, 1, 100),
            ManyApps = Int("BENCH_APPS", 1000, 1, 10_000),
            PortBase = Int("BENCH_PORT_BASE", 18200, 1024, 65000),
        };
        if (Environment.GetEnvironmentVariable("BENCH_CONNECTIONS") is { Length: > 0 } connections)
        {
            settings = settings with
            {
                Connections = connections.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 10_000
                        ? n
                        : throw new ArgumentException($"BENCH_CONNECTIONS='{connections}': '{c}' is not a connection count between 1 and 10000."))
                    .ToList(),
            };
        }
        if (Environment.GetEnvironmentVariable("BENCH_ONLY") is { Length: > 0 } only)
        {
            var known = new[] { "throughput", "coldstart", "deploy", "apps" };
            var chosen = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            if (chosen.FirstOrDefault(s => !known.Contains(s)) is { } bad)
            {
                throw new ArgumentException($"BENCH_ONLY='{only}': '{bad}' is not one of {string.Join(", ", known)}.");
            }
            settings = settings with { Sections = chosen };
        }
        foreach (var (name, path) in new[] { ("BENCH_ROUTER_DIR", Path.Combine(settings.RouterDirectory, "Platform.Router.dll")), ("BENCH_BASELINE_DLL", settings.BaselineDll), ("BENCH_CGI_PROGRAM", settings.CgiProgram) })
        {
            if (!File.Exists(path))
            {
                throw new ArgumentException($"{name}: '{path}' does not exist.");
            }
        }
        return settings;
    }
}
