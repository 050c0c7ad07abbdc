using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
    /// <summary>
    /// Loaded from a precompiled artifact: one offered with <see cref="ModuleCache.GetAsync(string, Func{CancellationToken, Task{byte[]}}, PrecompiledArtifact?, CancellationToken)"/>
    /// (e.g. pulled from the registry) or added through <see cref="ModuleCache.TryAddPrecompiled"/>.
    /// </summary>
    Precompiled,
}

/// <summary>
/// A precompiled artifact offered for a module, e.g. the one the control plane pushed beside it in the registry.
/// Wasmtime maps an artifact as native code without verifying it, so <see cref="Digest"/> must come from a trusted
/// source (the router takes it from the control plane's routing table, never from the registry); the fetched bytes
/// are checked against it before anything is loaded.
/// </summary>
/// <param name="Digest">"sha256:&lt;hex&gt;" of the serialized artifact.</param>
/// <param name="Fingerprint">Fingerprint of the engine that compiled it; an artifact for another engine is never fetched.</param>
/// <param name="Fetch">Fetches the artifact's bytes.</param>
public sealed record PrecompiledArtifact(string Digest, string Fingerprint, Func<CancellationToken, Task<byte[]>> Fetch);

/// <summary>A compiled module and how this lookup obtained it.</summary>
public sealed class CachedModule
{
    private CachedModule? _memoryHit;

    internal CachedModule(string digest, Module module, ModuleSource source, TimeSpan loadTime)
    {
        Digest = digest;
        Module = module;
        Source = source;
        LoadTime = loadTime;
    }

    /// <summary>Digest of the Wasm bytes, "sha256:&lt;hex&gt;".</summary>
    public string Digest { get; }

    public Module Module { get; }

    public ModuleSource Source { get; }

    /// <summary>Time the module took to compile or load when it entered the cache.</summary>
    public TimeSpan LoadTime { get; }

    // One shared instance for all later memory hits keeps the hot path allocation-free.
    internal CachedModule AsMemoryHit() => _memoryHit ??= new CachedModule(Digest, Module, ModuleSource.Memory, LoadTime);
}

/// <summary>Counts since the cache was created.</summary>
public readonly record struct ModuleCacheStatistics(long MemoryHits, long DiskLoads, long Compiles, long DiskFailures, int Count,
    long PrecompiledLoads = 0, long PrecompiledFailures = 0, long PrecompiledForOtherEngines = 0);

/// <summary>
/// Compiled modules by digest: a bounded in-memory LRU in front of an optional directory of precompiled artifacts
/// (<c>{CacheDirectory}/{engine fingerprint}/{hex}.cwasm</c>). Concurrent first requests for a digest share one
/// fetch and one compilation. A module missing from both can come from a precompiled artifact the caller offers
/// (<see cref="PrecompiledArtifact"/>), else it is compiled from its Wasm bytes.
/// </summary>
/// <remarks>
/// Evicted modules are not disposed: a request may have fetched the entry just before eviction and still be
/// instantiating it. The GC releases the native module once the last reference is gone.
/// Precompiled artifacts are native code that Wasmtime loads without re-verifying it, so only trusted files may be
/// offered: the cache's own files carry a SHA-256 sidecar checked before loading, and
/// <see cref="TryAddPrecompiled"/> must only get artifacts whose origin was verified (e.g. by registry digest).
/// </remarks>
public sealed partial class ModuleCache : IDisposable
{
    private const string DigestPrefix = "sha256:";

    private readonly WasmEngineHost _host;
    private readonly ILogger _logger;
    private readonly string? _directory;
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<CachedModule>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CachedModule> _lru = new();
    private readonly Dictionary<string, Task<CachedModule>> _inFlight = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private long _memoryHits;
    private long _diskLoads;
    private long _compiles;
    private long _diskFailures;
    private long _precompiledLoads;
    private long _precompiledFailures;
    private long _precompiledOtherEngine;

    /// <summary>Uses <see cref="WasmRuntimeOptions.CacheDirectory"/> and <see cref="WasmRuntimeOptions.MaxCachedModules"/> of the host.</summary>
    public ModuleCache(WasmEngineHost host, ILogger<ModuleCache>? logger = null)
        : this(host, host?.Options.CacheDirectory, host?.Options.MaxCachedModules ?? 0, logger)
    {
    }

    public ModuleCache(WasmEngineHost host, string? cacheDirectory, int maxCachedModules, ILogger<ModuleCache>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCachedModules, 1);
        _host = host;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _capacity = maxCachedModules;
        if (!string.IsNullOrWhiteSpace(cacheDirectory))
        {
            _directory = Path.Combine(Path.GetFullPath(cacheDirectory), host.Fingerprint);
            Directory.CreateDirectory(_directory);
        }
    }

    /// <summary>
    /// Whether lookups go into the runtime's metrics (on by default). Off for a cache that is no app's, such as a
    /// router's warm-up, so the figures count app modules only.
    /// </summary>
    public bool RecordTelemetry { get; init; } = true;

    /// <summary>Folder this engine's artifacts live in, or null when the cache is memory-only.</summary>
    public string? ArtifactDirectory => _directory;

    public ModuleCacheStatistics Statistics
    {
        get
        {
            lock (_lock)
            {
                return new(Interlocked.Read(ref _memoryHits), Interlocked.Read(ref _diskLoads), Interlocked.Read(ref _compiles),
                    Interlocked.Read(ref _diskFailures), _entries.Count, Interlocked.Read(ref _precompiledLoads),
                    Interlocked.Read(ref _precompiledFailures), Interlocked.Read(ref _precompiledOtherEngine));
            }
        }
    }

    /// <summary>
    /// Returns the compiled module for <paramref name="digest"/>: from memory, else from disk, else by calling
    /// <paramref name="fetchModuleBytes"/>, verifying the bytes' SHA-256 against the digest, and compiling.
    /// </summary>
    /// <exception cref="ArgumentException">The digest is not "sha256:" and 64 lowercase hex digits.</exception>
    /// <exception cref="ModuleDigestMismatchException">The fetched bytes do not hash to the digest.</exception>
    /// <exception cref="WasmtimeException">The bytes do not compile.</exception>
    public ValueTask<CachedModule> GetAsync(string digest, Func<CancellationToken, Task<byte[]>> fetchModuleBytes, CancellationToken cancellationToken) =>
        GetAsync(digest, fetchModuleBytes, precompiled: null, cancellationToken);

    /// <summary>
    /// Like <see cref="GetAsync(string, Func{CancellationToken, Task{byte[]}}, CancellationToken)"/>, but a module
    /// that is neither in memory nor on disk is first loaded from <paramref name="precompiled"/> when that artifact
    /// was made by an engine with this engine's fingerprint. Any failure of that path (fetch, digest, Wasmtime
    /// refusing the bytes) is logged and the module is compiled from its Wasm bytes instead.
    /// </summary>
    public ValueTask<CachedModule> GetAsync(string digest, Func<CancellationToken, Task<byte[]>> fetchModuleBytes, PrecompiledArtifact? precompiled,
        CancellationToken cancellationToken)
    {
        var hex = ParseDigest(digest);
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
                task = Task.Run(() => LoadAsync(digest, hex, fetchModuleBytes, precompiled, _disposed.Token));
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

    /// <summary>Compiles Wasm bytes and returns the engine-specific artifact (for shipping precompiled modules).</summary>
    public byte[] Precompile(ReadOnlySpan<byte> wasmBytes)
    {
        using var module = Module.FromBytes(_host.Engine, "precompile", wasmBytes);
        return module.Serialize();
    }

    /// <summary>
    /// Adds an artifact made by <see cref="Precompile"/> on an engine with the same fingerprint. Returns false
    /// (and changes nothing) when Wasmtime refuses it, e.g. another version or other settings.
    /// </summary>
    public bool TryAddPrecompiled(string digest, ReadOnlySpan<byte> serializedModule)
    {
        var hex = ParseDigest(digest);
        var stopwatch = Stopwatch.StartNew();
        Module module;
        try
        {
            module = Module.Deserialize(_host.Engine, digest, serializedModule);
        }
        catch (WasmtimeException ex)
        {
            LogPrecompiledRefused(_logger, digest, ex.Message);
            return false;
        }
        var entry = new CachedModule(digest, module, ModuleSource.Precompiled, stopwatch.Elapsed);
        WriteArtifact(hex, serializedModule);
        Insert(entry);
        return true;
    }

    private async Task<CachedModule> LoadAsync(string digest, string hex, Func<CancellationToken, Task<byte[]>> fetch, PrecompiledArtifact? precompiled,
        CancellationToken cancellationToken)
    {
        try
        {
            var entry = TryLoadFromDisk(digest, hex)
                ?? (precompiled is null ? null : await TryLoadPrecompiledAsync(digest, precompiled, cancellationToken).ConfigureAwait(false))
                ?? await CompileAsync(digest, hex, fetch, cancellationToken).ConfigureAwait(false);
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

    private CachedModule? TryLoadFromDisk(string digest, string hex)
    {
        if (_directory is null)
        {
            return null;
        }
        var path = ArtifactPath(hex);
        var checksumPath = path + ".sha256";
        if (!File.Exists(path))
        {
            return null;
        }
        var stopwatch = Stopwatch.StartNew();
        try
        {
            // Wasmtime maps the file as native code without checking it, so a damaged file must be caught here.
            var expected = File.ReadAllText(checksumPath).Trim();
            string actual;
            using (var stream = File.OpenRead(path))
            {
                actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            }
            if (!string.Equals(expected, actual, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"checksum {actual} does not match the recorded {expected}");
            }
            var module = Module.DeserializeFile(_host.Engine, digest, path);
            var elapsed = stopwatch.Elapsed;
            Interlocked.Increment(ref _diskLoads);
            if (RecordTelemetry)
            {
                RuntimeTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("source", "disk"));
                RuntimeTelemetry.LoadDuration.Record(elapsed.TotalSeconds);
            }
            LogLoadedFromDisk(_logger, digest, elapsed.TotalMilliseconds);
            return new CachedModule(digest, module, ModuleSource.Disk, elapsed);
        }
        catch (Exception ex) when (ex is WasmtimeException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _diskFailures);
            LogDiscardedArtifact(_logger, path, ex.Message);
            TryDelete(path);
            TryDelete(checksumPath);
            return null;
        }
    }

    private async Task<CachedModule?> TryLoadPrecompiledAsync(string digest, PrecompiledArtifact artifact, CancellationToken cancellationToken)
    {
        if (!string.Equals(artifact.Fingerprint, _host.Fingerprint, StringComparison.Ordinal))
        {
            // Made by another Wasmtime version or other engine settings: Wasmtime would refuse it, so it is not even fetched.
            Interlocked.Increment(ref _precompiledOtherEngine);
            LogPrecompiledForOtherEngine(_logger, digest, artifact.Fingerprint, _host.Fingerprint);
            return null;
        }
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var expected = ParseDigest(artifact.Digest);
            var bytes = await artifact.Fetch(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException("the fetch returned nothing");
            var fetched = stopwatch.Elapsed;
            var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"the bytes hash to 'sha256:{actual}', not to the expected '{artifact.Digest}'");
            }
            var module = LoadVerifiedArtifact(digest, bytes, actual);
            var elapsed = stopwatch.Elapsed;
            Interlocked.Increment(ref _precompiledLoads);
            if (RecordTelemetry)
            {
                RuntimeTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("source", "precompiled"));
                RuntimeTelemetry.LoadDuration.Record(elapsed.TotalSeconds);
            }
            LogLoadedPrecompiled(_logger, digest, artifact.Digest, bytes.Length, elapsed.TotalMilliseconds, fetched.TotalMilliseconds);
            return new CachedModule(digest, module, ModuleSource.Precompiled, elapsed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Optional path: whatever went wrong (registry, digest, Wasmtime refusing the bytes), the module still compiles.
            Interlocked.Increment(ref _precompiledFailures);
            LogPrecompiledFailed(_logger, artifact.Digest, digest, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// Loads artifact bytes already checked against their trusted digest. With a cache directory they are written
    /// there first and mapped from the file: Wasmtime then maps code and data lazily instead of copying them into
    /// fresh executable memory (for a 2 MB artifact about 0.3 ms instead of about 10), and the next process finds them.
    /// </summary>
    private Module LoadVerifiedArtifact(string digest, byte[] bytes, string bytesHex)
    {
        if (_directory is not null)
        {
            var path = ArtifactPath(digest[DigestPrefix.Length..]);
            try
            {
                // No fsync: a file torn by a crash fails its checksum on the next load and is fetched again.
                WriteAtomically(path + ".sha256", System.Text.Encoding.ASCII.GetBytes(bytesHex), flush: false);
                WriteAtomically(path, bytes, flush: false);
                return Module.DeserializeFile(_host.Engine, digest, path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogArtifactWriteFailed(_logger, path, ex.Message);
            }
        }
        return Module.Deserialize(_host.Engine, digest, bytes);
    }

    private async Task<CachedModule> CompileAsync(string digest, string hex, Func<CancellationToken, Task<byte[]>> fetch, CancellationToken cancellationToken)
    {
        var bytes = await fetch(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The fetch delegate returned null for '{digest}'.");
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, hex, StringComparison.Ordinal))
        {
            throw new ModuleDigestMismatchException(digest, DigestPrefix + actual);
        }

        var stopwatch = Stopwatch.StartNew();
        var module = Module.FromBytes(_host.Engine, digest, bytes);
        var elapsed = stopwatch.Elapsed;
        Interlocked.Increment(ref _compiles);
        if (RecordTelemetry)
        {
            RuntimeTelemetry.CacheMisses.Add(1);
            RuntimeTelemetry.CompileDuration.Record(elapsed.TotalSeconds);
        }
        LogCompiled(_logger, digest, bytes.Length, elapsed.TotalMilliseconds);

        if (_directory is not null)
        {
            WriteArtifact(hex, module.Serialize());
        }
        return new CachedModule(digest, module, ModuleSource.Compiled, elapsed);
    }

    // The checksum goes first and each file is renamed into place, so a reader never sees a half-written
    // artifact, and a crash between the two renames leaves a mismatch that is discarded on the next load.
    private void WriteArtifact(string hex, ReadOnlySpan<byte> serialized)
    {
        if (_directory is null)
        {
            return;
        }
        var path = ArtifactPath(hex);
        try
        {
            WriteAtomically(path + ".sha256", System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(serialized))));
            WriteAtomically(path, serialized);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The disk cache only saves compile time; a full or read-only disk must not fail the request.
            LogArtifactWriteFailed(_logger, path, ex.Message);
        }
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> content, bool flush = true)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: flush);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    private void Insert(CachedModule entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(entry.Digest, out var existing))
            {
                _lru.Remove(existing);
            }
            _entries[entry.Digest] = _lru.AddFirst(entry);
            while (_entries.Count > _capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _entries.Remove(last.Value.Digest);
            }
        }
    }

    private string ArtifactPath(string hex) => Path.Combine(_directory!, hex + ".cwasm");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover file is detected and replaced on the next load.
        }
    }

    /// <summary>Returns the hex part of "sha256:&lt;64 lowercase hex&gt;" or throws quoting the value.</summary>
    public static string ParseDigest(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (!digest.StartsWith(DigestPrefix, StringComparison.Ordinal) || digest.Length != DigestPrefix.Length + 64
            || digest.AsSpan(DigestPrefix.Length).ContainsAnyExcept("0123456789abcdef"))
        {
            throw new ArgumentException($"Digest '{digest}' is not 'sha256:' followed by 64 lowercase hex digits.", nameof(digest));
        }
        return digest[DigestPrefix.Length..];
    }

    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
        }
        _disposed.Dispose();
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Compiled module {Digest} ({Bytes} bytes) in {Milliseconds:F1} ms")]
    private static partial void LogCompiled(ILogger logger, string digest, int bytes, double milliseconds);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Loaded module {Digest} from the disk cache in {Milliseconds:F2} ms")]
    private static partial void LogLoadedFromDisk(ILogger logger, string digest, double milliseconds);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Discarded cached artifact {Path}: {Reason}; the module is compiled again")]
    private static partial void LogDiscardedArtifact(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Could not write cached artifact {Path}: {Reason}")]
    private static partial void LogArtifactWriteFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Refused precompiled artifact for {Digest}: {Reason}")]
    private static partial void LogPrecompiledRefused(ILogger logger, string digest, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "Loaded module {Digest} from precompiled artifact {ArtifactDigest} ({Bytes} bytes) in {Milliseconds:F2} ms, {FetchMilliseconds:F2} ms of it fetching")]
    private static partial void LogLoadedPrecompiled(ILogger logger, string digest, string artifactDigest, int bytes, double milliseconds, double fetchMilliseconds);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Precompiled artifact {ArtifactDigest} for module {Digest} could not be used ({Reason}); compiling the module instead")]
    private static partial void LogPrecompiledFailed(ILogger logger, string artifactDigest, string digest, string reason);

    [LoggerMessage(EventId = 17, Level = LogLevel.Debug, Message = "Precompiled artifact for module {Digest} was made by engine {ArtifactFingerprint}, this one is {Fingerprint}; compiling instead")]
    private static partial void LogPrecompiledForOtherEngine(ILogger logger, string digest, string artifactFingerprint, string fingerprint);
}

/// <summary>The bytes fetched for a digest hash to something else; nothing was compiled or cached.</summary>
public sealed class ModuleDigestMismatchException(string expected, string actual)
    : Exception($"The module bytes hash to '{actual}', not to the expected digest '{expected}'; refusing to compile them.")
{
    public string ExpectedDigest { get; } = expected;
    public string ActualDigest { get; } = actual;
}
