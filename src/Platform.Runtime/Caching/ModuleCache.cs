using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Oci;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Compiled modules by digest in an in-memory LRU bounded by bytes (each module weighs its compiled size) and by
/// count. Concurrent first requests for a digest share one load
/// (<see cref="ModuleProducer"/>: the disk store, a precompiled artifact the caller offers, or compiling the Wasm bytes).
/// </summary>
/// <remarks>
/// Evicted modules are not disposed: a request may have fetched the entry just before eviction and still be
/// instantiating it. The GC releases the native module once the last reference is gone.
/// Fetch delegates must return bytes verified against their digest; the OCI client verifies every blob it pulls and
/// is the one verifier, so nothing is hashed twice.
/// </remarks>
public sealed class ModuleCache : IDisposable
{
    private readonly ModuleProducer _producer;
    private readonly int _capacity;
    private readonly long _budgetBytes;
    private long _cachedBytes;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<CachedModule>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CachedModule> _lru = new();
    private readonly Dictionary<string, Task<CachedModule>> _inFlight = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private long _memoryHits;

    /// <summary>
    /// Uses <see cref="WasmRuntimeOptions.CacheDirectory"/>, <see cref="WasmRuntimeOptions.MaxCachedModuleBytes"/> and
    /// <see cref="WasmRuntimeOptions.MaxCachedModules"/> of the host.
    /// </summary>
    /// <param name="cacheKey">Binds each file on disk to its module with a MAC (routers derive it from their own secret); without it, a hash.</param>
    public ModuleCache(WasmEngineHost host, ILogger<ModuleCache>? logger = null, Security.ArtifactCacheKey? cacheKey = null)
        : this(host, host?.Options.CacheDirectory, host?.Options.MaxCachedModules ?? 0, host?.Options.MaxCachedModuleBytes ?? 0, logger, cacheKey)
    {
    }

    /// <summary>A cache with the host's byte budget and its own count cap.</summary>
    public ModuleCache(WasmEngineHost host, string? cacheDirectory, int maxCachedModules, ILogger<ModuleCache>? logger = null,
        Security.ArtifactCacheKey? cacheKey = null)
        : this(host, cacheDirectory, maxCachedModules, host?.Options.MaxCachedModuleBytes ?? 0, logger, cacheKey)
    {
    }

    public ModuleCache(WasmEngineHost host, string? cacheDirectory, int maxCachedModules, long maxCachedBytes, ILogger<ModuleCache>? logger = null,
        Security.ArtifactCacheKey? cacheKey = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCachedModules, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCachedBytes, 1);
        _capacity = maxCachedModules;
        _budgetBytes = maxCachedBytes;
        var log = (ILogger?)logger ?? NullLogger.Instance;
        ArtifactStore? store = null;
        if (!string.IsNullOrWhiteSpace(cacheDirectory))
        {
            var root = Path.GetFullPath(cacheDirectory);
            var directory = Path.Combine(root, host.Fingerprint);
            ArtifactStore.CreatePrivateDirectory(root);
            ArtifactStore.CreatePrivateDirectory(directory);
            store = new ArtifactStore(directory, host.Engine, host.Fingerprint, cacheKey?.Key, log);
        }
        _producer = new ModuleProducer(host, store, log);
    }

    /// <summary>
    /// Whether lookups go into the runtime's metrics (on by default). Off for a cache that is no app's, such as a
    /// router's warm-up, so the figures count app modules only.
    /// </summary>
    public bool RecordTelemetry
    {
        get => _producer.RecordTelemetry;
        init => _producer.RecordTelemetry = value;
    }

    /// <summary>Folder this engine's artifacts live in, or null when the cache is memory-only.</summary>
    public string? ArtifactDirectory => _producer.Store?.Directory;

    public ModuleCacheStatistics Statistics
    {
        get
        {
            int count;
            long bytes;
            lock (_lock)
            {
                count = _entries.Count;
                bytes = _cachedBytes;
            }
            var p = _producer;
            return new(Interlocked.Read(ref _memoryHits), Interlocked.Read(ref p.DiskLoads), Interlocked.Read(ref p.Compiles),
                Interlocked.Read(ref p.DiskFailures), count, Interlocked.Read(ref p.PrecompiledLoads),
                Interlocked.Read(ref p.PrecompiledFailures), Interlocked.Read(ref p.PrecompiledForOtherEngines), bytes);
        }
    }

    /// <summary>
    /// Returns the compiled module for <paramref name="digest"/>: from memory, else from disk, else by compiling the
    /// bytes <paramref name="fetchModuleBytes"/> returns (verified against the digest by the fetcher).
    /// </summary>
    /// <exception cref="ArgumentException">The digest is not a valid OCI digest.</exception>
    /// <exception cref="WasmtimeException">The bytes do not compile.</exception>
    public ValueTask<CachedModule> GetAsync(string digest, Func<CancellationToken, Task<byte[]>> fetchModuleBytes, CancellationToken cancellationToken) =>
        GetAsync(digest, fetchModuleBytes, precompiled: null, cancellationToken);

    /// <summary>
    /// Like <see cref="GetAsync(string, Func{CancellationToken, Task{byte[]}}, CancellationToken)"/>, but a module
    /// that is neither in memory nor on disk is first loaded from <paramref name="precompiled"/> when that artifact
    /// was made by an engine with this engine's fingerprint. Any failure of that path (fetch, Wasmtime refusing the
    /// bytes) is logged and the module is compiled from its Wasm bytes instead.
    /// </summary>
    public ValueTask<CachedModule> GetAsync(string digest, Func<CancellationToken, Task<byte[]>> fetchModuleBytes, PrecompiledArtifact? precompiled,
        CancellationToken cancellationToken) =>
        GetAsync(digest, fetchModuleBytes, precompiled, loader: null, cancellationToken);

    /// <summary>
    /// Like <see cref="GetAsync(string, Func{CancellationToken, Task{byte[]}}, PrecompiledArtifact?, CancellationToken)"/>
    /// for code of another kind (a component): <paramref name="loader"/> compiles, serializes and loads it; null means a core module.
    /// </summary>
    public ValueTask<CachedModule> GetAsync(string digest, Func<CancellationToken, Task<byte[]>> fetchModuleBytes, PrecompiledArtifact? precompiled,
        ICodeLoader? loader, CancellationToken cancellationToken)
    {
        OciNames.ValidateDigest(digest);
        ArgumentNullException.ThrowIfNull(fetchModuleBytes);
        Task<CachedModule> task;
        lock (_lock)
        {
            if (TryGetLoadedLocked(digest, out var loaded))
            {
                return ValueTask.FromResult(loaded);
            }
            if (!_inFlight.TryGetValue(digest, out task!))
            {
                // Loading is shared by every caller, so it runs under the cache's lifetime, not one caller's token.
                task = Task.Run(() => LoadAsync(digest, fetchModuleBytes, precompiled, loader, _disposed.Token));
                _inFlight[digest] = task;
            }
        }
        return new ValueTask<CachedModule>(task.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// The module when it is already compiled in this process (counted as a memory hit), without allocating: the
    /// hot path of a request. Otherwise false; use GetAsync to load it.
    /// </summary>
    public bool TryGetLoaded(string digest, [NotNullWhen(true)] out CachedModule? module)
    {
        ArgumentNullException.ThrowIfNull(digest);
        lock (_lock)
        {
            return TryGetLoadedLocked(digest, out module);
        }
    }

    private bool TryGetLoadedLocked(string digest, [NotNullWhen(true)] out CachedModule? module)
    {
        if (_entries.TryGetValue(digest, out var node))
        {
            if (_lru.First != node)
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
            }
            Interlocked.Increment(ref _memoryHits);
            if (RecordTelemetry)
            {
                RuntimeTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("source", "memory"));
            }
            module = node.Value.AsMemoryHit();
            return true;
        }
        module = null;
        return false;
    }

    private async Task<CachedModule> LoadAsync(string digest, Func<CancellationToken, Task<byte[]>> fetch, PrecompiledArtifact? precompiled,
        ICodeLoader? loader, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await _producer.ProduceAsync(digest, fetch, precompiled, loader, cancellationToken);
            Insert(entry);
            return entry;
        }
        finally
        {
            lock (_lock)
            {
                _inFlight.Remove(digest);
            }
        }
    }

    private void Insert(CachedModule entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(entry.Digest, out var existing))
            {
                _lru.Remove(existing);
                _cachedBytes -= existing.Value.SizeBytes;
            }
            _entries[entry.Digest] = _lru.AddFirst(entry);
            _cachedBytes += entry.SizeBytes;
            // The newest entry stays even when it alone is over the budget: evicting it would recompile on every request.
            while (_entries.Count > 1 && (_entries.Count > _capacity || _cachedBytes > _budgetBytes))
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _entries.Remove(last.Value.Digest);
                _cachedBytes -= last.Value.SizeBytes;
            }
        }
    }

    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
        }
        _disposed.Dispose();
    }
}
