namespace Platform.Oci;

/// <summary>
/// The registry operations the control plane and routers use. <see cref="OciClient"/> implements it over the
/// distribution API; another implementation (e.g. ORAS .NET) can replace it without touching the callers.
/// </summary>
public interface IOciRegistryClient
{
    /// <summary>Host and port of the registry as it appears in references, e.g. <c>127.0.0.1:5000</c>.</summary>
    string RegistryHost { get; }

    /// <summary><c>{prefix}/{app}</c>, validated.</summary>
    string GetRepositoryName(string app);

    /// <summary>Checks that the registry answers <c>GET /v2/</c> (authenticating if it asks); throws otherwise.</summary>
    Task PingAsync(CancellationToken cancellationToken = default);

    /// <summary>Pushes a module as a Wasm OCI artifact tagged <c>v{version}</c> in <c>{prefix}/{app}</c>.</summary>
    Task<OciPushResult> PushWasmModuleAsync(string app, int version, ReadOnlyMemory<byte> module,
        IReadOnlyDictionary<string, string>? annotations = null, CancellationToken cancellationToken = default);

    /// <summary>Pulls a module by its digest and verifies the bytes hash to it.</summary>
    Task<byte[]> PullWasmModuleAsync(string repository, string moduleDigest, CancellationToken cancellationToken = default);

    /// <summary>Pushes any artifact (config, layers, annotations, optional subject) and tags it when <paramref name="tag"/> is given.</summary>
    Task<OciArtifactPushResult> PushArtifactAsync(string repository, string? tag, OciArtifact artifact, CancellationToken cancellationToken = default);

    /// <summary>Fetches an image manifest by tag or digest.</summary>
    Task<OciManifestResult> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default);

    /// <summary>The manifest digest a tag points to, or null when the tag does not exist.</summary>
    Task<string?> ResolveTagAsync(string repository, string tag, CancellationToken cancellationToken = default);

    /// <summary>Pulls a blob by digest and verifies it.</summary>
    Task<byte[]> PullBlobAsync(string repository, string digest, long? maxSizeBytes = null, CancellationToken cancellationToken = default);
}
