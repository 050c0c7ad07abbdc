using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;

namespace Platform.Router.Routing;

/// <summary>An immutable routing table plus its lookup index, swapped as a whole.</summary>
public sealed class RoutingSnapshot(RoutingTable table, string source)
{
    public RoutingTable Table { get; } = table;
    public string Source { get; } = source;
    public FrozenDictionary<string, RouteEntry> ByApp { get; } =
        table.Routes.ToFrozenDictionary(r => r.App, StringComparer.OrdinalIgnoreCase);

    /// <summary>Each app's route matcher and component state, built here, once per table.</summary>
    public FrozenDictionary<string, AppRouting> Apps { get; } =
        table.Routes.ToFrozenDictionary(r => r.App,
            r => AppRouting.Build(r, Serving.AppTrafficHandler.DefaultMaxBodyBytes, Serving.AppTrafficHandler.DefaultMaxResponseBytes),
            StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// Holds the current routing table. Readers take one volatile read and never lock; writers build a whole new
/// snapshot and swap it in. The table is also kept on disk so a restarted router serves without the control plane.
/// </summary>
public sealed class RoutingTableStore
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly string? _path;
    private readonly ILogger<RoutingTableStore> _logger;
    private volatile RoutingSnapshot? _current;

    public RoutingTableStore(IOptions<RouterOptions> options, ILogger<RoutingTableStore> logger)
    {
        _logger = logger;
        if (!string.IsNullOrEmpty(options.Value.StateDirectory))
        {
            Directory.CreateDirectory(options.Value.StateDirectory);
            _path = Path.Combine(options.Value.StateDirectory, "routing-table.json");
            LoadSaved();
        }
    }

    /// <summary>Null until a table arrived from the control plane or from disk: the router is not ready before.</summary>
    public RoutingSnapshot? Current => _current;

    public bool TryGetRoute(string app, out RouteEntry route)
    {
        var snapshot = _current;
        if (snapshot is not null && snapshot.ByApp.TryGetValue(app, out var found))
        {
            route = found;
            return true;
        }
        route = null!;
        return false;
    }

    public bool TryGetApp(string app, out AppRouting routing)
    {
        var snapshot = _current;
        if (snapshot is not null && snapshot.Apps.TryGetValue(app, out var found))
        {
            routing = found;
            return true;
        }
        routing = null!;
        return false;
    }

    /// <summary>Raised after a new snapshot is in place, so caches can let go of what it no longer references.</summary>
    public event Action<RoutingSnapshot>? SnapshotApplied;

    public void Update(RoutingTable table)
    {
        Apply(new RoutingSnapshot(table, "control plane"));
        _logger.RoutingTableLoaded(table.Revision, "the control plane", table.Routes.Count);
        Save(table);
    }

    private void Apply(RoutingSnapshot snapshot)
    {
        _current = snapshot;
        foreach (var (app, routing) in snapshot.Apps)
        {
            if (routing.Error is { } error)
            {
                _logger.AppEntryUnservable(app, routing.Entry.Version, error);
            }
        }
        SnapshotApplied?.Invoke(snapshot);
    }

    private void LoadSaved()
    {
        if (_path is null || !File.Exists(_path))
        {
            return;
        }
        try
        {
            var table = JsonSerializer.Deserialize<RoutingTable>(File.ReadAllBytes(_path), s_json)
                ?? throw new JsonException("the file holds null");
            Apply(new RoutingSnapshot(table, "disk"));
            _logger.RoutingTableLoaded(table.Revision, _path, table.Routes.Count);
        }
        catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException)
        {
            _logger.SavedTableUnreadable(ex, _path);
        }
    }

    private void Save(RoutingTable table)
    {
        if (_path is null)
        {
            return;
        }
        try
        {
            // Write then rename, so a crash mid-write never leaves a torn table behind.
            var temp = _path + ".tmp";
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(table, s_json));
            File.Move(temp, _path, overwrite: true);
        }
        catch (IOException ex)
        {
            _logger.SavingTableFailed(ex, _path);
        }
    }
}
