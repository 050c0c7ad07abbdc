namespace Platform.Data;

/// <summary>An app: a name that becomes a URL, and the version currently serving it.</summary>
public sealed class App
{
    public Guid Id { get; set; }
    public required string Name { get; set; }

    /// <summary>The tenant that owns the app; only its keys (and admins) see it.</summary>
    public Guid TenantId { get; set; }
    public Tenant? Tenant { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Number of the version that serves traffic; null until the first activation.</summary>
    public int? ActiveVersionNumber { get; set; }

    /// <summary>When the active version last changed (upload with activation, rollback or roll forward).</summary>
    public DateTimeOffset? DeployedAt { get; set; }

    /// <summary>Environment variables handed to every request of this app (WAGI: they come before the request's own).</summary>
    public Dictionary<string, string> Variables { get; set; } = [];

    /// <summary>Per-app limit overrides; null means the platform default.</summary>
    public int? MemoryLimitMb { get; set; }
    public int? TimeoutSeconds { get; set; }
    public int? CpuTimeLimitMs { get; set; }

    /// <summary>Requests of this app a router runs at once (set by an admin); null means the router's default share.</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>Outbound HTTP allow-list of a single-module app, in Spin's allowed_outbound_hosts syntax; empty allows nothing.</summary>
    public List<string> AllowedOutboundHosts { get; set; } = [];

    public List<AppVersion> Versions { get; set; } = [];
}

/// <summary>An immutable uploaded module. Rows are never updated; rollback only moves <see cref="App.ActiveVersionNumber"/>.</summary>
public sealed class AppVersion
{
    public Guid Id { get; set; }
    public Guid AppId { get; set; }
    public App? App { get; set; }
    public int Number { get; set; }

    /// <summary>sha256 of the raw module bytes (the OCI layer digest): what routers pull and verify.</summary>
    public required string ModuleDigest { get; set; }

    /// <summary>Digest of the OCI manifest that holds the module.</summary>
    public required string ManifestDigest { get; set; }

    /// <summary>OCI repository inside the registry (prefix/app); routers pull the module blob from here.</summary>
    public required string Repository { get; set; }

    /// <summary>Full pull reference, registry/repository@manifest-digest.</summary>
    public required string OciReference { get; set; }

    public long SizeBytes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Name of the API key that uploaded it (never the key itself).</summary>
    public string? CreatedBy { get; set; }

    /// <summary>
    /// The precompiled (Wasmtime-serialized) module the control plane pushed beside the module at upload, if that
    /// worked: its manifest's pull reference (registry/repository@manifest-digest), the digest of the artifact layer
    /// that routers pull and verify, and the fingerprint of the engine it was compiled for (routers with another
    /// fingerprint compile the module instead). All null when no artifact was pushed.
    /// </summary>
    public string? PrecompiledReference { get; set; }

    // "sha256:" + 64 hex, like the other digests (the DbContext configures those; an attribute keeps this one beside its doc).
    [System.ComponentModel.DataAnnotations.MaxLength(71)]
    public string? PrecompiledDigest { get; set; }
    public string? PrecompiledFingerprint { get; set; }

    /// <summary>
    /// For a version made from a single upload: "wagi" (a WASI preview-1 command module) or "http" (a wasi:http
    /// component). Null for versions recorded before components were accepted (all WAGI) and for bundles, whose
    /// components carry their own kind.
    /// </summary>
    [System.ComponentModel.DataAnnotations.MaxLength(16)]
    public string? ModuleKind { get; set; }

    /// <summary>
    /// The control plane's signature of (module digest, precompiled digest, fingerprint), made when it pushed the
    /// artifact; routers load the artifact only when it verifies. Null when unsigned (no signing key configured).
    /// </summary>
    [System.ComponentModel.DataAnnotations.MaxLength(128)]
    public string? PrecompiledSignature { get; set; }

    /// <summary>
    /// For a bundle (spin.toml) version: its components, routes and files, as resolved at upload. Null for a version
    /// made from a single module (one component named after the app on <c>/...</c>, described by the columns above).
    /// </summary>
    public VersionBundle? Bundle { get; set; }

    /// <summary>The spin.toml the bundle was uploaded with, byte for byte; null for single-module versions.</summary>
    public string? SpinManifest { get; set; }
}

/// <summary>The resolved shape of a bundle version (a jsonb column; immutable like the row).</summary>
public sealed class VersionBundle
{
    public required string Name { get; set; }
    public string? AppVersion { get; set; }
    public string? Description { get; set; }
    public List<BundleComponent> Components { get; set; } = [];
    public List<BundleRoute> Routes { get; set; } = [];

    /// <summary>The app's <c>[variables]</c> declarations; null in versions recorded before variables were accepted.</summary>
    public Dictionary<string, BundleVariable>? Variables { get; set; }
}

/// <summary>An application variable as declared: a default, or required; secret ones are never shown or logged.</summary>
public sealed record BundleVariable(string? Default, bool Required, bool Secret);

public sealed class BundleComponent
{
    public required string Id { get; set; }

    /// <summary>Path of the module inside the bundle.</summary>
    public required string Source { get; set; }
    public required string ModuleDigest { get; set; }
    public long ModuleSize { get; set; }

    /// <summary>"wagi" (a WASI command module run by the WAGI executor) or "http" (a wasi:http component).</summary>
    public required string Kind { get; set; }
    public string? Entrypoint { get; set; }
    public string? Argv { get; set; }
    public Dictionary<string, string> Environment { get; set; } = [];
    public List<string> AllowedOutboundHosts { get; set; } = [];
    public List<BundleFile> Files { get; set; } = [];

    /// <summary>The component's <c>variables</c>: key -> template over the app's variables; null when it has none.</summary>
    public Dictionary<string, string>? Variables { get; set; }
    public string? PrecompiledDigest { get; set; }
    public string? PrecompiledFingerprint { get; set; }
    public string? PrecompiledReference { get; set; }
    public string? PrecompiledSignature { get; set; }
}

/// <param name="Path">Absolute guest path.</param>
public sealed record BundleFile(string Path, string Digest, long Size);

/// <param name="Route">As written in spin.toml.</param>
public sealed record BundleRoute(string Route, string Component);

/// <summary>
/// A secret of an app: handed to its modules as an environment variable like a variable, but write-only through the
/// API (names are listed, values never) and stored only encrypted (ASP.NET Core Data Protection, key ring in this
/// database, the ciphertext bound to the app's id and the secret's name).
/// </summary>
public sealed class AppSecret
{
    public Guid Id { get; set; }
    public Guid AppId { get; set; }
    public required string Name { get; set; }

    /// <summary>The Data Protection ciphertext of the value (never the value).</summary>
    public required string Ciphertext { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>An API key. Only a SHA-256 of the secret is stored; the prefix lets a key be recognised in lists.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string Name { get; set; }

    /// <summary>First characters of the key, safe to show ("wpk_ab12…").</summary>
    public required string Prefix { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole key. Keys are 256-bit random, so a fast hash is enough.</summary>
    public required string Hash { get; set; }

    /// <summary>Admin keys see every tenant and have no tenant; every other key has one.</summary>
    public bool IsAdmin { get; set; }

    /// <summary>The tenant whose apps the key sees; null only for admin keys.</summary>
    public Guid? TenantId { get; set; }
    public Tenant? Tenant { get; set; }

    /// <summary>When set, the key sees only these apps of its tenant (names; an app made later under a listed name is included).</summary>
    public List<string>? AppNames { get; set; }

    /// <summary>"full", "deploy-only" or "read-only" (see KeyAccess in the control plane).</summary>
    public string Access { get; set; } = "full";

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// A tenant: the owner of apps and keys. Quotas are null when unlimited; they bound what the tenant's apps may
/// ask for and how much they may store, whoever makes the request (admins raise the quota, not bypass it).
/// </summary>
public sealed class Tenant
{
    /// <summary>The tenant existing apps and keys were moved into by the tenants migration, and where admins create apps by default.</summary>
    public static readonly Guid DefaultId = new("00000000-0000-0000-0000-000000000001");
    public const string DefaultName = "default";

    public Guid Id { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public int? MaxApps { get; set; }

    /// <summary>Sum of the sizes of every version of every app of the tenant (what the registry holds for it).</summary>
    public long? MaxStoredBytes { get; set; }
    public int? MaxMemoryLimitMb { get; set; }
    public int? MaxTimeoutSeconds { get; set; }
    public int? MaxCpuTimeLimitMs { get; set; }
    public int? MaxConcurrency { get; set; }
}

/// <summary>Requests an app served in one minute, as reported by routers; latency as a fixed-bucket histogram so minutes and routers add up.</summary>
public sealed class RequestStat
{
    public long Id { get; set; }
    public required string AppName { get; set; }
    public DateTimeOffset Minute { get; set; }
    public long Requests { get; set; }
    public long Errors { get; set; }

    /// <summary>Counts per latency bucket; bucket bounds are Platform.Contracts.LatencyHistogram.UpperBoundsMs.</summary>
    public long[] LatencyBuckets { get; set; } = [];
}

/// <summary>
/// One line of an app's log as a router collected it: what the module wrote (stderr, stdout) or what the platform
/// said about one of its requests (trap, timeout, dropped lines). Kept for a while, then deleted by age and count.
/// </summary>
public sealed class AppLogEntry
{
    /// <summary>Increases with every stored line: the order lines arrived in, and followers' cursor.</summary>
    public long Id { get; set; }
    public Guid AppId { get; set; }
    public DateTimeOffset Time { get; set; }
    public int Version { get; set; }

    /// <summary>The bundle component that wrote it; null for a single-module app.</summary>
    public string? Component { get; set; }

    /// <summary>The request's trace id.</summary>
    public required string RequestId { get; set; }

    /// <summary>Id of the router that ran the request.</summary>
    public required string Router { get; set; }

    /// <summary>stdout, stderr or platform.</summary>
    public required string Stream { get; set; }
    public required string Line { get; set; }
}

/// <summary>
/// One change that affects routing: a row per app insert, update or delete, written by a trigger on <c>apps</c> in the
/// same transaction as the change. Routers ask for the apps changed after a revision; old rows are pruned on a timer.
/// </summary>
public sealed class RouteChange
{
    public long Revision { get; set; }
    public required string AppName { get; set; }

    /// <summary>True when the app row was deleted; otherwise the app's current row says what it serves.</summary>
    public bool Deleted { get; set; }

    public DateTimeOffset ChangedAt { get; set; }
}

/// <summary>
/// The single row holding the routing revision. Writers bump it under its row lock, so revisions commit in order:
/// a reader that sees revision N also sees every change up to N (a sequence would hand numbers out of commit order).
/// </summary>
public sealed class RoutingState
{
    public int Id { get; set; }

    /// <summary>Made once per database; a router holding revisions of another epoch gets a snapshot.</summary>
    public Guid Epoch { get; set; }

    public long Revision { get; set; }

    /// <summary>The change log holds every change after this revision; a router behind it gets a snapshot.</summary>
    public long PrunedThrough { get; set; }
}
