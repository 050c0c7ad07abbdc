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
    private readonly Channel<AppRouting> _pending;

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
        _pending = Channel.CreateBounded<AppRouting>(new BoundedChannelOptions(Math.Max(1, _maxApps))
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        if (_maxApps > 0)
        {
            store.Changed += OnChanged;
        }
    }

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
        await foreach (var app in _pending.Reader.ReadAllAsync(stoppingToken))
        {
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
        var queued = 0;
        if (changed is null)
        {
            foreach (var app in snapshot.Apps.Values)
            {
                if (queued >= _maxApps)
                {
                    break;
                }
                queued += TryQueue(app) ? 1 : 0;
            }
            return;
        }
        foreach (var entry in changed)
        {
            if (queued >= _maxApps)
            {
                break;
            }
            if (snapshot.Apps.TryGetValue(entry.App, out var app))
            {
                queued += TryQueue(app) ? 1 : 0;
            }
        }
    }

    private bool TryQueue(AppRouting app) => app.Error is null && app.Resolved is null && _pending.Writer.TryWrite(app);

    public override void Dispose()
    {
        _store.Changed -= OnChanged;
        base.Dispose();
    }
}
