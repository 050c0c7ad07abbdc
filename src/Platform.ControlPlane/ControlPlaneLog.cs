namespace Platform.ControlPlane;

/// <summary>Every log event of the control plane, with its id kept in one place. Secrets never appear in these.</summary>
internal static partial class ControlPlaneLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "App '{App}' created")]
    public static partial void AppCreated(this ILogger logger, string app);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "App '{App}' deleted")]
    public static partial void AppDeleted(this ILogger logger, string app);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "App '{App}' version {Version} published: module {ModuleDigest}, {Reference}")]
    public static partial void VersionPublished(this ILogger logger, string app, int version, string moduleDigest, string reference);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "App '{App}' now serves version {Version}")]
    public static partial void VersionActivated(this ILogger logger, string app, int version);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Upload for app '{App}' refused: {Reason}")]
    public static partial void UploadRefused(this ILogger logger, string app, string reason);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Registry push for app '{App}' failed; no version was recorded")]
    public static partial void RegistryPushFailed(this ILogger logger, Exception ex, string app);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Listening for routing changes on PostgreSQL channel '{Channel}'")]
    public static partial void ListeningForRouteChanges(this ILogger logger, string channel);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "Lost the PostgreSQL LISTEN connection; retrying in {Delay}")]
    public static partial void RouteListenerFailed(this ILogger logger, Exception ex, TimeSpan delay);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Information, Message = "Listening for app log lines on PostgreSQL channel '{Channel}'")]
    public static partial void ListeningForLogs(this ILogger logger, string channel);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Warning, Message = "Lost the PostgreSQL LISTEN connection for app logs; retrying in {Delay}")]
    public static partial void LogListenerFailed(this ILogger logger, Exception ex, TimeSpan delay);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Information, Message = "App log retention deleted {ByAge} line(s) by age and {ByCount} by count")]
    public static partial void LogRetentionRan(this ILogger logger, int byAge, int byCount);

    [LoggerMessage(EventId = 1025, Level = LogLevel.Warning, Message = "App log retention failed; it runs again at the next interval")]
    public static partial void LogRetentionFailed(this ILogger logger, Exception ex);

    [LoggerMessage(EventId = 1026, Level = LogLevel.Information, Message = "Routing change log pruned {Count} change(s); it now keeps every change after revision {PrunedThrough}")]
    public static partial void RouteChangesPruned(this ILogger logger, int count, long prunedThrough);

    [LoggerMessage(EventId = 1027, Level = LogLevel.Warning, Message = "Pruning the routing change log failed; it runs again at the next interval")]
    public static partial void RouteChangePruneFailed(this ILogger logger, Exception ex);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Warning, Message = "Authentication failed: {Reason}")]
    public static partial void AuthenticationFailed(this ILogger logger, string reason);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Information, Message = "API key '{Name}' created (prefix {Prefix}, {Scope})")]
    public static partial void ApiKeyCreated(this ILogger logger, string name, string prefix, string scope);

    [LoggerMessage(EventId = 1032, Level = LogLevel.Information, Message = "API key '{Name}' revoked")]
    public static partial void ApiKeyRevoked(this ILogger logger, string name);

    [LoggerMessage(EventId = 1033, Level = LogLevel.Information, Message = "Tenant '{Tenant}' created")]
    public static partial void TenantCreated(this ILogger logger, string tenant);

    [LoggerMessage(EventId = 1034, Level = LogLevel.Information, Message = "Tenant '{Tenant}' deleted")]
    public static partial void TenantDeleted(this ILogger logger, string tenant);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "Applying database migrations at start")]
    public static partial void MigratingAtStart(this ILogger logger);

    // Try API (1060-1069), deploy by reference (1070-1079), secrets (1080-1089), database (1090-1099); precompiled pushes 1050-1059.
    [LoggerMessage(EventId = 1060, Level = LogLevel.Information, Message = "Try request to app '{App}': {Method} {Path} answered {Status} in {DurationMs} ms")]
    public static partial void TryAnswered(this ILogger logger, string app, string method, string path, int status, double durationMs);

    [LoggerMessage(EventId = 1061, Level = LogLevel.Warning, Message = "Try request to app '{App}': {Method} {Path} got no answer within {TimeoutSeconds} s")]
    public static partial void TryTimedOut(this ILogger logger, string app, string method, string path, int timeoutSeconds);

    [LoggerMessage(EventId = 1062, Level = LogLevel.Warning, Message = "Try request to app '{App}' failed: the router at {RouterUrl} did not answer")]
    public static partial void TryRouterUnreachable(this ILogger logger, Exception ex, string app, string routerUrl);

    [LoggerMessage(EventId = 1070, Level = LogLevel.Information, Message = "App '{App}': deploying from reference {Reference}")]
    public static partial void Importing(this ILogger logger, string app, string reference);

    [LoggerMessage(EventId = 1071, Level = LogLevel.Warning, Message = "App '{App}': pulling {Reference} failed; no version was recorded")]
    public static partial void ImportFailed(this ILogger logger, Exception ex, string app, string reference);

    [LoggerMessage(EventId = 1080, Level = LogLevel.Error,
        Message = "App '{App}': the secret '{Name}' cannot be decrypted (Data Protection key ring lost or the row altered); routers get the app without it")]
    public static partial void SecretUnreadable(this ILogger logger, string app, string name);

    [LoggerMessage(EventId = 1050, Level = LogLevel.Information,
        Message = "App '{App}': precompiled module {ModuleDigest} for engine {Fingerprint} ({Bytes} bytes) pushed as {Reference}")]
    public static partial void PrecompiledPushed(this ILogger logger, string app, string moduleDigest, string fingerprint, int bytes, string reference);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Warning,
        Message = "App '{App}': the precompiled module for {ModuleDigest} could not be pushed; the version is recorded without it and routers compile it")]
    public static partial void PrecompiledPushFailed(this ILogger logger, Exception ex, string app, string moduleDigest);

    [LoggerMessage(EventId = 1090, Level = LogLevel.Warning, Message = "Database unavailable while serving {Path}: {Reason}")]
    public static partial void DatabaseUnavailable(this ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1091, Level = LogLevel.Warning, Message = "Request stats retention failed; it runs again at the next interval")]
    public static partial void StatsRetentionFailed(this ILogger logger, Exception ex);
}
