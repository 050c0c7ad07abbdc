using System.Diagnostics;

namespace Platform.Router.Serving;

/// <summary>
/// Keeps an app's stderr from flooding the router's own log: lines are cut to a maximum length and pass a token
/// bucket (a steady rate with a burst); what is dropped is counted and reported in the next line that passes.
/// One limiter per route, shared by all of that route's concurrent requests.
/// </summary>
internal sealed class AppLogLimiter(double linesPerSecond, int burst, int maxLineChars, Action<string> write)
{
    private readonly object _lock = new();
    private double _tokens = burst;
    private long _refilledAt = Stopwatch.GetTimestamp();
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Write(string line)
    {
        long droppedBefore;
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(burst, _tokens + Stopwatch.GetElapsedTime(_refilledAt, now).TotalSeconds * linesPerSecond);
            _refilledAt = now;
            if (_tokens < 1)
            {
                _dropped++;
                return;
            }
            _tokens--;
            droppedBefore = _dropped;
            _dropped = 0;
        }
        if (droppedBefore > 0)
        {
            write($"[platform] {droppedBefore} app log line(s) dropped: more than {linesPerSecond:0.#} lines/s (burst {burst})");
        }
        write(line.Length <= maxLineChars ? line : string.Concat(line.AsSpan(0, maxLineChars), $"... [{line.Length - maxLineChars} more characters cut]"));
    }
}
