using System.Diagnostics;
using System.Net.Http.Headers;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>Large uploads arriving together cost the control plane a bounded amount of memory (a process of its own, measured).</summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class UploadMemoryTests(ControlPlaneFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Eight_concurrent_60_MiB_uploads_do_not_grow_the_control_plane_by_a_gigabyte()
    {
        var db = await fixture.Postgres.CreateDatabaseAsync();
        // Uploads take turns (2 at a time); on a loaded machine the last ones wait longer than the default 120 s.
        await using var cp = await PlatformProcesses.StartControlPlaneAsync(db, fixture.Registry.Url, routerPort: 8080,
            extra: new Dictionary<string, string?> { ["Platform__Apps__UploadQueueSeconds"] = "900" });
        using var client = cp.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);
        var apps = Enumerable.Range(0, 8).Select(i => ApiHelpers.UniqueAppName($"big{i}")).ToList();
        foreach (var app in apps)
        {
            await client.CreateAppAsync(app);
        }
        // Warm the upload path once, so the baseline includes what any upload loads.
        (await client.UploadAsync(apps[0], TestApps.Bytes("hello"))).EnsureSuccessStatusCode();
        var module = Padded(TestApps.Bytes("loop"), 60 * 1024 * 1024);
        var baseline = ResidentBytes(cp.Process.Id);

        long peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes(cp.Process.Id));
                await Task.Delay(25);
            }
        });
        var started = Stopwatch.GetTimestamp();
        var uploads = apps.Select(async app =>
        {
            var content = new ByteArrayContent(module);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
            using var response = await client.PostAsync($"/api/v1/apps/{app}/versions", content);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }).ToList();
        var results = await Task.WhenAll(uploads);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        stop.Cancel();
        await sampler;

        const long MiB = 1024 * 1024;
        output.WriteLine($"8 x 60 MiB uploads in {seconds:F1} s: control plane resident {baseline / MiB} MiB before, peak {peak / MiB} MiB " +
            $"(+{(peak - baseline) / MiB} MiB); statuses {string.Join(",", results.Select(r => r.Item1))}; load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}");
        Assert.All(results, r => Assert.True(r.Item1 == 201, r.Item2));
        Assert.True(peak - baseline < 1024 * MiB, $"the control plane grew by {(peak - baseline) / MiB} MiB");
    }

    /// <summary>The module with a custom section appended so it has <paramref name="size"/> bytes (still valid, cheap to compile).</summary>
    private static byte[] Padded(byte[] module, int size)
    {
        var name = "padding"u8.ToArray();
        // Section: id 0, LEB128 size (5 bytes, padded form), name length, name, payload.
        var payload = size - module.Length - 1 - 5 - 1 - name.Length;
        var sectionSize = 1 + name.Length + payload;
        var result = new byte[size];
        module.CopyTo(result, 0);
        var at = module.Length;
        result[at++] = 0;
        for (var i = 0; i < 5; i++)
        {
            result[at++] = (byte)(((sectionSize >> (7 * i)) & 0x7F) | (i < 4 ? 0x80 : 0));
        }
        result[at++] = (byte)name.Length;
        name.CopyTo(result, at);
        return result;
    }

    private static long ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
