using System.Collections.Frozen;

namespace Platform.Runtime;

/// <summary>
/// A component's read-only files as the guest sees them below its one preopened directory <c>/</c> (as Spin maps a
/// component's <c>files</c>). Built once per component version and shared by every request and thread: the tree and
/// the contents never change after construction, and requests read the contents in place, never copying them.
/// </summary>
public sealed class ComponentFiles
{
    /// <summary>Largest number of entries (files and directories) one tree may hold.</summary>
    public const int MaxEntries = 100_000;

    private ComponentFiles(FileNode root, int fileCount, long totalBytes)
    {
        Root = root;
        FileCount = fileCount;
        TotalBytes = totalBytes;
    }

    /// <summary>A tree with nothing in it (the component still gets its preopen, with nothing inside).</summary>
    public static ComponentFiles Empty { get; } = Create([]);

    internal FileNode Root { get; }

    public int FileCount { get; }

    public long TotalBytes { get; }

    /// <summary>
    /// Builds the tree from absolute guest paths (<c>/static/index.html</c>) and their contents. Throws
    /// <see cref="ArgumentException"/> quoting a path that is not absolute, holds <c>.</c>, <c>..</c>, an empty segment
    /// or a NUL, repeats another, or makes a file the parent of another entry.
    /// </summary>
    public static ComponentFiles Create(IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        ulong inode = 1;
        var root = new Builder("", inode++);
        var count = 0;
        long total = 0;
        foreach (var (path, content) in files)
        {
            var segments = SplitPath(path);
            var directory = root;
            for (var i = 0; i < segments.Length - 1; i++)
            {
                if (directory.Files.ContainsKey(segments[i]))
                {
                    throw new ArgumentException($"The file path '{path}' goes through '{segments[i]}', which is a file.", nameof(files));
                }
                if (!directory.Directories.TryGetValue(segments[i], out var child))
                {
                    child = new Builder(segments[i], inode++);
                    directory.Directories.Add(segments[i], child);
                }
                directory = child;
            }
            var name = segments[^1];
            if (directory.Files.ContainsKey(name) || directory.Directories.ContainsKey(name))
            {
                throw new ArgumentException($"The file path '{path}' is given twice or is also a directory.", nameof(files));
            }
            directory.Files.Add(name, new FileNode(name, inode++, content));
            count++;
            total += content.Length;
            if ((long)inode > MaxEntries)
            {
                throw new ArgumentException($"The files hold more than {MaxEntries} entries.", nameof(files));
            }
        }
        return new ComponentFiles(root.Build(), count, total);
    }

    private static string[] SplitPath(string path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Length == 1)
        {
            throw new ArgumentException($"The file path '{path}' must be absolute and name a file.", nameof(path));
        }
        var segments = path[1..].Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Contains('\0'))
            {
                throw new ArgumentException($"The file path '{path}' has the segment '{segment}', which a normalised path cannot hold.", nameof(path));
            }
        }
        return segments;
    }

    private sealed class Builder(string name, ulong inode)
    {
        public Dictionary<string, Builder> Directories { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, FileNode> Files { get; } = new(StringComparer.Ordinal);

        public FileNode Build()
        {
            var children = new List<FileNode>(Directories.Count + Files.Count);
            children.AddRange(Directories.Values.Select(d => d.Build()));
            children.AddRange(Files.Values);
            // Sorted by name so fd_readdir lists the same order on every router and its cookies stay stable.
            children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return new FileNode(name, inode, [.. children]);
        }
    }
}

/// <summary>A file or directory of a <see cref="ComponentFiles"/> tree; immutable.</summary>
internal sealed class FileNode
{
    private readonly FrozenDictionary<string, FileNode>? _byName;

    public FileNode(string name, ulong inode, ReadOnlyMemory<byte> content)
    {
        Name = name;
        Inode = inode;
        Content = content;
        Children = [];
    }

    public FileNode(string name, ulong inode, FileNode[] children)
    {
        Name = name;
        Inode = inode;
        IsDirectory = true;
        Children = children;
        _byName = children.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var child in children)
        {
            child.Parent = this;
        }
    }

    public string Name { get; }
    public ulong Inode { get; }
    public bool IsDirectory { get; }
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>Children sorted by name (directories only).</summary>
    public FileNode[] Children { get; }

    /// <summary>The directory holding this one; null for the root. Set once while the tree is built.</summary>
    public FileNode? Parent { get; private set; }

    public long Size => IsDirectory ? 0 : Content.Length;

    public FileNode? Child(string name) => _byName is not null && _byName.TryGetValue(name, out var child) ? child : null;
}
