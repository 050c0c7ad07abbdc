using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Platform.Oci;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Where a module that is not in memory comes from, in order: this engine's artifact on local disk, a precompiled
/// artifact the caller offers (only when made by an engine with this fingerprint), or compiling the Wasm bytes.
/// </summary>
internal sealed partial class ModuleProducer(WasmEngineHost host, ArtifactStore? store, ILogger logger)
{
    // Counters read by ModuleCache.Statistics; fields so Interlocked can update them.
    public long DiskLoads;
    public long Compiles;
    public long DiskFailures;
    public long PrecompiledLoads;
    public long PrecompiledFailures;
    public long PrecompiledForOtherEngines;

    public ArtifactStore? Store => store;

    public bool RecordTelemetry { get; set; } = true;

    /// <param name="loader">Null for a core module; otherwise what compiles and loads the code (a component).</param>
    public async Task<CachedModule> ProduceAsync(string digest, Func<CancellationToken, Task<byte[]>> fetch, PrecompiledArtifact? precompiled,
        ICodeLoader? loader, CancellationToken cancellationToken)
    {
        var hex = digest[(digest.IndexOf(':') + 1)..];
        return TryLoadFromDisk(digest, hex, loader)
            ?? (precompiled is null ? null : await TryLoadPrecompiledAsync(digest, hex, precompiled, loader, cancellationToken))
            ?? await CompileAsync(digest, hex, fetch, loader, cancellationToken);
    }

    private CachedModule? TryLoadFromDisk(string digest, string hex, ICodeLoader? loader)
    {
        if (store is null)
        {
            return null;
        }
        var stopwatch = Stopwatch.StartNew();
        var module = store.TryLoad(digest, hex, loader, out var discarded, out var size);
        if (module is null)
        {
            if (discarded)
            {
                Interlocked.Increment(ref DiskFailures);
                if (RecordTelemetry)
                {
                    RuntimeTelemetry.ArtifactRejected("cache-mismatch");
                }
            }
            return null;
        }
        var elapsed = stopwatch.Elapsed;
        Interlocked.Increment(ref DiskLoads);
        if (RecordTelemetry)
        {
            RuntimeTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("source", "disk"));
            RuntimeTelemetry.LoadDuration.Record(elapsed.TotalSeconds);
        }
        LogLoadedFromDisk(logger, digest, elapsed.TotalMilliseconds);
        return new CachedModule(digest, module, ModuleSource.Disk, elapsed, size);
    }

    private async Task<CachedModule?> TryLoadPrecompiledAsync(string digest, string hex, PrecompiledArtifact artifact, ICodeLoader? loader,
        CancellationToken cancellationToken)
    {
        if (!string.Equals(artifact.Fingerprint, host.Fingerprint, StringComparison.Ordinal))
        {
            // Made by another Wasmtime version or other engine settings: Wasmtime would refuse it, so it is not even fetched.
            Interlocked.Increment(ref PrecompiledForOtherEngines);
            LogPrecompiledForOtherEngine(logger, digest, artifact.Fingerprint, host.Fingerprint);
            return null;
        }
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var bytes = await artifact.Fetch(cancellationToken)
                ?? throw new InvalidDataException("the fetch returned nothing");
            var fetched = stopwatch.Elapsed;
            // Native code that Wasmtime maps unchecked: unlike Wasm bytes (which Wasmtime validates when compiling), an
            // artifact must match its trusted digest before it is loaded. A registry pull verified that already (once
            // per pull, in the OCI client); any other fetch is checked here.
            if (!artifact.FetchVerifiesDigest)
            {
                var actual = OciDigest.ComputeLike(artifact.Digest, bytes);
                if (!string.Equals(actual, artifact.Digest, StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"the bytes hash to '{actual}', not to the expected '{artifact.Digest}'");
                }
            }
            var module = store?.WriteAndMap(digest, hex, bytes, loader)
                ?? (loader is null ? Module.Deserialize(host.Engine, digest, bytes) : loader.Deserialize(digest, bytes));
            var elapsed = stopwatch.Elapsed;
            Interlocked.Increment(ref PrecompiledLoads);
            if (RecordTelemetry)
            {
                RuntimeTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("source", "precompiled"));
                RuntimeTelemetry.LoadDuration.Record(elapsed.TotalSeconds);
            }
            LogLoadedPrecompiled(logger, digest, artifact.Digest, bytes.Length, elapsed.TotalMilliseconds, fetched.TotalMilliseconds);
            return new CachedModule(digest, module, ModuleSource.Precompiled, elapsed, bytes.LongLength);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Optional path: whatever went wrong (registry, digest, Wasmtime refusing the bytes), the module still compiles.
            Interlocked.Increment(ref PrecompiledFailures);
            LogPrecompiledFailed(logger, artifact.Digest, digest, ex.Message);
            return null;
        }
    }

    private async Task<CachedModule> CompileAsync(string digest, string hex, Func<CancellationToken, Task<byte[]>> fetch, ICodeLoader? loader,
        CancellationToken cancellationToken)
    {
        var bytes = await fetch(cancellationToken)
            ?? throw new InvalidOperationException($"The fetch delegate returned null for '{digest}'.");
        var stopwatch = Stopwatch.StartNew();
        if (loader is not null)
        {
            var code = loader.Compile(digest, bytes);
            var took = stopwatch.Elapsed;
            Interlocked.Increment(ref Compiles);
            if (RecordTelemetry)
            {
                RuntimeTelemetry.CacheMisses.Add(1);
                RuntimeTelemetry.CompileDuration.Record(took.TotalSeconds);
            }
            LogCompiled(logger, digest, bytes.Length, took.TotalMilliseconds);
            // The serialized form is what the component weighs in memory, stored or not.
            var serializedCode = loader.Serialize(code);
            store?.Write(digest, hex, serializedCode);
            return new CachedModule(digest, (object)code, ModuleSource.Compiled, took, serializedCode.LongLength);
        }
        var module = Module.FromBytes(host.Engine, digest, bytes);
        var elapsed = stopwatch.Elapsed;
        Interlocked.Increment(ref Compiles);
        if (RecordTelemetry)
        {
            RuntimeTelemetry.CacheMisses.Add(1);
            RuntimeTelemetry.CompileDuration.Record(elapsed.TotalSeconds);
        }
        LogCompiled(logger, digest, bytes.Length, elapsed.TotalMilliseconds);
        // The serialized form is what the module weighs in memory (its native code and data), stored or not.
        var serialized = module.Serialize();
        store?.Write(digest, hex, serialized);
        return new CachedModule(digest, module, ModuleSource.Compiled, elapsed, serialized.LongLength);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Compiled module {Digest} ({Bytes} bytes) in {Milliseconds:F1} ms")]
    private static partial void LogCompiled(ILogger logger, string digest, int bytes, double milliseconds);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Loaded module {Digest} from the disk cache in {Milliseconds:F2} ms")]
    private static partial void LogLoadedFromDisk(ILogger logger, string digest, double milliseconds);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "Loaded module {Digest} from precompiled artifact {ArtifactDigest} ({Bytes} bytes) in {Milliseconds:F2} ms, {FetchMilliseconds:F2} ms of it fetching")]
    private static partial void LogLoadedPrecompiled(ILogger logger, string digest, string artifactDigest, int bytes, double milliseconds, double fetchMilliseconds);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Precompiled artifact {ArtifactDigest} for module {Digest} could not be used ({Reason}); compiling the module instead")]
    private static partial void LogPrecompiledFailed(ILogger logger, string artifactDigest, string digest, string reason);

    [LoggerMessage(EventId = 17, Level = LogLevel.Debug, Message = "Precompiled artifact for module {Digest} was made by engine {ArtifactFingerprint}, this one is {Fingerprint}; compiling instead")]
    private static partial void LogPrecompiledForOtherEngine(ILogger logger, string digest, string artifactFingerprint, string fingerprint);
}
