using System.Text.Json;

namespace Platform.Oci;

// Artifacts on top of blobs and manifests: the generic push, and the Wasm module layout of the
// CNCF TAG Runtime "Wasm OCI Artifact" guidance (config application/vnd.wasm.config.v0+json, one application/wasm layer).
public sealed partial class OciClient
{
    /// <inheritdoc />
    public async Task<OciArtifactPushResult> PushArtifactAsync(string repository, string? tag, OciArtifact artifact, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        if (tag is not null)
        {
            OciNames.ValidateTag(tag);
        }
        var manifestBytes = await BuildAndPushBlobsAsync(repository, artifact, cancellationToken);
        var manifest = manifestBytes.Manifest;
        var bytes = manifestBytes.Bytes;

        // Without a tag the manifest is pushed by its digest (an untagged artifact, e.g. one found via its subject).
        var reference = tag ?? OciDigest.ComputeSha256(bytes);
        var digest = await PushManifestAsync(repository, reference, bytes, OciMediaTypes.ImageManifest, cancellationToken);
        return new OciArtifactPushResult(repository, tag, digest, bytes.Length, manifest.Config, manifest.Layers, $"{RegistryHost}/{repository}@{digest}");
    }

    private async Task<(OciManifest Manifest, byte[] Bytes)> BuildAndPushBlobsAsync(string repository, OciArtifact artifact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (artifact.Layers is null || artifact.Layers.Count == 0)
        {
            throw new ArgumentException($"An artifact for '{repository}' needs at least one layer.", nameof(artifact));
        }
        if (artifact.Config is null && string.IsNullOrWhiteSpace(artifact.ArtifactType))
        {
            // OCI image spec 1.1: with the empty config, artifactType is what says what the artifact is.
            throw new ArgumentException($"An artifact for '{repository}' without a config must set ArtifactType.", nameof(artifact));
        }
        ValidateMediaType(artifact.ArtifactType, "ArtifactType", allowNull: true);
        var config = artifact.Config ?? new OciBlob(OciMediaTypes.Empty, "{}"u8.ToArray());
        ValidateMediaType(config.MediaType, "Config.MediaType", allowNull: false);
        for (var i = 0; i < artifact.Layers.Count; i++)
        {
            ValidateMediaType(artifact.Layers[i]?.MediaType, $"Layers[{i}].MediaType", allowNull: false);
        }

        var configDescriptor = await PushDescribedAsync(repository, config, cancellationToken);
        var layers = new List<OciDescriptor>(artifact.Layers.Count);
        foreach (var layer in artifact.Layers)
        {
            layers.Add(await PushDescribedAsync(repository, layer, cancellationToken));
        }
        var manifest = new OciManifest
        {
            ArtifactType = artifact.ArtifactType,
            Config = configDescriptor,
            Layers = layers,
            Subject = artifact.Subject,
            Annotations = Sorted(artifact.Annotations),
        };
        return (manifest, SerializeManifest(manifest));
    }

    private async Task<OciDescriptor> PushDescribedAsync(string repository, OciBlob blob, CancellationToken cancellationToken)
    {
        var pushed = await PushBlobAsync(repository, blob.Content, cancellationToken);
        return new OciDescriptor { MediaType = blob.MediaType, Digest = pushed.Digest, Size = pushed.Size, Annotations = Sorted(blob.Annotations) };
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The app name is not a repository path component, or the bytes are not WebAssembly.</exception>
    public async Task<OciPushResult> PushWasmModuleAsync(string app, int version, ReadOnlyMemory<byte> module,
        IReadOnlyDictionary<string, string>? annotations = null, CancellationToken cancellationToken = default)
    {
        var repository = GetRepositoryName(app);
        if (version < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, $"Version {version} of app '{app}' is not valid: versions start at 1.");
        }
        if (!WasmBinary.HasMagic(module.Span))
        {
            throw new ArgumentException(
                $"The module for app '{app}' is not WebAssembly: it does not start with the magic bytes {WasmBinary.MagicHex} (it starts with '{WasmBinary.HeadHex(module.Span)}', {module.Length} bytes).",
                nameof(module));
        }

        var tag = $"v{version}";
        var moduleDigest = OciDigest.ComputeSha256(module.Span);
        var now = _time.GetUtcNow().UtcDateTime;
        // The TAG Runtime layout names the WASI version: a component (layer 1 of the binary format) is preview 2.
        var config = new WasmConfig { Created = now, LayerDigests = [moduleDigest], Os = WasmBinary.IsComponent(module.Span) ? "wasip2" : "wasip1" };
        var configBytes = JsonSerializer.SerializeToUtf8Bytes(config, OciJsonContext.Default.WasmConfig);

        var manifestAnnotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (annotations is not null)
        {
            foreach (var (k, v) in annotations)
            {
                manifestAnnotations[k] = v;
            }
        }
        manifestAnnotations.TryAdd(OciAnnotations.Created, now.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));

        var pushed = await PushArtifactAsync(repository, tag, new OciArtifact
        {
            Config = new OciBlob(OciMediaTypes.WasmConfig, configBytes),
            // The title lets generic tools (oras pull) name the file they write.
            Layers = [new OciBlob(OciMediaTypes.WasmLayer, module, new Dictionary<string, string> { [OciAnnotations.Title] = $"{app}.wasm" })],
            Annotations = manifestAnnotations,
        }, cancellationToken);

        _logger.WasmModulePushed(repository, tag, moduleDigest, module.Length, pushed.ManifestDigest);
        return new OciPushResult(repository, tag, pushed.ManifestDigest, moduleDigest, module.Length, pushed.Reference, pushed.Config.Digest, pushed.Manifest);
    }

    /// <inheritdoc />
    public Task<byte[]> PullWasmModuleAsync(string repository, string moduleDigest, CancellationToken cancellationToken = default) =>
        PullBlobAsync(repository, moduleDigest, maxSizeBytes: null, cancellationToken);

    private static SortedDictionary<string, string>? Sorted(IReadOnlyDictionary<string, string>? annotations)
    {
        // Sorted keys keep the manifest bytes, and so its digest, independent of dictionary order.
        if (annotations is null || annotations.Count == 0)
        {
            return null;
        }
        var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in annotations)
        {
            if (string.IsNullOrEmpty(k))
            {
                throw new ArgumentException("Annotation keys must not be empty.", nameof(annotations));
            }
            sorted[k] = v ?? throw new ArgumentException($"Annotation '{k}' has a null value.", nameof(annotations));
        }
        return sorted;
    }

    private static void ValidateMediaType(string? mediaType, string what, bool allowNull)
    {
        if (mediaType is null && allowNull)
        {
            return;
        }
        // RFC 6838 shape: type "/" subtype, restricted characters; enough to stop typos and header injection.
        if (string.IsNullOrEmpty(mediaType) || mediaType.Length > 255 || mediaType.Count(c => c == '/') != 1
            || mediaType.StartsWith('/') || mediaType.EndsWith('/')
            || !mediaType.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '+' or '-' or '_' or '!' or '#' or '$' or '&' or '^'))
        {
            throw new ArgumentException($"{what} '{mediaType}' is not a valid media type (expected 'type/subtype', e.g. 'application/wasm').", what);
        }
    }
}
