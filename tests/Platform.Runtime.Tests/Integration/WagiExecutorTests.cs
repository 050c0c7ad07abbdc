using System.Collections.Concurrent;
using System.Text;
using Platform.Runtime;

namespace Platform.Runtime.Tests.Integration;

[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WagiExecutorTests(RuntimeFixture fixture)
{
    private static WagiRequest Request(string path, string query = "", string body = "", string method = "GET",
        IReadOnlyList<KeyValuePair<string, string>>? headers = null) => new()
    {
        Method = method,
        PathInfo = path,
        RawPathInfo = path,
        QueryString = query,
        ScriptName = "/",
        Body = Encoding.UTF8.GetBytes(body),
        Headers = headers ?? [],
        ServerName = "hello.apps.localhost",
        ServerPort = 8080,
        RemoteAddress = "127.0.0.1",
        FullUrl = "http://hello.apps.localhost:8080" + path + (query.Length > 0 ? "?" + query : ""),
    };

    private WagiResult Run(string app, WagiRequest request, AppLimits? limits = null, Action<string>? log = null, CancellationToken cancellationToken = default) =>
        fixture.Executor.Execute(fixture.Load(app), request, limits ?? AppLimits.Default, log, cancellationToken);

    private static string BodyOf(WagiResult result) => Encoding.UTF8.GetString(result.Body.Span);

    [Fact]
    public void Hello_greets_with_method_path_and_query_and_echoes_the_body()
    {
        using var result = Run("hello", Request("/greet", "name=ada", "the request body", "POST"));

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Null(result.Error);
        Assert.Equal(200, result.StatusCode);
        Assert.Equal([new("Content-Type", "text/plain")], result.Headers);
        Assert.Equal("Hello from POST /greet?name=ada\nthe request body", BodyOf(result));
        Assert.Null(result.ExitCode);
    }

    [Fact]
    public void The_environment_holds_request_variables_and_nothing_from_the_host()
    {
        Environment.SetEnvironmentVariable("PLATFORM_RUNTIME_TEST_SECRET", "host-secret-value");
        using var result = Run("hello", Request("/env", headers: [new("Authorization", "Bearer token-123"), new("X-Trace", "t1")]));

        var body = BodyOf(result);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Contains("env REQUEST_METHOD=GET\n", body);
        Assert.Contains("env PATH_INFO=/env\n", body);
        Assert.Contains("env GATEWAY_INTERFACE=CGI/1.1\n", body);
        Assert.Contains("env HTTP_X_TRACE=t1\n", body);
        Assert.DoesNotContain("AUTHORIZATION", body);
        Assert.DoesNotContain("token-123", body);
        Assert.DoesNotContain("host-secret-value", body);
        Assert.DoesNotContain("env PATH=", body);
        Assert.DoesNotContain("env HOME=", body);
        var expectedNames = WagiEnvironment.Build(Request("/env", headers: [new("X-Trace", "t1")])).Variables.Select(v => v.Key).ToHashSet();
        var names = body.Split('\n').Where(l => l.StartsWith("env ", StringComparison.Ordinal)).Select(l => l[4..l.IndexOf('=')]).ToHashSet();
        Assert.Equal(expectedNames, names);
    }

    [Fact]
    public void Argv_is_the_script_name_followed_by_the_query_parts()
    {
        using var result = Run("hello", Request("/env", "a=1&b=two&flag"));

        var body = BodyOf(result);
        Assert.Contains("argv[0]=/\nargv[1]=a=1\nargv[2]=b=two\nargv[3]=flag\n", body);
        Assert.DoesNotContain("argv[4]", body);
    }

    [Fact]
    public void A_status_header_from_the_module_sets_the_response_status()
    {
        using var result = Run("hello", Request("/status404"));

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Equal(404, result.StatusCode);
        Assert.Equal("not here: /status404\n", BodyOf(result));
    }

    [Fact]
    public void A_location_without_status_redirects_with_302()
    {
        using var result = Run("hello", Request("/redirect"));

        Assert.Equal(302, result.StatusCode);
        Assert.Equal([new("Location", "/elsewhere")], result.Headers);
    }

    [Fact]
    public void Custom_headers_from_the_module_are_returned()
    {
        using var result = Run("hello", Request("/header"));

        Assert.Equal([new("X-Hello", "world"), new("Content-Type", "text/plain")], result.Headers);
    }

    [Fact]
    public void Stderr_lines_go_to_the_log_including_an_unterminated_last_line()
    {
        var lines = new List<string>();
        using var result = Run("hello", Request("/log"), log: lines.Add);

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Equal(["first log line", "second log line", "unterminated last line"], lines);
    }

    [Fact]
    public void Output_without_cgi_headers_is_an_invalid_response_that_says_why()
    {
        var lines = new List<string>();
        using var result = Run("hello", Request("/noheaders"), log: lines.Add);

        Assert.Equal(WagiOutcome.InvalidResponse, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.Contains("'just a body without headers'", result.Error);
        Assert.Contains(lines, l => l.Contains("InvalidResponse", StringComparison.Ordinal));
    }

    [Fact]
    public void A_nonzero_exit_after_a_valid_response_still_returns_that_response()
    {
        var lines = new List<string>();
        using var result = Run("hello", Request("/exit3"), log: lines.Add);

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Contains(lines, l => l.Contains("exited with code 3", StringComparison.Ordinal));
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("exiting with 3\n", BodyOf(result));
    }

    [Fact]
    public async Task An_infinite_loop_times_out_while_a_parallel_request_completes()
    {
        var limits = AppLimits.Default with { WallTime = TimeSpan.FromMilliseconds(800) };
        var loop = Task.Factory.StartNew(() => Run("loop", Request("/"), limits), TaskCreationOptions.LongRunning);

        using var hello = Run("hello", Request("/while-looping"));
        Assert.False(loop.IsCompleted, "the loop finished before the parallel request, so the test proved nothing");
        using var looped = await loop;

        Assert.Equal(WagiOutcome.Ok, hello.Outcome);
        Assert.Equal(WagiOutcome.Timeout, looped.Outcome);
        Assert.Equal(504, looped.StatusCode);
        Assert.Contains("800 ms", looped.Error);
    }

    [Fact]
    public async Task Cancelling_the_token_stops_a_running_module()
    {
        using var cancellation = new CancellationTokenSource();
        var limits = AppLimits.Default with { WallTime = TimeSpan.FromMinutes(5) };
        var loop = Task.Factory.StartNew(() => Run("loop", Request("/"), limits, cancellationToken: cancellation.Token), TaskCreationOptions.LongRunning);
        await Task.Delay(100);
        cancellation.Cancel();

        using var result = await loop;

        Assert.Equal(WagiOutcome.Cancelled, result.Outcome);
    }

    [Fact]
    public void A_memory_bomb_fails_at_the_128_MiB_cap_and_the_process_keeps_serving()
    {
        using var bomb = Run("membomb", Request("/"));
        using var after = Run("hello", Request("/after-bomb"));

        Assert.Equal(WagiOutcome.MemoryLimit, bomb.Outcome);
        Assert.Equal(500, bomb.StatusCode);
        Assert.Contains("134217728", bomb.Error);
        Assert.Equal(WagiOutcome.Ok, after.Outcome);
    }

    [Fact]
    public void A_module_whose_initial_memory_exceeds_the_limit_does_not_start()
    {
        using var result = Run("hello", Request("/"), AppLimits.Default with { MemoryBytes = 64 * 1024 });

        Assert.Equal(WagiOutcome.MemoryLimit, result.Outcome);
        Assert.Contains("instantiation failed", result.Error);
    }

    [Fact]
    public void A_trap_is_reported_as_a_trap_with_the_wasm_reason()
    {
        using var result = Run("trap", Request("/"));

        Assert.Equal(WagiOutcome.Trap, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.Contains("unreachable", result.Error);
    }

    [Fact]
    public void Two_hundred_parallel_executions_each_see_their_own_body()
    {
        var module = fixture.Load("hello");
        var failures = new ConcurrentBag<string>();

        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            using var result = fixture.Executor.Execute(module, Request($"/p{i}", $"i={i}", $"body number {i}", "PUT"), AppLimits.Default, null, CancellationToken.None);
            var expected = $"Hello from PUT /p{i}?i={i}\nbody number {i}";
            var actual = BodyOf(result);
            if (result.Outcome != WagiOutcome.Ok || actual != expected)
            {
                failures.Add($"#{i}: {result.Outcome} {result.Error} '{actual}'");
            }
        });

        Assert.Empty(failures);
    }

    [Fact]
    public void Output_beyond_the_response_limit_is_response_too_large()
    {
        var limits = AppLimits.Default with { MaxResponseBytes = 1000 };

        using var result = Run("hello", Request("/big", body: new string('x', 5000), method: "POST"), limits);

        Assert.Equal(WagiOutcome.ResponseTooLarge, result.Outcome);
        Assert.Contains("1000", result.Error);
    }

    [Fact]
    public void A_request_body_beyond_the_limit_is_refused_before_the_module_runs()
    {
        var limits = AppLimits.Default with { MaxRequestBodyBytes = 10 };

        using var result = Run("hello", Request("/", body: "more than ten bytes", method: "POST"), limits);

        Assert.Equal(WagiOutcome.RequestTooLarge, result.Outcome);
        Assert.Equal(413, result.StatusCode);
    }

    [Fact]
    public void A_binary_body_is_echoed_byte_for_byte()
    {
        var body = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        var request = new WagiRequest { Method = "POST", PathInfo = "/bin", Body = body };

        using var result = fixture.Executor.Execute(fixture.Load("hello"), request, AppLimits.Default, null, CancellationToken.None);

        var prefix = Encoding.UTF8.GetBytes("Hello from POST /bin?\n");
        Assert.Equal([.. prefix, .. body], result.Body.ToArray());
    }

    [Fact]
    public void The_sandbox_has_no_filesystem_but_working_clocks_randomness_and_sleep()
    {
        using var result = Run("probe", Request("/"));

        var body = BodyOf(result);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.DoesNotContain("opened", body);
        Assert.Contains("fopen /etc/passwd: ", body);
        Assert.Contains("realtime after 2020: yes", body);
        Assert.Contains("getentropy: ok", body);
        Assert.Contains("slept at least 20 ms: yes", body);
    }

    [Fact]
    public void Invalid_limits_are_refused_quoting_the_value()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Run("hello", Request("/"), AppLimits.Default with { WallTime = TimeSpan.Zero }));

        Assert.Contains("WallTime", ex.Message);
    }
}
