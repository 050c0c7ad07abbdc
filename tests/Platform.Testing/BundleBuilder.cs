using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Platform.Testing;

/// <summary>Writes tar / tar.gz bundles in the test, entry by entry (including hostile ones).</summary>
public sealed class BundleBuilder
{
    private readonly List<TarEntry> _entries = [];

    public BundleBuilder File(string name, byte[] content)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
        return this;
    }

    public BundleBuilder File(string name, string text) => File(name, Encoding.UTF8.GetBytes(text));

    public BundleBuilder Directory(string name)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.Directory, name));
        return this;
    }

    public BundleBuilder Link(TarEntryType type, string name, string target)
    {
        _entries.Add(new PaxTarEntry(type, name) { LinkName = target });
        return this;
    }

    public BundleBuilder Device(string name)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.CharacterDevice, name) { DeviceMajor = 1, DeviceMinor = 3 });
        return this;
    }

    public byte[] Tar()
    {
        using var output = new MemoryStream();
        Write(output);
        return output.ToArray();
    }

    public byte[] TarGz()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            Write(gzip);
        }
        return output.ToArray();
    }

    private void Write(Stream stream)
    {
        using var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var entry in _entries)
        {
            entry.DataStream?.Seek(0, SeekOrigin.Begin);
            writer.WriteEntry(entry);
        }
    }
}
