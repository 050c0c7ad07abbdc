using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.Runtime.Outbound;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.Runtime.Components.Tests.Integration;

/// <summary>
/// wasi:http/outgoing-handler from the Spin JS app's fetch: refused by default without a connection, and, with an
/// outbound client that sends real HTTP on loopback, the upstream's status, headers and body reach the app.
/// </summary>
[Collection(ComponentCollection.Name)]
[Trait("Category", "Integration")]
public sealed class OutboundTests(ComponentFixture fixture, ITestOutputHelper output)
{
    private static readonly AppLimits Limits = AppLimits.Default with { WallTime = TimeSpan.FromSeconds(20) };

    [Fact]
    public void A_fetch_is_refused_as_denied_by_default_and_no_connection_is_made()
    {
        var port = TestPorts.GetFreeTcpPort();
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        var log = new List<string>();

        var result = fixture.Host.Execute(fixture.Load("js-echo"), ComponentFixture.Get($"/fetch?url=http://127.0.0.1:{port}/x"), Limits,
            l => { lock (log) log.Add(l); }, CancellationToken.None);

        output.WriteLine(string.Join("\n", log));
        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(502, result.StatusCode);
        Assert.Contains(log, l => l.Contains($"fetch http://127.0.0.1:{port}/x failed", StringComparison.Ordinal));
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task A_fetch_through_an_outbound_client_gets_the_upstreams_body()
    {
        var port = TestPorts.GetFreeTcpPort();
        using var upstream = new HttpListener();
        upstream.Prefixes.Add($"http://127.0.0.1:{port}/");
        upstream.Start();
        var served = Task.Run(async () =>
        {
            var context = await upstream.GetContextAsync();
            var answer = Encoding.UTF8.GetBytes($"upstream saw {context.Request.HttpMethod} {context.Request.RawUrl}");
            context.Response.StatusCode = 200;
            context.Response.AddHeader("x-upstream", "yes");
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        });
        var host = new ComponentHost(fixture.Engine, new LoopbackOutbound());
        // Loaded through this host, so its linker calls this host's outbound client.
        using var component = host.Deserialize(fixture.Load("js-echo").Serialize());

        // Wasm runs on its own thread, as in the router; the upstream answers on the thread pool meanwhile.
        var result = await Task.Run(() => host.Execute(component, ComponentFixture.Get($"/fetch?url=http://127.0.0.1:{port}/data?q=1"), Limits, output.WriteLine, CancellationToken.None));

        await served.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(200, result.StatusCode);
        Assert.Contains(KeyValuePair.Create("x-upstream-status", "200"), result.Headers);
        Assert.Equal("upstream saw GET /data?q=1", Encoding.UTF8.GetString(result.Body.Span));
    }

    [Fact]
    public async Task The_shared_outbound_client_lets_an_allowed_loopback_fetch_through_and_refuses_another_without_a_connection()
    {
        var port = TestPorts.GetFreeTcpPort();
        using var upstream = new HttpListener();
        upstream.Prefixes.Add($"http://127.0.0.1:{port}/");
        upstream.Start();
        var served = Task.Run(async () =>
        {
            var context = await upstream.GetContextAsync();
            var answer = Encoding.UTF8.GetBytes($"allowed upstream saw {context.Request.RawUrl}");
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        });
        var otherPort = TestPorts.GetFreeTcpPort();
        using var other = new TcpListener(IPAddress.Loopback, otherPort);
        other.Start();
        using var client = new OutboundHttpClient(new OutboundOptions());
        var host = new ComponentHost(fixture.Engine, new SharedOutboundComponentClient(client));
        using var component = host.Deserialize(fixture.Load("js-echo").Serialize());
        var policy = OutboundPolicy.Create([$"http://127.0.0.1:{port}"], "test");
        var log = new List<string>();

        var allowed = await Task.Run(() => host.Execute(component, ComponentFixture.Get($"/fetch?url=http://127.0.0.1:{port}/ok") with { Outbound = policy },
            Limits, l => { lock (log) log.Add(l); }, CancellationToken.None));
        var refused = await Task.Run(() => host.Execute(component, ComponentFixture.Get($"/fetch?url=http://127.0.0.1:{otherPort}/no") with { Outbound = policy },
            Limits, l => { lock (log) log.Add(l); }, CancellationToken.None));

        output.WriteLine(string.Join("\n", log));
        await served.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(200, allowed.StatusCode);
        Assert.Equal("allowed upstream saw /ok", Encoding.UTF8.GetString(allowed.Body.Span));
        Assert.Equal(502, refused.StatusCode);
        Assert.False(other.Pending());
    }

    /// <summary>Sends the component's request with HttpClient; stands for the shared outbound client (allow-list not applied here).</summary>
    private sealed class LoopbackOutbound : IComponentOutboundHttp
    {
        private static readonly HttpClient s_client = new();

        public ComponentOutboundResult Send(ComponentOutboundRequest request, CancellationToken cancellationToken)
        {
            using var message = new HttpRequestMessage(new HttpMethod(request.Method), $"{request.Scheme}://{request.Authority}{request.PathWithQuery}");
            if (!request.Body.IsEmpty)
            {
                message.Content = new ByteArrayContent(request.Body.ToArray());
            }
            foreach (var (name, value) in request.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, Encoding.Latin1.GetString(value));
            }
            try
            {
                using var response = s_client.Send(message, cancellationToken);
                var body = response.Content.ReadAsByteArrayAsync(cancellationToken).GetAwaiter().GetResult();
                var headers = response.Headers.Concat(response.Content.Headers)
                    .SelectMany(h => h.Value.Select(v => KeyValuePair.Create(h.Key.ToLowerInvariant(), Encoding.Latin1.GetBytes(v))))
                    .ToList();
                return ComponentOutboundResult.Ok(new ComponentOutboundResponse((int)response.StatusCode, headers, body));
            }
            catch (HttpRequestException)
            {
                return ComponentOutboundResult.Error("connection-refused");
            }
        }
    }
}
