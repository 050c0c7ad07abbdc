using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Testing;

namespace Platform.Deploy.Tests.Integration;

/// <summary>
/// deploy/docker/healthcheck.sh is the compose health check of the control plane and router images (they have no
/// curl). Run here with bash against a real TCP listener that answers like Kestrel would.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HealthcheckScriptTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _serving;
    private readonly List<string> _requests = [];

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Task InitializeAsync()
    {
        _listener.Start();
        _serving = ServeAsync(_stop.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving!;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping the listener ends the accept loop.
        }
        _stop.Dispose();
    }

    /// <summary>/readyz answers 200, /draining 503, /silent never answers; anything else 404.</summary>
    private async Task ServeAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(ct);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII);
                    var requestLine = await reader.ReadLineAsync(ct) ?? "";
                    lock (_requests)
                    {
                        _requests.Add(requestLine);
                    }
                    var path = requestLine.Split(' ') is [_, var p, ..] ? p : "";
                    if (path == "/silent")
                    {
                        await Task.Delay(Timeout.Infinite, ct);
                    }
                    var status = path switch
                    {
                        "/readyz" => "200 OK",
                        "/draining" => "503 Service Unavailable",
                        _ => "404 Not Found",
                    };
                    var response = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    await stream.WriteAsync(response, ct);
                }
            }, ct);
        }
    }

    private static Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        ExternalProcess.RunAsync("bash", [RepoPaths.Combine("deploy", "docker", "healthcheck.sh"), .. args], timeout: TimeSpan.FromSeconds(30));

    [Fact]
    public async Task A_200_from_the_readiness_endpoint_is_healthy()
    {
        var (exit, output) = await RunAsync(Port.ToString(), "/readyz");

        Assert.True(exit == 0, output);
        lock (_requests)
        {
            Assert.Equal("GET /readyz HTTP/1.0", Assert.Single(_requests));
        }
    }

    [Fact]
    public async Task A_503_while_draining_is_unhealthy_and_the_status_is_printed()
    {
        var (exit, output) = await RunAsync(Port.ToString(), "/draining");

        Assert.Equal(1, exit);
        Assert.Contains("answered 'HTTP/1.1 503 Service Unavailable'", output);
    }

    [Fact]
    public async Task A_port_nobody_listens_on_is_unhealthy()
    {
        var closed = TestPorts.GetFreeTcpPort();

        var (exit, output) = await RunAsync(closed.ToString(), "/readyz");

        Assert.Equal(1, exit);
        Assert.Contains($"nothing accepts connections on 127.0.0.1:{closed}", output);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_unhealthy()
    {
        var (exit, output) = await RunAsync(Port.ToString(), "/silent");

        Assert.Equal(1, exit);
        Assert.Contains("no response from", output);
    }

    [Theory]
    [InlineData("http", "/readyz", "PORT must be a number, got 'http'")]
    [InlineData("9090", "readyz", "PATH must start with '/', got 'readyz'")]
    public async Task Bad_arguments_are_rejected_with_the_offending_value(string port, string path, string message)
    {
        var (exit, output) = await RunAsync(port, path);

        Assert.Equal(2, exit);
        Assert.Contains(message, output);
    }
}
