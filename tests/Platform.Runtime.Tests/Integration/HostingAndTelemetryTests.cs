using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Runtime;
using Platform.Testing;

namespace Platform.Runtime.Tests.Integration;

[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class HostingAndTelemetryTests(RuntimeFixture fixture)
{
    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddPlatformRuntime();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public async Task AddPlatformRuntime_wires_a_working_executor_from_configuration()
    {
        var directory = Directory.CreateTempSubdirectory("platform-runtime-di-").FullName;
        try
        {
            await using var provider = Services(new()
            {
                ["Platform:Runtime:CacheDirectory"] = directory,
                ["Platform:Runtime:PoolMaxInstances"] = "50",
            });
            var cache = provider.GetRequiredService<ModuleCache>();
            var bytes = TestApps.Bytes("hello");
            var module = await cache.GetAsync(RuntimeFixture.DigestOf(bytes), _ => Task.FromResult(bytes), CancellationToken.None);

            using var result = provider.GetRequiredService<WagiExecutor>().Execute(module, new WagiRequest { Method = "GET", PathInfo = "/di" }, AppLimits.Default, null, CancellationToken.None);

            Assert.Equal(WagiOutcome.Ok, result.Outcome);
            Assert.StartsWith("Hello from GET /di", Encoding.UTF8.GetString(result.Body.Span));
            Assert.StartsWith(directory, cache.ArtifactDirectory);
            Assert.Contains("instances=50", provider.GetRequiredService<WasmEngineHost>().FingerprintDescription);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Invalid_runtime_options_are_refused_naming_the_setting()
    {
        await using var provider = Services(new() { ["Platform:Runtime:MaxCachedModules"] = "0" });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WasmRuntimeOptions>>().Value);

        Assert.Contains("MaxCachedModules", ex.Message);
    }

    [Fact]
    public async Task A_module_cache_budget_below_a_mebibyte_is_refused_naming_the_setting()
    {
        await using var provider = Services(new() { ["Platform:Runtime:MaxCachedModuleBytes"] = "1000" });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WasmRuntimeOptions>>().Value);

        Assert.Contains("MaxCachedModuleBytes", ex.Message);
    }

    [Fact]
    public void Execution_emits_a_span_tagged_with_app_version_digest_and_cache_source()
    {
        var app = "span-" + Guid.NewGuid().ToString("N");
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RuntimeTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var module = fixture.Load("trap");

        using var result = fixture.Executor.Execute(module, new WagiRequest { Method = "GET", AppName = app, AppVersion = "7" }, AppLimits.Default, null, CancellationToken.None);

        var span = Assert.Single(spans, s => (string?)s.GetTagItem("app") == app);
        Assert.Equal("wagi.execute", span.OperationName);
        Assert.Equal("7", span.GetTagItem("version"));
        Assert.Equal(module.Digest, span.GetTagItem("digest"));
        Assert.Equal("memory", span.GetTagItem("cache_source"));
        Assert.Equal("trap", span.GetTagItem("outcome"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task Cache_lookups_are_counted_by_source_on_the_Platform_Runtime_meter()
    {
        var measurements = new ConcurrentQueue<(string Instrument, long Value, string? Source, int Thread)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RuntimeTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? source = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "source")
                {
                    source = tag.Value as string;
                }
            }
            measurements.Enqueue((instrument.Name, value, source, Environment.CurrentManagedThreadId));
        });
        listener.Start();
        using var cache = new ModuleCache(fixture.Host, null, 4);
        var bytes = Encoding.UTF8.GetBytes("(module (memory (export \"memory\") 1) (func (export \"_start\")) (func (export \"metrics_" + Guid.NewGuid().ToString("N") + "\")))");
        var wasm = Wasmtime.Module.ConvertText(Encoding.UTF8.GetString(bytes));
        var digest = RuntimeFixture.DigestOf(wasm);

        await cache.GetAsync(digest, _ => Task.FromResult(wasm), CancellationToken.None);
        // A memory hit is recorded synchronously, so the thread tells it apart from other tests' lookups.
        var thread = Environment.CurrentManagedThreadId;
        var hit = cache.GetAsync(digest, _ => Task.FromResult(wasm), CancellationToken.None);
        Assert.True(hit.IsCompletedSuccessfully);

        Assert.Contains(measurements, m => m.Instrument == "platform.runtime.module_cache.misses" && m.Value == 1);
        Assert.Contains(measurements, m => m.Instrument == "platform.runtime.module_cache.hits" && m.Source == "memory" && m.Thread == thread);
    }
}
