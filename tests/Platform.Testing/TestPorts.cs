using System.Net;
using System.Net.Sockets;

namespace Platform.Testing;

/// <summary>Finds loopback ports nobody listens on, so parallel test runs never collide.</summary>
public static class TestPorts
{
    public static int GetFreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
