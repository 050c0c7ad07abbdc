using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Oci;
using Platform.Router.Infrastructure;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.Runtime.Security;

namespace Platform.Router.Serving;

/// <summary>
/// Gets an app's compiled module: memory or disk cache first, else the precompiled artifact from the registry when
/// the routing table names one for this engine, else a digest-verified pull of the module and a compile.
/// </summary>
/// <remarks>
/// The artifact's digest comes from the routing table (the control plane, reached with the router token), never
/// from the registry, and the pulled bytes are verified against it. On top of that the table entry must carry the
/// control plane's signature of (module digest, artifact digest, fingerprint) under the artifact signing key: a row
/// pointed at another module's artifact, or at a crafted one, does not verify, and the module is compiled from its
/// Wasm instead (logged, counted as <c>platform_router_artifact_rejected_total{reason}</c>).
/// </remarks>
/// <remarks>
/// wasi:http components go through the same cache, disk store and precompiled artifacts (<see cref="ComponentCodeLoader"/>),
/// so a router deserializes the artifact the control plane pushed and never compiles a component that has a valid one.
/// </remarks>
public sealed class ModuleLoader(ModuleCache cache, IOciRegistryClient registry, IOptions<RouterOptions> options, ComponentCodeLoader components,
    ArtifactSigner signer, ILogger<ModuleLoader> logger)
{
    private readonly bool _usePrecompiled = options.Value.UsePrecompiledArtifacts;

    public ValueTask<CachedModule> GetAsync(RouteEntry route, CancellationToken cancellationToken) =>
        GetAsync(route.App, route.Repository, route.ModuleDigest, route.PrecompiledDigest, route.PrecompiledFingerprint, route.PrecompiledSignature, null, cancellationToken);

    /// <summary>One component's module; each module of a bundle is cached (and precompiled) on its own.</summary>
    public ValueTask<CachedModule> GetAsync(Routing.ComponentState component, CancellationToken cancellationToken) =>
        GetAsync($"{component.Repository}, component '{component.Id}'", component.Repository, component.ModuleDigest, component.PrecompiledDigest, component.PrecompiledFingerprint,
            component.PrecompiledSignature, component.IsHttpComponent ? components : null, cancellationToken);

    private ValueTask<CachedModule> GetAsync(string location, string repository, string moduleDigest, string? precompiledDigest, string? precompiledFingerprint,
        string? signature, ICodeLoader? loader, CancellationToken cancellationToken)
    {
        // The hot path: a loaded module, with no delegate or task allocated.
        if (cache.TryGetLoaded(moduleDigest, out var loaded))
        {
            return ValueTask.FromResult(loaded);
        }
        var precompiled = _usePrecompiled && precompiledDigest is { } artifactDigest && precompiledFingerprint is { } fingerprint
                          && IsSigned(location, moduleDigest, artifactDigest, fingerprint, signature)
            ? new PrecompiledArtifact(artifactDigest, fingerprint, ct => registry.PullBlobAsync(repository, artifactDigest, PrecompiledArtifactFormat.MaxLayerBytes, ct),
                FetchVerifiesDigest: true)
            : null;
        return cache.GetAsync(moduleDigest, ct => registry.PullWasmModuleAsync(repository, moduleDigest, ct), precompiled, loader, cancellationToken);
    }

    /// <summary>Whether the control plane signed this artifact for this module and engine; else logged and counted.</summary>
    private bool IsSigned(string location, string moduleDigest, string artifactDigest, string fingerprint, string? signature)
    {
        if (signer.Verify(moduleDigest, artifactDigest, fingerprint, signature))
        {
            return true;
        }
        var reason = signature is null ? "unsigned" : !signer.CanSign ? "no-signing-key" : "bad-signature";
        logger.ArtifactRejected(location, artifactDigest, moduleDigest, reason);
        RuntimeTelemetry.ArtifactRejected(reason);
        return false;
    }
}
