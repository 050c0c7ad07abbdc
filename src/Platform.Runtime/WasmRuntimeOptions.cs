using System.ComponentModel.DataAnnotations;

namespace Platform.Runtime;

/// <summary>Engine-wide settings of the Wasm runtime (configuration section <c>Platform:Runtime</c>).</summary>
public sealed class WasmRuntimeOptions
{
    public const string SectionName = "Platform:Runtime";

    /// <summary>How often the engine's epoch advances; wall-time limits are enforced at this granularity.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:01")]
    public TimeSpan EpochTickInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Folder for precompiled modules; null keeps them in memory only.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>How many compiled modules the in-memory LRU keeps.</summary>
    [Range(1, 100_000)]
    public int MaxCachedModules { get; set; } = 256;

    /// <summary>
    /// Use Wasmtime's pooling instance allocator. It keeps linear-memory slots mapped between requests, which
    /// took a request on the hello module from about 450 µs to about 20 µs on the reference machine
    /// (docs/runtime-performance.md). It caps how many instances can exist at once (<see cref="PoolMaxInstances"/>).
    /// </summary>
    public bool UsePoolingAllocator { get; set; } = true;

    /// <summary>Most instances alive at the same time when pooling; keep the router's concurrency at or below it.</summary>
    [Range(1, 100_000)]
    public int PoolMaxInstances { get; set; } = 1000;

    /// <summary>
    /// Largest linear memory a pooled instance can have; an app's <see cref="AppLimits.MemoryBytes"/> above this is
    /// capped to it. Only address space is reserved up front, not memory.
    /// </summary>
    [Range(64 * 1024L, 4L * 1024 * 1024 * 1024)]
    public long PoolMaxMemoryBytes { get; set; } = 128L * 1024 * 1024;
}
