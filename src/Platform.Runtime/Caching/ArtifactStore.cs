using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Precompiled artifacts on local disk, one folder per engine fingerprint (<c>{root}/{fingerprint}/{hex}.cwasm</c>),
/// each with a <c>.mac</c> sidecar binding the file to its module digest and engine: a MAC (keyed with the router's
/// <see cref="Security.ArtifactCacheKey"/>; a plain SHA-256 when the cache has no key) over module digest,
/// fingerprint and bytes. Wasmtime maps an artifact as native code without checking it, so a file whose sidecar does
/// not match (damaged, or copied from another module's file) is deleted, never loaded. Folders are created 0700 and
/// files 0600: only the router's user reads or replaces them.
/// </summary>
/// <remarks>
/// The sidecar goes first and each file is renamed into place, so a reader never sees a half-written artifact, and
/// a crash between the two renames leaves a mismatch that is discarded on the next load. Every failure to write is
/// logged and swallowed: the disk only saves compile time, a full or read-only disk must not fail a request.
/// </remarks>
internal sealed partial class ArtifactStore(string directory, Engine engine, string fingerprint, byte[]? key, ILogger logger)
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string Directory { get; } = directory;

    /// <summary>Creates (or tightens) a cache folder so only this user can list, read or write it.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return;
        }
        System.IO.Directory.CreateDirectory(path, DirectoryMode0700);
        try
        {
            // An existing folder keeps its mode on CreateDirectory; the cache holds native code, so tighten it.
            File.SetUnixFileMode(path, DirectoryMode0700);
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's folder (set up by the operator for this one): its owner decides its mode.
        }
    }

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
            // Bytes read back from disk are checked on every load, pulled or not: the file may have been damaged or
            // replaced since it was written, and Wasmtime maps it as native code without looking.
            var expected = File.ReadAllText(path + ".mac").Trim();
            string actual;
            using (var stream = File.OpenRead(path))
            {
                actual = Bind(digest, stream);
                bytes = stream.Length;
            }
            if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(actual)))
            {
                throw new InvalidDataException($"the file is not bound to module {digest} (damaged, or another module's artifact)");
            }
            return loader is null ? Module.DeserializeFile(engine, digest, path) : loader.DeserializeFile(digest, path);
        }
        catch (Exception ex) when (ex is WasmtimeException or IOException or InvalidDataException or UnauthorizedAccessException
            || loader?.IsLoadFailure(ex) == true)
        {
            discarded = true;
            LogDiscarded(logger, path, ex.Message);
            TryDelete(path);
            TryDelete(path + ".mac");
            return null;
        }
    }

    /// <summary>Stores a serialized module (best effort).</summary>
    public void Write(string digest, string hex, byte[] serialized)
    {
        var path = PathOf(hex);
        try
        {
            WriteAtomically(path + ".mac", System.Text.Encoding.ASCII.GetBytes(Bind(digest, new MemoryStream(serialized, writable: false))), flush: true);
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
            // This pass over the bytes is no second digest check (the pull verified them): it binds the file to its
            // module and engine, which the next process checks because a file on disk can change after it was written.
            WriteAtomically(path + ".mac", System.Text.Encoding.ASCII.GetBytes(Bind(digest, new MemoryStream(bytes, writable: false))), flush: false);
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

    /// <summary>The sidecar's value: a MAC (or, without a key, a hash) over module digest, engine fingerprint and the bytes.</summary>
    private string Bind(string digest, Stream content)
    {
        var header = System.Text.Encoding.UTF8.GetBytes($"platform-cache-v1\n{digest}\n{fingerprint}\n");
        using var hash = key is null ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hash.AppendData(header);
        var buffer = new byte[81920];
        int n;
        while ((n = content.Read(buffer, 0, buffer.Length)) > 0)
        {
            hash.AppendData(buffer, 0, n);
        }
        return (key is null ? "sha256:" : "hmac-sha256:") + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> content, bool flush)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode0600;
            }
            using (var stream = new FileStream(temporary, options))
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
