using Wasmtime;

namespace Platform.Runtime;

/// <summary>How a <see cref="ModuleCache"/> lookup was served.</summary>
public enum ModuleSource
{
    /// <summary>Already compiled in this process.</summary>
    Memory,
    /// <summary>Loaded from a precompiled artifact in the cache directory.</summary>
    Disk,
    /// <summary>Compiled from the Wasm bytes.</summary>
    Compiled,
    /// <summary>Loaded from a precompiled artifact offered by the caller (e.g. pulled from the registry).</summary>
    Precompiled,
}

/// <summary>
/// A precompiled artifact offered for a module, e.g. the one the control plane pushed beside it in the registry.
/// Wasmtime maps an artifact as native code without verifying it, so <see cref="Digest"/> must come from a trusted
/// source (the router takes it from the control plane's routing table, never from the registry), and the fetched
/// bytes are checked against it before anything is loaded: by the fetch itself when it says so, else by the cache.
/// </summary>
/// <param name="Digest">"sha256:&lt;hex&gt;" of the serialized artifact.</param>
/// <param name="Fingerprint">Fingerprint of the engine that compiled it; an artifact for another engine is never fetched.</param>
/// <param name="Fetch">Fetches the artifact's bytes.</param>
/// <param name="FetchVerifiesDigest">
/// True when <paramref name="Fetch"/> returns only bytes it verified against <paramref name="Digest"/> (a registry
/// pull by that digest, which <c>IOciRegistryClient.PullBlobAsync</c> verifies), so the cache does not hash them a
/// second time; false makes the cache verify them.
/// </param>
public sealed record PrecompiledArtifact(string Digest, string Fingerprint, Func<CancellationToken, Task<byte[]>> Fetch, bool FetchVerifiesDigest = false);

/// <summary>A compiled module and how this lookup obtained it.</summary>
public sealed class CachedModule
{
    private CachedModule? _memoryHit;

    private readonly Module? _module;

    internal CachedModule(string digest, Module module, ModuleSource source, TimeSpan loadTime, long sizeBytes)
        : this(digest, (object)module, source, loadTime, sizeBytes)
    {
    }

    internal CachedModule(string digest, object code, ModuleSource source, TimeSpan loadTime, long sizeBytes)
    {
        Digest = digest;
        Code = code;
        _module = code as Module;
        Source = source;
        LoadTime = loadTime;
        SizeBytes = sizeBytes;
    }

    /// <summary>Digest of the Wasm bytes, "sha256:&lt;hex&gt;".</summary>
    public string Digest { get; }

    /// <summary>The compiled core module; throws for an entry that holds a component (see <see cref="Code"/>).</summary>
    public Module Module => _module ?? throw new InvalidOperationException($"'{Digest}' is a component, not a core module");

    /// <summary>What is compiled: a <see cref="Wasmtime.Module"/>, or what an <see cref="ICodeLoader"/> produced (a component).</summary>
    public object Code { get; }

    public ModuleSource Source { get; }

    /// <summary>Time the module took to compile or load when it entered the cache.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>Size of the compiled module (its serialized artifact): its weight in the cache's memory budget.</summary>
    public long SizeBytes { get; }

    // One shared instance for all later memory hits keeps the hot path allocation-free.
    internal CachedModule AsMemoryHit() => _memoryHit ??= new CachedModule(Digest, Code, ModuleSource.Memory, LoadTime, SizeBytes);
}

/// <summary>Counts since the cache was created.</summary>
public readonly record struct ModuleCacheStatistics(long MemoryHits, long DiskLoads, long Compiles, long DiskFailures, int Count,
    long PrecompiledLoads = 0, long PrecompiledFailures = 0, long PrecompiledForOtherEngines = 0, long CachedBytes = 0);
