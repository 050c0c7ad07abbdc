using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Testing;

/// <summary>
/// Loopback upstreams for outbound-HTTP tests: a real Kestrel server (echo, redirect, slow, big bodies) and a raw
/// TCP listener that only counts connections, for the "the upstream sees no connection" checks.
/// </summary>
public sealed class OutboundUpstreams : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TcpListener _trap;
    private readonly CancellationTokenSource _stop = new();
    private int _trapConnections;
    private int _echoRequests;

    private OutboundUpstreams(WebApplication app, int port, TcpListener trap)
    {
        _app = app;
        Port = port;
        _trap = trap;
        TrapPort = ((IPEndPoint)trap.LocalEndpoint).Port;
        _ = AcceptTrapAsync();
    }

    /// <summary>Port of the Kestrel upstream on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Port of the counting listener on 127.0.0.1.</summary>
    public int TrapPort { get; }

    public int TrapConnections => Volatile.Read(ref _trapConnections);

    public int EchoRequests => Volatile.Read(ref _echoRequests);

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public static async Task<OutboundUpstreams> StartAsync()
    {
        var port = TestPorts.GetFreeTcpPort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        OutboundUpstreams? self = null;
        app.Map("/echo", async (HttpContext context) =>
        {
            if (self is not null)
            {
                Interlocked.Increment(ref self._echoRequests);
            }
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            context.Response.Headers["X-Upstream"] = "kestrel";
            context.Response.Headers["X-Seen-Test-Header"] = context.Request.Headers["X-Test"].ToString();
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync($"method={context.Request.Method} path={context.Request.Path}{context.Request.QueryString} " +
                $"x-test={context.Request.Headers["X-Test"]} host={context.Request.Host} body={body}");
        });
        app.Map("/redirect", (HttpContext context) =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = context.Request.Query["to"].ToString();
            return Task.CompletedTask;
        });
        app.Map("/slow", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(double.Parse(context.Request.Query["s"].FirstOrDefault() ?? "10", System.Globalization.CultureInfo.InvariantCulture)), context.RequestAborted);
            await context.Response.WriteAsync("slow done");
        });
        app.Map("/big", async (HttpContext context) =>
        {
            // No Content-Length: the client has to count while reading.
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'x');
            var total = long.Parse(context.Request.Query["bytes"].FirstOrDefault() ?? "11534336", System.Globalization.CultureInfo.InvariantCulture);
            for (long sent = 0; sent < total && !context.RequestAborted.IsCancellationRequested; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, total - sent)), context.RequestAborted);
            }
        });
        await app.StartAsync();
        var trap = new TcpListener(IPAddress.Loopback, 0);
        trap.Start();
        self = new OutboundUpstreams(app, port, trap);
        return self;
    }

    private async Task AcceptTrapAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _trap.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _trapConnections);
                client.Dispose();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _trap.Stop();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
    }
}
