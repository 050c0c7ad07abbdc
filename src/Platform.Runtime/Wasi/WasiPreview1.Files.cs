using System.Buffers.Binary;
using System.Text;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// The read-only filesystem of preview 1: the component's <see cref="ComponentFiles"/> preopened as <c>/</c> on fd 3
/// (only when the request has files), read through <see cref="WasiFileTable"/>. Every call that would change the tree
/// fails with EROFS; a path that is absolute or climbs above its directory fd fails with ENOTCAPABLE, so nothing
/// outside the tree (and nothing of the host's filesystem, which is never consulted) can be named.
/// </summary>
internal static unsafe partial class WasiPreview1
{
    private const int Exist = 20;
    private const int Ilseq = 25;
    private const int Isdir = 31;
    private const int Mfile = 41;
    private const int Nametoolong = 37;
    private const int Noent = 44;
    private const int Rofs = 69;
    private const int Notcapable = 76;

    private const byte FiletypeDirectory = 3;
    private const byte FiletypeRegular = 4;

    private const int MaxPathBytes = 4096;

    private const ulong RightFdDatasync = 1UL << 0;
    private const ulong RightFdSeek = 1UL << 2;
    private const ulong RightFdFdstatSetFlags = 1UL << 3;
    private const ulong RightFdSync = 1UL << 4;
    private const ulong RightFdTell = 1UL << 5;
    private const ulong RightFdAdvise = 1UL << 7;
    private const ulong RightFdAllocate = 1UL << 8;
    private const ulong RightPathOpen = 1UL << 13;
    private const ulong RightFdReaddir = 1UL << 14;
    private const ulong RightPathReadlink = 1UL << 15;
    private const ulong RightPathFilestatGet = 1UL << 18;
    private const ulong RightFdFilestatSetSize = 1UL << 22;
    private const ulong RightFdFilestatSetTimes = 1UL << 23;

    /// <summary>What a regular file here allows: reading and looking, nothing that changes it.</summary>
    private const ulong FileRights = RightFdRead | RightFdSeek | RightFdTell | RightFdAdvise | RightFdFdstatSetFlags | RightFdSync
        | RightFdFilestatGet | RightPollFdReadwrite;

    private const ulong DirectoryRights = RightPathOpen | RightFdReaddir | RightPathReadlink | RightPathFilestatGet | RightFdFilestatGet
        | RightFdFdstatSetFlags | RightFdSync | RightFdAdvise;

    /// <summary>Rights whose request means "open for writing" (wasi-libc and Rust's std ask for these only then).</summary>
    private const ulong WriteRights = RightFdWrite | RightFdDatasync | RightFdAllocate | RightFdFilestatSetSize;

    private const int OflagCreat = 1;
    private const int OflagDirectory = 2;
    private const int OflagExcl = 4;
    private const int OflagTrunc = 8;
    private const int FdflagAppend = 1;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The filesystem's part of the one function table (<see cref="s_functions"/>).</summary>
    private static (string Name, Delegate Function)[] FileFunctions() =>
    [
        ("fd_advise", (CallerFunc<int, long, long, int, int>)((c, fd, _, _, _) => ForFd(c, fd, Spipe, Success))),
        ("fd_allocate", (CallerFunc<int, long, long, int>)((c, fd, _, _) => ForFd(c, fd, Spipe, Badf))),
        ("fd_close", (CallerFunc<int, int>)FdClose),
        ("fd_datasync", (CallerFunc<int, int>)((c, fd) => ForFd(c, fd, Success, Success))),
        ("fd_fdstat_get", (CallerFunc<int, int, int>)FdFdstatGet),
        // Accepting flag changes on stdio is harmless: reads and writes here never block. A file may not become append-only.
        ("fd_fdstat_set_flags", (CallerFunc<int, int, int>)((c, fd, flags) => ForFd(c, fd, Success, (flags & FdflagAppend) != 0 ? Rofs : Success))),
        ("fd_fdstat_set_rights", (CallerFunc<int, long, long, int>)FdFdstatSetRights),
        ("fd_filestat_get", (CallerFunc<int, int, int>)FdFilestatGet),
        ("fd_filestat_set_size", (CallerFunc<int, long, int>)((c, fd, _) => ForFd(c, fd, Inval, Rofs))),
        ("fd_filestat_set_times", (CallerFunc<int, long, long, int, int>)((c, fd, _, _, _) => ForFd(c, fd, Inval, Rofs))),
        ("fd_pread", (CallerFunc<int, int, int, long, int, int>)FdPread),
        ("fd_prestat_get", (CallerFunc<int, int, int>)FdPrestatGet),
        ("fd_prestat_dir_name", (CallerFunc<int, int, int, int>)FdPrestatDirName),
        ("fd_pwrite", (CallerFunc<int, int, int, long, int, int>)((c, fd, _, _, _, _) => ForFd(c, fd, Spipe, Badf))),
        ("fd_read", (CallerFunc<int, int, int, int, int>)FdRead),
        ("fd_readdir", (CallerFunc<int, int, int, long, int, int>)FdReaddir),
        ("fd_renumber", (CallerFunc<int, int, int>)((c, fd, to) => IsAnyOpen(Ctx(c), fd) && IsAnyOpen(Ctx(c), to) ? Notsup : Badf)),
        ("fd_seek", (CallerFunc<int, long, int, int, int>)FdSeek),
        ("fd_sync", (CallerFunc<int, int>)((c, fd) => ForFd(c, fd, Success, Success))),
        ("fd_tell", (CallerFunc<int, int, int>)FdTell),
        ("path_create_directory", (CallerFunc<int, int, int, int>)((c, fd, p, l) => PathMutation(c, fd, p, l))),
        ("path_filestat_get", (CallerFunc<int, int, int, int, int, int>)PathFilestatGet),
        ("path_filestat_set_times", (CallerFunc<int, int, int, int, long, long, int, int>)((c, fd, _, p, l, _, _, _) => PathMutation(c, fd, p, l))),
        ("path_link", (CallerFunc<int, int, int, int, int, int, int, int>)((c, fd, _, p, l, to, _, _) => PathMutation(c, fd, p, l, to))),
        ("path_open", (CallerFunc<int, int, int, int, int, long, long, int, int, int>)PathOpen),
        ("path_readlink", (CallerFunc<int, int, int, int, int, int, int>)PathReadlink),
        ("path_remove_directory", (CallerFunc<int, int, int, int>)((c, fd, p, l) => PathMutation(c, fd, p, l))),
        ("path_rename", (CallerFunc<int, int, int, int, int, int, int>)((c, fd, p, l, to, _, _) => PathMutation(c, fd, p, l, to))),
        ("path_symlink", (CallerFunc<int, int, int, int, int, int>)((c, _, _, fd, p, l) => PathMutation(c, fd, p, l))),
        ("path_unlink_file", (CallerFunc<int, int, int, int>)((c, fd, p, l) => PathMutation(c, fd, p, l))),
    ];

    private static bool IsAnyOpen(WasiContext ctx, int fd) => ctx.IsOpen(fd) || ctx.FileTable?.Get(fd) is not null;

    /// <summary><paramref name="forStdio"/> for an open stdio fd, <paramref name="forFile"/> for an open file or directory, else EBADF.</summary>
    private static int ForFd(Caller caller, int fd, int forStdio, int forFile)
    {
        var ctx = Ctx(caller);
        return ctx.IsOpen(fd) ? forStdio : ctx.FileTable?.Get(fd) is not null ? forFile : Badf;
    }

    private static int FdClose(Caller caller, int fd)
    {
        var ctx = Ctx(caller);
        if (ctx.IsOpen(fd))
        {
            ctx.Close(fd);
            return Success;
        }
        return ctx.FileTable?.Close(fd) == true ? Success : Badf;
    }

    private static int FdFdstatGet(Caller caller, int fd, int resultPtr)
    {
        var ctx = Ctx(caller);
        var open = ctx.FileTable?.Get(fd);
        if (!ctx.IsOpen(fd) && open is null)
        {
            return Badf;
        }
        if (!GuestOf(caller, ctx).TrySpan(resultPtr, 24, out var stat))
        {
            return Fault;
        }
        stat.Clear();
        if (open is null)
        {
            // Filetype "unknown" (not a character device) tells wasi-libc stdout is no terminal, so it buffers
            // fully instead of writing line by line: fewer host calls per response.
            var rights = (fd == 0 ? RightFdRead : RightFdWrite) | RightFdFilestatGet | RightPollFdReadwrite;
            BinaryPrimitives.WriteUInt64LittleEndian(stat[8..], rights);
            return Success;
        }
        var directory = open.Node.IsDirectory;
        stat[0] = directory ? FiletypeDirectory : FiletypeRegular;
        BinaryPrimitives.WriteUInt64LittleEndian(stat[8..], directory ? DirectoryRights : FileRights);
        // Write rights are inheritable on paper so that wasi-libc asks for them exactly when the program opens for
        // writing (O_WRONLY/O_RDWR); path_open then refuses that open with EROFS instead of handing out a read-only fd.
        BinaryPrimitives.WriteUInt64LittleEndian(stat[16..], directory ? DirectoryRights | FileRights | WriteRights : 0);
        return Success;
    }

    private static int FdFdstatSetRights(Caller caller, int fd, long rightsBase, long rightsInheriting)
    {
        var ctx = Ctx(caller);
        if (ctx.IsOpen(fd))
        {
            return Success;
        }
        if (ctx.FileTable?.Get(fd) is not { } open)
        {
            return Badf;
        }
        // Rights can only be dropped; asking for one this fd never had (writing, above all) is refused.
        var allowed = open.Node.IsDirectory ? DirectoryRights | FileRights : FileRights;
        return ((ulong)rightsBase & ~allowed) != 0 || ((ulong)rightsInheriting & ~(DirectoryRights | FileRights | WriteRights)) != 0 ? Notcapable : Success;
    }

    private static int FdFilestatGet(Caller caller, int fd, int resultPtr)
    {
        var ctx = Ctx(caller);
        var open = ctx.FileTable?.Get(fd);
        if (!ctx.IsOpen(fd) && open is null)
        {
            return Badf;
        }
        if (!GuestOf(caller, ctx).TrySpan(resultPtr, 64, out var stat))
        {
            return Fault;
        }
        if (open is null)
        {
            stat.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(stat[24..], 1); // nlink
            return Success;
        }
        WriteFilestat(stat, open.Node);
        return Success;
    }

    /// <summary>The 64-byte filestat: dev, ino, filetype, nlink, size, then three zero timestamps (the files have no times).</summary>
    private static void WriteFilestat(Span<byte> stat, FileNode node)
    {
        stat.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(stat, 1); // one device for the whole tree
        BinaryPrimitives.WriteUInt64LittleEndian(stat[8..], node.Inode);
        stat[16] = node.IsDirectory ? FiletypeDirectory : FiletypeRegular;
        BinaryPrimitives.WriteUInt64LittleEndian(stat[24..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(stat[32..], (ulong)node.Size);
    }

    private static int FdPrestatGet(Caller caller, int fd, int resultPtr)
    {
        var ctx = Ctx(caller);
        // Only the preopen answers; EBADF for every other fd ends wasi-libc's preopen scan.
        if (ctx.FileTable?.Get(fd) is not { IsPreopen: true })
        {
            return Badf;
        }
        if (!GuestOf(caller, ctx).TrySpan(resultPtr, 8, out var prestat))
        {
            return Fault;
        }
        prestat.Clear(); // tag 0: a directory
        BinaryPrimitives.WriteUInt32LittleEndian(prestat[4..], 1); // the name "/"
        return Success;
    }

    private static int FdPrestatDirName(Caller caller, int fd, int pathPtr, int pathLength)
    {
        var ctx = Ctx(caller);
        if (ctx.FileTable?.Get(fd) is not { IsPreopen: true })
        {
            return Badf;
        }
        if (pathLength < 1)
        {
            return Nametoolong;
        }
        if (!GuestOf(caller, ctx).TrySpan(pathPtr, 1, out var name))
        {
            return Fault;
        }
        name[0] = (byte)'/';
        return Success;
    }

    private static int FdRead(Caller caller, int fd, int iovsPtr, int iovsLength, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (fd == 0 && ctx.IsOpen(0))
        {
            var read = ReadInto(caller, ctx, ctx.Stdin.Span[ctx.StdinPosition..], iovsPtr, iovsLength, resultPtr, out var stdinTotal);
            if (read == Success)
            {
                ctx.StdinPosition += stdinTotal;
            }
            return read;
        }
        if (ctx.FileTable?.Get(fd) is not { } open)
        {
            return Badf;
        }
        if (open.Node.IsDirectory)
        {
            return Isdir;
        }
        var content = open.Node.Content.Span;
        var from = (int)Math.Min(open.Position, content.Length);
        var result = ReadInto(caller, ctx, content[from..], iovsPtr, iovsLength, resultPtr, out var total);
        if (result == Success)
        {
            open.Position += total;
        }
        return result;
    }

    /// <summary>The open regular file behind <paramref name="fd"/>: ESPIPE for stdio, EBADF when none, EISDIR for a directory.</summary>
    private static int RegularFile(WasiContext ctx, int fd, out OpenFile open)
    {
        open = null!;
        if (ctx.IsOpen(fd))
        {
            return Spipe;
        }
        if (ctx.FileTable?.Get(fd) is not { } found)
        {
            return Badf;
        }
        open = found;
        return found.Node.IsDirectory ? Isdir : Success;
    }

    private static int FdPread(Caller caller, int fd, int iovsPtr, int iovsLength, long offset, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (RegularFile(ctx, fd, out var open) is var errno and not Success)
        {
            return errno;
        }
        if (offset < 0)
        {
            return Inval;
        }
        var content = open.Node.Content.Span;
        var from = (int)Math.Min(offset, content.Length);
        return ReadInto(caller, ctx, content[from..], iovsPtr, iovsLength, resultPtr, out _);
    }

    /// <summary>Scatters <paramref name="source"/> into the guest's iovecs and writes the byte count.</summary>
    private static int ReadInto(Caller caller, WasiContext ctx, ReadOnlySpan<byte> source, int iovsPtr, int iovsLength, int resultPtr, out int total)
    {
        total = 0;
        var guest = GuestOf(caller, ctx);
        if (iovsLength < 0 || iovsLength > 1024 || !guest.TrySpan(iovsPtr, iovsLength * 8, out var iovs))
        {
            return Fault;
        }
        var remaining = source;
        for (var i = 0; i < iovsLength && remaining.Length > 0; i++)
        {
            var ptr = (int)BinaryPrimitives.ReadUInt32LittleEndian(iovs[(i * 8)..]);
            var len = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(iovs[(i * 8 + 4)..]), (uint)remaining.Length);
            if (!guest.TrySpan(ptr, len, out var target))
            {
                return Fault;
            }
            remaining[..len].CopyTo(target);
            remaining = remaining[len..];
            total += len;
        }
        return guest.TryWriteU32(resultPtr, (uint)total) ? Success : Fault;
    }

    private static int FdSeek(Caller caller, int fd, long offset, int whence, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (RegularFile(ctx, fd, out var open) is var errno and not Success)
        {
            return errno;
        }
        long origin = whence switch
        {
            0 => 0,
            1 => open.Position,
            2 => open.Node.Size,
            _ => -1,
        };
        if (origin < 0)
        {
            return Inval;
        }
        long target;
        try
        {
            target = checked(origin + offset);
        }
        catch (OverflowException)
        {
            return Inval;
        }
        if (target < 0)
        {
            return Inval;
        }
        if (!GuestOf(caller, ctx).TryWriteU64(resultPtr, (ulong)target))
        {
            return Fault;
        }
        open.Position = target;
        return Success;
    }

    private static int FdTell(Caller caller, int fd, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (RegularFile(ctx, fd, out var open) is var errno and not Success)
        {
            return errno;
        }
        return GuestOf(caller, ctx).TryWriteU64(resultPtr, (ulong)open.Position) ? Success : Fault;
    }

    /// <summary>
    /// Directory entries as preview 1 lays them out: a 24-byte header (d_next, d_ino, d_namlen, d_type) then the name
    /// without NUL; "." and ".." first, then the children by name. Entry i has cookie i and d_next i + 1. The last entry
    /// is cut off at the buffer's end, which tells the caller (a full buffer) to ask again from that cookie.
    /// </summary>
    private static int FdReaddir(Caller caller, int fd, int bufferPtr, int bufferLength, long cookie, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (ctx.IsOpen(fd))
        {
            return Notdir;
        }
        if (ctx.FileTable?.Get(fd) is not { } open)
        {
            return Badf;
        }
        var node = open.Node;
        if (!node.IsDirectory)
        {
            return Notdir;
        }
        var guest = GuestOf(caller, ctx);
        if (!guest.TrySpan(bufferPtr, bufferLength, out var buffer))
        {
            return Fault;
        }
        var count = (ulong)node.Children.Length + 2;
        var used = 0;
        Span<byte> header = stackalloc byte[24];
        for (var index = cookie < 0 ? count : (ulong)cookie; index < count && used < buffer.Length; index++)
        {
            FileNode entry;
            string name;
            if (index == 0)
            {
                (entry, name) = (node, ".");
            }
            else if (index == 1)
            {
                (entry, name) = (node.Parent ?? node, "..");
            }
            else
            {
                entry = node.Children[(int)(index - 2)];
                name = entry.Name;
            }
            var nameBytes = Encoding.UTF8.GetBytes(name);
            BinaryPrimitives.WriteUInt64LittleEndian(header, index + 1);
            BinaryPrimitives.WriteUInt64LittleEndian(header[8..], entry.Inode);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)nameBytes.Length);
            header[20] = entry.IsDirectory ? FiletypeDirectory : FiletypeRegular;
            header[21] = header[22] = header[23] = 0;
            used += CopyClipped(header, buffer[used..]);
            used += CopyClipped(nameBytes, buffer[used..]);
        }
        return guest.TryWriteU32(resultPtr, (uint)used) ? Success : Fault;

        static int CopyClipped(ReadOnlySpan<byte> source, Span<byte> target)
        {
            var n = Math.Min(source.Length, target.Length);
            source[..n].CopyTo(target);
            return n;
        }
    }

    private static int PathFilestatGet(Caller caller, int fd, int flags, int pathPtr, int pathLength, int resultPtr)
    {
        var ctx = Ctx(caller);
        var error = Resolve(caller, ctx, fd, pathPtr, pathLength, out var node);
        if (error != Success)
        {
            return error;
        }
        if (!GuestOf(caller, ctx).TrySpan(resultPtr, 64, out var stat))
        {
            return Fault;
        }
        WriteFilestat(stat, node!);
        return Success;
    }

    private static int PathOpen(Caller caller, int fd, int dirflags, int pathPtr, int pathLength, int oflags, long rightsBase, long rightsInheriting,
        int fdflags, int resultPtr)
    {
        var ctx = Ctx(caller);
        var error = Resolve(caller, ctx, fd, pathPtr, pathLength, out var node);
        var wantsWrite = (oflags & (OflagCreat | OflagTrunc | OflagExcl)) != 0 || ((ulong)rightsBase & WriteRights) != 0 || (fdflags & FdflagAppend) != 0;
        if (error == Noent && wantsWrite)
        {
            // Creating a file on a read-only tree.
            return Rofs;
        }
        if (error != Success)
        {
            return error;
        }
        if ((oflags & (OflagCreat | OflagExcl)) == (OflagCreat | OflagExcl))
        {
            return Exist;
        }
        if (wantsWrite)
        {
            return node!.IsDirectory ? Isdir : Rofs;
        }
        if ((oflags & OflagDirectory) != 0 && !node!.IsDirectory)
        {
            return Notdir;
        }
        // Check the result pointer before the fd exists, so a bad pointer leaks no descriptor.
        if (!GuestOf(caller, ctx).TrySpan(resultPtr, 4, out _))
        {
            return Fault;
        }
        var opened = ctx.FileTable!.Open(node!);
        if (opened < 0)
        {
            return Mfile;
        }
        GuestOf(caller, ctx).TryWriteU32(resultPtr, (uint)opened);
        return Success;
    }

    private static int PathReadlink(Caller caller, int fd, int pathPtr, int pathLength, int bufferPtr, int bufferLength, int resultPtr)
    {
        var ctx = Ctx(caller);
        var error = Resolve(caller, ctx, fd, pathPtr, pathLength, out _);
        // The tree holds no symbolic links: whatever exists is not one.
        return error == Success ? Inval : error;
    }

    /// <summary>Any call that would change the tree: the usual fd and path errors first, then EROFS.</summary>
    private static int PathMutation(Caller caller, int fd, int pathPtr, int pathLength, int otherFd = -1)
    {
        var ctx = Ctx(caller);
        if (ctx.IsOpen(fd))
        {
            return Notdir;
        }
        if (ctx.FileTable?.Get(fd) is not { } open || (otherFd >= 0 && ctx.FileTable.Get(otherFd) is null && !ctx.IsOpen(otherFd)))
        {
            return Badf;
        }
        if (!open.Node.IsDirectory)
        {
            return Notdir;
        }
        if (pathLength < 0 || !GuestOf(caller, ctx).TrySpan(pathPtr, pathLength, out _))
        {
            return Fault;
        }
        return Rofs;
    }

    /// <summary>
    /// Resolves a guest path against a directory fd: '/'-separated, "." and empty segments skipped, ".." goes up but
    /// never above the fd's own directory (ENOTCAPABLE, as is an absolute path). No symbolic links exist to follow.
    /// </summary>
    private static int Resolve(Caller caller, WasiContext ctx, int fd, int pathPtr, int pathLength, out FileNode? node)
    {
        node = null;
        if (ctx.IsOpen(fd))
        {
            return Notdir;
        }
        if (ctx.FileTable?.Get(fd) is not { } open)
        {
            return Badf;
        }
        if (!open.Node.IsDirectory)
        {
            return Notdir;
        }
        if (pathLength < 0 || !GuestOf(caller, ctx).TrySpan(pathPtr, pathLength, out var bytes))
        {
            return Fault;
        }
        if (pathLength > MaxPathBytes)
        {
            return Nametoolong;
        }
        if (pathLength == 0)
        {
            return Noent;
        }
        if (bytes[0] == (byte)'/')
        {
            return Notcapable;
        }
        string path;
        try
        {
            path = s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Ilseq;
        }
        var current = open.Node;
        var depth = 0;
        var segments = path.Split('/');
        foreach (var segment in segments)
        {
            if (!current.IsDirectory)
            {
                return Notdir; // "file.txt/", "file.txt/." or "file.txt/x"
            }
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (depth == 0)
                {
                    return Notcapable;
                }
                depth--;
                current = current.Parent!;
                continue;
            }
            if (segment.Contains('\0'))
            {
                return Inval;
            }
            var child = current.Child(segment);
            if (child is null)
            {
                return Noent;
            }
            current = child;
            depth++;
        }
        node = current;
        return Success;
    }
}
