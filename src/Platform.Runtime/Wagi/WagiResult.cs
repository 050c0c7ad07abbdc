using System.Buffers;

namespace Platform.Runtime;

/// <summary>How one execution ended.</summary>
public enum WagiOutcome
{
    /// <summary>The module wrote a valid CGI response (its exit code may still be nonzero; see <see cref="WagiResult.ExitCode"/>).</summary>
    Ok,
    /// <summary>The module trapped, failed to instantiate, or exited nonzero without a valid response. 500.</summary>
    Trap,
    /// <summary>The wall-time limit passed. 504.</summary>
    Timeout,
    /// <summary>The output is not a valid CGI response; <see cref="WagiResult.Error"/> says why. 500.</summary>
    InvalidResponse,
    /// <summary>The module wrote more than the response limit. 500.</summary>
    ResponseTooLarge,
    /// <summary>The module failed after reaching its memory limit (or could not start within it). 500.</summary>
    MemoryLimit,
    /// <summary>The request body is larger than the app allows; the module did not run. 413.</summary>
    RequestTooLarge,
    /// <summary>The caller's cancellation token fired (client gone or shutdown). 499.</summary>
    Cancelled,
    /// <summary>The engine has no free instance slot (pooling allocator full). 503.</summary>
    Overloaded,
    /// <summary>The module used more CPU time than its per-request limit. 504, like the wall-time limit.</summary>
    CpuLimit,
}

/// <summary>
/// Result of one execution. On <see cref="WagiOutcome.Ok"/> it carries the status, headers and body to send.
/// The body lives in a pooled buffer: dispose the result after writing it (a result that is never disposed
/// only costs the pool a buffer).
/// </summary>
public sealed class WagiResult : IDisposable
{
    private byte[]? _buffer;

    internal WagiResult(WagiOutcome outcome, int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers,
        byte[]? buffer, int bodyOffset, int bodyLength, string? error, int? exitCode, TimeSpan duration)
    {
        Outcome = outcome;
        StatusCode = statusCode;
        Headers = headers;
        _buffer = buffer;
        Body = buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(buffer, bodyOffset, bodyLength);
        Error = error;
        ExitCode = exitCode;
        Duration = duration;
    }

    public WagiOutcome Outcome { get; }

    public bool IsSuccess => Outcome == WagiOutcome.Ok;

    /// <summary>The module's status on success; otherwise the status the router should answer with.</summary>
    public int StatusCode { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>Response body; valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Body { get; private set; }

    /// <summary>Why the execution failed, for the app's log (may contain a Wasm backtrace). Null on success.</summary>
    public string? Error { get; }

    /// <summary>The module's exit code when it called proc_exit; null when _start returned.</summary>
    public int? ExitCode { get; }

    public TimeSpan Duration { get; }

    public static int StatusFor(WagiOutcome outcome) => outcome switch
    {
        WagiOutcome.Ok => 200,
        WagiOutcome.Timeout => 504,
        WagiOutcome.CpuLimit => 504,
        WagiOutcome.RequestTooLarge => 413,
        WagiOutcome.Cancelled => 499,
        WagiOutcome.Overloaded => 503,
        _ => 500,
    };

    internal static WagiResult Failure(WagiOutcome outcome, string error, int? exitCode, TimeSpan duration) =>
        new(outcome, StatusFor(outcome), [], null, 0, 0, error, exitCode, duration);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        Body = ReadOnlyMemory<byte>.Empty;
        if (buffer is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
