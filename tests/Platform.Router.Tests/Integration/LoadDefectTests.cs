using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>Defects found under load and bad input (issue 10, item 7), on the router's side.</summary>
[Trait("Category", "Integration")]
public sealed class LoadDefectTests(SharedRouterStack shared) : IClassFixture<SharedRouterStack>
{
    private PlatformStack Stack => shared.Stack;

    [Theory]
    [InlineData(204)]
    [InlineData(205)]
    [InlineData(304)]
    public async Task A_status_that_allows_no_content_is_sent_without_the_body_the_app_wrote(int status)
    {
        var app = $"status-{status}-{Guid.NewGuid().ToString("N")[..6]}";
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("status"));
        await Stack.WaitForAppAsync(app, "/?200", "body");

        // Over a raw socket, so a body sent against the rules would be visible (HttpClient would hide it).
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Stack.Router.AppPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /?{status} HTTP/1.1\r\nHost: {app}.apps.localhost\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = await reader.ReadToEndAsync(timeout.Token);

        Assert.StartsWith($"HTTP/1.1 {status}", answer);
        Assert.Contains("X-Status-App: yes", answer);
        Assert.DoesNotContain("body the status does not allow", answer);
        // The connection is still good for the next request on the same router.
        Assert.Equal(HttpStatusCode.OK, (await Stack.Router.SendAsync(app, "/?200")).StatusCode);
    }

    [Fact]
    public async Task A_host_name_with_a_trailing_dot_routes_like_the_name_without_it()
    {
        var app = $"dotted-{Guid.NewGuid().ToString("N")[..6]}";
        await Stack.ControlPlane.DeployAsync(app, TestApps.Bytes("hello"));
        await Stack.WaitForAppAsync(app, "/", "GET");

        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{Stack.Router.AppPort}/dot");
        request.Headers.Host = $"{app}.apps.localhost.:{Stack.Router.AppPort}";
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("/dot", await response.Content.ReadAsStringAsync());
    }
}
