using System.Globalization;
using System.Text;

namespace Platform.Bench;

/// <summary>Targets of issue 6 and the Markdown form of a report.</summary>
public static class Report
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Issue 16's targets, read at the largest size (and its p50 against the smallest size's).</summary>
    public static IReadOnlyList<Target> ScaleTargets(ScaleSection? scale)
    {
        if (scale is null || scale.Runs.Count == 0)
        {
            return [];
        }
        var large = scale.Runs.MaxBy(r => r.Apps)!;
        var small = scale.Runs.MinBy(r => r.Apps)!;
        var at = $"{large.Apps} apps, {scale.Routers} routers";
        return
        [
            new($"One-app change live on every router, p99 ({at})", "< 1 s", $"{large.LiveP99Ms:F0} ms", large.LiveP99Ms < 1000),
            new($"Change-to-live p50 at {large.Apps} vs {small.Apps} apps", "< 2x", $"{large.LiveP50Ms:F0} vs {small.LiveP50Ms:F0} ms", large.LiveP50Ms < 2 * Math.Max(small.LiveP50Ms, 1)),
            new($"Bytes a router receives per one-app change ({at})", "< 10 KB", $"{large.DeltaBytesMedian:F0} B (max {large.DeltaBytesMax} B)", large.DeltaBytesMax < 10 * 1024),
            new($"Router start-to-ready from its saved state ({at})", "< 2 s", $"{large.ReadyFromSavedStateMs:F0} ms", large.ReadyFromSavedStateMs < 2000),
            new($"Router RSS with {large.Apps} routes, no module loaded", "< 300 MB", $"{large.RssMaxBytes / 1e6:F0} MB (max of {scale.Routers})", large.RssMaxBytes < 300_000_000),
        ];
    }

    public static IReadOnlyList<Target> Targets(ThroughputSection? throughput, ColdStartSection? cold, DeploySection? deploy, ManyAppsSection? many)
    {
        var targets = new List<Target>();
        if (throughput is not null)
        {
            foreach (var c in new[] { 16, 64 })
            {
                if (throughput.Find(Throughput.Router, c) is { } r && throughput.Find(Throughput.Kestrel, c) is { } k)
                {
                    // Issue 10: the router's tail within 2x of bare Kestrel's, measured in the same run.
                    var p99Ratio = r.P99Us / (double)Math.Max(1, k.P99Us);
                    targets.Add(new($"Router p99 vs bare Kestrel p99, {c} connections", "<= 2x",
                        $"{p99Ratio:F1}x ({r.P99Us / 1000.0:F2} vs {k.P99Us / 1000.0:F2} ms)", p99Ratio <= 2));
                }
            }
        }
        if (throughput?.Find(Throughput.Router, 64) is { } router)
        {
            if (throughput.Find(Throughput.Kestrel, 64) is { } kestrel)
            {
                var ratio = router.RequestsPerSecond / kestrel.RequestsPerSecond;
                targets.Add(new("Router vs bare Kestrel, 64 connections", ">= 0.41x", $"{ratio:F2}x ({router.RequestsPerSecond:F0} vs {kestrel.RequestsPerSecond:F0} req/s)", ratio >= 0.41));
            }
            if (throughput.Find(Throughput.Cgi, 64) is { } cgi)
            {
                var ratio = router.RequestsPerSecond / cgi.RequestsPerSecond;
                targets.Add(new("Router vs lighttpd mod_cgi, 64 connections", ">= 5x", $"{ratio:F1}x ({router.RequestsPerSecond:F0} vs {cgi.RequestsPerSecond:F0} req/s)", ratio >= 5));
            }
            targets.Add(new("Router p99, 64 connections", "< 5 ms", $"{router.P99Us / 1000.0:F2} ms", router.P99Us < 5000));
        }
        if (throughput is { Unstable.Count: > 0 })
        {
            targets.Add(new("Baselines stable between two runs (within 1.5x)", "stable", string.Join("; ", throughput.Unstable), false));
        }
        if (cold is not null)
        {
            var precompiledRuns = cold.Runs.Where(r => r.Mode == ColdStart.Precompiled).ToList();
            var precompiledUsed = precompiledRuns.All(r => r.Compiles == 0 && r.PrecompiledLoads > 0);
            foreach (var (label, first, transfer) in new[]
            {
                ("30 KB hello", Median(precompiledRuns.Select(r => r.FirstHelloMs)), cold.HelloArtifactTransferMs),
                ("2 MB bigmodule", Median(precompiledRuns.Select(r => r.FirstBigMs)), cold.BigArtifactTransferMs),
            })
            {
                // Issue 10: within 5 ms of what one bare GET of the artifact from the registry takes.
                var beyond = first - (transfer ?? double.NaN);
                targets.Add(new($"First request on a fresh router, precompiled artifact, {label}", "<= bare GET of the artifact + 5 ms",
                    precompiledUsed ? $"{first:F1} ms; bare GET {transfer:F1} ms, so {beyond:F1} ms beyond it" : $"{first:F1} ms; the router compiled (no artifact used)",
                    precompiledUsed && beyond <= 5));
            }
        }
        if (deploy is not null)
        {
            var p50 = Median(deploy.Runs.Select(r => r.LiveAfterAcceptMs));
            targets.Add(new("Deploy-to-live (upload accepted -> router answers it), p50", "< 1 s", $"{p50:F0} ms", p50 < 1000));
        }
        if (many is not null)
        {
            var mib = many.RssAfterCallsBytes / 1048576.0;
            targets.Add(new($"RSS of one router holding {many.Apps} apps, each called once", "< 512 MiB", $"{mib:F0} MiB", mib < 512 && many.Apps >= 1000));
        }
        return targets;
    }

    /// <summary>Issue 15's figures: the JS component beside its peer, and its first request on a fresh router.</summary>
    public static IReadOnlyList<Target> ComponentTargets(ComponentSection? component)
    {
        if (component is null)
        {
            return [];
        }
        var targets = new List<Target>();
        var connections = component.Runs.Select(r => r.Connections).Distinct().Max();
        if (component.Find(Component.RouterTarget, connections) is { } router && component.Find(Component.JcoTarget, connections) is { } jco)
        {
            targets.Add(new($"JS component: router vs jco serve --isolate-requests instance, {connections} connections", "(no goal; the peer)",
                $"{router.RequestsPerSecond / Math.Max(jco.RequestsPerSecond, 0.001):F0}x ({router.RequestsPerSecond:F0} vs {jco.RequestsPerSecond:F1} req/s)", null));
        }
        if (component.ColdRuns.Count > 0)
        {
            var precompiled = component.ColdRuns.All(r => r.Compiles == 0 && r.PrecompiledLoads > 0);
            targets.Add(new("JS component: first request on a fresh router, precompiled artifact", "no compile",
                $"{Median(component.ColdRuns.Select(r => r.FirstRequestMs)):F0} ms{(precompiled ? "" : "; the router compiled")}", precompiled));
        }
        return targets;
    }

    public static string Markdown(BenchReport report)
    {
        var md = new StringBuilder();
        var m = report.Machine;
        md.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark results ({report.StartedAt:yyyy-MM-dd HH:mm} UTC, commit {report.Commit})");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {m.Cpu}, {m.Cores} cores, {m.MemoryBytes / 1073741824.0:F0} GiB RAM; {m.Os}, kernel {m.Kernel}; .NET {m.DotNet}. " +
                                                    $"Load average {m.LoadAverageStart:F1} at the start, {m.LoadAverageEnd:F1} at the end; the run took {report.DurationSeconds:F0} s.");
        md.AppendLine(CultureInfo.InvariantCulture, $"wrk on loopback, {report.Settings.DurationSeconds} s per run after {report.Settings.WarmupSeconds} s of warm-up, at most 2 client threads.");
        md.AppendLine();

        md.AppendLine(report.Scale is null ? "## Targets (issue 6)" : "## Targets (issues 6 and 16)");
        md.AppendLine();
        md.AppendLine("| target | goal | measured | met |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (var t in report.Targets)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Name} | {t.Goal} | {t.Measured} | {(t.Met switch { true => "yes", false => "**no**", _ => "n/a" })} |");
        }
        md.AppendLine();

        if (report.Throughput is { } tp)
        {
            md.AppendLine("## Throughput: hello (fresh Wasm instance per request) vs bare Kestrel vs lighttpd mod_cgi");
            md.AppendLine();
            md.AppendLine("| connections | target | req/s | p50 ms | p99 ms | errors | router / target |");
            md.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var c in report.Settings.Connections)
            {
                var router = tp.Find(Throughput.Router, c);
                foreach (var name in new[] { Throughput.Router, Throughput.Kestrel, Throughput.Cgi })
                {
                    if (tp.Find(name, c) is not { } r)
                    {
                        continue;
                    }
                    var ratio = name == Throughput.Router || router is null ? "" : $"{router.RequestsPerSecond / r.RequestsPerSecond:F2}x";
                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"| {c} | {Label(name)} | {r.RequestsPerSecond:F0} | {r.P50Us / 1000.0:F2} | {r.P99Us / 1000.0:F2} | {r.Errors + r.ErrorStatus} | {ratio} |");
                }
            }
            md.AppendLine();
        }

        if (report.ColdStart is { } cold)
        {
            md.AppendLine("## Cold start: a fresh router (empty cache), first request per module (median of " +
                          $"{report.Settings.ColdStartRepeats} routers, ms, measured by the client)");
            md.AppendLine();
            md.AppendLine("| module | size | first request, precompiled artifact | of which the router fetched the artifact | and verified + mapped it | first request, compiling | router's compile | second request |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            double Med(string mode, Func<ColdStartRun, double> f) => Median(cold.Runs.Where(r => r.Mode == mode).Select(f));
            md.AppendLine(CultureInfo.InvariantCulture, $"| hello | {cold.HelloBytes / 1024.0:F0} KB (artifact {Kb(cold.HelloArtifactBytes)}) | {Med(ColdStart.Precompiled, r => r.FirstHelloMs):F1} | {Med(ColdStart.Precompiled, r => r.HelloFetchMs ?? double.NaN):F1} | {Med(ColdStart.Precompiled, r => r.HelloLoadMs - (r.HelloFetchMs ?? double.NaN)):F1} | {Med(ColdStart.Compile, r => r.FirstHelloMs):F1} | {Med(ColdStart.Compile, r => r.HelloLoadMs):F1} | {Med(ColdStart.Precompiled, r => r.SecondHelloMs):F2} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| bigmodule | {cold.BigBytes / 1024.0:F0} KB (artifact {Kb(cold.BigArtifactBytes)}) | {Med(ColdStart.Precompiled, r => r.FirstBigMs):F1} | {Med(ColdStart.Precompiled, r => r.BigFetchMs ?? double.NaN):F1} | {Med(ColdStart.Precompiled, r => r.BigLoadMs - (r.BigFetchMs ?? double.NaN)):F1} | {Med(ColdStart.Compile, r => r.FirstBigMs):F1} | {Med(ColdStart.Compile, r => r.BigLoadMs):F1} | {Med(ColdStart.Precompiled, r => r.SecondBigMs):F2} |");
            md.AppendLine();
            md.AppendLine("First and second requests are measured by the client, connection set-up included; hello is the first module each fresh " +
                          "router loads, so its figure also carries what is paid once per process. The fetch and load columns are the router's own " +
                          "figures (its debug log and platform_runtime_module_load/compile_duration); a compile figure excludes pulling the module.");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Artifact transfer from the registry alone (median of 7 GETs on loopback): hello {Ms(cold.HelloArtifactTransferMs)}, bigmodule {Ms(cold.BigArtifactTransferMs)}. " +
                                                        $"Router start to ready (routing table loaded): {Med(ColdStart.Precompiled, r => r.ReadyMs):F0} ms. " +
                                                        $"Compiles on the precompiled routers: {cold.Runs.Where(r => r.Mode == ColdStart.Precompiled).Sum(r => r.Compiles)}; " +
                                                        $"on the compiling ones: {cold.Runs.Where(r => r.Mode == ColdStart.Compile).Sum(r => r.Compiles)}.");
            md.AppendLine();
        }

        if (report.Deploy is { } deploy)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"## Deploy-to-live ({deploy.Runs.Count} uploads of a {deploy.ModuleBytes / 1024.0:F0} KB module, ms)");
            md.AppendLine();
            md.AppendLine("| | p50 | min | max |");
            md.AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var (label, f) in new (string, Func<DeployRun, double>)[]
            {
                ("upload accepted -> router answers it", r => r.LiveAfterAcceptMs),
                ("upload request (validate, compile, push, record)", r => r.UploadMs),
                ("upload start -> router answers it", r => r.LiveAfterUploadStartMs),
            })
            {
                var values = deploy.Runs.Select(f).ToList();
                md.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {Median(values):F0} | {values.Min():F0} | {values.Max():F0} |");
            }
            md.AppendLine();
        }

        if (report.Component is { } component)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"## JS component ({component.ComponentBytes / 1048576.0:F1} MB, Spin JS SDK v3 via j2w): router vs jco serve --isolate-requests instance");
            md.AppendLine();
            md.AppendLine("| connections | target | req/s | p50 ms | p99 ms | errors | router / target |");
            md.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var c in component.Runs.Select(r => r.Connections).Distinct())
            {
                var router = component.Find(Component.RouterTarget, c);
                foreach (var name in new[] { Component.RouterTarget, Component.JcoTarget })
                {
                    if (component.Find(name, c) is not { } r)
                    {
                        continue;
                    }
                    var ratio = name == Component.RouterTarget || router is null ? "" : $"{router.RequestsPerSecond / Math.Max(r.RequestsPerSecond, 0.001):F0}x";
                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"| {c} | {(name == Component.RouterTarget ? "router (fresh component instance)" : "jco serve (fresh instance, Node)")} | {r.RequestsPerSecond:F1} | {r.P50Us / 1000.0:F2} | {r.P99Us / 1000.0:F2} | {r.Errors + r.ErrorStatus} | {ratio} |");
                }
            }
            md.AppendLine();
            if (component.ColdRuns.Count > 0)
            {
                var runs = component.ColdRuns;
                md.AppendLine(CultureInfo.InvariantCulture, $"Fresh routers (median of {runs.Count}): first request {Median(runs.Select(r => r.FirstRequestMs)):F0} ms " +
                    $"(the router's load of the precompiled artifact {Median(runs.Select(r => r.LoadMs)):F0} ms), second request {Median(runs.Select(r => r.SecondRequestMs)):F2} ms; " +
                    $"RSS {Median(runs.Select(r => r.RssReadyBytes / 1048576.0)):F0} MiB at ready, {Median(runs.Select(r => r.RssLoadedBytes / 1048576.0)):F0} MiB with the component loaded " +
                    $"(+{Median(runs.Select(r => (r.RssLoadedBytes - r.RssReadyBytes) / 1048576.0)):F0} MiB per loaded component); " +
                    $"compiles {runs.Sum(r => r.Compiles)}, precompiled loads {runs.Sum(r => r.PrecompiledLoads)}. " +
                    $"Upload accepted in {component.UploadMs / 1000.0:F1} s (validate, compile in the child, push the artifact).");
                md.AppendLine();
            }
        }

        if (report.ManyApps is { } many)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"## One router, {many.Apps} apps");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"{many.Apps} apps, each its own module (hello with a distinct custom section), deployed in {many.DeploySeconds:F0} s; " +
                                                        $"a fresh router (module cache capacity {many.MaxCachedModules}, so every module stays loaded) called each once in {many.CallSeconds:F1} s " +
                                                        $"({many.Failures} failures, {many.Compiles} compiles, {many.PrecompiledLoads} precompiled loads).");
            md.AppendLine();
            md.AppendLine("| RSS before the calls | RSS after | peak |");
            md.AppendLine("| ---: | ---: | ---: |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| {many.RssBeforeCallsBytes / 1048576.0:F0} MiB | {many.RssAfterCallsBytes / 1048576.0:F0} MiB | {many.PeakRssBytes / 1048576.0:F0} MiB |");
            md.AppendLine();
        }
        if (report.Scale is { } scale)
        {
            md.AppendLine("## Routing at scale");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Apps seeded straight into the benchmark's own PostgreSQL (rows copied from one deployed app, all on one module), " +
                                                        $"{scale.Routers} routers on this machine, {scale.Changes} one-app variable changes through the API per size. " +
                                                        $"Live = every router holds the change's revision (its /routing/revision); bytes = one delta answer as a router gets it (compressed, with headers); " +
                                                        $"CPU = the control plane's user+system time over the changes (routers long-polling meanwhile) divided by the changes.");
            md.AppendLine();
            md.AppendLine("| apps | live p50 | live p99 | live max | bytes/router/change | CP CPU/change | snapshot on the wire | ready from empty | ready from saved state | RSS median / max, no module |");
            md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var r in scale.Runs)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Apps} | {r.LiveP50Ms:F0} ms | {r.LiveP99Ms:F0} ms | {r.LiveMaxMs:F0} ms | {r.DeltaBytesMedian:F0} B | {r.ControlPlaneCpuMsPerChange:F1} ms | " +
                                                            $"{r.SnapshotWireBytes / 1024.0:F0} KB | {r.ReadyFromEmptyMs:F0} ms | {r.ReadyFromSavedStateMs:F0} ms | {r.RssMedianBytes / 1e6:F0} / {r.RssMaxBytes / 1e6:F0} MB |");
            }
            md.AppendLine();
        }
        return md.ToString();

        static string Kb(long? bytes) => bytes is { } b ? $"{b / 1024.0:F0} KB" : "none";
        static string Ms(double? ms) => ms is { } v ? $"{v:F1} ms" : "n/a";
    }

    private static string Label(string target) => target switch
    {
        Throughput.Router => "router (Wasm)",
        Throughput.Kestrel => "bare Kestrel",
        _ => "lighttpd mod_cgi",
    };
}
