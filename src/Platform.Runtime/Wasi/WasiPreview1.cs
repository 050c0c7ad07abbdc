using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// The platform's own implementation of <c>wasi_snapshot_preview1</c>, defined on a Linker with host functions
/// that read per-request state from the Store's data (<see cref="WasiContext"/>).
/// Why not Wasmtime's WASI: building its context per request cost about 280 µs and giving stdin as a temporary
/// file even more (docs/runtime-performance.md); this needs neither. Besides fds 0-2 only the request's own read-only
/// <see cref="ComponentFiles"/> exist (WasiPreview1.Files.cs), so there is no host file or socket a module could reach.
/// </summary>
internal static unsafe partial class WasiPreview1
{
    public const string ModuleName = "wasi_snapshot_preview1";

    // errno values from the preview-1 witx.
    private const int Success = 0;
    private const int Badf = 8;
    private const int Fault = 21;
    private const int Inval = 28;
    private const int Nosys = 52;
    private const int Notdir = 54;
    private const int Notsock = 57;
    private const int Notsup = 58;
    private const int Spipe = 70;

    private const ulong RightFdRead = 1UL << 1;
    private const ulong RightFdWrite = 1UL << 6;
    private const ulong RightFdFilestatGet = 1UL << 21;
    private const ulong RightPollFdReadwrite = 1UL << 27;

    /// <summary>
    /// The one table of every function this implementation defines, as the delegate the linker gets. The validator's
    /// signatures are read off the delegates' types, so what is validated and what is defined cannot drift apart.
    /// </summary>
    private static readonly (string Name, Delegate Function)[] s_functions =
    [
        ("args_get", (CallerFunc<int, int, int>)((c, ptrs, buf) => CopyStrings(c, Ctx(c).Args, ptrs, buf))),
        ("args_sizes_get", (CallerFunc<int, int, int>)((c, count, size) => StringSizes(c, Ctx(c).Args, count, size))),
        ("environ_get", (CallerFunc<int, int, int>)((c, ptrs, buf) => CopyStrings(c, Ctx(c).Environment, ptrs, buf))),
        ("environ_sizes_get", (CallerFunc<int, int, int>)((c, count, size) => StringSizes(c, Ctx(c).Environment, count, size))),
        ("clock_res_get", (CallerFunc<int, int, int>)ClockResGet),
        ("clock_time_get", (CallerFunc<int, long, int, int>)ClockTimeGet),
        ("fd_write", (CallerFunc<int, int, int, int, int>)FdWrite),
        ("poll_oneoff", (CallerFunc<int, int, int, int, int>)PollOneoff),
        ("proc_exit", (CallerAction<int>)ProcExit),
        ("proc_raise", (CallerFunc<int, int>)((c, _) => Nosys)),
        ("sched_yield", (CallerFunc<int>)(c => Success)),
        ("random_get", (CallerFunc<int, int, int>)RandomGet),
        ("sock_accept", (CallerFunc<int, int, int, int>)((c, fd, _, _) => Stdio(c, fd, Notsock))),
        ("sock_recv", (CallerFunc<int, int, int, int, int, int, int>)((c, fd, _, _, _, _, _) => Stdio(c, fd, Notsock))),
        ("sock_send", (CallerFunc<int, int, int, int, int, int>)((c, fd, _, _, _, _) => Stdio(c, fd, Notsock))),
        ("sock_shutdown", (CallerFunc<int, int, int>)((c, fd, _) => Stdio(c, fd, Notsock))),
        .. FileFunctions(),
    ];

    /// <summary>
    /// Every function this implementation defines with its signature: 'i' is i32, 'I' is i64; the part after
    /// '>' is the result. The validator refuses imports that are not in this table.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Signatures { get; } =
        s_functions.ToDictionary(f => f.Name, f => SignatureOf(f.Function.GetType()), StringComparer.Ordinal);

    // Linker.DefineFunction has one generic overload per delegate shape; each table entry picks its own once.
    private static readonly MethodInfo[] s_defineFunction = [.. typeof(Linker).GetMethods()
        .Where(m => m.Name == nameof(Linker.DefineFunction) && m.IsGenericMethodDefinition && m.GetParameters().Length == 3)];

    public static void Define(Linker linker)
    {
        foreach (var (name, function) in s_functions)
        {
            var type = function.GetType();
            var definition = type.GetGenericTypeDefinition();
            var method = s_defineFunction.Single(m =>
                m.GetParameters()[2].ParameterType is { IsGenericType: true } p && p.GetGenericTypeDefinition() == definition
                && p.GetGenericArguments().All(a => a.IsGenericParameter)); // not the overloads taking tuple results
            method.MakeGenericMethod(type.GetGenericArguments()).Invoke(linker, [ModuleName, name, function]);
        }
    }

    private static string SignatureOf(Type delegateType)
    {
        var arguments = delegateType.GetGenericArguments();
        var isFunc = delegateType.Name.StartsWith("CallerFunc", StringComparison.Ordinal);
        var parameters = isFunc ? arguments[..^1] : arguments;
        return string.Concat(parameters.Select(Code)) + ">" + (isFunc ? Code(arguments[^1]).ToString() : "");

        static char Code(Type t) => t == typeof(int) ? 'i' : t == typeof(long) ? 'I'
            : throw new InvalidOperationException($"WASI preview 1 uses only i32 and i64, not {t}");
    }

    private static WasiContext Ctx(Caller caller) => (WasiContext)caller.GetData()!;

    /// <summary>EBADF for anything but an open stdio fd, otherwise <paramref name="forStdio"/>.</summary>
    private static int Stdio(Caller caller, int fd, int forStdio) => Ctx(caller).IsOpen(fd) ? forStdio : Badf;

    private static Guest GuestOf(Caller caller, WasiContext ctx)
    {
        var memory = ctx.Memory ??= caller.GetMemory("memory")
            ?? throw new WasmtimeException("the module exports no memory named 'memory', which WASI needs");
        return new Guest((byte*)memory.GetPointer(), (ulong)memory.GetLength());
    }

    private static int StringSizes(Caller caller, EncodedStrings strings, int countPtr, int sizePtr)
    {
        var guest = GuestOf(caller, Ctx(caller));
        return guest.TryWriteU32(countPtr, (uint)strings.Count) && guest.TryWriteU32(sizePtr, (uint)strings.Length) ? Success : Fault;
    }

    private static int CopyStrings(Caller caller, EncodedStrings strings, int pointersPtr, int bufferPtr)
    {
        var guest = GuestOf(caller, Ctx(caller));
        if (!guest.TrySpan(bufferPtr, strings.Length, out var buffer) || !guest.TrySpan(pointersPtr, strings.Count * 4, out var pointers))
        {
            return Fault;
        }
        strings.Bytes.CopyTo(buffer);
        for (var i = 0; i < strings.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(pointers[(i * 4)..], (uint)bufferPtr + (uint)strings.Offsets[i]);
        }
        return Success;
    }

    private static int ClockResGet(Caller caller, int id, int resultPtr)
    {
        ulong resolution = id switch
        {
            0 => 100, // DateTime ticks are 100 ns
            1 or 2 or 3 => (ulong)Math.Max(1, 1_000_000_000 / Stopwatch.Frequency),
            _ => 0,
        };
        if (resolution == 0)
        {
            return Inval;
        }
        return GuestOf(caller, Ctx(caller)).TryWriteU64(resultPtr, resolution) ? Success : Fault;
    }

    private static int ClockTimeGet(Caller caller, int id, long precision, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (!TryNow(ctx, id, out var now))
        {
            return Inval;
        }
        return GuestOf(caller, ctx).TryWriteU64(resultPtr, now) ? Success : Fault;
    }

    private static bool TryNow(WasiContext ctx, int clockId, out ulong nanoseconds)
    {
        switch (clockId)
        {
            case 0:
                nanoseconds = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
                return true;
            case 1:
                nanoseconds = TimestampToNanoseconds(Stopwatch.GetTimestamp());
                return true;
            case 2 or 3:
                // CPU time is not tracked per request; time since the request started is the honest upper bound.
                nanoseconds = TimestampToNanoseconds(Stopwatch.GetTimestamp() - ctx.StartTimestamp);
                return true;
            default:
                nanoseconds = 0;
                return false;
        }
    }

    private static ulong TimestampToNanoseconds(long timestamp) =>
        (ulong)((UInt128)(ulong)timestamp * 1_000_000_000 / (ulong)Stopwatch.Frequency);

    private static int FdWrite(Caller caller, int fd, int iovsPtr, int iovsLength, int resultPtr)
    {
        var ctx = Ctx(caller);
        if (fd is not (1 or 2) || !ctx.IsOpen(fd))
        {
            // Files here are read-only; they were never opened for writing.
            return Badf;
        }
        var guest = GuestOf(caller, ctx);
        if (iovsLength < 0 || !guest.TrySpan(iovsPtr, iovsLength * 8, out var iovs))
        {
            return Fault;
        }
        uint total = 0;
        for (var i = 0; i < iovsLength; i++)
        {
            var ptr = (int)BinaryPrimitives.ReadUInt32LittleEndian(iovs[(i * 8)..]);
            var len = BinaryPrimitives.ReadUInt32LittleEndian(iovs[(i * 8 + 4)..]);
            if (len > int.MaxValue || !guest.TrySpan(ptr, (int)len, out var data))
            {
                return Fault;
            }
            if (fd == 1)
            {
                if (!ctx.WriteStdout(data))
                {
                    // Stop the module at once: nothing it writes after this can be sent.
                    throw new GuestStoppedException("the module wrote more than the response limit to stdout");
                }
            }
            else
            {
                ctx.WriteStderr(data);
            }
            total += len;
        }
        return guest.TryWriteU32(resultPtr, total) ? Success : Fault;
    }

    private static int RandomGet(Caller caller, int bufferPtr, int length)
    {
        if (!GuestOf(caller, Ctx(caller)).TrySpan(bufferPtr, length, out var buffer))
        {
            return Fault;
        }
        RandomNumberGenerator.Fill(buffer);
        return Success;
    }

    private static void ProcExit(Caller caller, int code)
    {
        Ctx(caller).ExitCode = code;
        // proc_exit must not return; unwinding the guest through an exception is how a host function ends it.
        throw new GuestStoppedException($"proc_exit({code})");
    }

    /// <summary>
    /// Subscriptions on stdio are always ready (stdin is in memory, stdout never blocks); a clock subscription
    /// sleeps, but never past the request's wall-time deadline, because epoch interruption cannot stop host code.
    /// </summary>
    private static int PollOneoff(Caller caller, int subscriptionsPtr, int eventsPtr, int count, int resultPtr)
    {
        const int SubscriptionSize = 48;
        const int EventSize = 32;
        var ctx = Ctx(caller);
        var guest = GuestOf(caller, ctx);
        if (count <= 0)
        {
            return Inval;
        }
        if (count > 4096 || !guest.TrySpan(subscriptionsPtr, count * SubscriptionSize, out var raw)
            || !guest.TrySpan(eventsPtr, count * EventSize, out var events))
        {
            return Fault;
        }

        // Parsed once, before any event is written: the guest may let the events overlap the subscriptions.
        Subscription[]? rented = null;
        var subscriptions = count <= 16 ? stackalloc Subscription[count] : (rented = ArrayPool<Subscription>.Shared.Rent(count)).AsSpan(0, count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var sub = raw.Slice(i * SubscriptionSize, SubscriptionSize);
                subscriptions[i] = new Subscription(
                    BinaryPrimitives.ReadUInt64LittleEndian(sub),
                    sub[8],
                    (int)BinaryPrimitives.ReadUInt32LittleEndian(sub[16..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(sub[24..]),
                    (BinaryPrimitives.ReadUInt16LittleEndian(sub[40..]) & 1) != 0);
            }
            var written = 0;
            ulong shortestWait = ulong.MaxValue;
            foreach (ref readonly var sub in subscriptions)
            {
                if (sub.Tag == 0)
                {
                    if (!TryNow(ctx, sub.ClockIdOrFd, out var now))
                    {
                        WriteEvent(events, written++, sub.Userdata, Inval, sub.Tag, 0);
                        continue;
                    }
                    shortestWait = Math.Min(shortestWait, sub.WaitFrom(now));
                }
                else if (sub.Tag is 1 or 2)
                {
                    var fd = sub.ClockIdOrFd;
                    var file = sub.Tag == 1 ? ctx.FileTable?.Get(fd) : null;
                    var usable = file is { Node.IsDirectory: false } || (ctx.IsOpen(fd) && (sub.Tag == 1 ? fd == 0 : fd is 1 or 2));
                    ulong available = sub.Tag != 1 || !usable ? 0
                        : file is null ? (ulong)(ctx.Stdin.Length - ctx.StdinPosition)
                        : (ulong)Math.Max(0, file.Node.Size - file.Position);
                    WriteEvent(events, written++, sub.Userdata, usable ? Success : Badf, sub.Tag, available);
                }
                else
                {
                    WriteEvent(events, written++, sub.Userdata, Inval, sub.Tag, 0);
                }
            }

            if (written == 0 && shortestWait != ulong.MaxValue)
            {
                SleepWithinDeadline(ctx, shortestWait);
                foreach (ref readonly var sub in subscriptions)
                {
                    if (sub.Tag != 0)
                    {
                        continue;
                    }
                    TryNow(ctx, sub.ClockIdOrFd, out var now);
                    if (sub.Absolute ? sub.WaitFrom(now) == 0 : sub.Timeout <= shortestWait)
                    {
                        WriteEvent(events, written++, sub.Userdata, Success, 0, 0);
                    }
                }
                if (written == 0)
                {
                    // An absolute deadline on a clock that moved less than expected: report the first clock anyway.
                    var first = subscriptions[0];
                    WriteEvent(events, written++, first.Userdata, Success, 0, 0);
                }
            }
            return guest.TryWriteU32(resultPtr, (uint)written) ? Success : Fault;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<Subscription>.Shared.Return(rented);
            }
        }
    }

    /// <summary>One poll_oneoff subscription as read from the guest: userdata, tag (0 clock, 1 read, 2 write) and its fields.</summary>
    private readonly record struct Subscription(ulong Userdata, byte Tag, int ClockIdOrFd, ulong Timeout, bool Absolute)
    {
        /// <summary>Nanoseconds until a clock subscription fires, seen from <paramref name="now"/>.</summary>
        public ulong WaitFrom(ulong now) => Absolute ? (Timeout > now ? Timeout - now : 0) : Timeout;
    }

    private static void SleepWithinDeadline(WasiContext ctx, ulong nanoseconds)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), ctx.DeadlineTimestamp);
        var wanted = TimeSpan.FromTicks((long)Math.Min(nanoseconds / 100, (ulong)TimeSpan.MaxValue.Ticks));
        var sleep = wanted < remaining ? wanted : remaining;
        if (sleep > TimeSpan.Zero && ctx.CancellationToken.WaitHandle.WaitOne(sleep))
        {
            ctx.Cancelled = true;
            throw new GuestStoppedException("the request was cancelled");
        }
        if (wanted >= remaining)
        {
            ctx.TimedOut = true;
            throw new GuestStoppedException("the wall-time limit passed while the module slept");
        }
    }

    private static void WriteEvent(Span<byte> events, int index, ulong userdata, int error, byte type, ulong bytes)
    {
        var e = events.Slice(index * 32, 32);
        e.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(e, userdata);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)error);
        e[10] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(e[16..], bytes);
    }

    /// <summary>Bounds-checked view of the guest's linear memory for the duration of one host call.</summary>
    private readonly ref struct Guest(byte* start, ulong length)
    {
        private readonly byte* _start = start;
        private readonly ulong _length = length;

        public bool TrySpan(int pointer, int count, out Span<byte> span)
        {
            if (count < 0 || (ulong)(uint)pointer + (ulong)count > _length)
            {
                span = default;
                return false;
            }
            span = new Span<byte>(_start + (uint)pointer, count);
            return true;
        }

        public bool TryWriteU32(int pointer, uint value)
        {
            if (!TrySpan(pointer, 4, out var span))
            {
                return false;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(span, value);
            return true;
        }

        public bool TryWriteU64(int pointer, ulong value)
        {
            if (!TrySpan(pointer, 8, out var span))
            {
                return false;
            }
            BinaryPrimitives.WriteUInt64LittleEndian(span, value);
            return true;
        }
    }
}

/// <summary>Thrown by a host function or the epoch callback to end the guest; the reason is in the WasiContext.</summary>
internal sealed class GuestStoppedException(string message) : Exception(message);
