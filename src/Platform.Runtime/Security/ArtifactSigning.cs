using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Runtime.Security;

/// <summary>
/// The key the control plane signs precompiled artifacts with and routers verify them with (HMAC-SHA256: .NET 10
/// has no Ed25519 without extra packages). The same value is configured on both; it is never put in the routing
/// table, never logged. Without it the control plane records artifacts unsigned and routers compile every module.
/// </summary>
public sealed class ArtifactSigningOptions
{
    public const string Section = "Platform:Artifacts";

    /// <summary>At least 32 characters of secret (<c>PLATFORM_ARTIFACT_SIGNING_KEY</c>); empty disables signed artifacts.</summary>
    [MinLength(32, ErrorMessage = "Platform:Artifacts:SigningKey (PLATFORM_ARTIFACT_SIGNING_KEY) must be at least 32 characters.")]
    public string? SigningKey { get; set; }

    public override string ToString() => nameof(ArtifactSigningOptions); // never the key
}

/// <summary>
/// Signs and verifies the statement "this artifact is the native code of that module for that engine":
/// HMAC-SHA256 over (module digest, artifact digest, engine fingerprint) with a key derived from the signing key.
/// A signature made for one module never verifies for another, so copying an artifact (and its signature) to
/// another app's row gains nothing.
/// </summary>
public sealed class ArtifactSigner
{
    private const string Prefix = "hmac-sha256:";
    private readonly byte[]? _key;

    public ArtifactSigner(string? signingKey)
    {
        _key = string.IsNullOrEmpty(signingKey)
            ? null
            : HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(signingKey), 32, salt: [], info: "platform precompiled artifact v1"u8.ToArray());
    }

    public ArtifactSigner(Microsoft.Extensions.Options.IOptions<ArtifactSigningOptions> options)
        : this(options.Value.SigningKey)
    {
    }

    /// <summary>False when no signing key is configured: nothing is signed and nothing verifies.</summary>
    public bool CanSign => _key is not null;

    /// <summary>"hmac-sha256:&lt;base64url&gt;", or null without a key.</summary>
    public string? Sign(string moduleDigest, string artifactDigest, string fingerprint) =>
        _key is null ? null : Prefix + Base64Url(Mac(_key, moduleDigest, artifactDigest, fingerprint));

    /// <summary>Whether <paramref name="signature"/> is this key's signature of exactly these three values (constant time).</summary>
    public bool Verify(string moduleDigest, string artifactDigest, string fingerprint, string? signature)
    {
        if (_key is null || signature is null || !signature.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        byte[] given;
        try
        {
            given = Convert.FromBase64String(FromBase64Url(signature[Prefix.Length..]));
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(given, Mac(_key, moduleDigest, artifactDigest, fingerprint));
    }

    private static byte[] Mac(byte[] key, string moduleDigest, string artifactDigest, string fingerprint)
    {
        // Length-prefixed fields: no two different triples serialize to the same bytes.
        var message = new StringBuilder("platform-artifact-v1");
        foreach (var field in (ReadOnlySpan<string>)[moduleDigest, artifactDigest, fingerprint])
        {
            message.Append('\n').Append(field.Length).Append(':').Append(field);
        }
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(message.ToString()));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string FromBase64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return b + new string('=', (4 - b.Length % 4) % 4);
    }
}

/// <summary>
/// The key that binds each file of a router's on-disk artifact cache to its module digest (a MAC over module
/// digest, engine fingerprint and the artifact's bytes), so a file copied or swapped on disk is detected. The router
/// derives it from its own secret (the router token).
/// </summary>
public sealed class ArtifactCacheKey
{
    public ArtifactCacheKey(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        Key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: "platform artifact cache v1"u8.ToArray());
    }

    internal byte[] Key { get; }

    public override string ToString() => nameof(ArtifactCacheKey);
}
