using System.Security.Cryptography;
using System.Text;

namespace Platform.ControlPlane.Auth;

/// <summary>API key format and hashing. Keys are 256-bit random, so an unsalted SHA-256 cannot be brute-forced.</summary>
public static class ApiKeys
{
    public const string KeyPrefix = "wpk_";
    private const int ShownPrefixLength = 12;

    public static string NewKey() => KeyPrefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The part of a key that is safe to show in lists.</summary>
    public static string ShownPrefix(string key) => key.Length <= ShownPrefixLength ? key : key[..ShownPrefixLength];

    /// <summary>Compares two hex hashes in constant time.</summary>
    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
