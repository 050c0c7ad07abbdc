using System.Net;

namespace Platform.Oci;

/// <summary>The registry answered with an error, or answered something this client cannot accept.</summary>
public class OciRegistryException : Exception
{
    public OciRegistryException(string message, HttpStatusCode? statusCode = null, string? errorCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    /// <summary>HTTP status of the registry's answer, when there was one.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>First error code of the registry's error JSON (e.g. <c>MANIFEST_UNKNOWN</c>), when present.</summary>
    public string? ErrorCode { get; }
}

/// <summary>
/// The registry (or its token service) could not be reached, timed out, or answered 502/503/504.
/// Callers map this to 502/503: the request was fine, the dependency was not.
/// </summary>
public sealed class OciRegistryUnavailableException(string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
    : OciRegistryException(message, statusCode, null, innerException);

/// <summary>The registry refused access: credentials missing or wrong (401) or not allowed (403).</summary>
public sealed class OciAuthenticationException(string message, HttpStatusCode? statusCode = null, string? errorCode = null)
    : OciRegistryException(message, statusCode, errorCode);

/// <summary>The blob or manifest does not exist in the repository (404).</summary>
public sealed class OciNotFoundException(string message, string? errorCode = null)
    : OciRegistryException(message, HttpStatusCode.NotFound, errorCode);

/// <summary>
/// Content does not hash to the digest it should: bytes read from the registry (discarded, never used) or the digest
/// the registry reported for something this client pushed.
/// </summary>
public sealed class OciDigestMismatchException(string repository, string expectedDigest, string actualDigest)
    : OciRegistryException($"Digest mismatch in repository '{repository}': expected '{expectedDigest}' but the content hashes to '{actualDigest}'; it was not used.")
{
    public string Repository { get; } = repository;
    public string ExpectedDigest { get; } = expectedDigest;
    public string ActualDigest { get; } = actualDigest;
}

/// <summary>A blob or manifest is larger than the configured limit; reading stopped at the limit.</summary>
public sealed class OciContentTooLargeException(string message, long limitBytes)
    : OciRegistryException(message)
{
    public long LimitBytes { get; } = limitBytes;
}
