using System.Net;
using System.Net.Sockets;

namespace Platform.Testing;

/// <summary>Finds loopback ports nobody listens on, so parallel test runs never collide.</summary>
public static class TestPorts
{
    // Ports handed out in this process. A server a test stops for an outage frees its port at the kernel, and a fixture
    // of a test running in parallel must not get it: the stopped server comes back on that port, and the control plane
    // would otherwise talk to the other test's PostgreSQL meanwhile (seen once in a full run).
    private static readonly HashSet<int> s_handedOut = [];

    public static int GetFreeTcpPort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (s_handedOut)
            {
                if (s_handedOut.Add(port) || attempt >= 1000)
                {
                    return port;
                }
            }
        }
    }

    /// <summary>Waits until something accepts TCP connections on the port, or throws after the timeout.</summary>
    public static async Task WaitForListenerAsync(int port, TimeSpan timeout, Func<string>? describeFailure = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (SocketException ex)
            {
                throw new TimeoutException($"Nothing listened on 127.0.0.1:{port} within {timeout}. {describeFailure?.Invoke()}", ex);
            }
        }
    }
}
