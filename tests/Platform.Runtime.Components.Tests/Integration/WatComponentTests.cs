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

    [Fact]
    public void A_looping_component_is_stopped_at_its_wall_time_limit()
    {
        var result = Run("loop", ComponentFixture.Get("/"), Limits with { WallTime = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(ComponentOutcome.Timeout, result.Outcome);
        Assert.Equal(504, result.StatusCode);
        Assert.InRange(result.Duration, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_component_waiting_on_a_long_timer_is_stopped_at_its_wall_time_limit()
    {
        var result = Run("sleep", ComponentFixture.Get("/"), Limits with { WallTime = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(ComponentOutcome.Timeout, result.Outcome);
        Assert.InRange(result.Duration, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_cancelled_request_stops_a_looping_component()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var result = fixture.Host.Execute(fixture.Load("loop"), ComponentFixture.Get("/"), Limits, null, cancellation.Token);

        Assert.Equal(ComponentOutcome.Cancelled, result.Outcome);
    }

    [Fact]
    public void A_component_growing_memory_past_its_cap_is_a_memory_limit_failure_and_its_stderr_is_logged()
    {
        var log = new List<string>();
        var result = Run("membomb", ComponentFixture.Get("/"), Limits with { MemoryBytes = 16L * 1024 * 1024 }, log);

        Assert.Equal(ComponentOutcome.MemoryLimit, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.Contains("memory allocation of 1048576 bytes failed", log);
    }

    [Fact]
    public void A_component_whose_initial_memory_exceeds_the_cap_fails_to_instantiate_as_a_memory_limit_failure()
    {
        var result = Run("bigmemory", ComponentFixture.Get("/"));

        Assert.Equal(ComponentOutcome.MemoryLimit, result.Outcome);
        Assert.Contains("instantiation failed", result.Error);
    }

    [Fact]
    public void A_component_that_never_sets_the_response_is_no_response_with_the_reason_in_the_log()
    {
        var log = new List<string>();
        var result = Run("noresponse", ComponentFixture.Get("/"), log: log);

        Assert.Equal(ComponentOutcome.NoResponse, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.Contains(log, l => l.Contains("response-outparam.set was never called", StringComparison.Ordinal));
    }

    [Fact]
    public void A_component_that_exits_before_responding_is_no_response_naming_its_exit_code()
    {
        var result = Run("exit", ComponentFixture.Get("/"));

        Assert.Equal(ComponentOutcome.NoResponse, result.Outcome);
        Assert.Contains("exited with code 1", result.Error);
    }

    [Fact]
    public void A_component_calling_a_host_function_with_a_made_up_signature_traps_and_the_host_keeps_serving()
    {
        var result = Run("badcall", ComponentFixture.Get("/"));

        Assert.Equal(ComponentOutcome.Trap, result.Outcome);
        Assert.Contains("http-error-code", result.Error);
        Assert.Equal(ComponentOutcome.Ok, Run("respond", ComponentFixture.Get("/")).Outcome);
    }

    [Fact]
    public void Parallel_failing_and_healthy_components_each_get_their_own_outcome()
    {
        var apps = new[] { "respond", "trap", "noresponse", "badcall", "respond" };
        var results = new ConcurrentBag<(string App, ComponentOutcome Outcome)>();
        Parallel.For(0, 40, i =>
        {
            var app = apps[i % apps.Length];
            results.Add((app, fixture.Host.Execute(fixture.Load(app), ComponentFixture.Get("/"), Limits, null, CancellationToken.None).Outcome));
        });

        Assert.All(results, r => Assert.Equal(r.App switch
        {
            "respond" => ComponentOutcome.Ok,
            "noresponse" => ComponentOutcome.NoResponse,
            _ => ComponentOutcome.Trap,
        }, r.Outcome));
    }

    [Fact]
    public void A_request_body_over_the_limit_is_refused_before_anything_runs()
    {
        var result = Run("respond", ComponentFixture.Get("/") with { Method = "POST", Body = new byte[2048] }, Limits with { MaxRequestBodyBytes = 1024 });

        Assert.Equal(ComponentOutcome.RequestTooLarge, result.Outcome);
        Assert.Equal(413, result.StatusCode);
    }

    [Fact]
    public void The_apps_variables_are_the_components_environment_and_nothing_of_the_hosts_leaks()
    {
        var log = new List<string>();
        var request = ComponentFixture.Get("/") with { Environment = [KeyValuePair.Create("GREETING", "hello world"), KeyValuePair.Create("EMPTY", "")] };
        Run("env", request, log: log);

        Assert.Equal(["GREETING=hello world", "EMPTY="], log.Where(l => !l.StartsWith('[')).ToList());
    }

    [Fact]
    public void A_component_creating_handles_without_end_traps_at_a_handle_limit()
    {
        var result = Run("handleflood", ComponentFixture.Get("/"));

        // Wasmtime's own per-store handle limit comes first; the host's table cap (100 000) is the second line.
        Assert.Equal(ComponentOutcome.Trap, result.Outcome);
        Assert.Matches("handle limit exceeded|live handles", result.Error);
        Assert.Equal(ComponentOutcome.Ok, Run("respond", ComponentFixture.Get("/")).Outcome);
    }

    [Fact]
    public void A_component_answering_with_an_error_code_is_an_error_response_naming_the_case()
    {
        var result = Run("errorresponse", ComponentFixture.Get("/"));

        Assert.Equal(ComponentOutcome.ErrorResponse, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.Equal("internal-error", result.ErrorCode);
    }

    [Fact]
    public void A_body_over_the_response_limit_is_response_too_large()
    {
        var result = Run("respond", ComponentFixture.Get("/"), Limits with { MaxResponseBytes = 10 });

        Assert.Equal(ComponentOutcome.ResponseTooLarge, result.Outcome);
        Assert.Contains("10 bytes", result.Error);
    }

    [Fact]
    public void A_component_declaring_another_result_type_for_a_host_function_traps_and_the_host_keeps_serving()
    {
        var result = Run("badresult", ComponentFixture.Get("/"));

        Assert.Equal(ComponentOutcome.Trap, result.Outcome);
        Assert.Equal(ComponentOutcome.Ok, Run("respond", ComponentFixture.Get("/")).Outcome);
    }
}
