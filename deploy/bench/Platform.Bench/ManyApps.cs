using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Platform.Bench;

/// <summary>Memory of one router holding N deployed apps (distinct modules), each called once.</summary>
public static class ManyApps
{
    public static async Task<ManyAppsSection> RunAsync(BenchSettings settings, PlatformApi api, Routers routers, CancellationToken cancellationToken)
    {
        var count = settings.ManyApps;
        var hello = File.ReadAllBytes(Path.Combine(settings.AppsDirectory, "hello.wasm"));
        var nonce = Guid.NewGuid().ToString("N")[..8];
        var names = Enumerable.Range(1, count).Select(i => "m" + i.ToString("0000", CultureInfo.InvariantCulture)).ToList();

        var deployStarted = Stopwatch.GetTimestamp();
        var done = 0;
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (name, ct) =>
        {
            await api.CreateAppAsync(name, ct);
            // Each app its own module (a distinct custom section), as real apps would be: nothing shared in any cache.
            await api.UploadAsync(name, ModuleVariants.WithCustomSection(hello, $"{name}-{nonce}"), ct);
            if (Interlocked.Increment(ref done) % 100 == 0)
            {
                Console.WriteLine($"  deployed {done}/{count}");
            }
        });
        var deploySeconds = Stopwatch.GetElapsedTime(deployStarted).TotalSeconds;

        // Enough cache slots that every module stays loaded: the figure is for a router holding all of them.
        var capacity = Math.Max(256, count + 64);
        var (process, client, _) = await routers.StartAsync("many-apps", new Dictionary<string, string>
        {
            ["Platform__Runtime__MaxCachedModules"] = capacity.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken);
        await using (process)
        using (client)
        {
            var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
            while (await client.RouteCountAsync(cancellationToken) < count && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
            await Task.Delay(1000, cancellationToken);
            var before = process.Memory();

            var callStarted = Stopwatch.GetTimestamp();
            var failures = 0;
            await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (name, ct) =>
            {
                var (status, body) = await client.GetAsync(name, "/", ct);
                if (status != HttpStatusCode.OK || !body.StartsWith("Hello from", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref failures);
                }
            });
            var callSeconds = Stopwatch.GetElapsedTime(callStarted).TotalSeconds;
            await Task.Delay(2000, cancellationToken);
            var after = process.Memory();
            var metrics = await client.MetricsAsync(cancellationToken);
            var section = new ManyAppsSection(count, deploySeconds, callSeconds, before.Rss, after.Rss, after.Peak,
                Routers.Compiles(metrics), Routers.PrecompiledLoads(metrics), capacity, failures);
            Console.WriteLine($"  {count} apps deployed in {deploySeconds:F1} s, called in {callSeconds:F1} s ({failures} failed); " +
                              $"RSS {before.Rss / 1048576.0:F0} MiB before calls, {after.Rss / 1048576.0:F0} MiB after (peak {after.Peak / 1048576.0:F0} MiB); " +
                              $"compiles {section.Compiles}, precompiled loads {section.PrecompiledLoads}");
            return section;
        }
    }
}
