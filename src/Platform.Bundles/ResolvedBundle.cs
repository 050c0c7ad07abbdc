using System.Text;
using System.Text.RegularExpressions;
using Platform.Contracts;
using Platform.Oci;

namespace Platform.Bundles;

/// <summary>A bundle file as a component sees it: the guest path and the bytes (with their digest).</summary>
public sealed record ResolvedFile(string GuestPath, string ArchivePath, string Digest, ReadOnlyMemory<byte> Content);

public sealed record ResolvedComponent(
    string Id,
    string Source,
    string Kind,
    string? Entrypoint,
    string? Argv,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> AllowedOutboundHosts,
    ReadOnlyMemory<byte> Module,
    string ModuleDigest,
    IReadOnlyList<ResolvedFile> Files,
    IReadOnlyDictionary<string, string>? Variables = null)
{
    /// <summary>The component's <c>variables</c> (key -> template), validated against the app's <c>[variables]</c>.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = Variables ?? new Dictionary<string, string>();
}

/// <summary>
/// A bundle ready to store: every component's module and files read from the archive, routes validated with the
/// shared <see cref="HttpRoutePattern"/> parser. Built by <see cref="Resolve"/>, which refuses what cannot run.
/// </summary>
public sealed partial record ResolvedBundle(
    SpinManifest Manifest,
    string ManifestText,
    IReadOnlyList<ResolvedComponent> Components,
    IReadOnlyList<HttpRouteEntry> Routes)
{
    public long TotalBytes => Components.Sum(c => (long)c.Module.Length) +
        Components.SelectMany(c => c.Files).DistinctBy(f => f.Digest).Sum(f => (long)f.Content.Length);

    /// <summary>The component a router without component support should serve: the one on <c>/...</c>, else the first routed.</summary>
    public ResolvedComponent Primary =>
        Components.FirstOrDefault(c => Routes.Any(r => r.Component == c.Id && r.Route is "/..." or "/.../"))
        ?? Components.FirstOrDefault(c => Routes.Any(r => r.Component == c.Id))
        ?? Components[0];

    /// <exception cref="BundleException">Unknown component, missing file, bad path, duplicate or malformed route, a component on both kinds of trigger.</exception>
    public static ResolvedBundle Resolve(BundleArchive archive, SpinManifest manifest)
    {
        var (routes, kinds) = ResolveRoutes(manifest);
        var components = new List<ResolvedComponent>();
        var digests = new Dictionary<string, string>(StringComparer.Ordinal); // archive path -> digest, so each file is hashed once
        foreach (var component in manifest.Components)
        {
            var where = $"component '{component.Id}'";
            var source = NormalizeRelative(component.Source, $"{where}: source");
            if (!archive.TryGetFile(source, out var module))
            {
                throw BundleException.Invalid("missing-file", "File not in the bundle",
                    $"The source '{component.Source}' of {where} is not in the bundle.");
            }
            var files = ResolveFiles(archive, component, digests);
            kinds.TryGetValue(component.Id, out var trigger);
            components.Add(new ResolvedComponent(component.Id, source, KindOf(trigger, module), trigger?.Entrypoint, trigger?.Argv,
                component.Environment, component.AllowedOutboundHosts, module, DigestOf(source, module, digests), files, component.Variables));
        }
        if (components.Count == 0)
        {
            throw BundleException.Invalid("invalid-manifest", "Invalid spin.toml", "spin.toml defines no components.");
        }
        return new ResolvedBundle(manifest, archive.ManifestText, components, routes);
    }

    /// <summary>A bundle from a locked app whose contents were pulled by digest (deploy by reference); same route checks.</summary>
    public static ResolvedBundle FromLocked(LockedBundle locked, IReadOnlyDictionary<string, byte[]> blobs, string manifestText)
    {
        var (routes, kinds) = ResolveRoutes(locked.Manifest);
        var known = locked.Components.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var trigger in locked.Manifest.Triggers.Where(t => !known.Contains(t.Component)))
        {
            throw BundleException.Invalid("unknown-component", "Unknown component", $"Trigger '{trigger.Id}' names '{trigger.Component}', which the artifact does not hold.");
        }
        var components = new List<ResolvedComponent>();
        foreach (var (manifestComponent, c) in locked.Manifest.Components.Zip(locked.Components))
        {
            kinds.TryGetValue(c.Id, out var trigger);
            components.Add(new ResolvedComponent(c.Id, manifestComponent.Source, KindOf(trigger, blobs[c.ModuleDigest]), trigger?.Entrypoint, trigger?.Argv,
                manifestComponent.Environment, manifestComponent.AllowedOutboundHosts, blobs[c.ModuleDigest], c.ModuleDigest,
                [.. c.Files.Select(f => new ResolvedFile(f.Path, f.Path.TrimStart('/'), f.Digest, blobs[f.Digest]))], manifestComponent.Variables));
        }
        if (components.Count == 0)
        {
            throw BundleException.Invalid("invalid-artifact", "Invalid Spin artifact", "The artifact's locked app has no components.");
        }
        return new ResolvedBundle(locked.Manifest, manifestText, components, routes);
    }

    /// <summary>
    /// A trigger without a WAGI executor is a wasi:http component, as in Spin; a component no trigger names is what
    /// its bytes are (the upload then checks that the format fits the kind).
    /// </summary>
    private static string KindOf(SpinHttpTrigger? trigger, ReadOnlySpan<byte> module) =>
        trigger?.Executor ?? (WasmBinary.IsComponent(module) ? SpinExecutors.Http : SpinExecutors.Wagi);

    private static (List<HttpRouteEntry> Routes, Dictionary<string, SpinHttpTrigger> Kinds) ResolveRoutes(SpinManifest manifest)
    {
        var routes = new List<HttpRouteEntry>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal); // canonical route -> route as written
        var kinds = new Dictionary<string, SpinHttpTrigger>(StringComparer.Ordinal);
        foreach (var trigger in manifest.Triggers)
        {
            if (kinds.TryGetValue(trigger.Component, out var earlier) && earlier.Executor != trigger.Executor)
            {
                throw BundleException.Invalid("conflicting-executor", "Conflicting executor settings",
                    $"Component '{trigger.Component}' is on trigger '{earlier.Id}' as '{earlier.Executor}' and on trigger '{trigger.Id}' as '{trigger.Executor}'; a module is either a WAGI module or a wasi:http component.");
            }
            if (earlier is not null && (earlier.Entrypoint != trigger.Entrypoint || earlier.Argv != trigger.Argv))
            {
                throw BundleException.Invalid("conflicting-executor", "Conflicting executor settings",
                    $"Component '{trigger.Component}' is on triggers '{earlier.Id}' and '{trigger.Id}' with different WAGI entrypoint/argv; give each its own component.");
            }
            kinds[trigger.Component] = trigger;
            if (trigger.Route is null)
            {
                continue; // private: reachable from nothing outside
            }
            if (!HttpRoutePattern.TryParse(trigger.Route, out var pattern, out var error))
            {
                throw BundleException.Invalid("invalid-route", "Invalid route", $"Trigger '{trigger.Id}': {error}.");
            }
            if (seen.TryGetValue(pattern.Canonical, out var other))
            {
                throw BundleException.Invalid("duplicate-route", "Duplicate route",
                    $"The route '{trigger.Route}' (trigger '{trigger.Id}') duplicates '{other}'; each route may be served by one component only.");
            }
            seen[pattern.Canonical] = trigger.Route;
            routes.Add(new HttpRouteEntry(trigger.Route, trigger.Component));
        }
        return (routes, kinds);
    }

    private static List<ResolvedFile> ResolveFiles(BundleArchive archive, SpinComponent component, Dictionary<string, string> digests)
    {
        var where = $"component '{component.Id}'";
        var excluded = component.ExcludeFiles.Select(p => Glob(NormalizeRelative(p, $"{where}: exclude_files"))).ToList();
        var byGuest = new Dictionary<string, ResolvedFile>(StringComparer.Ordinal);
        void Add(string guest, string archivePath)
        {
            if (excluded.Any(x => x.IsMatch(archivePath)))
            {
                return;
            }
            archive.TryGetFile(archivePath, out var content);
            var file = new ResolvedFile(guest, archivePath, DigestOf(archivePath, content, digests), content);
            if (byGuest.TryGetValue(guest, out var existing) && existing.Digest != file.Digest)
            {
                throw BundleException.Invalid("conflicting-files", "Two files at one path",
                    $"{where} mounts both '{existing.ArchivePath}' and '{archivePath}' at '{guest}'.");
            }
            byGuest[guest] = file;
        }

        foreach (var mount in component.Files)
        {
            if (mount.Pattern is { } pattern)
            {
                var normalized = NormalizeRelative(pattern, $"{where}: files");
                if (normalized.IndexOfAny(['*', '?', '[']) < 0)
                {
                    // A plain path: a file, or a directory meaning everything below it.
                    if (archive.TryGetFile(normalized, out _))
                    {
                        Add("/" + normalized, normalized);
                    }
                    else if (normalized.Length > 0 && archive.IsDirectory(normalized))
                    {
                        foreach (var path in archive.FilePaths.Where(p => p.StartsWith(normalized + "/", StringComparison.Ordinal)))
                        {
                            Add("/" + path, path);
                        }
                    }
                    else
                    {
                        throw BundleException.Invalid("missing-file", "File not in the bundle", $"The file '{pattern}' of {where} is not in the bundle.");
                    }
                    continue;
                }
                var glob = Glob(normalized);
                foreach (var path in archive.FilePaths.Where(p => glob.IsMatch(p)))
                {
                    Add("/" + path, path);
                }
                continue;
            }

            var source = NormalizeRelative(mount.Source!, $"{where}: files source");
            var destination = NormalizeGuest(mount.Destination!, $"{where}: files destination");
            if (archive.TryGetFile(source, out _))
            {
                // A file placed at "/" keeps its name there; elsewhere the destination is the file's own path.
                Add(destination == "/" ? "/" + source[(source.LastIndexOf('/') + 1)..] : destination, source);
            }
            else if (archive.IsDirectory(source))
            {
                var prefix = source.Length == 0 ? "" : source + "/";
                foreach (var path in archive.FilePaths.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    Add(destination == "/" ? "/" + path[prefix.Length..] : destination + "/" + path[prefix.Length..], path);
                }
            }
            else
            {
                throw BundleException.Invalid("missing-file", "File not in the bundle", $"The files source '{mount.Source}' of {where} is not in the bundle.");
            }
        }
        return [.. byGuest.Values.OrderBy(f => f.GuestPath, StringComparer.Ordinal)];
    }

    private static string DigestOf(string path, byte[] content, Dictionary<string, string> digests)
    {
        if (!digests.TryGetValue(path, out var digest))
        {
            digest = OciDigest.ComputeSha256(content);
            digests[path] = digest;
        }
        return digest;
    }

    /// <summary>A path relative to the manifest; absolute paths and '..' are refused.</summary>
    public static string NormalizeRelative(string path, string what)
    {
        if (path.StartsWith('/') || path.Contains('\\') || (path.Length >= 2 && path[1] == ':'))
        {
            throw BundleException.Invalid("path-not-allowed", "Path not allowed", $"{what} '{path}' is absolute; paths in spin.toml are relative to it.");
        }
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }
            if (part == "..")
            {
                throw BundleException.Invalid("path-not-allowed", "Path not allowed", $"{what} '{path}' climbs out of the bundle with '..'.");
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    /// <summary>An absolute guest path ("/", "/static"); '..' is refused.</summary>
    public static string NormalizeGuest(string path, string what)
    {
        if (!path.StartsWith('/'))
        {
            throw BundleException.Invalid("path-not-allowed", "Path not allowed", $"{what} '{path}' must be an absolute path such as '/static'.");
        }
        var relative = NormalizeRelative(path[1..], what);
        return "/" + relative;
    }

    /// <summary>Glob as Spin's files patterns have it: <c>*</c> and <c>?</c> within a segment, <c>**</c> across segments, <c>[...]</c> classes.</summary>
    public static Regex Glob(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                var slashAfter = i + 2 < pattern.Length && pattern[i + 2] == '/';
                sb.Append(slashAfter ? "(?:.*/)?" : ".*");
                i += slashAfter ? 2 : 1;
            }
            else if (c == '*')
            {
                sb.Append("[^/]*");
            }
            else if (c == '?')
            {
                sb.Append("[^/]");
            }
            else if (c == '[' && pattern.IndexOf(']', i + 1) is var close and > 0)
            {
                var body = pattern[(i + 1)..close];
                sb.Append('[').Append(body.StartsWith('!') ? "^" + Regex.Escape(body[1..]) : Regex.Escape(body)).Append(']');
                i = close;
            }
            else
            {
                sb.Append(Regex.Escape(c.ToString()));
            }
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
