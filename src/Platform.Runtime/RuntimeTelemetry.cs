using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Runtime;

/// <summary>The runtime's meter and activity source, both named "Platform.Runtime".</summary>
public static class RuntimeTelemetry
{
    public const string Name = "Platform.Runtime";

    public static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    /// <summary>Module cache hits; tag <c>source</c> is <c>memory</c>, <c>disk</c> or <c>precompiled</c> (an artifact offered by the caller, e.g. from the registry).</summary>
    internal static readonly Counter<long> CacheHits =
        Meter.CreateCounter<long>("platform.runtime.module_cache.hits", description: "Module lookups served without compiling, by source.");

    /// <summary>
    /// Precompiled native code that was not loaded and compiled from Wasm instead, by <c>reason</c>: <c>unsigned</c>,
    /// <c>bad-signature</c> (not signed by the control plane's key for this module), <c>cache-mismatch</c> (a file of
    /// the disk cache not bound to its module). Named for the routers, where native code is untrusted input.
    /// </summary>
    private static readonly Counter<long> ArtifactsRejected =
        Meter.CreateCounter<long>("platform.router.artifact.rejected", description: "Precompiled artifacts refused (compiled from Wasm instead), by reason.");

    public static void ArtifactRejected(string reason) => ArtifactsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal static readonly Counter<long> CacheMisses =
        Meter.CreateCounter<long>("platform.runtime.module_cache.misses", description: "Module lookups that had to compile.");

    internal static readonly Histogram<double> CompileDuration =
        Meter.CreateHistogram<double>("platform.runtime.module.compile.duration", unit: "s", description: "Time to compile a module from Wasm bytes.");

    internal static readonly Histogram<double> LoadDuration =
        Meter.CreateHistogram<double>("platform.runtime.module.load.duration", unit: "s", description: "Time to load a precompiled module from disk.");

    internal static readonly Histogram<double> InstantiationDuration =
        Meter.CreateHistogram<double>("platform.runtime.instantiation.duration", unit: "s", description: "Time to create a store and instantiate a module for one request.");

    internal static readonly Histogram<double> ExecutionDuration =
        Meter.CreateHistogram<double>("platform.runtime.execution.duration", unit: "s", description: "Wall time of one request's execution, by outcome.");
}
