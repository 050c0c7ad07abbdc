using System.Formats.Tar;
using System.IO.Compression;

namespace Platform.Bundles;

/// <summary>
/// The files of an uploaded bundle: a tar or tar.gz of the app directory, <c>spin.toml</c> at its root or inside the
/// one top-level directory (what <c>tar czf app.tgz app/</c> makes). Only regular files and directories are
/// accepted; paths are normalised and never absolute or above the root. Every cap of <see cref="BundleOptions"/> is
/// checked while reading, so a bomb is stopped before it is unpacked.
/// </summary>
public sealed class BundleArchive
{
    public const string ManifestFileName = "spin.toml";

    private readonly Dictionary<string, byte[]> _files;

    private BundleArchive(Dictionary<string, byte[]> files, string manifestText)
    {
        _files = files;
        ManifestText = manifestText;
    }

    /// <summary>The text of spin.toml.</summary>
    public string ManifestText { get; }

    /// <summary>Relative, '/'-separated paths of every regular file (spin.toml included), ordinal order.</summary>
    public IReadOnlyList<string> FilePaths => [.. _files.Keys.Order(StringComparer.Ordinal)];

    public bool TryGetFile(string path, out byte[] content) => _files.TryGetValue(path, out content!);

    public bool IsDirectory(string path) =>
        path.Length == 0 || _files.Keys.Any(k => k.StartsWith(path + "/", StringComparison.Ordinal));

    /// <summary>Reads a tar (or gzip-compressed tar, recognised by its magic bytes) from a seekable or forward-only stream.</summary>
    /// <exception cref="BundleException">The archive breaks a rule or a cap; the message names the entry.</exception>
    public static BundleArchive Read(Stream archive, BundleOptions options)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(options);
        var counted = new CountingStream(archive);
        var head = new byte[2];
        var got = counted.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        if (got == 0)
        {
            throw BundleException.Invalid("invalid-bundle", "Invalid bundle", "The bundle is empty; send a tar or tar.gz of the app directory with spin.toml at its root.");
        }
        var replay = new PrefixedStream(head.AsMemory(0, got), counted);
        var gzip = got == 2 && head[0] == 0x1f && head[1] == 0x8b;
        using var source = gzip ? new GZipStream(replay, CompressionMode.Decompress, leaveOpen: true) : (Stream)replay;

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        long unpacked = 0;
        var entries = 0;
        try
        {
            using var reader = new TarReader(source, leaveOpen: true);
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes)
                {
                    continue; // PAX metadata, folded into the next entry by TarReader
                }
                if (++entries > options.MaxEntries)
                {
                    throw BundleException.Invalid("bundle-too-many-entries", "Too many entries in the bundle",
                        $"The archive has more than {options.MaxEntries} entries (the limit, Platform:Bundles:MaxEntries).");
                }
                var path = NormalizeEntryName(entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        if (path.Length > 0)
                        {
                            directories.Add(path);
                        }
                        continue;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        break;
                    default:
                        throw BundleException.Invalid("bundle-entry-not-allowed", "Entry type not allowed",
                            $"The archive entry '{entry.Name}' is a {Describe(entry.EntryType)}{(string.IsNullOrEmpty(entry.LinkName) ? "" : $" to '{entry.LinkName}'")}; bundles may only hold regular files and directories.");
                }
                if (path.Length == 0)
                {
                    throw BundleException.Invalid("bundle-path-not-allowed", "Path not allowed", $"The archive entry '{entry.Name}' has no file name.");
                }
                if (unpacked + entry.Length > options.MaxUnpackedBytes)
                {
                    throw BundleException.Invalid("bundle-too-large-unpacked", "Bundle unpacks too large",
                        $"Unpacking '{entry.Name}' ({entry.Length} bytes) takes the bundle past {options.MaxUnpackedBytes} bytes (the limit, Platform:Bundles:MaxUnpackedBytes).");
                }
                if (files.ContainsKey(path))
                {
                    throw BundleException.Invalid("bundle-duplicate-entry", "Duplicate entry", $"The archive holds '{path}' twice.");
                }
                var content = new byte[entry.Length];
                if (entry.DataStream is { } data)
                {
                    var offset = 0;
                    while (offset < content.Length)
                    {
                        var n = data.Read(content, offset, Math.Min(81920, content.Length - offset));
                        if (n == 0)
                        {
                            throw BundleException.Invalid("invalid-bundle", "Invalid bundle", $"The archive ends inside '{entry.Name}'.");
                        }
                        offset += n;
                        CheckRatio(unpacked + offset, counted.BytesRead, gzip, options);
                    }
                }
                unpacked += content.Length;
                files.Add(path, content);
            }
        }
        catch (InvalidDataException ex)
        {
            throw BundleException.Invalid("invalid-bundle", "Invalid bundle", $"The body is not a readable tar or tar.gz archive: {ex.Message}");
        }
        catch (EndOfStreamException ex)
        {
            throw BundleException.Invalid("invalid-bundle", "Invalid bundle", $"The body is not a complete tar or tar.gz archive (it ends early): {ex.Message}");
        }
        catch (FormatException ex)
        {
            throw BundleException.Invalid("invalid-bundle", "Invalid bundle", $"The body is not a readable tar or tar.gz archive: {ex.Message}");
        }

        foreach (var file in files.Keys)
        {
            if (directories.Contains(file))
            {
                throw BundleException.Invalid("bundle-duplicate-entry", "Duplicate entry", $"The archive holds '{file}' as both a file and a directory.");
            }
        }
        files = StripSingleTopDirectory(files);
        if (!files.TryGetValue(ManifestFileName, out var manifest))
        {
            throw BundleException.Invalid("bundle-missing-manifest", "No spin.toml",
                $"The archive has no '{ManifestFileName}' at its root (or inside one top-level directory); it holds {(files.Count == 0 ? "no files" : string.Join(", ", files.Keys.Order(StringComparer.Ordinal).Take(5).Select(k => $"'{k}'")) + (files.Count > 5 ? ", ..." : ""))}.");
        }
        if (manifest.Length > options.MaxManifestBytes)
        {
            throw BundleException.Invalid("manifest-too-large", "spin.toml too large", $"spin.toml is {manifest.Length} bytes; the limit is {options.MaxManifestBytes}.");
        }
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(manifest);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", "spin.toml is not valid UTF-8.");
        }
        return new BundleArchive(files, text);
    }

    /// <summary>Builds an archive view over files already in memory (deploy by reference, tests).</summary>
    public static BundleArchive FromFiles(IReadOnlyDictionary<string, byte[]> files, string manifestText) =>
        new(new Dictionary<string, byte[]>(files, StringComparer.Ordinal), manifestText);

    private static void CheckRatio(long unpacked, long compressed, bool gzip, BundleOptions options)
    {
        if (gzip && unpacked > options.RatioCheckFloorBytes && unpacked > (long)options.MaxCompressionRatio * Math.Max(1, compressed))
        {
            throw BundleException.Invalid("bundle-compression-ratio", "Compression ratio too high",
                $"The archive unpacks to more than {options.MaxCompressionRatio} times its compressed size ({unpacked} bytes from {compressed}); the limit is Platform:Bundles:MaxCompressionRatio.");
        }
    }

    /// <summary>Relative path with '/' separators, without "./" or a trailing '/'; absolute paths and '..' are refused.</summary>
    public static string NormalizeEntryName(string name)
    {
        if (name.StartsWith('/') || name.Contains('\\') || (name.Length >= 2 && name[1] == ':') || name.Contains('\0'))
        {
            throw BundleException.Invalid("bundle-path-not-allowed", "Path not allowed",
                $"The archive entry '{name}' has an absolute or non-portable path; entries must be relative to the app directory.");
        }
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }
            if (part == "..")
            {
                throw BundleException.Invalid("bundle-path-not-allowed", "Path not allowed",
                    $"The archive entry '{name}' climbs out of the app directory with '..'.");
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    private static Dictionary<string, byte[]> StripSingleTopDirectory(Dictionary<string, byte[]> files)
    {
        if (files.ContainsKey(ManifestFileName) || files.Count == 0)
        {
            return files;
        }
        var tops = files.Keys.Select(k => k.Split('/')[0]).Distinct(StringComparer.Ordinal).ToList();
        if (tops.Count != 1 || files.Keys.Any(k => !k.Contains('/')) || !files.ContainsKey(tops[0] + "/" + ManifestFileName))
        {
            return files;
        }
        var prefix = tops[0].Length + 1;
        return files.ToDictionary(kv => kv.Key[prefix..], kv => kv.Value, StringComparer.Ordinal);
    }

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.HardLink => "hard link",
        TarEntryType.CharacterDevice => "character device",
        TarEntryType.BlockDevice => "block device",
        TarEntryType.Fifo => "FIFO",
        _ => $"'{type}' entry",
    };

    /// <summary>Counts the compressed bytes read, for the ratio check.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            BytesRead += n;
            return n;
        }
    }

    /// <summary>Gives back the bytes read to sniff the format, then the rest of the stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.Length > 0)
            {
                var n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }
            return rest.Read(buffer);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
