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

    /// <summary>The stack's artifact signing key: routers load precompiled artifacts only when their signature verifies.</summary>
    public required string ArtifactSigningKey { get; init; }

    /// <summary>Folder of the published router (Platform.Router.dll), for the routers the driver starts itself.</summary>
    public required string RouterDirectory { get; init; }

    public required string BaselineDll { get; init; }
    public required string CgiProgram { get; init; }
    public required string AppsDirectory { get; init; }

    /// <summary>tests/apps/components, whose node_modules hold jco (the component section's peer, <c>jco serve</c>).</summary>
    public string ComponentsDirectory { get; init; } = "";
    public required string OutputDirectory { get; init; }

    /// <summary>Seconds of each measured wrk run (after a warm-up of <see cref="WarmupSeconds"/>).</summary>
    public int DurationSeconds { get; init; } = 8;
    public int WarmupSeconds { get; init; } = 2;
    public IReadOnlyList<int> Connections { get; init; } = [1, 16, 64];
    public int ColdStartRepeats { get; init; } = 3;
    public int Deploys { get; init; } = 7;
    public int ManyApps { get; init; } = 1000;

    /// <summary>Sections to run: throughput, coldstart, deploy, apps, component, scale.</summary>
    public IReadOnlySet<string> Sections { get; init; } = new HashSet<string> { "throughput", "coldstart", "deploy", "apps", "component", "scale" };

    /// <summary>Scale section: app counts (seeded into PostgreSQL), routers, one-app changes per size.</summary>
    public IReadOnlyList<int> ScaleApps { get; init; } = [1000, 100_000];
    public int ScaleRouters { get; init; } = 10;
    public int ScaleChanges { get; init; } = 20;

    /// <summary>The benchmark stack's own database (the scale section seeds it); null when the section does not run.</summary>
    public string? DatabaseConnectionString { get; init; }

    /// <summary>Process id of the stack's control plane, for its CPU time.</summary>
    public int ControlPlanePid { get; init; }

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
            ArtifactSigningKey = Need("BENCH_ARTIFACT_SIGNING_KEY"),
            RouterDirectory = Need("BENCH_ROUTER_DIR"),
            BaselineDll = Need("BENCH_BASELINE_DLL"),
            CgiProgram = Need("BENCH_CGI_PROGRAM"),
            AppsDirectory = Need("BENCH_APPS_DIR"),
            ComponentsDirectory = Environment.GetEnvironmentVariable("BENCH_COMPONENTS_DIR") ?? "",
            OutputDirectory = Need("BENCH_OUT"),
            DurationSeconds = Int("BENCH_DURATION", 8, 1, 600),
            WarmupSeconds = Int("BENCH_WARMUP", 2, 0, 60),
            ColdStartRepeats = Int("BENCH_COLD_REPEATS", 3, 1, 50),
            Deploys = Int("BENCH_DEPLOYS", 7, 1, 100),
            ManyApps = Int("BENCH_APPS", 1000, 1, 10_000),
            PortBase = Int("BENCH_PORT_BASE", 18200, 1024, 65000),
            ScaleRouters = Int("BENCH_SCALE_ROUTERS", 10, 1, 40),
            ScaleChanges = Int("BENCH_SCALE_CHANGES", 20, 1, 1000),
            DatabaseConnectionString = Environment.GetEnvironmentVariable("BENCH_DATABASE"),
            ControlPlanePid = Int("BENCH_CONTROLPLANE_PID", 0, 0, int.MaxValue),
        };
        if (Environment.GetEnvironmentVariable("BENCH_SCALE_APPS") is { Length: > 0 } sizes)
        {
            settings = settings with
            {
                ScaleApps = sizes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 2 and <= 1_000_000
                        ? n
                        : throw new ArgumentException($"BENCH_SCALE_APPS='{sizes}': '{c}' is not an app count between 2 and 1000000."))
                    .Distinct().ToList(),
            };
        }
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
            var known = new[] { "throughput", "coldstart", "deploy", "apps", "component", "scale" };
            var chosen = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            if (chosen.FirstOrDefault(s => !known.Contains(s)) is { } bad)
            {
                throw new ArgumentException($"BENCH_ONLY='{only}': '{bad}' is not one of {string.Join(", ", known)}.");
            }
            settings = settings with { Sections = chosen };
        }
        if (settings.Sections.Contains("scale") && (string.IsNullOrEmpty(settings.DatabaseConnectionString) || settings.ControlPlanePid <= 0))
        {
            throw new ArgumentException("The scale section needs BENCH_DATABASE (the stack's PostgreSQL) and BENCH_CONTROLPLANE_PID; run deploy/bench/run.sh.");
        }
        foreach (var (name, path) in new[] { ("BENCH_ROUTER_DIR", Path.Combine(settings.RouterDirectory, "Platform.Router.dll")), ("BENCH_BASELINE_DLL", settings.BaselineDll), ("BENCH_CGI_PROGRAM", settings.CgiProgram) })
        {
            if (!File.Exists(path))
            {
                throw new ArgumentException($"{name}: '{path}' does not exist.");
            }
        }
        if (settings.Sections.Contains("component"))
        {
            foreach (var (name, path) in new[] { ("BENCH_APPS_DIR", Path.Combine(settings.AppsDirectory, "components", "js-echo.wasm")),
                ("BENCH_COMPONENTS_DIR", Path.Combine(settings.ComponentsDirectory, "node_modules", ".bin", "jco")) })
            {
                if (!File.Exists(path))
                {
                    throw new ArgumentException($"{name}: '{path}' does not exist (bash tests/apps/build.sh builds it).");
                }
            }
        }
        return settings;
    }
}
