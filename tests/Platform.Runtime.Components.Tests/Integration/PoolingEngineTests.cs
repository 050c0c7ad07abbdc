using System.Text;
using Platform.Runtime;
using Platform.Runtime.Components;

namespace Platform.Runtime.Components.Tests.Integration;

/// <summary>The router's engine uses the pooling allocator; components must run there too.</summary>
[Trait("Category", "Integration")]
public sealed class PoolingEngineTests
{
    [Fact]
    public void A_component_runs_on_an_engine_with_the_pooling_allocator()
    {
        using var engine = new WasmEngineHost(new WasmRuntimeOptions { UsePoolingAllocator = true, PoolMaxInstances = 20 });
        var host = new ComponentHost(engine);
        using var component = host.Compile(ComponentFixture.Bytes("respond"));

        var results = Enumerable.Range(0, 5)
            .Select(_ => host.Execute(component, ComponentFixture.Get("/"), AppLimits.Default, null, CancellationToken.None))
            .ToList();

        Assert.All(results, r => Assert.True(r.Outcome == ComponentOutcome.Ok, $"{r.Outcome}: {r.Error}"));
        Assert.Equal("hello from a component\n", Encoding.UTF8.GetString(results[^1].Body.Span));
    }

    [Fact]
    public void A_memory_hungry_component_on_the_pooling_engine_stops_at_the_slot_size()
    {
        using var engine = new WasmEngineHost(new WasmRuntimeOptions { UsePoolingAllocator = true, PoolMaxInstances = 20, PoolMaxMemoryBytes = 16L * 1024 * 1024 });
        var host = new ComponentHost(engine);
        using var component = host.Compile(ComponentFixture.Bytes("membomb"));

        var result = host.Execute(component, ComponentFixture.Get("/"), AppLimits.Default, null, CancellationToken.None);

        Assert.Equal(ComponentOutcome.MemoryLimit, result.Outcome);
        Assert.Contains("16777216", result.Error);
    }
}
