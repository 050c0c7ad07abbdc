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
/// snapshot and swap it in. The table is also kept on disk so a restarted router serves without the control plane:
/// in a 0600 file in a 0700 folder, with every app secret sealed by a key only the router token gives
/// (<see cref="SecretSealer"/>).
/// </summary>
public sealed class RoutingTableStore
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly string? _path;
    private readonly SecretSealer? _sealer;
    private readonly ILogger<RoutingTableStore> _logger;
    private volatile RoutingSnapshot? _current;

    public RoutingTableStore(IOptions<RouterOptions> options, ILogger<RoutingTableStore> logger)
    {
        _logger = logger;
        if (!string.IsNullOrEmpty(options.Value.StateDirectory))
        {
            if (string.IsNullOrEmpty(options.Value.Token))
            {
                // Without its own secret the router could only write secrets in plain text: it keeps no saved table.
                return;
            }
            _sealer = new SecretSealer(options.Value.Token);
            CreatePrivateDirectory(options.Value.StateDirectory);
            _path = Path.Combine(options.Value.StateDirectory, "routing-table.json");
            LoadSaved();
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, DirectoryMode0700);
        TryTighten(path, DirectoryMode0700);
    }

    /// <summary>Best effort: a folder or file the operator made for this user, but owns himself, keeps its mode.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void TryTighten(string path, UnixFileMode mode)
    {
        try
        {
            File.SetUnixFileMode(path, mode);
        }
        catch (UnauthorizedAccessException)
        {
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
        if (_path is null || _sealer is null || !File.Exists(_path))
        {
            return;
        }
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                // A file an older router left world-readable is tightened before anything else.
                TryTighten(_path, FileMode0600);
            }
            var saved = JsonSerializer.Deserialize<RoutingTable>(File.ReadAllBytes(_path), s_json)
                ?? throw new JsonException("the file holds null");
            var table = _sealer.OpenAll(saved);
            Apply(new RoutingSnapshot(table, "disk"));
            _logger.RoutingTableLoaded(table.Revision, _path, table.Routes.Count);
        }
        catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException or UnauthorizedAccessException
                                       or System.Security.Cryptography.CryptographicException)
        {
            _logger.SavedTableUnreadable(ex, _path);
        }
    }

    private void Save(RoutingTable table)
    {
        if (_path is null || _sealer is null)
        {
            return;
        }
        try
        {
            // Write then rename, so a crash mid-write never leaves a torn table behind; the new file is 0600 from
            // its creation (never readable by others, not even for a moment), and the rename keeps the mode.
            var temp = $"{_path}.{Environment.ProcessId}.tmp";
            File.Delete(temp);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode0600;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(JsonSerializer.SerializeToUtf8Bytes(_sealer.SealAll(table), s_json));
            }
            File.Move(temp, _path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.SavingTableFailed(ex, _path);
        }
    }
}
