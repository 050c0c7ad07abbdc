using Platform.Contracts;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.Runtime.Outbound;

namespace Platform.Router.Routing;

/// <summary>
/// One app's routes, components and request state (<see cref="State"/>) as a routing table describes them, built and
/// validated once when the table is applied (never per request) and reused by the next table while its entry is
/// unchanged. A table entry without <see cref="RouteEntry.Components"/> is one component on <c>/...</c> made of the
/// entry's own module fields. A table entry that cannot be served (unknown component, bad or duplicate route, limits
/// out of range) keeps its <see cref="Error"/>, which requests get as a problem.
/// </summary>
public sealed class AppRouting
{
    public const string LegacyRoute = "/...";

    // Made on the first request only: most apps of a large table are never called on a given router.
    private SemaphoreSlim? _resolving;
    private volatile ResolvedRoutes? _resolved;

    private AppRouting(RouteEntry entry, RouteState state, IReadOnlyList<ComponentState> components, IReadOnlyList<StaticRoute> routes, string? error)
    {
        Entry = entry;
        State = state;
        Components = components;
        Routes = routes;
        Error = error;
    }

    public RouteEntry Entry { get; }

    /// <summary>What a request of this app needs beyond its route and component: limits, share of workers, log callback.</summary>
    public RouteState State { get; }

    public IReadOnlyList<ComponentState> Components { get; }

    /// <summary>The table's routes, most specific first (<see cref="HttpRoutePattern"/> order).</summary>
    public IReadOnlyList<StaticRoute> Routes { get; }

    /// <summary>Why this entry cannot be served; null when it can.</summary>
    public string? Error { get; }

    /// <summary>Routes with every component's module and files loaded and WAGI dynamic routes added; null until the first request resolved them.</summary>
    public ResolvedRoutes? Resolved => _resolved;

    /// <summary>Resolves once (single flight): the first request of this table version pays for loading, the others wait for it.</summary>
    public async ValueTask<ResolvedRoutes> ResolveOnceAsync(Func<AppRouting, CancellationToken, Task<ResolvedRoutes>> resolve, CancellationToken cancellationToken)
    {
        if (_resolved is { } done)
        {
            return done;
        }
        var resolving = LazyInitializer.EnsureInitialized(ref _resolving, static () => new SemaphoreSlim(1, 1));
        await resolving.WaitAsync(cancellationToken);
        try
        {
            return _resolved ??= await resolve(this, cancellationToken);
        }
        finally
        {
            resolving.Release();
        }
    }

    /// <param name="states">Builds the request state from the router's settings; the defaults when null.</param>
    public static AppRouting Build(RouteEntry entry, long maxRequestBodyBytes, long maxResponseBytes, RouteStateFactory? states = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        states ??= RouteStateFactory.Default;
        // The modules' limits (what discovering WAGI routes runs under) and a request's (the same with the CPU time),
        // each validated here once, so executing a request only reads that they passed.
        var limits = new AppLimits
        {
            MemoryBytes = entry.MemoryLimitBytes,
            WallTime = TimeSpan.FromMilliseconds(entry.TimeoutMilliseconds),
            MaxRequestBodyBytes = maxRequestBodyBytes,
            MaxResponseBytes = maxResponseBytes,
        };
        AppLimits requestLimits;
        try
        {
            limits.Validate();
            requestLimits = entry.CpuTimeMilliseconds is int cpu ? limits with { CpuTime = TimeSpan.FromMilliseconds(cpu) } : limits;
            requestLimits.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            return Fail($"the app's limits are out of range: {ex.Message}");
        }
        // The app's variables, then its secrets: a secret replaces a variable of the same name (as the README says).
        KeyValuePair<string, string>[] appVariables = [.. entry.Variables ?? new Dictionary<string, string>(), .. entry.Secrets ?? new Dictionary<string, string>()];
        // Spin variables take their values from the same place, a secret winning over a variable.
        var appValues = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in appVariables)
        {
            appValues[name] = value;
        }

        if (entry.Components is null)
        {
            var only = new ComponentState(entry.App, entry.ModuleDigest, ComponentKinds.Wagi, entry.Repository, entry.PrecompiledDigest, entry.PrecompiledFingerprint,
                null, null, appVariables, [], limits, precompiledSignature: entry.PrecompiledSignature,
                outbound: states.OutboundPolicyOf(entry, entry.AllowedOutboundHosts));
            return new AppRouting(entry, states.Build(entry, requestLimits), [only], [new StaticRoute(HttpRoutePattern.Parse(LegacyRoute), only)], null);
        }

        var components = new Dictionary<string, ComponentState>(StringComparer.Ordinal);
        foreach (var c in entry.Components)
        {
            if (string.IsNullOrEmpty(c.Id) || components.ContainsKey(c.Id))
            {
                return Fail($"the component id '{c.Id}' is empty or given twice");
            }
            if (string.IsNullOrEmpty(c.ModuleDigest))
            {
                return Fail($"component '{c.Id}' has no module digest");
            }
            if (c.Kind is not (ComponentKinds.Wagi or ComponentKinds.Http))
            {
                return Fail($"component '{c.Id}' is of kind '{c.Kind}'; this router runs '{ComponentKinds.Wagi}' modules and '{ComponentKinds.Http}' components");
            }
            if (c.Kind == ComponentKinds.Http && c.Files is { Count: > 0 })
            {
                // The component host gives no preopened directories; files would silently be missing.
                return Fail($"component '{c.Id}' is a wasi:http component with files, which this router cannot give it");
            }
            foreach (var file in c.Files ?? [])
            {
                if (!IsNormalisedPath(file.Path) || string.IsNullOrEmpty(file.Digest) || file.Size < 0)
                {
                    return Fail($"component '{c.Id}' has the file '{file.Path}', which is not a normalised absolute path with a digest and size");
                }
            }
            // The component's own environment first, then the app's variables and secrets, which replace one of the same name.
            KeyValuePair<string, string>[] variables = [.. c.Environment ?? new Dictionary<string, string>(), .. appVariables];
            components.Add(c.Id, new ComponentState(c.Id, c.ModuleDigest, c.Kind, entry.Repository, c.PrecompiledDigest, c.PrecompiledFingerprint,
                string.IsNullOrEmpty(c.Entrypoint) || c.Kind == ComponentKinds.Http ? null : c.Entrypoint,
                string.IsNullOrEmpty(c.Argv) || c.Kind == ComponentKinds.Http ? null : c.Argv, variables,
                c.Files ?? [], limits, SpinVariablesOf(c, appValues), c.PrecompiledSignature, states.OutboundPolicyOf(entry, c.AllowedOutboundHosts)));
        }

        if (entry.HttpRoutes is not { Count: > 0 })
        {
            return Fail("the app has components but no HTTP routes");
        }
        var routes = new List<StaticRoute>(entry.HttpRoutes.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in entry.HttpRoutes)
        {
            if (!HttpRoutePattern.TryParse(r.Route, out var pattern, out var error))
            {
                return Fail(error);
            }
            if (!seen.Add(pattern.Canonical))
            {
                return Fail($"the route '{r.Route}' is given twice");
            }
            if (!components.TryGetValue(r.Component ?? "", out var component))
            {
                return Fail($"the route '{r.Route}' names the component '{r.Component}', which the app does not have");
            }
            routes.Add(new StaticRoute(pattern, component));
        }
        // Stable: routes that compare equal keep the table's order.
        var ordered = routes.Select((r, i) => (r, i)).OrderBy(x => x.r.Pattern).ThenBy(x => x.i).Select(x => x.r).ToArray();
        return new AppRouting(entry, states.Build(entry, requestLimits), [.. components.Values], ordered, null);

        AppRouting Fail(string error) => new(entry, RouteState.Unservable(entry, maxRequestBodyBytes, maxResponseBytes), [], [], error);
    }

    /// <summary>
    /// The component's Spin variables with every template resolved now: all their inputs (declarations, the app's
    /// variables) are in the table, so a request only looks a key up.
    /// </summary>
    private static ComponentVariables SpinVariablesOf(ComponentEntry c, IReadOnlyDictionary<string, string> appVariables) =>
        c.VariableTemplates is not { Count: > 0 } templates
            ? ComponentVariables.Empty
            : new ComponentVariables(c.Id, SpinVariables.ResolveComponent(templates, c.AppVariableDeclarations, appVariables)
                .Select(v => KeyValuePair.Create(v.Key, new ComponentVariable(v.Value.Value, v.Value.Error))));

    private static bool IsNormalisedPath(string? path) =>
        !string.IsNullOrEmpty(path) && path[0] == '/' && path.Length > 1
        && path[1..].Split('/').All(s => s.Length > 0 && s is not "." and not ".." && !s.Contains('\0'));

    public string Version => State.Version;
}

/// <summary>A route of the table and the component serving it.</summary>
public sealed record StaticRoute(HttpRoutePattern Pattern, ComponentState Component);

/// <summary>
/// What a request needs from its component, built when the table is applied: module coordinates, limits (validated
/// once), the environment (component's, then the app's variables), files, WAGI entrypoint and argv template.
/// </summary>
public sealed class ComponentState(
    string id,
    string moduleDigest,
    string kind,
    string repository,
    string? precompiledDigest,
    string? precompiledFingerprint,
    string? entrypoint,
    string? argvTemplate,
    KeyValuePair<string, string>[] variables,
    IReadOnlyList<FileEntry> files,
    AppLimits limits,
    ComponentVariables? spinVariables = null,
    string? precompiledSignature = null,
    OutboundPolicy? outbound = null)
{
    public string Id { get; } = id;
    public string ModuleDigest { get; } = moduleDigest;
    public string Kind { get; } = kind;

    /// <summary>A wasi:http component (served through its incoming-handler) rather than a WAGI module.</summary>
    public bool IsHttpComponent { get; } = kind == ComponentKinds.Http;
    public string Repository { get; } = repository;
    public string? PrecompiledDigest { get; } = precompiledDigest;
    public string? PrecompiledFingerprint { get; } = precompiledFingerprint;

    /// <summary>The control plane's signature of (module digest, precompiled digest, fingerprint); see <see cref="RouteEntry.PrecompiledSignature"/>.</summary>
    public string? PrecompiledSignature { get; } = precompiledSignature;
    public string? Entrypoint { get; } = entrypoint;
    public string? ArgvTemplate { get; } = argvTemplate;
    public KeyValuePair<string, string>[] Variables { get; } = variables;
    public IReadOnlyList<FileEntry> Files { get; } = files;
    public AppLimits Limits { get; } = limits;

    /// <summary>The component's outbound allow-list (its own, or the app's for an entry without components), parsed once per table.</summary>
    public OutboundPolicy Outbound { get; } = outbound ?? OutboundPolicy.DenyAll;

    /// <summary>What <c>fermyon:spin/variables</c> and <c>wasi:config/store</c> answer this component (resolved once per table).</summary>
    public ComponentVariables SpinVariables { get; } = spinVariables ?? ComponentVariables.Empty;

    /// <summary>Identifies the file set: components (and versions) with the same files share one loaded tree.</summary>
    public string FilesKey { get; } = files.Count == 0 ? "" : repository + "\n" + string.Join('\n', files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => f.Path + "=" + f.Digest));
}

/// <summary>
/// An app's routes once every component is loaded: the table's routes plus the WAGI dynamic routes modules declared
/// through <c>_routes</c>, in one specificity order, each with the component's loaded files.
/// </summary>
public sealed class ResolvedRoutes(IReadOnlyList<ResolvedRoute> routes)
{
    public IReadOnlyList<ResolvedRoute> Routes { get; } = routes;

    /// <summary>The most specific route matching a decoded path, and the path below it (PATH_INFO).</summary>
    public bool TryMatch(string path, out ResolvedRoute route, out string pathInfo)
    {
        foreach (var candidate in Routes)
        {
            if (candidate.Pattern.TryMatch(path, out pathInfo))
            {
                route = candidate;
                return true;
            }
        }
        route = null!;
        pathInfo = "";
        return false;
    }
}

/// <param name="Entrypoint">The export to call: a dynamic route's, else the component's (null: <c>_start</c>).</param>
public sealed record ResolvedRoute(HttpRoutePattern Pattern, ComponentState Component, string? Entrypoint, ComponentFiles? Files);

/// <summary>The route a request matched and the decoded path below it (a value: matching allocates nothing for it).</summary>
public readonly record struct RouteMatch(ResolvedRoute Route, string PathInfo);
