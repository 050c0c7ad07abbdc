using System.Collections.Concurrent;
using System.Text;
using Platform.Runtime;
using Platform.Runtime.Components;
using Xunit.Abstractions;

namespace Platform.Runtime.Components.Tests.Integration;

[Collection(ComponentCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WatComponentTests(ComponentFixture fixture, ITestOutputHelper output)
{
    private static readonly AppLimits Limits = AppLimits.Default with { WallTime = TimeSpan.FromSeconds(5), MemoryBytes = 32L * 1024 * 1024 };

    private ComponentResult Run(string app, ComponentRequest request, AppLimits? limits = null, List<string>? log = null)
    {
        var lines = log ?? [];
        var result = fixture.Host.Execute(fixture.Load(app), request, limits ?? Limits, line => { lock (lines) lines.Add(line); }, CancellationToken.None);
        output.WriteLine($"{app}: {result.Outcome} {result.StatusCode} in {result.Duration.TotalMilliseconds:F2} ms (instantiation {result.InstantiationDuration.TotalMilliseconds:F3} ms); {result.Error}");
        foreach (var line in lines)
        {
            output.WriteLine("  log: " + line);
        }
        return result;
    }

    [Fact]
    public void A_handwritten_component_answers_with_its_status_header_body_and_log_line()
    {
        var log = new List<string>();
        var result = Run("respond", ComponentFixture.Get("/"), log: log);

        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(201, result.StatusCode);
        Assert.Contains(KeyValuePair.Create("x-fixture", "wat"), result.Headers);
        Assert.Equal("hello from a component\n", Encoding.UTF8.GetString(result.Body.Span));
        Assert.Contains("respond.wat handled a request", log);
    }

    [Fact]
    public void A_trapping_component_is_a_trap()
    {
        var result = Run("trap", ComponentFixture.Get("/"));

        Assert.Equal(ComponentOutcome.Trap, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.Contains("unreachable", result.Error);
    }
}
