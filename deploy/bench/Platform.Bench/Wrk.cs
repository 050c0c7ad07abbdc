using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Platform.Bench;

/// <summary>One wrk run's figures (latencies in microseconds, as wrk measures them).</summary>
public sealed record WrkResult(
    string Target, int Connections, int Threads, double Seconds, long Requests, double RequestsPerSecond,
    long P50Us, long P90Us, long P99Us, long MaxUs, double MeanUs, long Errors, long ErrorStatus, double LoadAverageBefore);

/// <summary>Runs wrk (the Debian package) with a Lua hook that prints the summary as one JSON line.</summary>
public static class Wrk
{
    // wrk's done() hook sees the exact latency histogram; parsing its text output would lose precision.
    private const string ReportScript = """
        done = function(summary, latency, requests)
          io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
            '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
            summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
            summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
            latency:percentile(99), latency.max, latency.mean))
        end
        """;

    private static string? s_scriptPath;

    public static void Prepare(string directory)
    {
        s_scriptPath = Path.Combine(directory, "wrk-report.lua");
        File.WriteAllText(s_scriptPath, ReportScript);
    }

    public static async Task<WrkResult> RunAsync(string target, string url, string? hostHeader, int connections, int seconds, CancellationToken cancellationToken)
    {
        var script = s_scriptPath ?? throw new InvalidOperationException("Wrk.Prepare was not called.");
        // Two client threads at most: the machine has two cores and the server under test needs them too.
        var threads = Math.Min(connections, Math.Min(2, Environment.ProcessorCount));
        var args = new List<string> { "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", $"{seconds}s", "--timeout", "5s", "-s", script };
        if (hostHeader is not null)
        {
            args.AddRange(["-H", $"Host: {hostHeader}"]);
        }
        args.Add(url);
        var load = LoadAverage();
        var psi = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        args.ForEach(psi.ArgumentList.Add);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start wrk.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = await stdout;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRKJSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk against {url} printed no summary (exit {process.ExitCode}):\n{output}\n{await stderr}");
        using var json = JsonDocument.Parse(line["WRKJSON ".Length..]);
        var r = json.RootElement;
        long L(string name) => r.GetProperty(name).GetInt64();
        var duration = L("duration_us") / 1e6;
        return new WrkResult(target, connections, threads, duration, L("requests"), L("requests") / duration,
            L("p50"), L("p90"), L("p99"), L("max"), r.GetProperty("mean").GetDouble(),
            L("connect") + L("read") + L("write") + L("timeout"), L("status"), load);
    }

    /// <summary>One-minute load average: a figure taken while other work ran on the machine is not comparable.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
