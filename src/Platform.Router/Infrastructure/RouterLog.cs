namespace Platform.Router.Infrastructure;

/// <summary>Every log event of the router, with its id kept in one place.</summary>
internal static partial class RouterLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Routing table {Revision} loaded from {Source}: {Count} app(s)")]
    public static partial void RoutingTableLoaded(this ILogger logger, string revision, string source, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Could not reach the control plane at {Url}; serving the last routing table ({Revision}). Retrying in {Delay}")]
    public static partial void ControlPlaneUnreachable(this ILogger logger, Exception ex, string url, string revision, TimeSpan delay);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "The saved routing table at {Path} is unreadable and was ignored")]
    public static partial void SavedTableUnreadable(this ILogger logger, Exception ex, string path);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Could not save the routing table to {Path}")]
    public static partial void SavingTableFailed(this ILogger logger, Exception ex, string path);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Debug, Message = "Routing changes {Since} -> {Revision} applied: {Upserts} app(s) replaced, {Deletions} removed, {Count} app(s) served")]
    public static partial void RoutingChangesApplied(this ILogger logger, long since, long revision, int upserts, int deletions, int count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Routing changes {Since} -> {Revision} of epoch {Epoch} do not follow this router's revision {Known} of epoch {KnownEpoch}; asking for a snapshot")]
    public static partial void RoutingChangesGap(this ILogger logger, long since, long revision, string epoch, long known, string knownEpoch);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "The control plane refused the router token (HTTP {Status}); check PLATFORM_ROUTER_TOKEN")]
    public static partial void RouterTokenRefused(this ILogger logger, int status);

    // App lines reach this log through a per-route limiter (AppLogLimiter); in full they go to the logs API.
    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "[{App} v{Version}] {Line}")]
    public static partial void AppLog(this ILogger logger, string app, int version, string line);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "App '{App}' v{Version} failed: {Outcome}: {Detail}")]
    public static partial void AppFailed(this ILogger logger, string app, int version, string outcome, string detail);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Module {Digest} of app '{App}' could not be loaded")]
    public static partial void ModuleLoadFailed(this ILogger logger, Exception ex, string app, string digest);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "App '{App}' v{Version} in the routing table cannot be served: {Error}")]
    public static partial void AppEntryUnservable(this ILogger logger, string app, int version, string error);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Debug, Message = "Loaded {Count} file(s), {Bytes} bytes, of component '{Component}' of app '{App}'")]
    public static partial void ComponentFilesLoaded(this ILogger logger, string app, string component, int count, long bytes);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Information, Message = "Component '{Component}' of app '{App}' declared {Count} WAGI dynamic route(s) through _routes")]
    public static partial void DynamicRoutesDeclared(this ILogger logger, string app, string component, int count);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Debug, Message = "Could not report request figures to the control plane; they are kept for the next attempt")]
    public static partial void StatsReportFailed(this ILogger logger, Exception ex);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Debug, Message = "Could not send {Count} app log line(s) to the control plane; they are kept for the next attempt as far as the buffer allows")]
    public static partial void LogReportFailed(this ILogger logger, Exception ex, int count);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning, Message = "The control plane refused {Count} app log line(s) (HTTP {Status}); they are dropped")]
    public static partial void LogReportRefused(this ILogger logger, int status, int count);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Warning,
        Message = "Precompiled artifact {ArtifactDigest} named for module {Digest} ({Location}) is not signed for it ({Reason}); compiling the module from its Wasm instead")]
    public static partial void ArtifactRejected(this ILogger logger, string location, string artifactDigest, string digest, string reason);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Shutting down: readiness is now false, finishing requests in flight")]
    public static partial void Draining(this ILogger logger);

    // Warm-up (2040-2049).
    [LoggerMessage(EventId = 2040, Level = LogLevel.Information, Message = "Serving path warmed up in {Milliseconds:F0} ms")]
    public static partial void WarmedUp(this ILogger logger, double milliseconds);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Warning, Message = "Warm-up failed; the router serves anyway, its first requests are slower")]
    public static partial void WarmupFailed(this ILogger logger, Exception ex);

    [LoggerMessage(EventId = 2042, Level = LogLevel.Information, Message = "Warm-up could not reach the registry ({Reason}); modules are pulled when first needed")]
    public static partial void RegistryNotReached(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2050, Level = LogLevel.Debug, Message = "Prefetched app {App} version {Version} in {Milliseconds:F1} ms")]
    public static partial void AppPrefetched(this ILogger logger, string app, int version, double milliseconds);

    [LoggerMessage(EventId = 2051, Level = LogLevel.Debug, Message = "Could not prefetch app {App} version {Version}; its first request loads it: {Reason}")]
    public static partial void AppPrefetchFailed(this ILogger logger, string app, int version, string reason);
}
