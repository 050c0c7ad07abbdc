using System.Text;
using System.Text.Json;

namespace Platform.Oci.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class ManifestJsonTests
{
    private static readonly string s_digestA = "sha256:" + new string('a', 64);
    private static readonly string s_digestB = "sha256:" + new string('b', 64);

    [Fact]
    public void A_wasm_manifest_serializes_to_the_oci_image_manifest_shape()
    {
        var manifest = new OciManifest
        {
            Config = new OciDescriptor { MediaType = OciMediaTypes.WasmConfig, Digest = s_digestA, Size = 120 },
            Layers = [new OciDescriptor { MediaType = OciMediaTypes.WasmLayer, Digest = s_digestB, Size = 30_000 }],
        };

        using var doc = JsonDocument.Parse(OciClient.SerializeManifest(manifest));
        var root = doc.RootElement;

        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", root.GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.wasm.config.v0+json", root.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.Equal(s_digestA, root.GetProperty("config").GetProperty("digest").GetString());
        Assert.Equal(120, root.GetProperty("config").GetProperty("size").GetInt64());
        var layer = Assert.Single(root.GetProperty("layers").EnumerateArray());
        Assert.Equal("application/wasm", layer.GetProperty("mediaType").GetString());
        Assert.Equal(s_digestB, layer.GetProperty("digest").GetString());
        Assert.Equal(30_000, layer.GetProperty("size").GetInt64());
        // Absent optional fields are omitted, not written as null (registries reject "subject": null).
        Assert.False(root.TryGetProperty("artifactType", out _));
        Assert.False(root.TryGetProperty("subject", out _));
        Assert.False(root.TryGetProperty("annotations", out _));
        Assert.False(layer.TryGetProperty("annotations", out _));
    }

    [Fact]
    public void Artifact_type_subject_and_annotations_are_written_when_set()
    {
        var manifest = new OciManifest
        {
            ArtifactType = "application/vnd.example.cwasm",
            Config = new OciDescriptor { MediaType = OciMediaTypes.Empty, Digest = s_digestA, Size = 2 },
            Layers = [new OciDescriptor { MediaType = "application/octet-stream", Digest = s_digestB, Size = 1, Annotations = new Dictionary<string, string> { ["k"] = "v" } }],
            Subject = new OciDescriptor { MediaType = OciMediaTypes.ImageManifest, Digest = s_digestA, Size = 400 },
            Annotations = new Dictionary<string, string> { ["org.example"] = "x" },
        };

        var json = Encoding.UTF8.GetString(OciClient.SerializeManifest(manifest));
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;

        Assert.Equal("application/vnd.example.cwasm", root.GetProperty("artifactType").GetString());
        Assert.Equal(s_digestA, root.GetProperty("subject").GetProperty("digest").GetString());
        Assert.Equal("x", root.GetProperty("annotations").GetProperty("org.example").GetString());
        Assert.Equal("v", root.GetProperty("layers")[0].GetProperty("annotations").GetProperty("k").GetString());
        // Field order follows the image spec's examples, which keeps manifests readable and digests stable.
        Assert.True(json.IndexOf("\"schemaVersion\"", StringComparison.Ordinal) < json.IndexOf("\"config\"", StringComparison.Ordinal));
        Assert.True(json.IndexOf("\"config\"", StringComparison.Ordinal) < json.IndexOf("\"layers\"", StringComparison.Ordinal));
    }

    [Fact]
    public void The_wasm_config_has_the_cncf_fields_with_a_utc_timestamp()
    {
        var config = new WasmConfig { Created = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), LayerDigests = [s_digestB] };

        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(config, OciJsonContext.Default.WasmConfig));
        var root = doc.RootElement;

        Assert.Equal("wasm", root.GetProperty("architecture").GetString());
        Assert.Equal("wasip1", root.GetProperty("os").GetString());
        Assert.Equal([s_digestB], root.GetProperty("layerDigests").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("2025-01-02T03:04:05Z", root.GetProperty("created").GetString());
        Assert.False(root.TryGetProperty("author", out _));
    }

    [Fact]
    public void A_manifest_from_a_registry_round_trips()
    {
        var json = $$$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.wasm.config.v0+json","digest":"{{{s_digestA}}}","size":3},
             "layers":[{"mediaType":"application/wasm","digest":"{{{s_digestB}}}","size":9,"annotations":{"org.opencontainers.image.title":"x.wasm"}}],
             "annotations":{"a":"b"},"unknownFutureField":{"x":1}}
            """;

        var manifest = JsonSerializer.Deserialize(json, OciJsonContext.Default.OciManifest)!;

        Assert.Equal(OciMediaTypes.WasmConfig, manifest.Config.MediaType);
        Assert.Equal(s_digestB, Assert.Single(manifest.Layers).Digest);
        Assert.Equal("x.wasm", manifest.Layers[0].Annotations![OciAnnotations.Title]);
        Assert.Equal("b", manifest.Annotations!["a"]);
    }
}
