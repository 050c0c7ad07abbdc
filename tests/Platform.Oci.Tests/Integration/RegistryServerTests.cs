using Platform.Testing;

namespace Platform.Oci.Tests.Integration;

/// <summary>The test fixture itself: failures must say what is wrong, and restarts must keep port and content.</summary>
[Trait("Category", "Integration")]
public sealed class RegistryServerTests
{
    [Fact]
    public async Task A_missing_binary_fails_with_the_package_to_install()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RegistryServer.StartNewAsync(new RegistryServerOptions { BinaryPath = "/nonexistent/docker-registry" }));

        Assert.Contains("'/nonexistent/docker-registry'", ex.Message);
        Assert.Contains("apt-get install docker-registry", ex.Message);
    }

    [Fact]
    public async Task A_registry_that_exits_at_start_fails_with_its_own_output()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => RegistryServer.StartNewAsync(new RegistryServerOptions
        {
            TokenAuth = new RegistryTokenAuth("http://127.0.0.1:1/token", "svc", "iss", "/nonexistent/root.pem"),
        }));

        Assert.Contains("exited with code", ex.Message);
        Assert.Contains("/nonexistent/root.pem", ex.Message); // quoted from the registry's own error
    }

    [Fact]
    public async Task A_restart_keeps_the_port_and_the_storage_and_dispose_removes_the_folder()
    {
        var registry = await RegistryServer.StartNewAsync();
        var url = registry.Url;
        var root = registry.RootDirectory;
        var client = new OciClient(new HttpClient(), new OciRegistryOptions { Url = url });
        var pushed = await client.PushWasmModuleAsync("restart", 1, new byte[] { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00 });

        await registry.StopAsync();
        Assert.False(registry.IsRunning);
        await registry.StartAsync();

        Assert.Equal(url, registry.Url);
        Assert.Equal(pushed.ManifestDigest, await client.ResolveTagAsync(pushed.Repository, "v1"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => registry.StartAsync());
        Assert.Contains("listening on " + registry.HostPort, registry.Output);

        await registry.DisposeAsync();
        Assert.False(Directory.Exists(root));
    }
}
