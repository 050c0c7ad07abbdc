using System.Diagnostics;

namespace Platform.Router.Serving;

/// <summary>
/// Keeps an app's stderr from flooding the router's own log: lines are cut to a maximum length and pass a token
/// bucket (a steady rate with a burst); what is dropped is counted and reported in the next line that passes.
/// One limiter per route, shared by all of that route's concurrent requests.
/// </summary>
/// <remarks>
/// The bucket is kept as the generic cell rate algorithm's one "theoretical arrival time", moved by compare-and-swap:
/// every line of a flood reaches this limiter, and with a lock several flooding requests of one route queued behind
/// each other on it line by line (measured: three threads of 16,384 lines took 25-80 ms instead of 4.5 ms, most of
/// it blocked). A dropped line now costs a read and an increment.
/// </remarks>
internal sealed class AppLogLimiter
{
    private readonly int _maxLineChars;
    private readonly Action<string> _write;
    private readonly double _linesPerSecond;
    private readonly int _burst;
    private readonly long _interval;
    private readonly long _tolerance;
    private long _theoreticalArrival;
    private long _dropped;

    public AppLogLimiter(double linesPerSecond, int burst, int maxLineChars, Action<string> write)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _linesPerSecond = linesPerSecond;
        _burst = burst;
        _maxLineChars = maxLineChars;
        _write = write;
        _interval = Math.Max(1, (long)(Stopwatch.Frequency / linesPerSecond));
        // A full bucket lets `burst` lines through at once: the arrival time may run that far ahead of now.
        _tolerance = (burst - 1) * _interval;
        _theoreticalArrival = Stopwatch.GetTimestamp();
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Write(string line)
    {
        var now = Stopwatch.GetTimestamp();
        while (true)
        {
            var arrival = Volatile.Read(ref _theoreticalArrival);
            var start = Math.Max(arrival, now);
            if (start - now > _tolerance)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            if (Interlocked.CompareExchange(ref _theoreticalArrival, start + _interval, arrival) == arrival)
            {
                break;
            }
        }
        var droppedBefore = Interlocked.Exchange(ref _dropped, 0);
        if (droppedBefore > 0)
        {
            _write($"[platform] {droppedBefore} app log line(s) dropped: more than {_linesPerSecond:0.#} lines/s (burst {_burst})");
        }
        _write(line.Length <= _maxLineChars ? line : string.Concat(line.AsSpan(0, _maxLineChars), $"... [{line.Length - _maxLineChars} more characters cut]"));
    }
}
