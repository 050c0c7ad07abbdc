using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Precompiled artifacts on local disk, one folder per engine fingerprint (<c>{root}/{fingerprint}/{hex}.cwasm</c>),
/// each with a SHA-256 sidecar. Wasmtime maps an artifact as native code without checking it, so a file whose
/// checksum does not match is deleted, never loaded.
/// </summary>
/// <remarks>
/// The checksum goes first and each file is renamed into place, so a reader never sees a half-written artifact, and
/// a crash between the two renames leaves a mismatch that is discarded on the next load. Every failure to write is
/// logged and swallowed: the disk only saves compile time, a full or read-only disk must not fail a request.
/// </remarks>
internal sealed partial class ArtifactStore(string directory, Engine engine, ILogger logger)
{
    public string Directory { get; } = directory;

    /// <summary>The module stored for <paramref name="hex"/>, mapped from its file; null when absent or discarded.</summary>
    /// <param name="discarded">True when a file existed but was damaged (and is now deleted).</param>
    /// <param name="loader">Null for a core module; otherwise what loads the code (a component).</param>
    /// <param name="bytes">The artifact's size (what the module weighs in the memory budget).</param>
    public object? TryLoad(string digest, string hex, ICodeLoader? loader, out bool discarded, out long bytes)
    {
        discarded = false;
        bytes = 0;
        var path = PathOf(hex);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            var expected = File.ReadAllText(path + ".sha256").Trim();
            string actual;
            using (var stream = File.OpenRead(path))
            {
                actual = Convert.ToHexStringLower(SHA256.HashData(stream));
                bytes = stream.Length;
            }
            if (!string.Equals(expected, actual, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"checksum {actual} does not match the recorded {expected}");
            }
            return loader is null ? Module.DeserializeFile(engine, digest, path) : loader.DeserializeFile(digest, path);
        }
        catch (Exception ex) when (ex is WasmtimeException or IOException or InvalidDataException or UnauthorizedAccessException
            || loader?.IsLoadFailure(ex) == true)
        {
            discarded = true;
            LogDiscarded(logger, path, ex.Message);
            TryDelete(path);
            TryDelete(path + ".sha256");
            return null;
        }
    }

    /// <summary>Stores a serialized module (best effort).</summary>
    public void Write(string hex, ReadOnlySpan<byte> serialized)
    {
        var path = PathOf(hex);
        try
        {
            WriteAtomically(path + ".sha256", System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(serialized))), flush: true);
            WriteAtomically(path, serialized, flush: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogWriteFailed(logger, path, ex.Message);
        }
    }

    /// <summary>
    /// Stores artifact bytes already verified against their trusted digest and maps the module from the file:
    /// Wasmtime then maps code and data lazily instead of copying them into fresh executable memory (for a 2 MB
    /// artifact about 0.3 ms instead of about 10), and the next process finds them. Null when the file cannot be written.
    /// </summary>
    public object? WriteAndMap(string digest, string hex, byte[] bytes, ICodeLoader? loader)
    {
        var path = PathOf(hex);
        try
        {
            // No fsync: a file torn by a crash fails its checksum on the next load and is fetched again.
            WriteAtomically(path + ".sha256", System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(bytes))), flush: false);
            WriteAtomically(path, bytes, flush: false);
            return loader is null ? Module.DeserializeFile(engine, digest, path) : loader.DeserializeFile(digest, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogWriteFailed(logger, path, ex.Message);
            return null;
        }
    }

    private string PathOf(string hex) => Path.Combine(Directory, hex + ".cwasm");

    private static void WriteAtomically(string path, ReadOnlySpan<byte> content, bool flush)
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

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Discarded cached artifact {Path}: {Reason}; the module is compiled again")]
    private static partial void LogDiscarded(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Could not write cached artifact {Path}: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string path, string reason);
}
