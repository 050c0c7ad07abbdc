using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Platform.Bench;

/// <summary>
/// A fresh router (empty cache and state) answering its first request for the 30 KB hello and the ~2 MB bigmodule,
/// once loading the precompiled artifact from the registry and once compiling the module itself.
/// </summary>
public static class ColdStart
{
    public const string Precompiled = "precompiled";
    public const string Compile = "compile";

    public static async Task<ColdStartSection> RunAsync(BenchSettings settings, PlatformApi api, RouterClient mainRouter, Routers routers, CancellationToken cancellationToken)
    {
        var hello = File.ReadAllBytes(Path.Combine(settings.AppsDirectory, "hello.wasm"));
        var big = File.ReadAllBytes(Path.Combine(settings.AppsDirectory, "bigmodule.wasm"));
        await api.EnsureDeployedAsync("hello", hello, cancellationToken);
        await api.EnsureDeployedAsync("big", big, cancellationToken);
        await mainRouter.WaitForAsync("big", "/", "checksum=", TimeSpan.FromSeconds(60), cancellationToken);

        var digests = await ModuleDigestsAsync(mainRouter, cancellationToken);
        var runs = new List<ColdStartRun>();
        foreach (var mode in new[] { Precompiled, Compile })
        {
            for (var repeat = 1; repeat <= settings.ColdStartRepeats; repeat++)
            {
                // A router that ignores precompiled artifacts compiles every module, as one with another engine would.
                var extra = mode == Compile ? new Dictionary<string, string> { ["Platform__Router__UsePrecompiledArtifacts"] = "false" } : null;
                var (process, client, readyMs) = await routers.StartAsync($"cold-{mode}-{repeat}", extra, cancellationToken);
                await using (process)
                using (client)
                {
                    var firstHello = await TimeAsync(client, "hello", "Hello from", cancellationToken);
                    // The router's own figure for getting the module ready (pull or compile, verify, load).
                    var helloLoad = LoadSeconds(await FreshMetricsAsync(client, cancellationToken)) * 1000;
                    var firstBig = await TimeAsync(client, "big", "checksum=", cancellationToken);
                    var metrics = await FreshMetricsAsync(client, cancellationToken);
                    var bigLoad = LoadSeconds(metrics) * 1000 - helloLoad;
                    var secondHello = await TimeAsync(client, "hello", "Hello from", cancellationToken);
                    var secondBig = await TimeAsync(client, "big", "checksum=", cancellationToken);
                    await process.DisposeAsync(); // flushes its log
                    var log = await File.ReadAllTextAsync(client.LogPath!, cancellationToken);
                    var run = new ColdStartRun(mode, repeat, readyMs, firstHello, firstBig, secondHello, secondBig,
                        Routers.Compiles(metrics), Routers.PrecompiledLoads(metrics), helloLoad, bigLoad,
                        FetchMs(log, digests.GetValueOrDefault("hello")), FetchMs(log, digests.GetValueOrDefault("big")));
                    Console.WriteLine($"  {mode,-11} #{repeat}: ready {readyMs,7:F0} ms, first hello {firstHello,7:F2} ms (load {helloLoad:F1}, fetch {run.HelloFetchMs:F1}), " +
                                      $"first big {firstBig,7:F2} ms (load {bigLoad:F1}, fetch {run.BigFetchMs:F1}), then {secondHello:F2} / {secondBig:F2} ms; " +
                                      $"compiles {run.Compiles}, precompiled loads {run.PrecompiledLoads}");
                    runs.Add(run);
                }
            }
        }

        var (helloArtifact, helloTransfer) = await ArtifactTransferAsync(settings, mainRouter, "hello", cancellationToken);
        var (bigArtifact, bigTransfer) = await ArtifactTransferAsync(settings, mainRouter, "big", cancellationToken);
        return new ColdStartSection(runs, hello.Length, big.Length, helloArtifact, bigArtifact, helloTransfer, bigTransfer);
    }

    private static async Task<Dictionary<string, string>> ModuleDigestsAsync(RouterClient router, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var routing = JsonDocument.Parse(await http.GetStringAsync($"{router.ManagementUrl}/routing", cancellationToken)).RootElement;
        // The bare GET uses the router's own registry credentials, so it pays what the router pays.
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{settings.RegistryUsername}:{settings.RegistryPassword}")));
        return routing.GetProperty("routes").EnumerateArray().ToDictionary(r => r.GetProperty("app").GetString()!, r => r.GetProperty("moduleDigest").GetString()!);
    }

    /// <summary>
    /// How long the router took to fetch the module's precompiled artifact from the registry, from its debug log line
    /// ("Loaded module ... in T ms, F ms of it fetching"); null when it did not load one.
    /// </summary>
    private static double? FetchMs(string log, string? moduleDigest)
    {
        if (moduleDigest is null)
        {
            return null;
        }
        var match = System.Text.RegularExpressions.Regex.Match(log,
            $@"Loaded module {System.Text.RegularExpressions.Regex.Escape(moduleDigest)} from precompiled artifact .*? in [0-9.]+ ms, (?<fetch>[0-9.]+) ms of it fetching");
        return match.Success ? double.Parse(match.Groups["fetch"].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    /// <summary>The Prometheus exporter serves a cached scrape for 300 ms; waiting past that gives current figures.</summary>
    private static async Task<string> FreshMetricsAsync(RouterClient client, CancellationToken cancellationToken)
    {
        await Task.Delay(400, cancellationToken);
        return await client.MetricsAsync(cancellationToken);
    }

    private static async Task<double> TimeAsync(RouterClient client, string app, string expected, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (status, body) = await client.GetAsync(app, "/", cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (status != HttpStatusCode.OK || !body.Contains(expected, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"App '{app}' on a fresh router answered {(int)status}: {body}");
        }
        return elapsed;
    }

    /// <summary>
    /// Size of the app's precompiled artifact and the time one GET of it from the registry takes on loopback, the
    /// "transfer time" of the first-request target. Null when the routing table names no artifact.
    /// </summary>
    private static async Task<(long? Bytes, double? Ms)> ArtifactTransferAsync(BenchSettings settings, RouterClient router, string app, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var routing = JsonDocument.Parse(await http.GetStringAsync($"{router.ManagementUrl}/routing", cancellationToken)).RootElement;
        // The bare GET uses the router's own registry credentials, so it pays what the router pays.
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{settings.RegistryUsername}:{settings.RegistryPassword}")));
        var route = routing.GetProperty("routes").EnumerateArray().FirstOrDefault(r => r.GetProperty("app").GetString() == app);
        if (route.ValueKind != JsonValueKind.Object || !route.TryGetProperty("precompiledDigest", out var digest) || digest.ValueKind != JsonValueKind.String
            || !route.TryGetProperty("repository", out var repository))
        {
            return (null, null);
        }
        var url = $"{settings.RegistryUrl}/v2/{repository.GetString()}/blobs/{digest.GetString()}";
        await http.GetByteArrayAsync(url, cancellationToken); // opens the connection, as the router's warm-up does
        // The registry's answer time varies a lot on a busy machine: the median of several GETs.
        var times = new List<double>();
        long length = 0;
        for (var i = 0; i < 7; i++)
        {
            var started = Stopwatch.GetTimestamp();
            length = (await http.GetByteArrayAsync(url, cancellationToken)).Length;
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return (length, Report.Median(times));
    }

    /// <summary>Total seconds the router spent getting modules ready, whichever way (compile, disk, precompiled artifact).</summary>
    private static double LoadSeconds(string metrics) =>
        Routers.Sum(metrics, "platform_runtime_module_load_duration_seconds_sum") + Routers.Sum(metrics, "platform_runtime_module_compile_duration_seconds_sum");
}
