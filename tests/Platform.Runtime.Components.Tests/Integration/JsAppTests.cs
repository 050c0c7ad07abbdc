using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Platform.Runtime;
using Platform.Runtime.Components;
using Xunit.Abstractions;

namespace Platform.Runtime.Components.Tests.Integration;

/// <summary>A Spin JS SDK v3 app built with j2w (tests/apps/components/js-echo/app.js), on real Wasmtime.</summary>
[Collection(ComponentCollection.Name)]
[Trait("Category", "Integration")]
public sealed class JsAppTests(ComponentFixture fixture, ITestOutputHelper output)
{
    private static readonly AppLimits Limits = AppLimits.Default with { WallTime = TimeSpan.FromSeconds(20) };

    private ComponentResult Run(ComponentRequest request, List<string>? log = null)
    {
        var lines = log ?? [];
        var result = fixture.Host.Execute(fixture.Load("js-echo"), request, Limits, line => { lock (lines) lines.Add(line); }, CancellationToken.None);
        output.WriteLine($"{request.Method} {request.PathWithQuery}: {result.Outcome} {result.StatusCode} in {result.Duration.TotalMilliseconds:F2} ms (instantiation {result.InstantiationDuration.TotalMilliseconds:F3} ms) {result.Error}");
        return result;
    }

    private static JsonElement Json(ComponentResult result) => JsonDocument.Parse(result.Body).RootElement;

    [Fact]
    public void A_get_is_answered_with_the_apps_status_headers_and_body()
    {
        var log = new List<string>();
        var result = Run(ComponentFixture.Get("/hello/world?x=1&y=two", ("X-Custom", "abc"), ("Accept", "application/json")), log);

        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(200, result.StatusCode);
        Assert.Contains(result.Headers, h => h.Key == "content-type" && h.Value.StartsWith("application/json", StringComparison.Ordinal));
        Assert.Contains(KeyValuePair.Create("x-echo-method", "GET"), result.Headers);
        var body = Json(result);
        Assert.Equal("GET", body.GetProperty("method").GetString());
        Assert.Equal("/hello/world", body.GetProperty("path").GetString());
        Assert.Equal("?x=1&y=two", body.GetProperty("query").GetString());
        Assert.Equal("abc", body.GetProperty("headers").GetProperty("x-custom").GetString());
        Assert.Equal("", body.GetProperty("body").GetString());
        Assert.Contains(log, l => l.Contains("js-echo GET /hello/world", StringComparison.Ordinal));
    }

    [Fact]
    public void A_post_body_reaches_the_app_and_comes_back()
    {
        var payload = "{\"greeting\":\"hé, world\"}";
        var result = Run(ComponentFixture.Get("/submit") with { Method = "POST", Body = Encoding.UTF8.GetBytes(payload) });

        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(200, result.StatusCode);
        Assert.Contains(KeyValuePair.Create("x-echo-method", "POST"), result.Headers);
        Assert.Equal(payload, Json(result).GetProperty("body").GetString());
    }

    [Fact]
    public void A_status_and_header_chosen_by_the_app_are_kept()
    {
        var result = Run(ComponentFixture.Get("/status/418"));

        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(418, result.StatusCode);
        Assert.Contains(KeyValuePair.Create("x-teapot", "yes"), result.Headers);
        Assert.Equal("short and stout\n", Encoding.UTF8.GetString(result.Body.Span));
    }

    [Fact]
    public async Task Fifty_parallel_requests_each_see_their_own_body()
    {
        var component = fixture.Load("js-echo");
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() =>
        {
            var request = ComponentFixture.Get($"/parallel/{i}") with { Method = "POST", Body = Encoding.UTF8.GetBytes($"body number {i}") };
            return (i, fixture.Host.Execute(component, request, Limits, null, CancellationToken.None));
        })));

        foreach (var (i, result) in results)
        {
            Assert.True(result.Outcome == ComponentOutcome.Ok, $"request {i}: {result.Outcome} {result.Error}");
            var body = Json(result);
            Assert.Equal($"body number {i}", body.GetProperty("body").GetString());
            Assert.Equal($"/parallel/{i}", body.GetProperty("path").GetString());
        }
        var times = results.Select(r => r.Item2.Duration.TotalMilliseconds).Order().ToList();
        output.WriteLine($"50 parallel requests: median {times[25]:F2} ms, max {times[^1]:F2} ms; instantiation median {results.Select(r => r.Item2.InstantiationDuration.TotalMilliseconds).Order().ElementAt(25):F3} ms");
    }

    [Fact]
    public void Sequential_requests_print_their_times()
    {
        var component = fixture.Load("js-echo");
        output.WriteLine(fixture.JsCompileTime is { } compile
            ? $"compiled in {compile.TotalMilliseconds:F0} ms"
            : $"loaded from the test artifact cache in {component.LoadTime.TotalMilliseconds:F0} ms");
        var times = new List<(double Total, double Instantiate)>();
        for (var i = 0; i < 20; i++)
        {
            var result = fixture.Host.Execute(component, ComponentFixture.Get("/seq"), Limits, null, CancellationToken.None);
            Assert.Equal(ComponentOutcome.Ok, result.Outcome);
            times.Add((result.Duration.TotalMilliseconds, result.InstantiationDuration.TotalMilliseconds));
        }
        var warm = times.Skip(1).ToList();
        output.WriteLine($"first request {times[0].Total:F2} ms (instantiation {times[0].Instantiate:F3} ms); warm median {warm.Select(t => t.Total).Order().ElementAt(warm.Count / 2):F2} ms, instantiation median {warm.Select(t => t.Instantiate).Order().ElementAt(warm.Count / 2):F3} ms");
    }

    [Fact]
    public void A_serialized_artifact_deserializes_and_serves_without_compiling()
    {
        var compiled = fixture.Load("js-echo");
        var serializeStarted = Stopwatch.GetTimestamp();
        var artifact = compiled.Serialize();
        var serializeTime = Stopwatch.GetElapsedTime(serializeStarted);

        var rssBefore = Process.GetCurrentProcess().WorkingSet64;
        using var loaded = fixture.Host.Deserialize(artifact);
        var result = fixture.Host.Execute(loaded, ComponentFixture.Get("/from-artifact"), Limits, null, CancellationToken.None);
        var rssAfter = Process.GetCurrentProcess().WorkingSet64;

        output.WriteLine($"artifact {artifact.Length / 1024 / 1024.0:F1} MiB, serialize {serializeTime.TotalMilliseconds:F0} ms, deserialize {loaded.LoadTime.TotalMilliseconds:F1} ms, "
            + $"first request {result.Duration.TotalMilliseconds:F2} ms, RSS +{(rssAfter - rssBefore) / 1024.0 / 1024:F1} MiB for the loaded copy and its first request");
        Assert.True(loaded.FromArtifact);
        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal("/from-artifact", Json(result).GetProperty("path").GetString());
        Assert.Equal(compiled.Info.HandlerExport, loaded.Info.HandlerExport);
    }
}
