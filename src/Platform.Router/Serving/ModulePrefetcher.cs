using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>
/// Resolves the apps a routing table or a change names before their first request (modules from the registry or
/// disk, files, WAGI routes), so a fresh router, or one that has just been told of a deploy, answers that request
/// without first waiting for the registry. The work is what the first request would do, through the same
/// single-flight resolution: a request that arrives meanwhile waits for the prefetch instead of starting another.
/// </summary>
/// <remarks>
/// Bounded: at most <see cref="RouterOptions.PrefetchApps"/> apps per table or change, one at a time, and none while
/// the module cache holds half its byte budget, so fetching ahead never evicts what requests use. A failure is only
/// logged: the app's first request loads it again and reports what is wrong.
/// </remarks>
public sealed class ModulePrefetcher : BackgroundService
{
    private readonly RoutingTableStore _store;
    private readonly AppRouteResolver _resolver;
    private readonly ModuleCache _cache;
    private readonly ILogger<ModulePrefetcher> _logger;
    private readonly int _maxApps;
    private readonly long _maxCacheBytes;
    // Null in the channel marks the end of the first table's batch.
    private readonly Channel<AppRouting?> _pending;
    private readonly TaskCompletionSource _firstBatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sawFirstTable;

    /// <summary>Longest the router's readiness waits for the first table's apps to be fetched ahead.</summary>
    public static readonly TimeSpan FirstBatchTimeout = TimeSpan.FromSeconds(1);

    public ModulePrefetcher(RoutingTableStore store, AppRouteResolver resolver, ModuleCache cache, IOptions<RouterOptions> options,
        IOptions<WasmRuntimeOptions> runtimeOptions, ILogger<ModulePrefetcher> logger)
    {
        _store = store;
        _resolver = resolver;
        _cache = cache;
        _logger = logger;
        _maxApps = options.Value.PrefetchApps;
        _maxCacheBytes = runtimeOptions.Value.MaxCachedModuleBytes / 2;
        // What does not fit is left to its first request; a later change of the same app queues it again.
        _pending = Channel.CreateBounded<AppRouting?>(new BoundedChannelOptions(_maxApps + 1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        if (_maxApps > 0)
        {
            store.Changed += OnChanged;
        }
        else
        {
            _firstBatch.TrySetResult();
        }
    }

    /// <summary>
    /// True once the apps of the first table are fetched ahead (or <see cref="FirstBatchTimeout"/> after it arrived):
    /// readiness waits for it, so a new router joins a pool with its apps loaded rather than loading them on the
    /// first requests sent to it.
    /// </summary>
    public bool FirstTableFetched => _firstBatch.Task.IsCompleted;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_maxApps == 0)
        {
            return;
        }
        if (_store.Current is { } loaded)
        {
            // A table loaded from saved state before this service started.
            OnChanged(loaded, null);
        }
        await foreach (var next in _pending.Reader.ReadAllAsync(stoppingToken))
        {
            if (next is not { } app)
            {
                _firstBatch.TrySetResult();
                continue;
            }
            // Superseded by a later table, resolved by a request meanwhile, or the cache is already well filled.
            if (app.Resolved is not null || !_store.TryGetApp(app.Entry.App, out var current) || !ReferenceEquals(current, app)
                || _cache.Statistics.CachedBytes >= _maxCacheBytes)
            {
                continue;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                await _resolver.GetAsync(app, stoppingToken);
                _logger.AppPrefetched(app.Entry.App, app.Entry.Version, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.AppPrefetchFailed(app.Entry.App, app.Entry.Version, ex.Message);
            }
        }
    }

    private void OnChanged(RoutingSnapshot snapshot, IReadOnlyList<RouteEntry>? changed)
    {
        var first = Interlocked.Exchange(ref _sawFirstTable, 1) == 0;
        // A whole table offers every app; a change only the apps it touched (its cost stays per change).
        var offered = changed is null ? snapshot.Apps.Values
            : changed.Select(e => snapshot.Apps.GetValueOrDefault(e.App)).OfType<AppRouting>();
        var queued = 0;
        foreach (var app in offered)
        {
            if (queued >= _maxApps)
            {
                break;
            }
            queued += TryQueue(app) ? 1 : 0;
        }
        if (first)
        {
            // The marker has its own slot in the channel; a slow registry only delays readiness by the timeout.
            _pending.Writer.TryWrite(null);
            _ = Task.Delay(FirstBatchTimeout).ContinueWith(_ => _firstBatch.TrySetResult(), TaskScheduler.Default);
        }
    }

    private bool TryQueue(AppRouting app) => app.Error is null && app.Resolved is null && _pending.Writer.TryWrite(app);

    public override void Dispose()
    {
        _store.Changed -= OnChanged;
        base.Dispose();
    }
}
