using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Platform.Runtime;
using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components.Host;

/// <summary>
/// Everything one request's store knows: the handle table behind every host resource, the request, the response
/// the guest builds, limits and the reasons an execution stopped. Reached from callbacks through the store's data
/// pointer (a GCHandle), never through statics.
/// </summary>
internal sealed class RequestState
{
    // A guest that creates handles without dropping them is stopped here instead of growing the table forever.
    private const int MaxHandles = 100_000;
    private const int MaxLogLineBytes = 16 * 1024;
    // Output beyond this per request is dropped (with one note), so a chatty guest cannot flood the app log.
    private const long MaxLogBytesPerRequest = 1024 * 1024;

    private readonly List<Entry> _entries = [new(0, null)];
    private readonly Stack<int> _free = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    // One decoder per stream, so a UTF-8 character split across two writes is decoded whole.
    private readonly Decoder _stdoutDecoder = Encoding.UTF8.GetDecoder();
    private readonly Decoder _stderrDecoder = Encoding.UTF8.GetDecoder();
    private readonly ComponentLog _log;
    private int _live;
    private long _loggedBytes;
    private bool _logTruncated;

    public RequestState(ComponentRequest request, AppLimits limits, IComponentOutboundHttp outbound, ComponentLog log,
        long deadlineTimestamp, CancellationToken cancellationToken, long cpuDeadlineNanoseconds = long.MaxValue)
    {
        CpuDeadlineNanoseconds = cpuDeadlineNanoseconds;
        Request = request;
        Limits = limits;
        Outbound = outbound;
        _log = log;
        DeadlineTimestamp = deadlineTimestamp;
        CancellationToken = cancellationToken;
    }

    public ComponentRequest Request { get; }

    public AppLimits Limits { get; }

    public IComponentOutboundHttp Outbound { get; }

    /// <summary>Outbound responses this instance holds at once (<see cref="IComponentOutboundHttp.MaxCallsPerInstance"/>).</summary>
    public Platform.Runtime.Outbound.OutboundCallBudget OutboundBudget => _outboundBudget ??= new(Outbound.MaxCallsPerInstance);

    private Platform.Runtime.Outbound.OutboundCallBudget? _outboundBudget;

    public long DeadlineTimestamp { get; }

    public CancellationToken CancellationToken { get; }

    public IntPtr Context { get; set; }

    /// <summary>Thread CPU time (<see cref="ThreadCpuTime"/>) at which the request is stopped; MaxValue without a CPU limit.</summary>
    public long CpuDeadlineNanoseconds { get; }

    /// <summary>Whether the request was stopped for using more than its CPU-time limit.</summary>
    public bool CpuLimited { get; set; }

    /// <summary>The response handed to <c>response-outparam.set</c>, once set.</summary>
    public OutgoingResponse? Response { get; set; }

    /// <summary>The error-code case when the guest set the response to an error.</summary>
    public string? ResponseErrorCode { get; set; }

    public bool ResponseSet { get; set; }

    public bool TimedOut { get; set; }

    public bool Cancelled { get; set; }

    public bool ResponseTooLarge { get; set; }

    public int? ExitCode { get; set; }

    /// <summary>The first trap a host function raised (the reason the guest stopped).</summary>
    public string? HostTrap { get; set; }

    /// <summary>Whether the guest said it ran out of memory, for telling a failed allocation from other traps.</summary>
    public bool SawOutOfMemory { get; private set; }

    public static RequestState FromContext(IntPtr context)
    {
        var data = NativeMethods.wasmtime_context_get_data(context);
        if (data == IntPtr.Zero || GCHandle.FromIntPtr(data).Target is not RequestState state)
        {
            throw new InvalidOperationException("the store carries no request state");
        }
        return state;
    }

    public uint Add(ResourceKind kind, object value)
    {
        if (_live >= MaxHandles)
        {
            throw new GuestTrapException($"the component holds more than {MaxHandles} live handles");
        }
        _live++;
        if (_free.TryPop(out var index))
        {
            _entries[index] = new Entry(kind, value);
            return (uint)index;
        }
        _entries.Add(new Entry(kind, value));
        return (uint)(_entries.Count - 1);
    }

    public T Get<T>(uint rep, ResourceKind kind) where T : class
    {
        if (rep == 0 || rep >= (uint)_entries.Count || _entries[(int)rep].Kind != kind || _entries[(int)rep].Value is not T value)
        {
            throw new GuestTrapException($"invalid {kind} handle {rep}");
        }
        return value;
    }

    public T Remove<T>(uint rep, ResourceKind kind) where T : class
    {
        var value = Get<T>(rep, kind);
        Free(rep);
        return value;
    }

    /// <summary>The guest dropped an owned handle (its destructor); unknown reps are ignored, not trusted.</summary>
    public void Drop(uint rep, ResourceKind kind)
    {
        if (rep != 0 && rep < (uint)_entries.Count && _entries[(int)rep].Kind == kind && _entries[(int)rep].Value is not null)
        {
            Free(rep);
        }
    }

    private void Free(uint rep)
    {
        if (_entries[(int)rep].Value is FutureIncomingResponse future)
        {
            future.ReleaseBudget();
        }
        _entries[(int)rep] = new Entry(0, null);
        _free.Push((int)rep);
        _live--;
    }

    /// <summary>Stops the guest when the request's time is up or it was cancelled (called from blocking host calls and epoch ticks).</summary>
    public void ThrowIfStopped()
    {
        if (CancellationToken.IsCancellationRequested)
        {
            Cancelled = true;
            throw new GuestTrapException("the request was cancelled");
        }
        if (Stopwatch.GetTimestamp() >= DeadlineTimestamp)
        {
            TimedOut = true;
            throw new GuestTrapException("the wall-time limit passed");
        }
        // Callbacks run on the executing thread, so its CPU clock is the request's (waits in host calls cost none).
        if (CpuDeadlineNanoseconds != long.MaxValue && ThreadCpuTime.NowNanoseconds() >= CpuDeadlineNanoseconds)
        {
            CpuLimited = true;
            throw new GuestTrapException("the CPU-time limit passed");
        }
    }

    /// <summary>Waits until <paramref name="timestamp"/>, waking for the deadline and cancellation.</summary>
    public void SleepUntil(long timestamp)
    {
        while (true)
        {
            ThrowIfStopped();
            var now = Stopwatch.GetTimestamp();
            if (now >= timestamp)
            {
                return;
            }
            var until = Math.Min(timestamp, DeadlineTimestamp);
            var wait = TimeSpan.FromSeconds((until - now) / (double)Stopwatch.Frequency);
            if (wait > TimeSpan.Zero)
            {
                CancellationToken.WaitHandle.WaitOne(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait);
            }
        }
    }

    public void WriteOutput(OutputTarget target, ReadOnlySpan<byte> bytes)
    {
        _loggedBytes += bytes.Length;
        if (_loggedBytes > MaxLogBytesPerRequest)
        {
            if (!_logTruncated)
            {
                _logTruncated = true;
                Log($"[platform] the component wrote more than {MaxLogBytesPerRequest} bytes to stdout and stderr; the rest is dropped");
            }
            return;
        }
        var buffer = target == OutputTarget.Stdout ? _stdout : _stderr;
        var decoder = target == OutputTarget.Stdout ? _stdoutDecoder : _stderrDecoder;
        var chars = new char[decoder.GetCharCount(bytes, flush: false)];
        decoder.GetChars(bytes, chars, flush: false);
        foreach (var ch in chars)
        {
            if (ch == '\n')
            {
                EmitLine(buffer, target);
            }
            else if (buffer.Length < MaxLogLineBytes)
            {
                buffer.Append(ch);
            }
        }
    }

    public void FlushOutput()
    {
        if (_stdout.Length > 0)
        {
            EmitLine(_stdout, OutputTarget.Stdout);
        }
        if (_stderr.Length > 0)
        {
            EmitLine(_stderr, OutputTarget.Stderr);
        }
    }

    private void EmitLine(StringBuilder buffer, OutputTarget target)
    {
        var line = buffer.ToString().TrimEnd('\r');
        buffer.Clear();
        if (line.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || line.Contains("memory allocation of", StringComparison.OrdinalIgnoreCase))
        {
            SawOutOfMemory = true;
        }
        Write(target == OutputTarget.Stdout ? _log.Stdout : _log.Stderr, line);
    }

    /// <summary>A line of the platform's own about this request (why it stopped, what was dropped).</summary>
    public void Log(string line) => Write(_log.Platform, line);

    private static void Write(Action<string>? sink, string line)
    {
        try
        {
            sink?.Invoke(line);
        }
        catch (Exception)
        {
            // The app log is best effort; a failing sink must not fail the request.
        }
    }

    private readonly record struct Entry(ResourceKind Kind, object? Value);
}
