using System.Diagnostics;
using System.Net;

namespace Platform.Bench;

/// <summary>Upload accepted (201) until the router answers with the new version, over several uploads of a hello-sized module.</summary>
public static class DeployToLive
{
    public static async Task<DeploySection> RunAsync(BenchSettings settings, PlatformApi api, RouterClient router, CancellationToken cancellationToken)
    {
        const string app = "live";
        var hello = File.ReadAllBytes(Path.Combine(settings.AppsDirectory, "hello.wasm"));
        await api.CreateAppAsync(app, cancellationToken);
        var runs = new List<DeployRun>();
        // A run-specific letter keeps modules distinct from an earlier run on the same stack (so nothing is cached yet).
        var letter = (char)('A' + Random.Shared.Next(26));
        for (var i = 1; i <= settings.Deploys; i++)
        {
            var marker = $"{letter}{i:0000}";
            var module = ModuleVariants.HelloWithMarker(hello, marker);
            var started = Stopwatch.GetTimestamp();
            var (number, upload) = await api.UploadAsync(app, module, cancellationToken);
            var accepted = Stopwatch.GetTimestamp();
            await PollAsync(router, app, marker + " from GET /", cancellationToken);
            var live = Stopwatch.GetTimestamp();
            var run = new DeployRun(number, upload.TotalMilliseconds,
                Stopwatch.GetElapsedTime(accepted, live).TotalMilliseconds, Stopwatch.GetElapsedTime(started, live).TotalMilliseconds);
            Console.WriteLine($"  v{number}: upload accepted in {run.UploadMs,6:F0} ms, live {run.LiveAfterAcceptMs,6:F0} ms later ({run.LiveAfterUploadStartMs:F0} ms from upload start)");
            runs.Add(run);
            await Task.Delay(300, cancellationToken);
        }
        return new DeploySection(runs, hello.Length);
    }

    private static async Task PollAsync(RouterClient router, string app, string expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var (status, body) = await router.GetAsync(app, "/", cancellationToken);
            if (status == HttpStatusCode.OK && body.StartsWith(expected, StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(2, cancellationToken);
        }
        throw new TimeoutException($"App '{app}' never answered '{expected}' within 30 s.");
    }
}
