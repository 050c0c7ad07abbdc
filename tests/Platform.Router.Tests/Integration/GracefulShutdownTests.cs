using System.Net;
using System.Net.Sockets;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task On_sigterm_the_router_finishes_the_request_in_flight_refuses_new_connections_and_exits_0()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("slow", TestApps.Bytes("slow"));
        await stack.WaitForAppAsync("slow", "/", "slow done", TimeSpan.FromSeconds(15));

        var inFlight = stack.Router.SendAsync("slow", "/in-flight");
        await Task.Delay(300); // the request has reached the Wasm instance
        stack.Router.Process.Terminate();

        // While the slow request still runs (it takes 1.5 s), the listener is already closed.
        await Task.Delay(300);
        Assert.False(inFlight.IsCompleted, "the slow request finished before the test could look at the listener");
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, stack.Router.AppPort));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("slow done", await response.Content.ReadAsStringAsync());

        Assert.Equal(0, await stack.Router.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(stack.Router.Process.OutputLines, l => l.Contains("readiness is now false", StringComparison.Ordinal));
    }

    [Fact]
    public async Task On_sigterm_the_control_plane_answers_its_long_polls_at_once_and_exits_0()
    {
        await using var stack = await PlatformStack.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", PlatformProcesses.RouterToken);
        var first = await http.GetAsync($"{stack.ControlPlane.Url}/internal/v1/routes");
        using var poll = new HttpRequestMessage(HttpMethod.Get, $"{stack.ControlPlane.Url}/internal/v1/routes?wait=60");
        poll.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        var held = http.SendAsync(poll);
        await Task.Delay(300);
        Assert.False(held.IsCompleted, "the long-poll should be held while nothing changes");

        stack.ControlPlane.Process.Terminate();

        // Answered long before its 60 s wait ran out, so a router can move on to another replica.
        var answered = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.NotModified, answered.StatusCode);
        Assert.Equal(0, await stack.ControlPlane.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}
