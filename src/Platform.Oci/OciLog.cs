using Microsoft.Extensions.Logging;

namespace Platform.Oci;

/// <summary>
/// Every log event of the OCI client, with stable event ids (51xx). Messages carry repositories, digests,
/// sizes and URLs without query strings; never credentials, tokens or Authorization headers.
/// </summary>
internal static partial class OciLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Debug, Message = "Blob {Digest} already exists in {Repository}; upload skipped")]
    public static partial void BlobAlreadyExists(this ILogger logger, string repository, string digest);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Uploaded blob {Digest} ({Size} bytes) to {Repository}")]
    public static partial void BlobUploaded(this ILogger logger, string repository, string digest, long size);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "Pulled blob {Digest} ({Size} bytes) from {Repository}; digest verified")]
    public static partial void BlobPulled(this ILogger logger, string repository, string digest, long size);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Information, Message = "Pushed manifest {Digest} to {Repository}:{Reference}")]
    public static partial void ManifestPushed(this ILogger logger, string repository, string reference, string digest);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Fetched manifest {Digest} for {Repository}:{Reference}")]
    public static partial void ManifestFetched(this ILogger logger, string repository, string reference, string digest);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Debug, Message = "Registry asked for {Scheme} authentication (realm {Realm}, scope {Scope})")]
    public static partial void AuthChallenged(this ILogger logger, string scheme, string? realm, string? scope);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Debug, Message = "Obtained a bearer token from {Realm} for scope {Scope}, valid {ExpiresInSeconds} s")]
    public static partial void TokenObtained(this ILogger logger, string realm, string scope, int expiresInSeconds);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Warning, Message = "Registry request {Method} {Path} failed: registry unavailable ({Reason})")]
    public static partial void RegistryUnavailable(this ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Error, Message = "Digest mismatch in {Repository}: requested {ExpectedDigest}, received content hashing to {ActualDigest}")]
    public static partial void DigestMismatch(this ILogger logger, string repository, string expectedDigest, string actualDigest);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Warning, Message = "Registry request {Method} {Path} answered {StatusCode}: {RegistryMessage}")]
    public static partial void RegistryError(this ILogger logger, string method, string path, int statusCode, string registryMessage);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Information, Message = "Pushed Wasm module {ModuleDigest} ({Size} bytes) as {Repository}:{Tag}, manifest {ManifestDigest}")]
    public static partial void WasmModulePushed(this ILogger logger, string repository, string tag, string moduleDigest, long size, string manifestDigest);

    [LoggerMessage(EventId = 5112, Level = LogLevel.Information, Message = "Deleted manifest {Digest} from {Repository}")]
    public static partial void ManifestDeleted(this ILogger logger, string repository, string digest);

    [LoggerMessage(EventId = 5113, Level = LogLevel.Warning, Message = "Registry authentication failed for {Request}: {Reason}")]
    public static partial void AuthenticationFailed(this ILogger logger, string request, string reason);
}
