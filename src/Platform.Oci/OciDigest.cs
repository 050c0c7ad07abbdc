using System.Security.Cryptography;

namespace Platform.Oci;

/// <summary>Content digests as the OCI specs write them (<c>algorithm:lowercase-hex</c>).</summary>
public static class OciDigest
{
    public const string Sha256Prefix = "sha256:";

    /// <summary><c>sha256:&lt;hex&gt;</c> of the bytes.</summary>
    public static string ComputeSha256(ReadOnlySpan<byte> content) =>
        Sha256Prefix + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Computes the digest of <paramref name="content"/> with the algorithm <paramref name="expectedDigest"/> names.</summary>
    public static string ComputeLike(string expectedDigest, ReadOnlySpan<byte> content)
    {
        OciNames.ValidateDigest(expectedDigest);
        return expectedDigest.StartsWith(Sha256Prefix, StringComparison.Ordinal)
            ? ComputeSha256(content)
            : "sha512:" + Convert.ToHexStringLower(SHA512.HashData(content));
    }

    internal static IncrementalHash CreateHasherFor(string digest) =>
        IncrementalHash.CreateHash(digest.StartsWith(Sha256Prefix, StringComparison.Ordinal) ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA512);

    internal static string Finish(string expectedDigest, IncrementalHash hasher) =>
        expectedDigest[..(expectedDigest.IndexOf(':') + 1)] + Convert.ToHexStringLower(hasher.GetHashAndReset());
}
