using System.Collections.Concurrent;
using Platform.Contracts;
using Platform.Oci;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>
/// Makes an app's routes servable, once per routing table: loads every routed component's module and files (a
/// component is served only when both are present) and adds the WAGI dynamic routes of modules that export
/// <c>_routes</c> (run once per module), so the app's routes and what they need swap together with the table.
/// </summary>
public sealed class AppRouteResolver(ModuleLoader modules, ComponentFilesLoader files, WagiExecutor executor, ILogger<AppRouteResolver> logger)
{
    // _routes output depends only on the module, so it is kept by digest across routing tables.
    private readonly ConcurrentDictionary<string, IReadOnlyList<WagiDynamicRoute>?> _dynamicRoutes = new(StringComparer.Ordinal);

    public ValueTask<ResolvedRoutes> GetAsync(AppRouting app, CancellationToken cancellationToken) =>
        app.Resolved is { } resolved ? ValueTask.FromResult(resolved) : app.ResolveOnceAsync(ResolveAsync, cancellationToken);

    private async Task<ResolvedRoutes> ResolveAsync(AppRouting app, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<ComponentState, (ComponentFiles? Files, IReadOnlyList<WagiDynamicRoute>? Dynamic)>();
        foreach (var component in app.Routes.Select(r => r.Component).Distinct())
        {
            CachedModule module;
            ComponentFiles? tree;
            try
            {
                module = await modules.GetAsync(component, cancellationToken);
                tree = await files.GetAsync(app.Entry.App, component, cancellationToken);
            }
            catch (Exception ex) when (ex is OciRegistryException or Wasmtime.WasmtimeException or InvalidDataException
                or Platform.Runtime.Components.ComponentLoadException or ArgumentException && ex is not OciRegistryUnavailableException)
            {
                throw new ComponentLoadException(component.Id, $"component '{component.Id}' could not be loaded: {ex.Message}", ex);
            }
            if (component.IsHttpComponent)
            {
                // A wasi:http component: its handler export was checked when it was loaded; no WAGI routes or entrypoints.
                if (module.Code is not Platform.Runtime.Components.LoadedComponent)
                {
                    throw new ComponentLoadException(component.Id, $"component '{component.Id}' is listed as a wasi:http component but its module is a core module", null);
                }
                loaded[component] = (tree, null);
                continue;
            }
            if (module.Code is not Wasmtime.Module)
            {
                throw new ComponentLoadException(component.Id, $"component '{component.Id}' is listed as a WAGI module but its module is a component", null);
            }
            IReadOnlyList<WagiDynamicRoute>? dynamic;
            if (!_dynamicRoutes.TryGetValue(component.ModuleDigest, out dynamic))
            {
                try
                {
                    dynamic = executor.DiscoverRoutes(module, component.Limits, null, cancellationToken);
                }
                catch (FormatException ex)
                {
                    throw new ComponentLoadException(component.Id, $"component '{component.Id}': {ex.Message}", ex);
                }
                _dynamicRoutes.TryAdd(component.ModuleDigest, dynamic);
                if (dynamic is not null)
                {
                    logger.DynamicRoutesDeclared(app.Entry.App, component.Id, dynamic.Count);
                }
            }
            // Entrypoints are checked once here, so a misnamed one is a clear problem rather than a trap per request.
            foreach (var entrypoint in (dynamic ?? []).Select(d => d.Entrypoint).Prepend(component.Entrypoint ?? "_start"))
            {
                if (!module.Module.Exports.Any(e => e.Name == entrypoint && e is Wasmtime.FunctionExport { Parameters.Count: 0, Results.Count: 0 }))
                {
                    throw new ComponentLoadException(component.Id,
                        $"component '{component.Id}' has no export '{entrypoint}' taking and returning nothing to serve as its entrypoint", null);
                }
            }
            loaded[component] = (tree, dynamic);
        }

        var routes = new List<ResolvedRoute>();
        foreach (var route in app.Routes)
        {
            var (tree, _) = loaded[route.Component];
            routes.Add(new ResolvedRoute(route.Pattern, route.Component, route.Component.Entrypoint, tree));
        }
        var seen = new HashSet<string>(routes.Select(r => r.Pattern.Canonical), StringComparer.Ordinal);
        foreach (var route in app.Routes)
        {
            var (tree, dynamic) = loaded[route.Component];
            foreach (var sub in dynamic ?? [])
            {
                var full = sub.Under(route.Pattern.Prefix);
                if (!HttpRoutePattern.TryParse(full, out var pattern, out var error))
                {
                    throw new ComponentLoadException(route.Component.Id, $"component '{route.Component.Id}' declared the dynamic route '{sub.SubPath}': {error}", null);
                }
                // A route the table names itself keeps its component; a dynamic route never shadows it.
                if (seen.Add(pattern.Canonical))
                {
                    routes.Add(new ResolvedRoute(pattern, route.Component, sub.Entrypoint, tree));
                }
            }
        }
        // Stable: among equally specific routes the table's own come first.
        var ordered = routes.Select((r, i) => (r, i)).OrderBy(x => x.r.Pattern).ThenBy(x => x.i).Select(x => x.r).ToArray();
        return new ResolvedRoutes(ordered);
    }
}

/// <summary>A component's module, files or dynamic routes could not be made ready; the message says which and why.</summary>
public sealed class ComponentLoadException(string component, string message, Exception? inner) : Exception(message, inner)
{
    public string Component { get; } = component;
}
