namespace Platform.Bench;

/// <summary>The router serving hello next to the physical limit (bare Kestrel) and the classic alternative (lighttpd mod_cgi).</summary>
public static class Throughput
{
    public const string Router = "router";
    public const string Kestrel = "kestrel";
    public const string Cgi = "cgi";

    // A baseline that moves more than this between two runs a minute apart says more about the machine than the code.
    private const double MaxBaselineDrift = 1.5;
    private const int MaxAttempts = 3;

    public static async Task<ThroughputSection> RunAsync(BenchSettings settings, PlatformApi api, RouterClient router, CancellationToken cancellationToken)
    {
        var hello = File.ReadAllBytes(Path.Combine(settings.AppsDirectory, "hello.wasm"));
        await api.EnsureDeployedAsync("hello", hello, cancellationToken);
        await router.WaitForAsync("hello", "/", "Hello from GET /", TimeSpan.FromSeconds(30), cancellationToken);

        var kestrelUrl = $"http://127.0.0.1:{settings.PortBase}";
        var cgiUrl = $"http://127.0.0.1:{settings.PortBase + 1}";
        await using var kestrel = ChildProcess.Start("bare Kestrel", "dotnet", [settings.BaselineDll, "--urls", kestrelUrl],
            Path.Combine(settings.OutputDirectory, "kestrel.log"), workingDirectory: Path.GetDirectoryName(settings.BaselineDll));
        await using var lighttpd = StartLighttpd(settings, settings.PortBase + 1);
        await RouterClient.WaitHealthyAsync(kestrelUrl + "/", kestrel, TimeSpan.FromSeconds(30), cancellationToken);
        await RouterClient.WaitHealthyAsync(cgiUrl + "/", lighttpd, TimeSpan.FromSeconds(30), cancellationToken);

        // The three must answer the same bytes, or the comparison says nothing.
        using var plain = new HttpClient();
        var bodies = new Dictionary<string, string>
        {
            [Router] = (await router.GetAsync("hello", "/", cancellationToken)).Body,
            [Kestrel] = await plain.GetStringAsync(kestrelUrl + "/", cancellationToken),
            [Cgi] = await plain.GetStringAsync(cgiUrl + "/", cancellationToken),
        };
        if (bodies.Values.Distinct().Count() != 1)
        {
            throw new InvalidOperationException("The three targets answer different bodies: " +
                string.Join("; ", bodies.Select(kv => $"{kv.Key}='{kv.Value.ReplaceLineEndings("\\n")}'")));
        }

        var targets = new (string Name, string Url, string? Host)[]
        {
            (Router, router.RouterUrl + "/", router.HostOf("hello")),
            (Kestrel, kestrelUrl + "/", null),
            (Cgi, cgiUrl + "/", null),
        };
        var runs = new List<WrkResult>();
        var unstable = new List<string>();
        // Connection count outermost: the figures a ratio compares are taken minutes apart at most, not the whole run.
        foreach (var connections in settings.Connections)
        {
            // The baselines are measured twice (before and after the others); when either moved by more than
            // MaxBaselineDrift, the machine changed under the measurement and the set is measured again (a loaded
            // machine once made lighttpd look 9x slower than it is). What stays unstable is flagged in the report.
            List<WrkResult> set = [];
            string? drift = null;
            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                set = [];
                foreach (var (name, url, host) in targets)
                {
                    set.Add(await MeasureAsync(settings, name, url, host, connections, cancellationToken));
                }
                drift = null;
                foreach (var (name, url, host) in targets.Where(t => t.Name != Router))
                {
                    var again = await MeasureAsync(settings, name, url, host, connections, cancellationToken, label: $"{name} again");
                    var first = set.First(r => r.Target == name);
                    var moved = Math.Max(first.RequestsPerSecond, again.RequestsPerSecond) / Math.Max(1, Math.Min(first.RequestsPerSecond, again.RequestsPerSecond));
                    if (moved > MaxBaselineDrift)
                    {
                        drift = (drift is null ? "" : drift + "; ") + $"{name} at c={connections} moved {moved:F1}x between two runs ({first.RequestsPerSecond:F0} then {again.RequestsPerSecond:F0} req/s)";
                    }
                }
                if (drift is null)
                {
                    break;
                }
                Console.WriteLine($"  unstable baseline (attempt {attempt} of {MaxAttempts}): {drift}");
            }
            if (drift is not null)
            {
                unstable.Add(drift);
            }
            runs.AddRange(set);
        }
        return new ThroughputSection(runs, bodies, unstable);
    }

    private static async Task<WrkResult> MeasureAsync(BenchSettings settings, string name, string url, string? host, int connections,
        CancellationToken cancellationToken, string? label = null)
    {
        if (settings.WarmupSeconds > 0)
        {
            await Wrk.RunAsync(name, url, host, connections, settings.WarmupSeconds, cancellationToken);
        }
        var result = await Wrk.RunAsync(name, url, host, connections, settings.DurationSeconds, cancellationToken);
        Console.WriteLine($"  {label ?? name,-14} c={connections,-3} {result.RequestsPerSecond,10:F0} req/s  p50 {result.P50Us / 1000.0,8:F2} ms  p99 {result.P99Us / 1000.0,8:F2} ms" +
                          $"  errors {result.Errors + result.ErrorStatus}  (load {result.LoadAverageBefore:F1})");
        return result;
    }

    private static ChildProcess StartLighttpd(BenchSettings settings, int port)
    {
        // mod_cgi forks and execs the native hello for every request: the classic per-request-process model.
        var folder = Path.Combine(settings.OutputDirectory, "lighttpd");
        Directory.CreateDirectory(folder);
        var cgiDirectory = Path.GetDirectoryName(Path.GetFullPath(settings.CgiProgram))!;
        var cgiName = Path.GetFileName(settings.CgiProgram);
        var config = Path.Combine(folder, "lighttpd.conf");
        File.WriteAllText(config, $"""
            server.document-root = "{cgiDirectory}"
            server.bind = "127.0.0.1"
            server.port = {port}
            server.modules = ( "mod_rewrite", "mod_cgi" )
            server.errorlog = "{folder}/error.log"
            server.tag = "lighttpd"
            server.max-connections = 1024
            # Every path runs the program, with the path as PATH_INFO, as the router does for an app.
            url.rewrite-once = ( "^/(.*)$" => "/{cgiName}/$1" )
            cgi.assign = ( "{Path.GetExtension(cgiName)}" => "" )
            """);
        return ChildProcess.Start("lighttpd", "lighttpd", ["-D", "-f", config], Path.Combine(folder, "lighttpd.log"));
    }
}
