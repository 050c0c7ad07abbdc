using System.Text.Json;
using Platform.Oci.Tests.Support;

namespace Platform.Oci.Tests.Integration;

/// <summary>Another OCI client (skopeo, from containers/image) reads what this client pushed.</summary>
[Trait("Category", "Integration")]
public sealed class SkopeoInteropTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    private const string Skopeo = "/usr/bin/skopeo";

    [Fact]
    public async Task Skopeo_reads_the_pushed_manifest_with_the_wasm_media_types()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var app = TestModules.UniqueAppName();
        var pushed = await client.PushWasmModuleAsync(app, 1, TestModules.Unique());

        var json = await RunSkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{fixture.Registry.HostPort}/apps/{app}:v1");

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", root.GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.wasm.config.v0+json", root.GetProperty("config").GetProperty("mediaType").GetString());
        var layer = Assert.Single(root.GetProperty("layers").EnumerateArray());
        Assert.Equal("application/wasm", layer.GetProperty("mediaType").GetString());
        Assert.Equal(pushed.ModuleDigest, layer.GetProperty("digest").GetString());
        // --raw prints the stored bytes, so their hash is the digest this client reported.
        Assert.Equal(pushed.ManifestDigest, OciDigest.ComputeSha256(System.Text.Encoding.UTF8.GetBytes(json.TrimEnd('\n'))));
    }

    [Fact]
    public async Task Skopeo_reads_the_wasm_config_blob()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var app = TestModules.UniqueAppName();
        var pushed = await client.PushWasmModuleAsync(app, 2, TestModules.Unique());

        var json = await RunSkopeoAsync("inspect", "--config", "--raw", "--tls-verify=false", $"docker://{fixture.Registry.HostPort}/apps/{app}:v2");

        using var doc = JsonDocument.Parse(json);
        Assert.Equal("wasm", doc.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("wasip1", doc.RootElement.GetProperty("os").GetString());
        Assert.Equal(pushed.ModuleDigest, Assert.Single(doc.RootElement.GetProperty("layerDigests").EnumerateArray()).GetString());
    }

    private static async Task<string> RunSkopeoAsync(params string[] args)
    {
        Assert.True(File.Exists(Skopeo), $"'{Skopeo}' is missing; install the Debian package 'skopeo'.");
        // Stdout only: skopeo may print warnings on stderr, which must not corrupt the JSON.
        var psi = new System.Diagnostics.ProcessStartInfo(Skopeo) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0, $"skopeo {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
