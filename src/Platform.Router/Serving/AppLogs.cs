using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;

namespace Platform.Router.Serving;

/// <summary>Bounds on what a router keeps of app logs before they reach the control plane.</summary>
public sealed class AppLogOptions
{
    public const string Section = "Platform:Router:Logs";

    /// <summary>Lines one request may log; the rest are counted in one "N lines dropped" entry.</summary>
    [Range(1, 1_000_000)]
    public int MaxLinesPerRequest { get; set; } = 1000;

    /// <summary>Characters one request may log in total.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxCharsPerRequest { get; set; } = 256 * 1024;

    /// <summary>Lines one app may log per second on this router, over all its requests.</summary>
    [Range(1, 1_000_000)]
    public int MaxLinesPerAppPerSecond { get; set; } = 2000;

    /// <summary>Lines waiting for the control plane; beyond it new lines are dropped (and counted).</summary>
    [Range(100, 10_000_000)]
    public int MaxBufferedLines { get; set; } = 50_000;

    /// <summary>Characters waiting for the control plane, the bound on the buffer's memory.</summary>
    [Range(64 * 1024, 1024L * 1024 * 1024)]
    public long MaxBufferedChars { get; set; } = 16L * 1024 * 1024;

    /// <summary>How often lines go to the control plane; followers see a line within about this long plus a round trip.</summary>
    [Range(50, 10_000)]
    public int ShipIntervalMilliseconds { get; set; } = 250;

    /// <summary>Lines per report.</summary>
    [Range(1, 100_000)]
    public int MaxBatchLines { get; set; } = 2000;
}

/// <summary>
/// Collects app log lines (stderr, stdout and the platform's own events per request) into a bounded buffer that
/// <see cref="AppLogShipper"/> drains. Writing never blocks and never throws; what does not fit is counted and
/// reported as one "N lines dropped" entry per app or per request.
/// </summary>
public sealed class AppLogCollector(IOptions<AppLogOptions> options, IOptions<RouterOptions> routerOptions, TimeProvider clock, ILogger<AppLogCollector> logger)
{
    private readonly AppLogOptions _options = options.Value;
    private readonly ConcurrentQueue<AppLogRecord> _queue = new();
    private readonly ConcurrentDictionary<string, AppBudget> _budgets = new(StringComparer.Ordinal);
    private long _bufferedLines;
    private long _bufferedChars;

    public string RouterId { get; } = routerOptions.Value.RouterId;

    /// <summary>Lines waiting to be shipped.</summary>
    public long BufferedLines => Interlocked.Read(ref _bufferedLines);

    /// <summary>Set when something was written; the shipper waits on it between reports.</summary>
    internal SemaphoreSlim Written { get; } = new(0, 1);

    /// <summary>Starts the log of one request; call <see cref="RequestLog.Complete"/> when the request is done.</summary>
    /// <param name="console">Where the request's lines go in the router's own log (a per-route limiter); null: straight to it.</param>
    public RequestLog Begin(string app, int version, string? component, string requestId, Action<string>? console = null) =>
        new(this, app, version, component, requestId, console);

    /// <summary>
    /// Writes one entry for a request, subject to the app's rate and the buffer's bounds. The one method to call for
    /// a platform event that has no <see cref="RequestLog"/> at hand (stream: one of <see cref="AppLogStreams"/>).
    /// </summary>
    public void Write(string app, int version, string? component, string requestId, string stream, string line)
    {
        var budget = _budgets.GetOrAdd(app, static _ => new AppBudget());
        var second = clock.GetUtcNow().ToUnixTimeSeconds();
        if (!budget.TryTake(second, _options.MaxLinesPerAppPerSecond, version, requestId))
        {
            return;
        }
        if (!TryEnqueue(new AppLogRecord(Now(), app, version, component, requestId, stream, line)))
        {
            budget.CountDropped(version, requestId);
        }
    }

    /// <summary>Writes an entry past the per-app rate (the platform's summary lines), still within the buffer's bounds.</summary>
    internal void WriteUnmetered(string app, int version, string? component, string requestId, string stream, string line)
    {
        if (!TryEnqueue(new AppLogRecord(Now(), app, version, component, requestId, stream, line)))
        {
            _budgets.GetOrAdd(app, static _ => new AppBudget()).CountDropped(version, requestId);
        }
    }

    internal void LogToConsole(string app, int version, string line) => logger.AppLog(app, version, line);

    internal AppLogOptions Options => _options;

    private DateTimeOffset Now()
    {
        var now = clock.GetUtcNow();
        // Millisecond precision, what the entries promise and what PostgreSQL keeps without rounding surprises.
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    private bool TryEnqueue(AppLogRecord record)
    {
        var chars = record.Line.Length;
        var lines = Interlocked.Increment(ref _bufferedLines);
        var total = Interlocked.Add(ref _bufferedChars, chars);
        if (lines > _options.MaxBufferedLines || total > _options.MaxBufferedChars)
        {
            Interlocked.Decrement(ref _bufferedLines);
            Interlocked.Add(ref _bufferedChars, -chars);
            return false;
        }
        _queue.Enqueue(record);
        if (Written.CurrentCount == 0)
        {
            try
            {
                Written.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another writer signalled first; one signal is enough.
            }
        }
        return true;
    }

    /// <summary>Takes up to <paramref name="max"/> entries, plus one "N lines dropped" entry per app that lost lines.</summary>
    public List<AppLogRecord> Drain(int max)
    {
        var batch = new List<AppLogRecord>(Math.Min(max, (int)Math.Max(1, BufferedLines)));
        while (batch.Count < max && _queue.TryDequeue(out var record))
        {
            Interlocked.Decrement(ref _bufferedLines);
            Interlocked.Add(ref _bufferedChars, -record.Line.Length);
            batch.Add(record);
        }
        var second = clock.GetUtcNow().ToUnixTimeSeconds();
        foreach (var (app, budget) in _budgets)
        {
            if (budget.TakeDropped(out var dropped, out var version, out var requestId))
            {
                batch.Add(new AppLogRecord(Now(), app, version, null, requestId, AppLogStreams.Platform,
                    $"[platform] {dropped} lines dropped: over this router's limit of {_options.MaxLinesPerAppPerSecond} lines per second per app, or its log buffer was full"));
            }
            else if (budget.IsIdleSince(second - 60))
            {
                _budgets.TryRemove(new KeyValuePair<string, AppBudget>(app, budget));
            }
        }
        return batch;
    }

    /// <summary>Puts back entries a failed report could not deliver, as far as the buffer's bounds allow.</summary>
    public void Restore(IEnumerable<AppLogRecord> records)
    {
        foreach (var r in records)
        {
            if (!TryEnqueue(r))
            {
                _budgets.GetOrAdd(r.App, static _ => new AppBudget()).CountDropped(r.Version, r.RequestId);
            }
        }
    }

    /// <summary>One app's lines in the current second and what it lost.</summary>
    private sealed class AppBudget
    {
        private long _second;
        private int _taken;
        private long _dropped;
        private int _droppedVersion;
        private string _droppedRequest = "";

        public bool TryTake(long second, int perSecond, int version, string requestId)
        {
            lock (this)
            {
                if (second != _second)
                {
                    _second = second;
                    _taken = 0;
                }
                if (_taken < perSecond)
                {
                    _taken++;
                    return true;
                }
                _dropped++;
                _droppedVersion = version;
                _droppedRequest = requestId;
                return false;
            }
        }

        public void CountDropped(int version, string requestId)
        {
            lock (this)
            {
                _dropped++;
                _droppedVersion = version;
                _droppedRequest = requestId;
            }
        }

        public bool TakeDropped(out long dropped, out int version, out string requestId)
        {
            lock (this)
            {
                dropped = _dropped;
                version = _droppedVersion;
                requestId = _droppedRequest;
                _dropped = 0;
                return dropped > 0;
            }
        }

        public bool IsIdleSince(long second)
        {
            lock (this)
            {
                return _dropped == 0 && _second < second;
            }
        }
    }
}

/// <summary>
/// The log of one request: each line goes to the collector until the request's caps are reached; the rest are
/// counted and <see cref="Complete"/> writes one "N lines dropped" entry.
/// </summary>
public sealed class RequestLog
{
    private readonly AppLogCollector _collector;
    private readonly Action<string> _console;
    private int _lines;
    private long _chars;
    private long _dropped;

    internal RequestLog(AppLogCollector collector, string app, int version, string? component, string requestId, Action<string>? console = null)
    {
        _collector = collector;
        _console = console ?? (line => collector.LogToConsole(app, version, line));
        App = app;
        Version = version;
        Component = component;
        RequestId = requestId;
    }

    public string App { get; }
    public int Version { get; }
    public string? Component { get; }
    public string RequestId { get; }

    // Made when first asked for: a WAGI request never asks for Stdout (its stdout is the response).
    private Action<string>? _stderr;
    private Action<string>? _stdout;
    private Action<string>? _platform;

    /// <summary>Callbacks for the executors: the module's stderr, its stdout (components) and the platform's own lines.</summary>
    public Action<string> Stderr => _stderr ??= line => Write(AppLogStreams.Stderr, line);
    public Action<string> Stdout => _stdout ??= line => Write(AppLogStreams.Stdout, line);
    public Action<string> Platform => _platform ??= line => Write(AppLogStreams.Platform, line);

    /// <summary>Writes one line of <paramref name="stream"/> (one of <see cref="AppLogStreams"/>); never throws.</summary>
    public void Write(string stream, string line)
    {
        // The router's own log has its own bound (the per-route limiter), so it sees lines the request's caps drop here.
        _console(line);
        var options = _collector.Options;
        var lines = Interlocked.Increment(ref _lines);
        var chars = Interlocked.Add(ref _chars, line.Length);
        // The platform's own lines are few and are what a user needs to debug a failure: they pass the request's caps.
        if (stream != AppLogStreams.Platform && (lines > options.MaxLinesPerRequest || chars > options.MaxCharsPerRequest))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        _collector.Write(App, Version, Component, RequestId, stream, line);
    }

    /// <summary>Ends the request's log: reports what the caps dropped.</summary>
    public void Complete()
    {
        var dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped > 0)
        {
            var o = _collector.Options;
            _collector.WriteUnmetered(App, Version, Component, RequestId, AppLogStreams.Platform,
                $"[platform] {dropped} lines dropped: over the limit of {o.MaxLinesPerRequest} lines or {o.MaxCharsPerRequest} characters per request");
        }
    }

    /// <summary>The request id logs use: the trace id of the current activity (what problem responses call traceId).</summary>
    public static string RequestIdOf(HttpContext context) => Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
}

/// <summary>Sends collected app log lines to the control plane, a batch every few hundred milliseconds.</summary>
public sealed class AppLogShipper(HttpClient http, AppLogCollector collector, IOptions<AppLogOptions> options, IOptions<RouterOptions> routerOptions,
    ILogger<AppLogShipper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var interval = TimeSpan.FromMilliseconds(o.ShipIntervalMilliseconds);
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await collector.Written.WaitAsync(stoppingToken);
                // Lines written close together share a report.
                await Task.Delay(interval, stoppingToken);
                while (collector.BufferedLines > 0 || failures > 0)
                {
                    if (await ShipAsync(o, stoppingToken))
                    {
                        failures = 0;
                        if (collector.BufferedLines == 0)
                        {
                            break;
                        }
                    }
                    else
                    {
                        failures++;
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * (1 << Math.Min(failures, 6)))), stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Last lines on the way out; a short, bounded attempt.
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await ShipAsync(o, last.Token);
    }

    private async Task<bool> ShipAsync(AppLogOptions o, CancellationToken cancellationToken)
    {
        var batch = collector.Drain(o.MaxBatchLines);
        if (batch.Count == 0)
        {
            return true;
        }
        var r = routerOptions.Value;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{r.ControlPlaneUrl.TrimEnd('/')}/internal/v1/logs")
            {
                Content = JsonContent.Create(new AppLogReport(collector.RouterId, batch)),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", r.Token);
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode is System.Net.HttpStatusCode.BadRequest or System.Net.HttpStatusCode.RequestEntityTooLarge)
            {
                // The control plane will never take this batch; sending it again would only stall the lines behind it.
                logger.LogReportRefused((int)response.StatusCode, batch.Count);
                return true;
            }
            response.EnsureSuccessStatusCode();
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            logger.LogReportFailed(ex, batch.Count);
            collector.Restore(batch);
            return false;
        }
    }
}
