using System.Buffers;
using System.Diagnostics;
using System.Text;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Everything one request's WASI functions can see: argv, environment, stdin bytes, the stdout buffer and the
/// stderr line splitter. It is the Store's data, so host functions reach it through the Caller with no globals.
/// There are no file descriptors beyond 0-2, which is how "no filesystem, no network" holds by construction.
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

    /// <summary>Set by proc_exit before it unwinds the guest.</summary>
    public int? ExitCode { get; set; }
    public bool TimedOut { get; set; }
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
    public void WriteStderr(ReadOnlySpan<byte> data)
    {
        if (_logLine is null || _stderrTruncated)
        {
            return;
        }
        foreach (var b in data)
        {
            if (_stderrTotal++ >= MaxLogBytes)
            {
                FlushStderr();
                _stderrTruncated = true;
                EmitLog("[stderr truncated: more than 1 MiB written]");
                return;
            }
            if (b == (byte)'\n')
            {
                FlushStderr();
                continue;
            }
            _stderrLine ??= ArrayPool<byte>.Shared.Rent(MaxLogLineBytes);
            if (_stderrLineLength == MaxLogLineBytes)
            {
                FlushStderr();
                _stderrLine ??= ArrayPool<byte>.Shared.Rent(MaxLogLineBytes);
            }
            _stderrLine[_stderrLineLength++] = b;
        }
    }

    /// <summary>Emits a pending partial stderr line (a module's last line need not end with a newline).</summary>
    public void FlushStderr()
    {
        if (_stderrLine is null)
        {
            return;
        }
        var length = _stderrLineLength;
        if (length > 0 && _stderrLine[length - 1] == (byte)'\r')
        {
            length--;
        }
        var line = Encoding.UTF8.GetString(_stderrLine, 0, length);
        _stderrLineLength = 0;
        ArrayPool<byte>.Shared.Return(_stderrLine);
        _stderrLine = null;
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

/// <summary>A list of strings encoded once as NUL-terminated UTF-8, the layout args_get/environ_get copy out.</summary>
internal sealed class EncodedStrings
{
    public EncodedStrings(IReadOnlyList<string> values)
    {
        Count = values.Count;
        Offsets = new int[values.Count];
        var total = 0;
        foreach (var v in values)
        {
            total += Encoding.UTF8.GetByteCount(v) + 1;
        }
        Blob = new byte[total];
        var position = 0;
        for (var i = 0; i < values.Count; i++)
        {
            Offsets[i] = position;
            position += Encoding.UTF8.GetBytes(values[i], Blob.AsSpan(position));
            Blob[position++] = 0;
        }
    }

    public int Count { get; }
    public int[] Offsets { get; }
    public byte[] Blob { get; }
}
