using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Platform.Bench;

/// <summary>
/// Routing at scale (issue 16): N apps seeded straight into the benchmark stack's own PostgreSQL (rows copied from
/// one app deployed through the API, so every app points at the same module), several routers on this machine, and
/// one-app changes through the API: how long until every router has the change, what a router receives per change,
/// the control plane's CPU per change, a router's start-to-ready from its saved table and its RSS with no module loaded.
/// Sizes run in increasing order on the same database (the larger seed adds to the smaller).
/// </summary>
public static class Scale
{
    public const string SeedApp = "scale-seed";

    public static async Task<ScaleSection> RunAsync(BenchSettings settings, PlatformApi api, Routers routers, CancellationToken cancellationToken)
    {
        var module = File.ReadAllBytes(Path.Combine(settings.AppsDirectory, "hello.wasm"));
        await api.EnsureDeployedAsync(SeedApp, module, cancellationToken);
        using var router = new HttpClient { BaseAddress = new Uri(settings.ControlPlaneUrl), Timeout = TimeSpan.FromSeconds(120) };
        router.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.RouterToken);
        using var admin = new HttpClient { BaseAddress = new Uri(settings.ControlPlaneUrl), Timeout = TimeSpan.FromSeconds(60) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.AdminKey);

        var runs = new List<ScaleRun>();
        var seeded = 0;
        foreach (var size in settings.ScaleApps.Order())
        {
            var seedStarted = Stopwatch.GetTimestamp();
            seeded += await SeedAsync(settings.DatabaseConnectionString!, size - seeded, seeded, cancellationToken);
            var seedSeconds = Stopwatch.GetElapsedTime(seedStarted).TotalSeconds;
            Console.WriteLine($"  {size} apps: seeded {seedSeconds:F1} s");
            runs.Add(await MeasureAsync(settings, size, seedSeconds, routers, router, admin, cancellationToken));
        }
        return new ScaleSection(settings.ScaleRouters, settings.ScaleChanges, runs);
    }

    /// <summary>Copies the seed app's row and version <paramref name="count"/> times (names s0000001...); returns how many were added.</summary>
    private static async Task<int> SeedAsync(string connectionString, int count, int offset, CancellationToken cancellationToken)
    {
        if (count <= 0)
        {
            return 0;
        }
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync(cancellationToken);
        await using var transaction = await db.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            CREATE TEMP TABLE scale_ids ON COMMIT DROP AS
                SELECT gen_random_uuid() AS id, 's' || lpad(n::text, 7, '0') AS name FROM generate_series(@from, @to) AS n;
            INSERT INTO apps ("Id", "Name", "CreatedAt", "UpdatedAt", "ActiveVersionNumber", "DeployedAt", "Variables", "AllowedOutboundHosts", "TenantId")
                SELECT s.id, s.name, now(), now(), 1, now(), '{"GREETING":"hello"}', '{}', (SELECT "TenantId" FROM apps WHERE "Name" = @seed) FROM scale_ids s;
            INSERT INTO app_versions ("Id", "AppId", "Number", "ModuleDigest", "ManifestDigest", "Repository", "OciReference", "SizeBytes", "CreatedAt",
                                      "PrecompiledReference", "PrecompiledDigest", "PrecompiledFingerprint")
                SELECT gen_random_uuid(), s.id, 1, v."ModuleDigest", v."ManifestDigest", v."Repository", v."OciReference", v."SizeBytes", now(),
                       v."PrecompiledReference", v."PrecompiledDigest", v."PrecompiledFingerprint"
                FROM scale_ids s, apps a JOIN app_versions v ON v."AppId" = a."Id" AND v."Number" = a."ActiveVersionNumber"
                WHERE a."Name" = @seed;
            """, db, transaction))
        {
            insert.Parameters.AddWithValue("from", offset + 1);
            insert.Parameters.AddWithValue("to", offset + count);
            insert.Parameters.AddWithValue("seed", SeedApp);
            insert.CommandTimeout = 600;
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    // The RSS figure is for routes alone: no module is fetched ahead of a request.
    private static readonly Dictionary<string, string> NoPrefetch = new() { ["Platform__Router__PrefetchApps"] = "0" };

    private static async Task<ScaleRun> MeasureAsync(BenchSettings settings, int size, double seedSeconds, Routers routers, HttpClient router, HttpClient admin,
        CancellationToken cancellationToken)
    {
        var snapshotBytes = await WireBytesAsync(router, "since=0", cancellationToken);
        var started = new List<(ChildProcess Process, RouterClient Client, string Name)>();
        try
        {
            var firstReady = new List<double>();
            for (var i = 0; i < settings.ScaleRouters; i++)
            {
                var name = $"scale-{size}-{i}";
                var (process, client, readyMs) = await routers.StartAsync(name, NoPrefetch, cancellationToken);
                started.Add((process, client, name));
                firstReady.Add(readyMs);
            }
            // Every router holds the whole table before anything is measured (and no module is loaded yet).
            foreach (var r in started)
            {
                await WaitRevisionAsync(r.Client, await HeadAsync(settings, cancellationToken), TimeSpan.FromMinutes(5), cancellationToken);
            }
            await Task.Delay(2000, cancellationToken);
            var rss = started.Select(r => r.Process.Memory().Rss).ToList();
            Console.WriteLine($"  {size} apps: {settings.ScaleRouters} routers ready from empty in {Report.Median(firstReady):F0} ms (median), " +
                              $"RSS {Report.Median(rss.Select(x => (double)x)) / 1048576.0:F0} MiB (median, no module loaded); snapshot {snapshotBytes / 1024.0:F0} KB on the wire");

            var cpuBefore = CpuSeconds(settings.ControlPlanePid);
            var live = new List<double>();
            var bytes = new List<long>();
            var rng = new Random(size);
            for (var c = 0; c < settings.ScaleChanges; c++)
            {
                var head = await HeadAsync(settings, cancellationToken);
                var app = "s" + rng.Next(1, size).ToString("0000000", CultureInfo.InvariantCulture);
                var t0 = Stopwatch.GetTimestamp();
                using (var patch = await admin.PatchAsJsonAsync($"/api/v1/apps/{app}", new { variables = new Dictionary<string, string> { ["GREETING"] = $"change-{c}" } }, cancellationToken))
                {
                    patch.EnsureSuccessStatusCode();
                }
                var target = await HeadAsync(settings, cancellationToken);
                await Task.WhenAll(started.Select(async r =>
                {
                    await WaitRevisionAsync(r.Client, target, TimeSpan.FromSeconds(30), cancellationToken);
                    lock (live)
                    {
                        live.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    }
                }));
                // What one router receives for this change: the delta from the revision before it, as routers ask (compressed).
                bytes.Add(await WireBytesAsync(router, $"since={head.Revision}&epoch={head.Epoch}", cancellationToken));
            }
            var cpuPerChangeMs = (CpuSeconds(settings.ControlPlanePid) - cpuBefore) * 1000 / settings.ScaleChanges;

            // Restart one router gracefully: it saves its table with the revision and resumes from it.
            var victim = started[0];
            await victim.Process.DisposeAsync();
            started.RemoveAt(0);
            var (restarted, restartedClient, restartReadyMs) = await routers.StartAsync(victim.Name, NoPrefetch, cancellationToken, keepState: true);
            started.Insert(0, (restarted, restartedClient, victim.Name));
            var sorted = live.Order().ToArray();
            var run = new ScaleRun(size, seedSeconds, snapshotBytes, Report.Median(firstReady), restartReadyMs,
                Report.Median(rss.Select(x => (double)x)), rss.Max(), Percentile(sorted, 0.5), Percentile(sorted, 0.99), sorted.Max(),
                Report.Median(bytes.Select(b => (double)b)), bytes.Max(), cpuPerChangeMs);
            Console.WriteLine($"  {size} apps: change-to-live on all {settings.ScaleRouters} routers p50 {run.LiveP50Ms:F0} ms, p99 {run.LiveP99Ms:F0} ms; " +
                              $"{run.DeltaBytesMedian:F0} bytes per router per change; control plane {cpuPerChangeMs:F1} ms CPU per change; " +
                              $"restart from saved state ready in {restartReadyMs:F0} ms");
            return run;
        }
        finally
        {
            foreach (var r in started)
            {
                r.Client.Dispose();
                await r.Process.DisposeAsync();
            }
        }
    }

    private sealed record Head(string Epoch, long Revision);

    private static async Task<Head> HeadAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        await using var db = new NpgsqlConnection(settings.DatabaseConnectionString);
        await db.OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand("""SELECT "Epoch", "Revision" FROM routing_state WHERE "Id" = 1""", db);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new(reader.GetGuid(0).ToString("N"), reader.GetInt64(1));
    }

    private static async Task WaitRevisionAsync(RouterClient client, Head head, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                var root = JsonDocument.Parse(await http.GetStringAsync($"{client.ManagementUrl}/routing/revision", cancellationToken)).RootElement;
                if (root.GetProperty("epoch").GetString() == head.Epoch
                    && long.Parse(root.GetProperty("revision").GetString()!, CultureInfo.InvariantCulture) >= head.Revision)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"router {client.ManagementUrl} did not reach revision {head.Revision} within {timeout}");
            }
            await Task.Delay(2, cancellationToken);
        }
    }

    /// <summary>Bytes of one routing answer as a router receives it (gzip/brotli accepted): status line, headers and body.</summary>
    private static async Task<long> WireBytesAsync(HttpClient router, string query, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/internal/v1/routes?{query}");
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");
        using var response = await router.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers).Sum(h => h.Key.Length + 4 + h.Value.Sum(v => v.Length));
        return body.LongLength + headers + 17;
    }

    /// <summary>
    /// User plus system CPU seconds of a process and its descendants (/proc/PID/stat, clock ticks of 1/100 s): the
    /// recorded pid may be the launcher (setsid, env) of the control plane rather than the control plane itself.
    /// </summary>
    private static double CpuSeconds(int root)
    {
        var stats = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                stats[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture),
                    long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
        }
        long total = 0;
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out var pid))
        {
            if (stats.TryGetValue(pid, out var s))
            {
                total += s.Ticks;
            }
            foreach (var (child, info) in stats)
            {
                if (info.Parent == pid)
                {
                    pending.Push(child);
                }
            }
        }
        return total / 100.0;
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
