using System.Collections.Concurrent;
using Platform.Oci;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>
/// Loads a component's files into one shared, immutable <see cref="ComponentFiles"/> tree: every file a blob in the
/// route's repository, pulled by digest (the OCI client verifies it) once per distinct file set and kept in memory
/// while a routing table still references it. Requests never fetch files; they read the tree in place.
/// </summary>
public sealed class ComponentFilesLoader
{
    /// <summary>Most bytes one component's files may take in memory.</summary>
    public const long MaxComponentBytes = 256L * 1024 * 1024;

    private const int ParallelPulls = 4;

    private readonly IOciRegistryClient _registry;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<ComponentFiles>>> _loaded = new(StringComparer.Ordinal);

    public ComponentFilesLoader(IOciRegistryClient registry, RoutingTableStore routes, ILogger<ComponentFilesLoader> logger)
    {
        _registry = registry;
        _logger = logger;
        routes.SnapshotApplied += Retain;
    }

    /// <summary>The component's tree, or null when it has no files (then it gets no preopen, as in Spin).</summary>
    public async Task<ComponentFiles?> GetAsync(string app, ComponentState component, CancellationToken cancellationToken)
    {
        if (component.Files.Count == 0)
        {
            return null;
        }
        var lazy = _loaded.GetOrAdd(component.FilesKey, _ => new Lazy<Task<ComponentFiles>>(() => LoadAsync(app, component)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed load is not kept: the next request tries again (the registry may be back).
            _loaded.TryRemove(new KeyValuePair<string, Lazy<Task<ComponentFiles>>>(component.FilesKey, lazy));
            throw;
        }
    }

    private async Task<ComponentFiles> LoadAsync(string app, ComponentState component)
    {
        long total = 0;
        foreach (var file in component.Files)
        {
            total += file.Size;
        }
        if (total > MaxComponentBytes)
        {
            throw new InvalidDataException($"component '{component.Id}' has {total} bytes of files; a router holds at most {MaxComponentBytes}");
        }
        // Identical files share one blob: each digest is pulled once.
        var blobs = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var digests = component.Files.GroupBy(f => f.Digest, StringComparer.Ordinal).Select(g => (Digest: g.Key, Size: g.Max(f => f.Size))).ToArray();
        // Not tied to one request: a load that several requests wait for must not die with the first one's client.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await Parallel.ForEachAsync(digests, new ParallelOptions { MaxDegreeOfParallelism = ParallelPulls, CancellationToken = timeout.Token }, async (blob, ct) =>
        {
            var bytes = await _registry.PullBlobAsync(component.Repository, blob.Digest, blob.Size, ct);
            if (bytes.LongLength != blob.Size)
            {
                throw new InvalidDataException($"the file blob {blob.Digest} has {bytes.LongLength} bytes; the routing table says {blob.Size}");
            }
            blobs[blob.Digest] = bytes;
        });
        var files = ComponentFiles.Create(component.Files.Select(f => new KeyValuePair<string, ReadOnlyMemory<byte>>(f.Path, blobs[f.Digest])));
        _logger.ComponentFilesLoaded(app, component.Id, files.FileCount, files.TotalBytes);
        return files;
    }

    /// <summary>Drops the trees no component of the new table uses.</summary>
    private void Retain(RoutingSnapshot snapshot)
    {
        // Most routers hold no file trees; then a change must not walk every app of a large table.
        if (_loaded.IsEmpty)
        {
            return;
        }
        var live = new HashSet<string>(snapshot.Apps.Values.SelectMany(a => a.Components).Select(c => c.FilesKey), StringComparer.Ordinal);
        foreach (var key in _loaded.Keys)
        {
            if (!live.Contains(key))
            {
                _loaded.TryRemove(key, out _);
            }
        }
    }
}
