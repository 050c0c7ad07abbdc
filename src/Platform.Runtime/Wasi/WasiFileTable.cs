namespace Platform.Runtime;

/// <summary>
/// One request's open files and directories above the stdio fds: fd 3 is the preopened <c>/</c> of the component's
/// <see cref="ComponentFiles"/>, later opens take the lowest free number. Only references into the shared, immutable
/// tree and a position per fd live here, so opening a file copies nothing.
/// </summary>
internal sealed class WasiFileTable(ComponentFiles files)
{
    public const int PreopenFd = 3;

    /// <summary>Open descriptors a request may hold at once (EMFILE past it).</summary>
    public const int MaxOpen = 256;

    private OpenFile?[] _open = CreateTable(files);

    public ComponentFiles Files { get; } = files;

    private static OpenFile?[] CreateTable(ComponentFiles files)
    {
        var table = new OpenFile?[PreopenFd + 1];
        table[PreopenFd] = new OpenFile(files.Root, isPreopen: true);
        return table;
    }

    public OpenFile? Get(int fd) => fd >= PreopenFd && fd < _open.Length ? _open[fd] : null;

    /// <summary>The new fd, or -1 when <see cref="MaxOpen"/> are open.</summary>
    public int Open(FileNode node)
    {
        var table = _open;
        for (var fd = PreopenFd; fd < table.Length; fd++)
        {
            if (table[fd] is null)
            {
                table[fd] = new OpenFile(node, isPreopen: false);
                return fd;
            }
        }
        if (table.Length - PreopenFd >= MaxOpen)
        {
            return -1;
        }
        Array.Resize(ref _open, Math.Min(table.Length * 2, MaxOpen + PreopenFd));
        _open[table.Length] = new OpenFile(node, isPreopen: false);
        return table.Length;
    }

    public bool Close(int fd)
    {
        if (Get(fd) is null)
        {
            return false;
        }
        _open[fd] = null;
        return true;
    }
}

/// <summary>An open file or directory: the node and, for a file, the read position.</summary>
internal sealed class OpenFile(FileNode node, bool isPreopen)
{
    public FileNode Node { get; } = node;
    public bool IsPreopen { get; } = isPreopen;
    public long Position { get; set; }
}
