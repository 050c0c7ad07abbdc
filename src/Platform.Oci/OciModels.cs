using System.Text.Json.Serialization;

namespace Platform.Oci;

/// <summary>Media types of the OCI image spec and of the CNCF TAG Runtime Wasm OCI artifact layout.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";

    /// <summary>The empty descriptor's media type (content <c>{}</c>), for artifacts without a config of their own.</summary>
    public const string Empty = "application/vnd.oci.empty.v1+json";

    /// <summary>Config media type that marks a Wasm OCI artifact.</summary>
    public const string WasmConfig = "application/vnd.wasm.config.v0+json";

    /// <summary>The one layer type of a Wasm OCI artifact: the raw module or component bytes.</summary>
    public const string WasmLayer = "application/wasm";
}

/// <summary>Well-known annotation keys.</summary>
public static class OciAnnotations
{
    public const string Created = "org.opencontainers.image.created";
    public const string Title = "org.opencontainers.image.title";
    public const string Version = "org.opencontainers.image.version";
}

/// <summary>An OCI content descriptor.</summary>
public sealed record OciDescriptor
{
    public required string MediaType { get; init; }
    public required string Digest { get; init; }
    public required long Size { get; init; }
    public string? ArtifactType { get; init; }
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>An OCI image manifest (schema version 2), also used for artifacts.</summary>
public sealed record OciManifest
{
    public int SchemaVersion { get; init; } = 2;
    public string? MediaType { get; init; } = OciMediaTypes.ImageManifest;
    public string? ArtifactType { get; init; }
    public required OciDescriptor Config { get; init; }
    public required IReadOnlyList<OciDescriptor> Layers { get; init; }
    public OciDescriptor? Subject { get; init; }
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>
/// The config blob of a Wasm OCI artifact (<c>application/vnd.wasm.config.v0+json</c>).
/// <c>layerDigests</c> repeats the layer digests so that every distinct module gets a distinct config digest.
/// </summary>
public sealed record WasmConfig
{
    public required DateTime Created { get; init; }
    public string? Author { get; init; }
    public string Architecture { get; init; } = "wasm";

    /// <summary><c>wasip1</c> for core modules (this platform), <c>wasip2</c> for components.</summary>
    public string Os { get; init; } = "wasip1";

    public required IReadOnlyList<string> LayerDigests { get; init; }
}

/// <summary>A blob to push as a config or a layer of an artifact.</summary>
public sealed record OciBlob(string MediaType, ReadOnlyMemory<byte> Content, IReadOnlyDictionary<string, string>? Annotations = null);

/// <summary>What <see cref="OciClient.PushArtifactAsync"/> pushes: one manifest with its config and layers.</summary>
public sealed record OciArtifact
{
    /// <summary>The manifest's <c>artifactType</c>. Required when <see cref="Config"/> is null (the empty config is used then).</summary>
    public string? ArtifactType { get; init; }

    /// <summary>The config blob; null means the OCI empty descriptor (<c>{}</c>, <see cref="OciMediaTypes.Empty"/>).</summary>
    public OciBlob? Config { get; init; }

    public required IReadOnlyList<OciBlob> Layers { get; init; }

    /// <summary>Manifest annotations.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The manifest this artifact refers to (e.g. a precompiled module refers to its source module's manifest).</summary>
    public OciDescriptor? Subject { get; init; }
}

/// <summary>Digest and size of a pushed blob, and whether the registry already had it (so no bytes were uploaded).</summary>
public sealed record OciBlobPushResult(string Digest, long Size, bool AlreadyExisted);

/// <summary>A manifest as the registry returned it: parsed, its verified digest, and the exact bytes.</summary>
public sealed record OciManifestResult(OciManifest Manifest, string Digest, string MediaType, ReadOnlyMemory<byte> Content);

/// <summary>Result of pushing an artifact.</summary>
/// <param name="Reference">Pull reference pinned to the manifest digest: <c>{registryHost}/{repository}@{manifestDigest}</c>.</param>
public sealed record OciArtifactPushResult(
    string Repository,
    string? Tag,
    string ManifestDigest,
    long ManifestSize,
    OciDescriptor Config,
    IReadOnlyList<OciDescriptor> Layers,
    string Reference)
{
    /// <summary>The pushed manifest's descriptor (always an OCI image manifest), e.g. the <c>subject</c> of a referrer.</summary>
    public OciDescriptor Manifest => new() { MediaType = OciMediaTypes.ImageManifest, Digest = ManifestDigest, Size = ManifestSize };
}

/// <summary>Result of pushing a Wasm module as a Wasm OCI artifact.</summary>
/// <param name="Repository"><c>{prefix}/{app}</c>.</param>
/// <param name="Tag"><c>v{version}</c>.</param>
/// <param name="ManifestDigest">Digest of the manifest.</param>
/// <param name="ModuleDigest"><c>sha256:&lt;hex&gt;</c> of the module bytes (the layer digest); what routers pull by.</param>
/// <param name="Size">Size of the module in bytes.</param>
/// <param name="Reference"><c>{registryHost}/{repository}@{manifestDigest}</c>.</param>
/// <param name="ConfigDigest">Digest of the Wasm config blob.</param>
/// <param name="Manifest">The pushed manifest's descriptor (media type, digest, size), e.g. the <c>subject</c> of a referrer.</param>
public sealed record OciPushResult(
    string Repository,
    string Tag,
    string ManifestDigest,
    string ModuleDigest,
    long Size,
    string Reference,
    string ConfigDigest,
    OciDescriptor Manifest);

internal sealed class TokenResponse
{
    [JsonPropertyName("token")] public string? Token { get; set; }
    [JsonPropertyName("access_token")] public string? AccessToken { get; set; }
    [JsonPropertyName("expires_in")] public int? ExpiresIn { get; set; }
}

internal sealed class RegistryErrorResponse
{
    [JsonPropertyName("errors")] public List<RegistryError>? Errors { get; set; }
}

internal sealed class RegistryError
{
    [JsonPropertyName("code")] public string? Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(WasmConfig))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(RegistryErrorResponse))]
internal sealed partial class OciJsonContext : JsonSerializerContext;
