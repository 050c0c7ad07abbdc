using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;

namespace Platform.Router.Routing;

/// <summary>What applying a <see cref="RoutingChanges"/> document did.</summary>
public enum RoutingApplyOutcome
{
    /// <summary>The changes (or a snapshot) are in place.</summary>
    Applied,

    /// <summary>Nothing newer than what the router has (a duplicate or a late answer); ignored.</summary>
    Stale,

    /// <summary>The changes start after a revision the router never saw (or belong to another epoch): it needs a snapshot.</summary>
    Gap,
}

/// <summary>
/// An immutable routing table plus its lookup index, swapped as a whole. Per-app state (<see cref="AppRouting"/>:
/// matcher, components, request state, resolved modules) is built once per entry when the table or change is
/// applied, and carried over to the next snapshot for every app a change leaves alone; the index is a persistent
/// map, so applying a change costs O(changed · log n).
/// </summary>
public sealed class RoutingSnapshot
{
    private static readonly JsonSerializerOptions s_compare = new(JsonSerializerDefaults.Web);
    private readonly RouteStateFactory _states;
    private RoutingTable? _table;

    private RoutingSnapshot(string? epoch, long revision, string revisionText, DateTimeOffset generatedAt, ImmutableDictionary<string, AppRouting> apps, string source,
        RouteStateFactory states)
    {
        _states = states;
        Epoch = epoch;
        Revision = revision;
        RevisionText = revisionText;
        GeneratedAt = generatedAt;
        Apps = apps;
        Source = source;
    }

    /// <summary>A table as a whole (from disk, or a content-hash table): every app's state is built.</summary>
    /// <param name="states">Builds each route's request state; snapshots made from this one by <see cref="TryApply"/> keep it. The defaults when null.</param>
    public RoutingSnapshot(RoutingTable table, string source, RouteStateFactory? states = null)
        : this(table.Epoch, table.RevisionNumber ?? 0, table.Revision, table.GeneratedAt, Build(table.Routes, previous: null, states ?? RouteStateFactory.Default), source,
            states ?? RouteStateFactory.Default)
    {
        _table = table;
    }

    /// <summary>Null for a table without a change-log revision (a router that has it asks for a snapshot).</summary>
    public string? Epoch { get; }

    public long Revision { get; }

    /// <summary>The revision as the table and logs show it.</summary>
    public string RevisionText { get; }

    public DateTimeOffset GeneratedAt { get; }

    public string Source { get; }

    /// <summary>Each app's route matcher and component state, built once per entry.</summary>
    public ImmutableDictionary<string, AppRouting> Apps { get; }

    /// <summary>The table as a document (sorted by app), made when first asked for: by /routing and by saving.</summary>
    public RoutingTable Table => _table ??= new RoutingTable(RevisionText, GeneratedAt,
        [.. Apps.Values.Select(a => a.Entry).OrderBy(r => r.App, StringComparer.Ordinal)], Epoch, Epoch is null ? null : Revision);

    /// <summary>
    /// The snapshot after <paramref name="changes"/>. A snapshot document replaces everything (keeping the state of
    /// entries that did not change); a delta applies when it starts at or before this revision and ends after it
    /// (its entries are each app's whole state at its end, so an overlapping delta is as good as an exact one).
    /// </summary>
    public RoutingApplyOutcome TryApply(RoutingChanges changes, string source, out RoutingSnapshot next)
    {
        ArgumentNullException.ThrowIfNull(changes);
        next = this;
        var sameEpoch = string.Equals(changes.Epoch, Epoch, StringComparison.Ordinal);
        if (changes.IsSnapshot)
        {
            // Always taken, even at an older revision: the control plane sends one only when it cannot continue from
            // this router's revision (a restored database), and the sync loop asks one question at a time.
            next = new RoutingSnapshot(changes.Epoch, changes.Revision, Text(changes.Revision), changes.GeneratedAt, Build(changes.Upserts, this, _states), source, _states);
            return RoutingApplyOutcome.Applied;
        }
        if (!sameEpoch || changes.Since > Revision)
        {
            return RoutingApplyOutcome.Gap;
        }
        if (changes.Revision <= Revision)
        {
            return RoutingApplyOutcome.Stale;
        }
        var apps = Apps.ToBuilder();
        foreach (var name in changes.Deletions)
        {
            apps.Remove(name);
        }
        foreach (var entry in changes.Upserts)
        {
            apps[entry.App] = Reuse(entry, this) ?? BuildOne(entry, _states);
        }
        next = new RoutingSnapshot(changes.Epoch, changes.Revision, Text(changes.Revision), changes.GeneratedAt, apps.ToImmutable(), source, _states);
        return RoutingApplyOutcome.Applied;
    }

    private static string Text(long revision) => revision.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ImmutableDictionary<string, AppRouting> Build(IEnumerable<RouteEntry> routes, RoutingSnapshot? previous, RouteStateFactory states)
    {
        var apps = ImmutableDictionary.CreateBuilder<string, AppRouting>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in routes)
        {
            apps[entry.App] = (previous is null ? null : Reuse(entry, previous)) ?? BuildOne(entry, states);
        }
        return apps.ToImmutable();
    }

    private static AppRouting BuildOne(RouteEntry entry, RouteStateFactory states) =>
        AppRouting.Build(entry, Serving.AppTrafficHandler.DefaultMaxBodyBytes, Serving.AppTrafficHandler.DefaultMaxResponseBytes, states);

    /// <summary>The previous state of an app whose entry did not change (same JSON): it keeps its loaded modules.</summary>
    private static AppRouting? Reuse(RouteEntry entry, RoutingSnapshot previous)
    {
        if (!previous.Apps.TryGetValue(entry.App, out var old))
        {
            return null;
        }
        if (ReferenceEquals(old.Entry, entry))
        {
            return old;
        }
        // Cheap fields first; the JSON comparison settles the collections (records compare those by reference).
        if (old.Entry.Version != entry.Version || !string.Equals(old.Entry.ModuleDigest, entry.ModuleDigest, StringComparison.Ordinal))
        {
            return null;
        }
        return JsonSerializer.SerializeToUtf8Bytes(old.Entry, s_compare).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(entry, s_compare)) ? old : null;
    }
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
    private static readonly JsonSerializerOptions s_json = RoutingJson.Options;
    private readonly string? _path;
    private readonly SecretSealer? _sealer;
    private readonly Task _savedLoad = Task.CompletedTask;
    private readonly string? _journalPath;
    // Deltas applied since the last save, in order; the save appends them to the journal instead of rewriting the table.
    private readonly ConcurrentQueue<RoutingChanges> _unsaved = new();
    private volatile bool _baseSaveNeeded = true;
    private long _baseBytes;
    private long _journalBytes;
    private readonly ILogger<RoutingTableStore> _logger;
    private readonly RouteStateFactory _states;
    private volatile RoutingSnapshot? _current;
    private readonly Lock _saveLock = new();
    private int _saveRequested;
    private int _saving;

    /// <summary>Longest a change waits before it is on disk.</summary>
    public static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(1);

    // Below this the journal is never worth a rewrite of the table.
    private const long MinJournalBytesBeforeRewrite = 1L << 20;

    private const int LargeTableApps = 10_000;

    /// <param name="loggerFactory">Gives the log app lines go to (see <see cref="RouteStateFactory"/>); none when null.</param>
    public RoutingTableStore(IOptions<RouterOptions> options, ILogger<RoutingTableStore> logger, ILoggerFactory? loggerFactory = null)
    {
        _logger = logger;
        _states = new RouteStateFactory(options.Value,
            loggerFactory?.CreateLogger(RouteStateFactory.AppLogCategory) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
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
            _journalPath = Path.Combine(options.Value.StateDirectory, "routing-changes.jsonl");
            // In the background: a table of 100,000 apps takes a second or more to read, which would otherwise hold
            // back the engine, Kestrel and the warm-up; whoever needs the table first waits for it.
            _savedLoad = Task.Run(LoadSaved);
        }
    }

    /// <summary>Completes once the saved table (if any) is loaded or found unreadable.</summary>
    public Task SavedTableLoaded => _savedLoad;

    private RoutingSnapshot? Snapshot
    {
        get
        {
            if (!_savedLoad.IsCompleted)
            {
                _savedLoad.Wait();
            }
            return _current;
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

    /// <summary>Builds each route's request state with this router's settings (also for the warm-up's own route).</summary>
    public RouteStateFactory States => _states;

    /// <summary>Null until a table arrived from the control plane or from disk: the router is not ready before.</summary>
    public RoutingSnapshot? Current => Snapshot;

    public bool TryGetRoute(string app, out RouteEntry route)
    {
        var snapshot = Snapshot;
        if (snapshot is not null && snapshot.Apps.TryGetValue(app, out var found))
        {
            route = found.Entry;
            return true;
        }
        route = null!;
        return false;
    }

    public bool TryGetApp(string app, out AppRouting routing)
    {
        var snapshot = Snapshot;
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

    /// <summary>
    /// Raised with each applied snapshot and the entries it changed: null when a whole table arrived, so listeners
    /// that care about changes do work per change, not per app held.
    /// </summary>
    public event Action<RoutingSnapshot, IReadOnlyList<RouteEntry>?>? Changed;

    /// <summary>A whole table (a control plane that answers without revisions): replaces what the router has.</summary>
    public void Update(RoutingTable table)
    {
        _savedLoad.Wait();
        _baseSaveNeeded = true;
        Apply(new RoutingSnapshot(table, "control plane", _states), null);
        _logger.RoutingTableLoaded(table.Revision, "the control plane", table.Routes.Count);
        RequestSave();
    }

    /// <summary>
    /// Applies a snapshot or delta from the control plane. Only the sync loop writes, so there is no lost update;
    /// <see cref="RoutingApplyOutcome.Gap"/> tells it to ask for a snapshot.
    /// </summary>
    public RoutingApplyOutcome Apply(RoutingChanges changes)
    {
        var current = Snapshot ?? new RoutingSnapshot(RoutingTable.Empty, "empty", _states);
        var outcome = current.TryApply(changes, "control plane", out var next);
        switch (outcome)
        {
            case RoutingApplyOutcome.Applied:
                Apply(next, changes.IsSnapshot ? null : changes.Upserts);
                if (changes.IsSnapshot)
                {
                    _baseSaveNeeded = true;
                    _logger.RoutingTableLoaded(next.RevisionText, "the control plane", next.Apps.Count);
                    CompactAfterLargeTable(next);
                }
                else
                {
                    _unsaved.Enqueue(changes);
                    _logger.RoutingChangesApplied(changes.Since ?? 0, changes.Revision, changes.Upserts.Count, changes.Deletions.Count, next.Apps.Count);
                }
                RequestSave();
                break;
            case RoutingApplyOutcome.Gap:
                _logger.RoutingChangesGap(changes.Since ?? 0, changes.Revision, changes.Epoch, current.Revision, current.Epoch ?? "none");
                break;
        }
        return outcome;
    }

    /// <param name="changed">The entries to check for serving errors; null checks all (a whole table arrived).</param>
    private void Apply(RoutingSnapshot snapshot, IReadOnlyList<RouteEntry>? changed)
    {
        _current = snapshot;
        foreach (var entry in changed ?? [.. snapshot.Apps.Values.Select(a => a.Entry)])
        {
            if (snapshot.Apps.TryGetValue(entry.App, out var routing) && routing.Error is { } error)
            {
                _logger.AppEntryUnservable(entry.App, routing.Entry.Version, error);
            }
        }
        SnapshotApplied?.Invoke(snapshot);
        Changed?.Invoke(snapshot, changed);
    }

    /// <summary>
    /// Reading a whole table of many apps leaves several times its size in garbage (the document's strings and
    /// buffers) that a workstation GC may keep committed for long: one compacting collection gives it back, so the
    /// router's memory is what its routes hold. Small tables skip it.
    /// </summary>
    private static void CompactAfterLargeTable(RoutingSnapshot snapshot)
    {
        if (snapshot.Apps.Count < LargeTableApps)
        {
            return;
        }
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>
    /// Saves in the background, at most once per <see cref="SaveInterval"/>: a table of many apps is megabytes, and a
    /// deploy a second must not mean a file a second. A router that dies before the save resumes from the revision
    /// saved before, and the control plane sends it what changed since.
    /// </summary>
    private void RequestSave()
    {
        if (_path is null)
        {
            return;
        }
        Interlocked.Exchange(ref _saveRequested, 1);
        if (Interlocked.CompareExchange(ref _saving, 1, 0) == 0)
        {
            _ = Task.Run(SaveLoopAsync);
        }
    }

    private async Task SaveLoopAsync()
    {
        try
        {
            while (Interlocked.Exchange(ref _saveRequested, 0) == 1)
            {
                SaveCurrent();
                await Task.Delay(SaveInterval);
            }
        }
        finally
        {
            Volatile.Write(ref _saving, 0);
            // A request that came in after the last check but before the flag dropped starts no loop of its own.
            if (Volatile.Read(ref _saveRequested) == 1 && Interlocked.CompareExchange(ref _saving, 1, 0) == 0)
            {
                _ = Task.Run(SaveLoopAsync);
            }
        }
    }

    /// <summary>Saves the current table now (shutdown, tests).</summary>
    public void Flush() => SaveCurrent();

    private void SaveCurrent()
    {
        // The snapshot is read under the lock, so a slower writer never puts an older table over a newer one.
        lock (_saveLock)
        {
            if (_current is not { } snapshot)
            {
                return;
            }
            // A change of one app costs a line in the journal, not a rewrite of every app's entry; the table is
            // written again after a snapshot, or once the journal has grown to a quarter of it.
            if (_baseSaveNeeded || _journalBytes > Math.Max(MinJournalBytesBeforeRewrite, _baseBytes / 4))
            {
                _baseSaveNeeded = false;
                // What the snapshot already holds; a delta applied after it was read waits for the next save.
                while (_unsaved.TryPeek(out var covered) && covered.Revision <= snapshot.Revision)
                {
                    _unsaved.TryDequeue(out _);
                }
                if (Save(snapshot.Table))
                {
                    DeleteJournal();
                }
                else
                {
                    _baseSaveNeeded = true;
                }
                return;
            }
            AppendJournal();
        }
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
            RoutingTable saved;
            // Streamed: a 100 MB table never sits in memory as one array besides the objects made of it.
            using (var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16))
            {
                saved = JsonSerializer.Deserialize<RoutingTable>(file, s_json) ?? throw new JsonException("the file holds null");
            }
            var table = _sealer.OpenAll(saved);
            _baseBytes = new FileInfo(_path).Length;
            var snapshot = ReplayJournal(new RoutingSnapshot(table, "disk", _states));
            // The table and journal as they are on disk stay the base: the next save only appends to the journal.
            _baseSaveNeeded = false;
            Apply(snapshot, null);
            _logger.RoutingTableLoaded(snapshot.RevisionText, _path, snapshot.Apps.Count);
            CompactAfterLargeTable(snapshot);
        }
        catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException or UnauthorizedAccessException
                                       or System.Security.Cryptography.CryptographicException)
        {
            _logger.SavedTableUnreadable(ex, _path);
        }
    }

    private bool Save(RoutingTable table)
    {
        if (_path is null || _sealer is null)
        {
            return false;
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
                // Streamed: a 100,000-app table is never held as one buffer.
                JsonSerializer.Serialize(stream, _sealer.SealAll(table), s_json);
            }
            _baseBytes = new FileInfo(temp).Length;
            File.Move(temp, _path, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.SavingTableFailed(ex, _path);
            return false;
        }
    }

    /// <summary>
    /// Appends the unsaved deltas to the journal, one JSON line each (secrets sealed). A line torn by a crash ends the
    /// replay at load; the router then asks the control plane from the last whole line's revision.
    /// </summary>
    private void AppendJournal()
    {
        if (_journalPath is null || _sealer is null || _unsaved.IsEmpty)
        {
            return;
        }
        try
        {
            // Readers (a backup, an operator) may read it meanwhile: lines are only appended, never rewritten in place.
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode0600;
            }
            using var stream = new FileStream(_journalPath, options);
            while (_unsaved.TryDequeue(out var changes))
            {
                var sealedUpserts = _sealer.SealAll(RoutingTable.Empty with { Routes = changes.Upserts }).Routes;
                var line = JsonSerializer.SerializeToUtf8Bytes(changes with { Upserts = sealedUpserts }, s_json);
                stream.Write(line);
                stream.WriteByte((byte)'\n');
                _journalBytes += line.Length + 1;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The next save writes the whole table instead.
            _baseSaveNeeded = true;
            _logger.SavingTableFailed(ex, _journalPath);
        }
    }

    private void DeleteJournal()
    {
        if (_journalPath is null)
        {
            return;
        }
        try
        {
            File.Delete(_journalPath);
            _journalBytes = 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.SavingTableFailed(ex, _journalPath);
        }
    }

    /// <summary>Applies the journal's deltas to the saved table, up to the first that does not follow on or does not read.</summary>
    private RoutingSnapshot ReplayJournal(RoutingSnapshot snapshot)
    {
        if (_journalPath is null || _sealer is null || !File.Exists(_journalPath))
        {
            return snapshot;
        }
        if (!OperatingSystem.IsWindows())
        {
            TryTighten(_journalPath, FileMode0600);
        }
        foreach (var line in File.ReadLines(_journalPath))
        {
            RoutingChanges? changes;
            try
            {
                changes = JsonSerializer.Deserialize<RoutingChanges>(line, s_json);
            }
            catch (JsonException)
            {
                break; // a line torn by a crash: the rest comes from the control plane
            }
            if (changes is null || changes.IsSnapshot)
            {
                break;
            }
            // Lines at or before the saved table's revision were written before it and are already in it.
            if (changes.Revision <= snapshot.Revision && changes.Epoch == snapshot.Epoch)
            {
                continue;
            }
            var opened = changes with { Upserts = _sealer.OpenAll(RoutingTable.Empty with { Routes = changes.Upserts }).Routes };
            if (snapshot.TryApply(opened, "disk", out var next) != RoutingApplyOutcome.Applied)
            {
                break;
            }
            snapshot = next;
        }
        // Later lines append after whatever is there, so the whole file counts towards the next rewrite.
        _journalBytes = new FileInfo(_journalPath).Length;
        return snapshot;
    }
}
