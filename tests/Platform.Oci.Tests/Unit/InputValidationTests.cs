using Platform.Oci.Tests.Support;

namespace Platform.Oci.Tests.Unit;

/// <summary>Bad input is refused with the value quoted, before any request reaches the registry.</summary>
[Trait("Category", "Unit")]
public sealed class InputValidationTests
{
    // Nothing listens here; the recorder proves no request was even attempted.
    private readonly (OciClient Client, RecordingHandler Recorder) _c = ClientFactory.Create("http://127.0.0.1:9");

    [Theory]
    [InlineData("Hello")]
    [InlineData("apps/hello")]
    [InlineData("-hello")]
    [InlineData("")]
    public async Task An_app_name_outside_the_repository_grammar_is_refused(string app)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushWasmModuleAsync(app, 1, TestModules.Unique()));

        Assert.Contains($"'{app}'", ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task A_version_below_one_is_refused(int version)
    {
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _c.Client.PushWasmModuleAsync("hello", version, TestModules.Unique()));

        Assert.Contains($"Version {version}", ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Fact]
    public async Task Bytes_that_are_not_wasm_are_refused_quoting_their_start()
    {
        var elf = new byte[] { 0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0 };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushWasmModuleAsync("hello", 1, elf));

        Assert.Contains("7F454C4602010100", ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Fact]
    public async Task An_empty_module_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushWasmModuleAsync("hello", 1, ReadOnlyMemory<byte>.Empty));
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Fact]
    public async Task Pull_with_a_malformed_digest_is_refused()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PullWasmModuleAsync("apps/hello", "sha256:xyz"));

        Assert.Contains("'sha256:xyz'", ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Fact]
    public async Task A_manifest_reference_that_is_neither_tag_nor_digest_is_refused()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.GetManifestAsync("apps/hello", "v1:bad"));

        Assert.Contains("'v1:bad'", ex.Message);
    }

    [Fact]
    public async Task An_artifact_without_config_needs_an_artifact_type()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushArtifactAsync("apps/hello", "t", new OciArtifact
        {
            Layers = [new OciBlob("application/octet-stream", new byte[] { 1 })],
        }));

        Assert.Contains("ArtifactType", ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Theory]
    [InlineData("wasm")]
    [InlineData("application/wasm\r\nX-Injected: 1")]
    [InlineData("application//wasm")]
    public async Task A_malformed_layer_media_type_is_refused(string mediaType)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushArtifactAsync("apps/hello", "t", new OciArtifact
        {
            ArtifactType = "application/vnd.example",
            Layers = [new OciBlob(mediaType, new byte[] { 1 })],
        }));

        Assert.Contains($"'{mediaType}'", ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Fact]
    public async Task An_artifact_without_layers_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushArtifactAsync("apps/hello", "t", new OciArtifact
        {
            ArtifactType = "application/vnd.example",
            Layers = [],
        }));
        Assert.Empty(_c.Recorder.Exchanges);
    }

    [Fact]
    public async Task Manifest_bytes_pushed_under_a_digest_must_hash_to_it()
    {
        var other = "sha256:" + new string('1', 64);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _c.Client.PushManifestAsync("apps/hello", other, "{}"u8.ToArray(), OciMediaTypes.ImageManifest));

        Assert.Contains(other, ex.Message);
        Assert.Empty(_c.Recorder.Exchanges);
    }
}
