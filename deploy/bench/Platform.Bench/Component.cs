using System.Diagnostics;
using System.Net;

namespace Platform.Bench;

/// <summary>
/// The Spin JS SDK app built with j2w (tests/apps/components/js-echo, about 12 MB): the router serving it from a
/// fresh component instance per request against the same component under <c>jco serve --isolate-requests instance</c>
/// (Node, a fresh instance per request too), in the same run; the first request on fresh routers that load the
/// precompiled artifact; and what a loaded component costs a router in resident memory.
/// </summary>
public static class Component
{
    public const string App = "js-app";
    public const string RouterTarget = "router-js";
    public const string JcoTarget = "jco-serve";

    public static async Task<ComponentSection> RunAsync(BenchSettings settings, PlatformApi api, RouterClient mainRouter, Routers routers, CancellationToken cancellationToken)
    {
        var wasm = Path.Combine(settings.AppsDirectory, "components", "js-echo.wasm");
        var module = File.ReadAllBytes(wasm);
        await api.CreateAppAsync(App, cancellationToken);
        var upload = TimeSpan.Zero;
        if (await api.ActiveVersionAsync(App, cancellationToken) is null)
        {
            // The upload compiles the component in the control plane's compile child (seconds) and pushes the artifact.
            (_, upload) = await api.UploadAsync(App, module, cancellationToken);
        }
        await mainRouter.WaitForAsync(App, "/", "\"method\":\"GET\"", TimeSpan.FromSeconds(120), cancellationToken);
        Console.WriteLine($"  upload accepted in {upload.TotalSeconds:F1} s (validate + compile + push; 0 when it was deployed already)");

        var jcoUrl = $"http://127.0.0.1:{settings.PortBase + 2}";
        var runs = new List<WrkResult>();
        await using (var jco = ChildProcess.Start("jco serve", "setsid", ["npx", "--no-install", "jco", "serve", "--port", (settings.PortBase + 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
                   "--host", "127.0.0.1", "--isolate-requests", "instance", wasm],
                   Path.Combine(settings.OutputDirectory, "jco-serve.log"), workingDirectory: settings.ComponentsDirectory))
        {
            // jco transpiles the component to JS before it listens, which takes a while for 12 MB.
            await RouterClient.WaitHealthyAsync(jcoUrl + "/", jco, TimeSpan.FromSeconds(300), cancellationToken);
            using var plain = new HttpClient();
            var jcoBody = await plain.GetStringAsync(jcoUrl + "/", cancellationToken);
            var routerBody = (await mainRouter.GetAsync(App, "/", cancellationToken)).Body;
            // Both run the same echo; the bodies differ only in the URL and headers they describe.
            if (!jcoBody.Contains("\"method\":\"GET\"", StringComparison.Ordinal) || !routerBody.Contains("\"method\":\"GET\"", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The JS app answers unlike itself: router '{routerBody}', jco '{jcoBody}'");
            }
            foreach (var connections in settings.Connections)
            {
                foreach (var (name, url, host) in new (string, string, string?)[] { (RouterTarget, mainRouter.RouterUrl + "/", mainRouter.HostOf(App)), (JcoTarget, jcoUrl + "/", null) })
                {
                    if (settings.WarmupSeconds > 0)
                    {
                        await Wrk.RunAsync(name, url, host, connections, settings.WarmupSeconds, cancellationToken);
                    }
                    var result = await Wrk.RunAsync(name, url, host, connections, settings.DurationSeconds, cancellationToken);
                    Console.WriteLine($"  {name,-9} c={connections,-3} {result.RequestsPerSecond,10:F0} req/s  p50 {result.P50Us / 1000.0,8:F2} ms  p99 {result.P99Us / 1000.0,8:F2} ms" +
                                      $"  errors {result.Errors + result.ErrorStatus}  (load {result.LoadAverageBefore:F1})");
                    runs.Add(result);
                }
            }
        }

        var cold = new List<ComponentColdRun>();
        for (var repeat = 1; repeat <= settings.ColdStartRepeats; repeat++)
        {
            var (process, client, readyMs) = await routers.StartAsync($"component-{repeat}", null, cancellationToken);
            await using (process)
            using (client)
            {
                var (rssReady, _) = process.Memory();
                var started = Stopwatch.GetTimestamp();
                var (status, body) = await client.GetAsync(App, "/", cancellationToken);
                var firstMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (status != HttpStatusCode.OK || !body.Contains("\"method\":\"GET\"", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The JS app on a fresh router answered {(int)status}: {body}");
                }
                var (rssLoaded, _) = process.Memory();
                started = Stopwatch.GetTimestamp();
                await client.GetAsync(App, "/", cancellationToken);
                var secondMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                // The Prometheus exporter caches a scrape for 300 ms.
                await Task.Delay(400, cancellationToken);
                var metrics = await client.MetricsAsync(cancellationToken);
                var run = new ComponentColdRun(repeat, readyMs, firstMs, secondMs, Routers.Compiles(metrics), Routers.PrecompiledLoads(metrics),
                    Routers.Sum(metrics, "platform_runtime_module_load_duration_seconds_sum") * 1000, rssReady, rssLoaded);
                Console.WriteLine($"  fresh router #{repeat}: first request {firstMs:F1} ms (load {run.LoadMs:F1} ms), second {secondMs:F2} ms; " +
                                  $"RSS {rssReady / 1048576.0:F0} -> {rssLoaded / 1048576.0:F0} MiB; compiles {run.Compiles}, precompiled loads {run.PrecompiledLoads}");
                cold.Add(run);
            }
        }
        return new ComponentSection(module.Length, upload.TotalMilliseconds, runs, cold);
    }
}
