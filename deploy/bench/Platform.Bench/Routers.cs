using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Bench;

/// <summary>Extra routers the driver starts from the published router, each with its own empty cache and state folder.</summary>
public sealed class Routers(BenchSettings settings)
{
    private int _nextPort = settings.PortBase + 10;

    public int NextPort() => _nextPort++;

    /// <param name="keepState">Start on the folders of an earlier router of this name (its saved table and module cache).</param>
    public async Task<(ChildProcess Process, RouterClient Client, double ReadyMs)> StartAsync(string name, IReadOnlyDictionary<string, string>? extra, CancellationToken cancellationToken,
        bool keepState = false)
    {
        var folder = Path.Combine(settings.OutputDirectory, "routers", name);
        if (Directory.Exists(folder) && !keepState)
        {
            Directory.Delete(folder, recursive: true);
        }
        Directory.CreateDirectory(folder);
        var appUrl = $"http://127.0.0.1:{NextPort()}";
        var managementUrl = $"http://127.0.0.1:{NextPort()}";
        var env = new Dictionary<string, string>
        {
            ["Platform__Router__Url"] = appUrl,
            ["Platform__Router__ManagementUrl"] = managementUrl,
            ["Platform__Router__ControlPlaneUrl"] = settings.ControlPlaneUrl,
            ["Platform__Router__CacheDirectory"] = Path.Combine(folder, "cache"),
            ["Platform__Router__StateDirectory"] = Path.Combine(folder, "state"),
            ["Platform__Router__RouterId"] = "bench-" + name,
            ["Platform__Registry__Url"] = settings.RegistryUrl,
            ["Platform__Registry__Username"] = settings.RegistryUsername,
            ["Platform__Registry__Password"] = settings.RegistryPassword,
            ["PLATFORM_ARTIFACT_SIGNING_KEY"] = settings.ArtifactSigningKey,
            // Each precompiled load is logged with its fetch time, which the cold-start figures separate out.
            ["Logging__LogLevel__Platform.Runtime.ModuleCache"] = "Debug",
            ["PLATFORM_ROUTER_TOKEN"] = settings.RouterToken,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Timestamps let a slow start be read off the log.
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var process = ChildProcess.Start("router " + name, "dotnet", [Path.Combine(settings.RouterDirectory, "Platform.Router.dll")],
            Path.Combine(folder, "router.log"), env, settings.RouterDirectory);
        try
        {
            await RouterClient.WaitHealthyAsync($"{managementUrl}/readyz", process, TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        var ready = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return (process, new RouterClient(appUrl, managementUrl, Path.Combine(folder, "router.log")), ready);
    }

    /// <summary>Sum of a Prometheus counter's series whose labels match <paramref name="labelFilter"/> (a regex; empty matches all).</summary>
    public static long Counter(string metrics, string name, string labelFilter = "")
    {
        long total = 0;
        foreach (Match m in Regex.Matches(metrics, $@"^{Regex.Escape(name)}(\{{(?<labels>[^}}]*)\}})? (?<value>[0-9.eE+]+)", RegexOptions.Multiline))
        {
            if (labelFilter.Length == 0 || Regex.IsMatch(m.Groups["labels"].Value, labelFilter))
            {
                total += (long)double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    /// <summary>Sum of a Prometheus sample's series (e.g. a histogram's _sum), as a double.</summary>
    public static double Sum(string metrics, string name)
    {
        double total = 0;
        foreach (Match m in Regex.Matches(metrics, $@"^{Regex.Escape(name)}(\{{[^}}]*\}})? (?<value>[0-9.eE+-]+)", RegexOptions.Multiline))
        {
            total += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return total;
    }

    public static long Compiles(string metrics) => Counter(metrics, "platform_runtime_module_cache_misses_total");

    public static long PrecompiledLoads(string metrics) => Counter(metrics, "platform_runtime_module_cache_hits_total", "source=\"precompiled\"");
}
