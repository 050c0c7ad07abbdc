namespace Platform.Oci;

/// <summary>
/// How a precompiled module is stored beside its Wasm module: an OCI artifact in the same repository whose
/// <c>subject</c> is the module's manifest (an OCI 1.1 referrer), tagged by module digest and engine fingerprint so
/// registries without the referrers API find it too, with one layer holding the Wasmtime-serialized module.
/// </summary>
/// <remarks>
/// The control plane pushes it (VersionPublisher) and records the layer's digest, the fingerprint and its signature
/// in the version row; routers learn those from the routing table and pull the layer by that digest
/// (<see cref="IOciRegistryClient.PullBlobAsync"/>, which verifies it), so they never read the manifest or its tag.
/// </remarks>
public static class PrecompiledArtifactFormat
{
    public const string ArtifactType = "application/vnd.platform.wasmtime.precompiled.v1";
    public const string LayerMediaType = "application/vnd.platform.wasmtime.cwasm";
    public const string FingerprintAnnotation = "local.platform.wasmtime.fingerprint";
    public const string EngineAnnotation = "local.platform.wasmtime.engine";
    public const string ModuleDigestAnnotation = "local.platform.module.digest";

    /// <summary>
    /// The largest layer a router pulls: far above any real artifact (a 2 MB module makes a 2.2 MB one, a 12 MB JS
    /// component about 33 MB); a registry answering more is not trusted with memory.
    /// </summary>
    public const long MaxLayerBytes = 512L * 1024 * 1024;

    /// <summary><c>sha256-&lt;hex&gt;.cwasm-&lt;fingerprint&gt;</c>: one artifact per module and engine (94 characters, within the 128 a tag allows).</summary>
    public static string TagFor(string moduleDigest, string fingerprint) =>
        $"{moduleDigest.Replace(':', '-')}.cwasm-{fingerprint}";
}
