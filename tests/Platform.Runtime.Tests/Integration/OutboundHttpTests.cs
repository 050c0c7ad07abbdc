using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Platform.Runtime;
using Platform.Runtime.Outbound;
using Platform.Testing;

namespace Platform.Runtime.Tests.Integration;

/// <summary>Loopback upstreams shared by the outbound tests (one Kestrel, one counting listener).</summary>
public sealed class OutboundFixture : IAsyncLifetime
{
    public OutboundUpstreams Upstreams { get; private set; } = null!;

    public async Task InitializeAsync() => Upstreams = await OutboundUpstreams.StartAsync();

    public async Task DisposeAsync() => await Upstreams.DisposeAsync();
}

/// <summary>
/// The http-client test module (tests/apps/http-client.c, built against the wasi_experimental_http ABI) calling
/// real loopback upstreams through a real executor and the real outbound client.
/// </summary>
[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class OutboundHttpTests(RuntimeFixture runtime, OutboundFixture upstream) : IClassFixture<OutboundFixture>, IDisposable
{
    private readonly OutboundHttpClient _client = new(new OutboundOptions());
    private OutboundUpstreams Up => upstream.Upstreams;

    public void Dispose() => _client.Dispose();

    private (WagiResult Result, string Body, List<string> Log) Call(string script, IEnumerable<string> allowed, AppLimits? limits = null,
        OutboundHttpClient? client = null, WagiExecutor? executor = null)
    {
        using var own = executor is null ? new WagiExecutor(runtime.Host, outbound: client ?? _client) : null;
        var log = new List<string>();
        var request = new WagiRequest
        {
            Method = "POST",
            Body = Encoding.UTF8.GetBytes(script),
            AppName = "outbound-test",
            Outbound = OutboundPolicy.Create(allowed, "outbound-test"),
        };
        var result = (executor ?? own!).Execute(runtime.Load("http-client"), request, limits ?? AppLimits.Default, l => { lock (log) { log.Add(l); } }, CancellationToken.None);
        return (result, Encoding.UTF8.GetString(result.Body.Span), log);
    }

    private string Allowed => $"http://127.0.0.1:{Up.Port}";

    [Fact]
    public void A_GET_with_a_header_reaches_an_allowed_upstream_and_the_module_sees_status_header_and_body()
    {
        var (result, body, _) = Call($"url={Up.Url("/echo?q=1")}\nheader=X-Test: hello\ngetheader=X-Upstream\n", [Allowed]);
        using var _r = result;

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Contains("call 1: error=0 status=200", body);
        Assert.Contains("header X-Upstream: kestrel", body);
        Assert.Contains($"body: method=GET path=/echo?q=1 x-test=hello host=127.0.0.1:{Up.Port} body=\n", body);
    }

    [Fact]
    public void A_POST_with_headers_and_a_body_reaches_the_upstream()
    {
        var (result, body, _) = Call($"url={Up.Url("/echo")}\nmethod=POST\nheader=X-Test:posted\nheader=Content-Type:text/plain\nbody=payload-123\ngetheader=x-seen-test-header\n", [Allowed]);
        using var _r = result;

        Assert.Contains("call 1: error=0 status=200", body);
        Assert.Contains("header x-seen-test-header: posted", body);
        Assert.Contains("body: method=POST path=/echo x-test=posted", body);
        Assert.Contains("body=payload-123", body);
        Assert.Contains("close again: 1", body);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{trap}/")] // port not on the list
    [InlineData("https://127.0.0.1:{port}/")] // scheme not on the list
    [InlineData("http://127.0.0.2:{port}/")] // host not on the list
    [InlineData("http://localhost:{trap}/")] // localhost for 127.0.0.1
    [InlineData("http://127.0.0.1:{port}@127.0.0.1:{trap}/")] // userinfo that looks like the allowed host
    [InlineData("http://[::ffff:127.0.0.1]:{trap}/")] // IPv4-mapped IPv6
    [InlineData("http://2130706433:{trap}/")] // decimal IPv4
    [InlineData("http://0177.0.0.1:{trap}/")] // octal IPv4
    [InlineData("http://0x7f.1:{trap}/")] // hex, short form
    [InlineData("http://127.0.0.1.:{trap}/")] // trailing dot
    [InlineData("HTTP://LOCALHOST:{trap}/")] // mixed case
    public void A_destination_not_on_the_list_gets_error_7_and_the_upstream_sees_no_connection(string template)
    {
        var url = template.Replace("{trap}", Up.TrapPort.ToString()).Replace("{port}", Up.Port.ToString());
        var before = Up.TrapConnections;
        var (result, body, log) = Call($"url={url}\n", [Allowed]);
        using var _r = result;

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Contains("call 1: error=7 status=0", body);
        Assert.Equal(before, Up.TrapConnections);
        Assert.Contains(log, l => l.StartsWith("[outbound] denied", StringComparison.Ordinal));
    }

    [Fact]
    public void A_percent_encoded_host_is_an_invalid_url_and_connects_nowhere()
    {
        var before = Up.TrapConnections;
        var (result, body, log) = Call($"url=http://%31%32%37.0.0.1:{Up.TrapPort}/\n", ["http://127.0.0.1:*"]);
        using var _r = result;

        Assert.Contains("call 1: error=10", body);
        Assert.Equal(before, Up.TrapConnections);
        Assert.Contains(log, l => l.Contains("percent-encoded", StringComparison.Ordinal));
    }

    [Fact]
    public void An_allowed_wildcard_host_still_cannot_reach_loopback_when_the_list_does_not_name_it()
    {
        var before = Up.TrapConnections;
        // "*" matches the name, but the address actually connected is loopback, which the list never names.
        var (result, body, log) = Call($"url=http://localhost:{Up.TrapPort}/\n", [$"http://*:{Up.TrapPort}"]);
        using var _r = result;

        Assert.Contains("call 1: error=7", body);
        Assert.Equal(before, Up.TrapConnections);
        Assert.Contains(log, l => l.Contains("loopback", StringComparison.Ordinal) && l.Contains("localhost", StringComparison.Ordinal));
    }

    [Fact]
    public void Naming_localhost_explicitly_allows_the_loopback_upstream()
    {
        var (result, body, _) = Call($"url=http://localhost:{Up.Port}/echo\n", [$"http://localhost:{Up.Port}"]);
        using var _r = result;

        Assert.Contains("call 1: error=0 status=200", body);
    }

    [Fact]
    public void A_redirect_to_a_non_allowed_port_is_not_followed_and_the_module_sees_the_3xx()
    {
        var before = Up.TrapConnections;
        var target = Uri.EscapeDataString($"http://127.0.0.1:{Up.TrapPort}/stolen");
        var (result, body, _) = Call($"url={Up.Url("/redirect?to=" + target)}\ngetheader=location\n", [Allowed]);
        using var _r = result;

        Assert.Contains("call 1: error=0 status=302", body);
        Assert.Contains($"header location: http://127.0.0.1:{Up.TrapPort}/stolen", body);
        Assert.Equal(before, Up.TrapConnections);
    }

    [Fact]
    public void The_platforms_own_endpoints_need_their_exact_port_named()
    {
        using var guarded = new OutboundHttpClient(new OutboundOptions { ProtectedEndpoints = [$"http://127.0.0.1:{Up.TrapPort}"] });
        var before = Up.TrapConnections;
        var (denied, deniedBody, log) = Call($"url=http://127.0.0.1:{Up.TrapPort}/\n", ["http://127.0.0.1:*"], client: guarded);
        using var _d = denied;
        Assert.Contains("call 1: error=7", deniedBody);
        Assert.Equal(before, Up.TrapConnections);
        Assert.Contains(log, l => l.Contains("platform's own endpoints", StringComparison.Ordinal));

        // Named exactly, it is reachable (the listener accepts and closes, so the call itself fails upstream).
        var (named, namedBody, _) = Call($"url=http://127.0.0.1:{Up.TrapPort}/\n", [$"http://127.0.0.1:{Up.TrapPort}"], client: guarded);
        using var _n = named;
        Assert.Contains("call 1: error=11", namedBody);
        Assert.True(Up.TrapConnections > before);
    }

    [Fact]
    public void A_slow_upstream_ends_the_request_with_a_timeout_at_the_apps_deadline()
    {
        var watch = Stopwatch.StartNew();
        var (result, _, _) = Call($"url={Up.Url("/slow?s=20")}\n", [Allowed], new AppLimits { WallTime = TimeSpan.FromSeconds(2) });
        using var _r = result;
        watch.Stop();

        Assert.Equal(WagiOutcome.Timeout, result.Outcome);
        Assert.Equal(504, WagiResult.StatusFor(result.Outcome));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.8), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void More_than_eight_open_calls_get_too_many_sessions()
    {
        var (result, body, log) = Call($"url={Up.Url("/echo")}\ncount=9\n", [Allowed]);
        using var _r = result;

        for (var i = 1; i <= 8; i++)
        {
            Assert.Contains($"call {i}: error=0 status=200", body);
        }
        Assert.Contains("call 9: error=13", body);
        Assert.DoesNotContain("close error", body);
        Assert.Contains(log, l => l.Contains("too_many_sessions", StringComparison.Ordinal));
    }

    [Fact]
    public void An_oversized_upstream_body_is_an_error_not_an_unbounded_buffer()
    {
        var (result, body, log) = Call($"url={Up.Url("/big?bytes=11534336")}\n", [Allowed]);
        using var _r = result;

        Assert.Contains("call 1: error=11", body);
        Assert.Contains(log, l => l.Contains("larger than the limit of 10485760", StringComparison.Ordinal) && l.Contains("127.0.0.1", StringComparison.Ordinal));

        // Just under the cap it arrives whole, over many body_read calls.
        var (ok, okBody, _) = Call($"url={Up.Url("/big?bytes=1048576")}\n", [Allowed]);
        using var _o = ok;
        Assert.Contains("call 1: error=0 status=200", okBody);
        Assert.Contains("body-bytes: 1048576", okBody);
    }

    [Fact]
    public void Header_lookups_report_a_missing_header_and_a_buffer_that_is_too_small()
    {
        var (missing, missingBody, _) = Call($"url={Up.Url("/echo")}\ngetheader=x-not-there\n", [Allowed]);
        using var _m = missing;
        Assert.Contains("header x-not-there: error=5", missingBody);

        var (small, smallBody, _) = Call($"url={Up.Url("/echo")}\ngetheader=x-upstream\nsmallbuf=1\n", [Allowed]);
        using var _s = small;
        Assert.Contains("header x-upstream: error=4", smallBody);
    }

    [Fact]
    public void Hostile_pointers_lengths_and_handles_get_error_codes_and_nothing_is_sent()
    {
        var before = Up.EchoRequests;
        var (result, body, _) = Call($"url={Up.Url("/echo")}\nhostile=1\n", [Allowed]);
        using var _r = result;

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Contains("req bad url pointer: 3", body);
        Assert.Contains("req wrapping length: 3", body);
        Assert.Contains("req bad status pointer: 3", body);
        Assert.Contains("req invalid utf8: 6", body);
        Assert.Contains("req invalid method: 8", body);
        Assert.Contains("req invalid header: 9", body);
        Assert.Contains("req invalid url: 10", body);
        Assert.Contains("body_read bad handle: 1", body);
        Assert.Contains("header_get bad handle: 1", body);
        Assert.Contains("headers_get_all bad handle: 1", body);
        Assert.Contains("close bad handle: 1", body);
        Assert.Equal(before, Up.EchoRequests);
    }

    [Fact]
    public void An_empty_list_allows_nothing_and_the_log_says_so_naming_the_host()
    {
        var (result, body, log) = Call($"url={Up.Url("/echo")}\n", []);
        using var _r = result;

        Assert.Contains("call 1: error=7", body);
        Assert.Contains(log, l => l.Contains($"http://127.0.0.1:{Up.Port}", StringComparison.Ordinal) && l.Contains("empty", StringComparison.Ordinal));
    }

    [Fact]
    public void A_module_that_imports_the_abi_but_never_calls_it_validates_and_runs()
    {
        var validator = new ModuleValidator(runtime.Host);
        Assert.True(validator.Validate(TestApps.Bytes("http-idle")).IsValid);
        Assert.True(validator.Validate(TestApps.Bytes("http-client")).IsValid);

        using var result = runtime.Executor.Execute(runtime.Load("http-idle"), new WagiRequest { Method = "GET" }, AppLimits.Default, null, CancellationToken.None);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Equal("idle ok\n", Encoding.UTF8.GetString(result.Body.Span));
    }

    [Fact]
    public void A_wrong_abi_signature_or_an_unknown_abi_function_is_refused_naming_it()
    {
        var validator = new ModuleValidator(runtime.Host);
        var wrong = validator.Validate(TestApps.Bytes("http-badsig"));
        Assert.False(wrong.IsValid);
        Assert.Contains("'wasi_experimental_http.req'", wrong.Error);
        Assert.Contains("signature", wrong.Error);

        var unknown = validator.Validate(TestApps.Bytes("http-unknown"));
        Assert.False(unknown.IsValid);
        Assert.Contains("'wasi_experimental_http.socket_open'", unknown.Error);
    }

    [Fact]
    public void Calls_are_counted_by_app_host_and_status_and_traced_as_child_spans_of_the_execution()
    {
        var measurements = new ConcurrentBag<(long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "platform.runtime.outbound.calls")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            measurements.Add((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        meters.Start();
        var spans = new ConcurrentBag<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RuntimeTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(activities);

        var (result, _, _) = Call($"url={Up.Url("/echo")}\n", [Allowed]);
        using var _r = result;

        Assert.Contains(measurements, m => Equals(m.Tags["app"], "outbound-test") && Equals(m.Tags["host"], "127.0.0.1") && Equals(m.Tags["status"], "200"));
        var call = Assert.Single(spans, s => s.OperationName == "outbound.http" && Equals(s.GetTagItem("server.port"), Up.Port));
        var execution = Assert.Single(spans, s => s.OperationName == "wagi.execute" && s.SpanId == call.ParentSpanId);
        Assert.Equal("outbound-test", execution.GetTagItem("app"));
    }
}
