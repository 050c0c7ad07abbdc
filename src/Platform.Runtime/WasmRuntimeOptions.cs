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

    /// <summary>
    /// Memory budget of the in-memory LRU of compiled modules, in bytes of compiled code (each module weighs its
    /// serialized artifact: about 100 KB for a small CGI program, about 33 MB for a JS component). The least recently
    /// used modules go first; one module larger than the budget is still kept alone.
    /// </summary>
    [Range(1024 * 1024L, 1L << 40)]
    public long MaxCachedModuleBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>A cap on how many compiled modules the LRU keeps, beside the byte budget.</summary>
    [Range(1, 1_000_000)]
    public int MaxCachedModules { get; set; } = 100_000;

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
