using Platform.Contracts;
using Platform.Oci;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>Gets an app's compiled module: memory or disk cache first, else a digest-verified pull from the registry.</summary>
public sealed class ModuleLoader(ModuleCache cache, IOciRegistryClient registry)
{
    public ValueTask<CachedModule> GetAsync(RouteEntry route, CancellationToken cancellationToken) =>
        cache.GetAsync(route.ModuleDigest, ct => registry.PullWasmModuleAsync(route.Repository, route.ModuleDigest, ct), cancellationToken);
}
