using System.Net;
using System.Net.Sockets;
using Platform.Oci.Tests.Support;
using Platform.Testing;

namespace Platform.Oci.Tests.Integration;

/// <summary>Registry down, hung or never there: callers get <see cref="OciRegistryUnavailableException"/> to map to 502/503.</summary>
[Trait("Category", "Integration")]
public sealed class RegistryOutageTests
{
    [Fact]
    public async Task A_stopped_registry_is_reported_unavailable_and_works_again_after_a_restart()
    {
        await using var registry = await RegistryServer.StartNewAsync();
        var (client, _) = ClientFactory.Create(registry);
        var module = TestModules.Unique();
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);

        await registry.StopAsync();

        var pull = await Assert.ThrowsAsync<OciRegistryUnavailableException>(() => client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));
        Assert.IsType<HttpRequestException>(pull.InnerException);
        Assert.Contains(registry.Url, pull.Message);
        await Assert.ThrowsAsync<OciRegistryUnavailableException>(() => client.PingAsync());
        await Assert.ThrowsAsync<OciRegistryUnavailableException>(() => client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique()));

        await registry.StartAsync();

        Assert.True(registry.IsRunning);
        Assert.Equal(module, await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));
        await client.PingAsync();
    }

    [Fact]
    public async Task A_registry_that_never_answers_times_out_as_unavailable()
    {
        // Accepts TCP connections and never writes a byte: what a hung registry or a black-holing proxy looks like.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<TcpClient>();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await listener.AcceptTcpClientAsync());
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Listener stopped at the end of the test.
            }
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var (client, _) = ClientFactory.Create($"http://127.0.0.1:{port}", timeout: TimeSpan.FromMilliseconds(300));

        var ex = await Assert.ThrowsAsync<OciRegistryUnavailableException>(() => client.PingAsync());

        Assert.Contains("did not answer", ex.Message);
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
        listener.Stop();
        held.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task A_port_nobody_listens_on_is_reported_unavailable()
    {
        var (client, _) = ClientFactory.Create($"http://127.0.0.1:{TestPorts.GetFreeTcpPort()}");

        var ex = await Assert.ThrowsAsync<OciRegistryUnavailableException>(() => client.PullWasmModuleAsync("apps/x", "sha256:" + new string('0', 64)));

        Assert.Null(ex.StatusCode);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }

    [Fact]
    public async Task A_caller_cancellation_stays_a_cancellation()
    {
        await using var registry = await RegistryServer.StartNewAsync();
        var (client, _) = ClientFactory.Create(registry);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PingAsync(cts.Token));
    }
}
