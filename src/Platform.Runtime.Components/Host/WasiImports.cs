using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Platform.Runtime.Components.Native;
using Platform.Runtime.Http;

namespace Platform.Runtime.Components.Host;

/// <summary>
/// The proxy world's imports, written against the wasi 0.2 WIT (wasi:io, wasi:clocks, wasi:random, wasi:cli,
/// wasi:filesystem with no preopens, wasi:http types and outgoing-handler). Functions not listed here (filesystem
/// descriptor methods, which are unreachable without a descriptor, and a few rarely used ones) trap when called.
/// </summary>
internal static unsafe class WasiImports
{
    private const int MaxReadChunk = 64 * 1024;
    private const ulong WriteBudget = 64 * 1024;
    private const ulong MaxRandomBytes = 1024 * 1024;


    /// <summary>Interface name (without version) -> resources it defines.</summary>
    public static readonly IReadOnlyDictionary<string, (string Name, ResourceKind Kind)[]> Resources = new Dictionary<string, (string, ResourceKind)[]>
    {
        ["wasi:io/error"] = [("error", ResourceKind.IoError)],
        ["wasi:io/poll"] = [("pollable", ResourceKind.Pollable)],
        ["wasi:io/streams"] = [("input-stream", ResourceKind.InputStream), ("output-stream", ResourceKind.OutputStream)],
        ["wasi:cli/terminal-input"] = [("terminal-input", ResourceKind.TerminalInput)],
        ["wasi:cli/terminal-output"] = [("terminal-output", ResourceKind.TerminalOutput)],
        ["wasi:filesystem/types"] = [("descriptor", ResourceKind.Descriptor), ("directory-entry-stream", ResourceKind.DirectoryEntryStream)],
        ["wasi:http/types"] =
        [
            ("fields", ResourceKind.Fields), ("incoming-request", ResourceKind.IncomingRequest), ("outgoing-request", ResourceKind.OutgoingRequest),
            ("request-options", ResourceKind.RequestOptions), ("response-outparam", ResourceKind.ResponseOutparam),
            ("incoming-response", ResourceKind.IncomingResponse), ("incoming-body", ResourceKind.IncomingBody),
            ("future-trailers", ResourceKind.FutureTrailers), ("outgoing-response", ResourceKind.OutgoingResponse),
            ("outgoing-body", ResourceKind.OutgoingBody), ("future-incoming-response", ResourceKind.FutureIncomingResponse),
        ],
    };

    /// <summary>Every interface the host provides (a component importing anything else is refused at validation).</summary>
    public static readonly IReadOnlyList<string> Interfaces =
    [
        "wasi:io/error", "wasi:io/poll", "wasi:io/streams",
        "wasi:clocks/monotonic-clock", "wasi:clocks/wall-clock",
        "wasi:random/random", "wasi:random/insecure", "wasi:random/insecure-seed",
        "wasi:cli/environment", "wasi:cli/exit", "wasi:cli/stdin", "wasi:cli/stdout", "wasi:cli/stderr",
        "wasi:cli/terminal-input", "wasi:cli/terminal-output", "wasi:cli/terminal-stdin", "wasi:cli/terminal-stdout", "wasi:cli/terminal-stderr",
        "wasi:filesystem/types", "wasi:filesystem/preopens",
        "wasi:http/types", "wasi:http/outgoing-handler",
    ];

    public static readonly HostFunctionDefinition[] Functions = BuildFunctions();

    private static HostFunctionDefinition[] BuildFunctions()
    {
        var list = new List<HostFunctionDefinition>();
        void Add(string iface, string name, int parameters, int results, HostFunction body) => list.Add(new(iface, name, parameters, results, body));

        // wasi:io/error
        Add("wasi:io/error", "[method]error.to-debug-string", 1, 1, c => c.Return(V.String(c.Borrow<IoError>(0, ResourceKind.IoError).Message)));

        // wasi:io/poll
        Add("wasi:io/poll", "[method]pollable.ready", 1, 1, c => c.Return(V.Bool(c.Borrow<Pollable>(0, ResourceKind.Pollable).IsReady)));
        Add("wasi:io/poll", "[method]pollable.block", 1, 0, c => c.State.SleepUntil(c.Borrow<Pollable>(0, ResourceKind.Pollable).ReadyAt));
        Add("wasi:io/poll", "poll", 1, 1, Poll);

        // wasi:io/streams
        Add("wasi:io/streams", "[method]input-stream.read", 2, 1, Read);
        Add("wasi:io/streams", "[method]input-stream.blocking-read", 2, 1, Read);
        Add("wasi:io/streams", "[method]input-stream.skip", 2, 1, Skip);
        Add("wasi:io/streams", "[method]input-stream.blocking-skip", 2, 1, Skip);
        Add("wasi:io/streams", "[method]input-stream.subscribe", 1, 1, c =>
        {
            c.Borrow<InputStream>(0, ResourceKind.InputStream);
            c.Return(c.Own(ResourceKind.Pollable, new Pollable(Pollable.AlwaysReady)));
        });
        Add("wasi:io/streams", "[method]output-stream.check-write", 1, 1, c =>
        {
            c.Borrow<OutputStream>(0, ResourceKind.OutputStream);
            c.Return(V.Ok(V.U64(WriteBudget)));
        });
        Add("wasi:io/streams", "[method]output-stream.write", 2, 1, Write);
        Add("wasi:io/streams", "[method]output-stream.blocking-write-and-flush", 2, 1, Write);
        Add("wasi:io/streams", "[method]output-stream.flush", 1, 1, Flush);
        Add("wasi:io/streams", "[method]output-stream.blocking-flush", 1, 1, Flush);
        Add("wasi:io/streams", "[method]output-stream.subscribe", 1, 1, c =>
        {
            c.Borrow<OutputStream>(0, ResourceKind.OutputStream);
            c.Return(c.Own(ResourceKind.Pollable, new Pollable(Pollable.AlwaysReady)));
        });
        Add("wasi:io/streams", "[method]output-stream.write-zeroes", 2, 1, WriteZeroes);
        Add("wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush", 2, 1, WriteZeroes);
        Add("wasi:io/streams", "[method]output-stream.splice", 3, 1, Splice);
        Add("wasi:io/streams", "[method]output-stream.blocking-splice", 3, 1, Splice);

        // wasi:clocks
        Add("wasi:clocks/monotonic-clock", "now", 0, 1, c => c.Return(V.U64(MonotonicNanoseconds(Stopwatch.GetTimestamp()))));
        Add("wasi:clocks/monotonic-clock", "resolution", 0, 1, c => c.Return(V.U64(Math.Max(1UL, 1_000_000_000UL / (ulong)Stopwatch.Frequency))));
        Add("wasi:clocks/monotonic-clock", "subscribe-instant", 1, 1, c =>
            c.Return(c.Own(ResourceKind.Pollable, new Pollable(TimestampFromNanoseconds(c.U64(0))))));
        Add("wasi:clocks/monotonic-clock", "subscribe-duration", 1, 1, c =>
        {
            var nanoseconds = c.U64(0);
            var ticks = nanoseconds >= long.MaxValue / (ulong)Stopwatch.Frequency ? long.MaxValue / 2 : (long)(nanoseconds * (ulong)Stopwatch.Frequency / 1_000_000_000UL);
            c.Return(c.Own(ResourceKind.Pollable, new Pollable(Math.Max(1, Stopwatch.GetTimestamp() + ticks))));
        });
        Add("wasi:clocks/wall-clock", "now", 0, 1, c =>
        {
            var now = DateTimeOffset.UtcNow;
            var ticks = now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
            c.Return(V.Record(("seconds", V.U64((ulong)(ticks / TimeSpan.TicksPerSecond))), ("nanoseconds", V.U32((uint)(ticks % TimeSpan.TicksPerSecond * 100)))));
        });
        Add("wasi:clocks/wall-clock", "resolution", 0, 1, c => c.Return(V.Record(("seconds", V.U64(0)), ("nanoseconds", V.U32(100)))));

        // wasi:random
        Add("wasi:random/random", "get-random-bytes", 1, 1, c => c.Return(V.Bytes(RandomBytes(c, secure: true))));
        Add("wasi:random/random", "get-random-u64", 0, 1, c => c.Return(V.U64(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)))));
        Add("wasi:random/insecure", "get-insecure-random-bytes", 1, 1, c => c.Return(V.Bytes(RandomBytes(c, secure: false))));
        Add("wasi:random/insecure", "get-insecure-random-u64", 0, 1, c => c.Return(V.U64((ulong)Random.Shared.NextInt64())));
        Add("wasi:random/insecure-seed", "insecure-seed", 0, 1, c => c.Return(V.Tuple(V.U64((ulong)Random.Shared.NextInt64()), V.U64((ulong)Random.Shared.NextInt64()))));

        // wasi:cli
        Add("wasi:cli/environment", "get-environment", 0, 1, c =>
        {
            var environment = c.State.Request.Environment;
            c.Return(V.List(environment.Count, i => V.Tuple(V.String(environment[i].Key), V.String(environment[i].Value))));
        });
        Add("wasi:cli/environment", "get-arguments", 0, 1, c => c.Return(V.List(0, _ => default)));
        Add("wasi:cli/environment", "initial-cwd", 0, 1, c => c.Return(V.None()));
        Add("wasi:cli/exit", "exit", 1, 0, c =>
        {
            c.State.ExitCode = ValReader.ResultIsOk(c.Arg(0), c.Name) ? 0 : 1;
            throw new GuestTrapException($"the component exited with code {c.State.ExitCode}");
        });
        Add("wasi:cli/exit", "exit-with-code", 1, 0, c =>
        {
            c.State.ExitCode = ValReader.U8(c.Arg(0), c.Name);
            throw new GuestTrapException($"the component exited with code {c.State.ExitCode}");
        });
        Add("wasi:cli/stdin", "get-stdin", 0, 1, c => c.Return(c.Own(ResourceKind.InputStream, new InputStream(ReadOnlyMemory<byte>.Empty))));
        Add("wasi:cli/stdout", "get-stdout", 0, 1, c => c.Return(c.Own(ResourceKind.OutputStream, new OutputStream(OutputTarget.Stdout, null))));
        Add("wasi:cli/stderr", "get-stderr", 0, 1, c => c.Return(c.Own(ResourceKind.OutputStream, new OutputStream(OutputTarget.Stderr, null))));
        Add("wasi:cli/terminal-stdin", "get-terminal-stdin", 0, 1, c => c.Return(V.None()));
        Add("wasi:cli/terminal-stdout", "get-terminal-stdout", 0, 1, c => c.Return(V.None()));
        Add("wasi:cli/terminal-stderr", "get-terminal-stderr", 0, 1, c => c.Return(V.None()));

        // wasi:filesystem: no preopened directories, so no descriptor can ever exist.
        Add("wasi:filesystem/preopens", "get-directories", 0, 1, c => c.Return(V.List(0, _ => default)));
        Add("wasi:filesystem/types", "filesystem-error-code", 1, 1, c =>
        {
            c.Borrow<IoError>(0, ResourceKind.IoError);
            c.Return(V.None());
        });

        WasiHttp.Add(Add);
        return [.. list];
    }

    private static void Poll(HostCall c)
    {
        var items = ValReader.Items(c.Arg(0), ValKind.List, c.Name);
        if (items.Length == 0)
        {
            throw new GuestTrapException("poll: the list of pollables is empty");
        }
        var pollables = new Pollable[items.Length];
        fixed (Val* first = items)
        {
            for (var i = 0; i < items.Length; i++)
            {
                pollables[i] = c.State.Get<Pollable>(c.Rep(first + i, ResourceKind.Pollable), ResourceKind.Pollable);
            }
        }
        var ready = new List<uint>();
        while (true)
        {
            for (var i = 0; i < pollables.Length; i++)
            {
                if (pollables[i].IsReady)
                {
                    ready.Add((uint)i);
                }
            }
            if (ready.Count > 0)
            {
                c.Return(V.List(ready.Count, i => V.U32(ready[i])));
                return;
            }
            c.State.SleepUntil(pollables.Min(p => p.ReadyAt));
        }
    }

    private static void Read(HostCall c)
    {
        var stream = c.Borrow<InputStream>(0, ResourceKind.InputStream);
        var length = Math.Min(c.U64(1), MaxReadChunk);
        if (stream.AtEnd)
        {
            c.Return(V.Err(V.Variant("closed")));
            return;
        }
        c.Return(V.Ok(V.Bytes(stream.Read(length).Span)));
    }

    private static void Skip(HostCall c)
    {
        var stream = c.Borrow<InputStream>(0, ResourceKind.InputStream);
        var length = c.U64(1);
        if (stream.AtEnd)
        {
            c.Return(V.Err(V.Variant("closed")));
            return;
        }
        c.Return(V.Ok(V.U64((ulong)stream.Read(length).Length)));
    }

    private static void Write(HostCall c)
    {
        var stream = c.Borrow<OutputStream>(0, ResourceKind.OutputStream);
        var state = c.State;
        if (stream.Body is { Finished: true })
        {
            c.Return(V.Err(V.Variant("closed")));
            return;
        }
        ValReader.CopyBytes(c.Arg(1), c.Name, bytes => Append(state, stream, bytes));
        c.Return(V.Ok());
    }

    private static void WriteZeroes(HostCall c)
    {
        var stream = c.Borrow<OutputStream>(0, ResourceKind.OutputStream);
        var length = c.U64(1);
        if (length > WriteBudget)
        {
            throw new GuestTrapException($"{c.Name}: {length} bytes is more than check-write allowed ({WriteBudget})");
        }
        Append(c.State, stream, new byte[length]);
        c.Return(V.Ok());
    }

    private static void Splice(HostCall c)
    {
        var output = c.Borrow<OutputStream>(0, ResourceKind.OutputStream);
        var input = c.Borrow<InputStream>(1, ResourceKind.InputStream);
        var length = Math.Min(c.U64(2), WriteBudget);
        if (input.AtEnd)
        {
            c.Return(V.Err(V.Variant("closed")));
            return;
        }
        var bytes = input.Read(length);
        Append(c.State, output, bytes.Span);
        c.Return(V.Ok(V.U64((ulong)bytes.Length)));
    }

    private static void Flush(HostCall c)
    {
        c.Borrow<OutputStream>(0, ResourceKind.OutputStream);
        c.Return(V.Ok());
    }

    private static void Append(RequestState state, OutputStream stream, ReadOnlySpan<byte> bytes)
    {
        if (stream.Target != OutputTarget.Body)
        {
            state.WriteOutput(stream.Target, bytes);
            return;
        }
        if (!stream.Body!.TryAppend(bytes))
        {
            state.ResponseTooLarge = true;
            throw new GuestTrapException($"the body is larger than its limit of {stream.Body.Limit} bytes");
        }
    }

    private static byte[] RandomBytes(HostCall c, bool secure)
    {
        var length = c.U64(0);
        if (length > MaxRandomBytes)
        {
            throw new GuestTrapException($"{c.Name}: {length} random bytes asked for; at most {MaxRandomBytes} per call");
        }
        var bytes = new byte[length];
        if (secure)
        {
            RandomNumberGenerator.Fill(bytes);
        }
        else
        {
            Random.Shared.NextBytes(bytes);
        }
        return bytes;
    }

    private static ulong MonotonicNanoseconds(long timestamp) => (ulong)((Int128)timestamp * 1_000_000_000 / Stopwatch.Frequency);

    private static long TimestampFromNanoseconds(ulong nanoseconds)
    {
        var timestamp = (Int128)nanoseconds * Stopwatch.Frequency / 1_000_000_000;
        return timestamp > long.MaxValue / 2 ? long.MaxValue / 2 : Math.Max(1, (long)timestamp);
    }

    // --- shared by wasi:http -------------------------------------------------------------------------------------

    public static bool IsValidFieldName(string name) => HttpToken.IsToken(name);

    public static bool IsValidFieldValue(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is (byte)'\r' or (byte)'\n' or 0 || (b < 0x20 && b != (byte)'\t') || b == 0x7f)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Hop-by-hop headers, which incoming requests and responses from upstreams do not carry to the guest.</summary>
    public static bool IsHopByHop(string name) => HopByHopHeaders.Contains(name);

    /// <summary>What a guest may not set (header-error.forbidden): hop-by-hop headers and Host, which the authority decides.</summary>
    public static bool IsForbiddenField(string name) => HopByHopHeaders.Contains(name) || name.Equals("host", StringComparison.OrdinalIgnoreCase);

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);
}
