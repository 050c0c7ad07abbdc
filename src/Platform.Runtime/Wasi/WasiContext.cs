using System.Buffers;
using System.Diagnostics;
using System.Text;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Everything one request's WASI functions can see: argv, environment, stdin bytes, the stdout buffer and the
/// stderr line splitter. It is the Store's data, so host functions reach it through the Caller with no globals.
/// Beyond fds 0-2 there is only <see cref="FileTable"/> (the component's read-only files), which is how "no host
/// filesystem, no network" holds by construction.
/// </summary>
internal sealed class WasiContext : IDisposable
{
    private const int MaxLogLineBytes = 8 * 1024;
    private const int MaxLogBytes = 1024 * 1024;

    private readonly Action<string>? _logLine;
    private readonly int _maxStdoutBytes;
    private byte[] _stdout;
    private int _stdoutLength;
    private byte[]? _stderrLine;
    private int _stderrLineLength;
    private int _stderrTotal;
    private bool _stderrTruncated;
    private bool _stderrPending;
    private readonly bool[] _closed = new bool[3];

    public WasiContext(EncodedStrings args, EncodedStrings environment, ReadOnlyMemory<byte> stdin, int maxStdoutBytes,
        Action<string>? logLine, long deadlineTimestamp, CancellationToken cancellationToken)
    {
        Args = args;
        Environment = environment;
        Stdin = stdin;
        _maxStdoutBytes = maxStdoutBytes;
        _logLine = logLine;
        DeadlineTimestamp = deadlineTimestamp;
        CancellationToken = cancellationToken;
        StartTimestamp = Stopwatch.GetTimestamp();
        _stdout = ArrayPool<byte>.Shared.Rent(Math.Min(4096, Math.Max(maxStdoutBytes, 16)));
    }

    public EncodedStrings Args { get; }
    public EncodedStrings Environment { get; }
    public ReadOnlyMemory<byte> Stdin { get; }
    public int StdinPosition { get; set; }
    public Memory? Memory { get; set; }
    public long StartTimestamp { get; }
    public long DeadlineTimestamp { get; }
    public CancellationToken CancellationToken { get; }

    /// <summary>Outbound HTTP (wasi_experimental_http) state of this request: policy, open responses, call budget.</summary>
    public WagiOutboundState? Outbound { get; set; }

    /// <summary>The request's open files and the preopened <c>/</c>; null when the component has no files (no preopen at all).</summary>
    public WasiFileTable? FileTable { get; init; }

    /// <summary>Set by proc_exit before it unwinds the guest.</summary>
    public int? ExitCode { get; set; }
    public bool TimedOut { get; set; }

    /// <summary>Thread CPU time (ns) at which the guest is stopped; long.MaxValue when no CPU limit applies.</summary>
    public long CpuDeadlineNanoseconds { get; set; } = long.MaxValue;
    public bool CpuLimitExceeded { get; set; }
    public bool Cancelled { get; set; }
    public bool StdoutOverflow { get; private set; }

    public ReadOnlySpan<byte> StdoutSpan => _stdout.AsSpan(0, _stdoutLength);

    /// <summary>Hands the pooled stdout buffer to the caller, who must return it to the shared pool.</summary>
    public (byte[] Buffer, int Length) DetachStdout()
    {
        var result = (_stdout, _stdoutLength);
        _stdout = [];
        _stdoutLength = 0;
        return result;
    }

    public bool IsOpen(int fd) => fd is >= 0 and <= 2 && !_closed[fd];

    public void Close(int fd) => _closed[fd] = true;

    /// <summary>Appends to stdout; false when that would pass the response limit.</summary>
    public bool WriteStdout(ReadOnlySpan<byte> data)
    {
        if (data.Length > _maxStdoutBytes - _stdoutLength)
        {
            StdoutOverflow = true;
            return false;
        }
        var needed = _stdoutLength + data.Length;
        if (needed > _stdout.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(_stdout.Length * 2, _maxStdoutBytes)));
            _stdout.AsSpan(0, _stdoutLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_stdout);
            _stdout = bigger;
        }
        data.CopyTo(_stdout.AsSpan(_stdoutLength));
        _stdoutLength = needed;
        return true;
    }

    /// <summary>Splits stderr into lines for the app log, bounding line length and total volume.</summary>
    /// <remarks>
    /// Searched a write at a time (vectorised IndexOf, one copy per line) rather than byte by byte: a module that
    /// floods stderr pays for its first MiB here on the worker's CPU, two to four times less this way.
    /// </remarks>
    public void WriteStderr(ReadOnlySpan<byte> data)
    {
        if (_logLine is null || _stderrTruncated)
        {
            return;
        }
        var room = MaxLogBytes - _stderrTotal;
        var over = data.Length > room;
        if (over)
        {
            data = data[..room];
        }
        _stderrTotal += data.Length;
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            AppendStderr(newline < 0 ? data : data[..newline]);
            if (newline < 0)
            {
                break;
            }
            FlushStderr();
            data = data[(newline + 1)..];
        }
        if (over)
        {
            FlushStderr();
            _stderrTruncated = true;
            EmitLog("[stderr truncated: more than 1 MiB written]");
        }
    }

    /// <summary>Adds bytes of the current line; a line that reaches the maximum length is emitted in pieces.</summary>
    private void AppendStderr(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            // One buffer for the whole request, returned when the context is disposed.
            _stderrLine ??= ArrayPool<byte>.Shared.Rent(MaxLogLineBytes);
            if (_stderrLineLength == MaxLogLineBytes)
            {
                FlushStderr();
            }
            var n = Math.Min(bytes.Length, MaxLogLineBytes - _stderrLineLength);
            bytes[..n].CopyTo(_stderrLine.AsSpan(_stderrLineLength));
            _stderrLineLength += n;
            _stderrPending = true;
            bytes = bytes[n..];
        }
    }

    /// <summary>Emits a pending partial stderr line (a module's last line need not end with a newline).</summary>
    public void FlushStderr()
    {
        if (!_stderrPending)
        {
            return;
        }
        var length = _stderrLineLength;
        if (length > 0 && _stderrLine![length - 1] == (byte)'\r')
        {
            length--;
        }
        var line = Encoding.UTF8.GetString(_stderrLine!, 0, length);
        _stderrLineLength = 0;
        _stderrPending = false;
        EmitLog(line);
    }

    private void EmitLog(string line)
    {
        try
        {
            _logLine?.Invoke(line);
        }
        catch (Exception)
        {
            // A failing log sink must not turn into a guest trap; the line is lost, the request is not.
        }
    }

    public void Dispose()
    {
        Args.Return();
        Environment.Return();
        if (_stdout.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_stdout);
            _stdout = [];
        }
        if (_stderrLine is not null)
        {
            ArrayPool<byte>.Shared.Return(_stderrLine);
            _stderrLine = null;
        }
    }
}

/// <summary>
/// A list of strings encoded once as NUL-terminated UTF-8, the layout args_get/environ_get copy out. The buffers
/// come from the shared pools and go back when the request's <see cref="WasiContext"/> is disposed.
/// </summary>
internal sealed class EncodedStrings
{
    private EncodedStrings(int[] offsets, byte[] blob)
    {
        Offsets = offsets;
        Blob = blob;
    }

    /// <summary>Number of strings.</summary>
    public int Count { get; private set; }

    /// <summary>Start of each string in <see cref="Blob"/> (the first <see cref="Count"/> entries are valid).</summary>
    public int[] Offsets { get; private set; }

    /// <summary>The encoded strings; only the first <see cref="Length"/> bytes are valid.</summary>
    public byte[] Blob { get; private set; }

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Bytes => Blob.AsSpan(0, Length);

    /// <summary>Room for <paramref name="maxCount"/> strings of at most <paramref name="maxBytes"/> bytes in all.</summary>
    public static EncodedStrings Rent(int maxCount, int maxBytes) =>
        new(ArrayPool<int>.Shared.Rent(Math.Max(1, maxCount)), ArrayPool<byte>.Shared.Rent(Math.Max(1, maxBytes)));

    /// <summary>Where the next string goes; call <see cref="End"/> with the bytes written (NUL included).</summary>
    public Span<byte> Begin() => Blob.AsSpan(Length);

    public void End(int written)
    {
        Offsets[Count++] = Length;
        Length += written;
    }

    public void Return()
    {
        if (Blob.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Blob);
            ArrayPool<int>.Shared.Return(Offsets);
            Blob = [];
            Offsets = [];
            Count = 0;
            Length = 0;
        }
    }
}
