using System.Security.Cryptography;
using System.Text;
using Platform.Contracts;

namespace Platform.Router.Routing;

/// <summary>
/// Seals app secrets for the router's saved routing table: AES-256-GCM with a key derived (HKDF-SHA256) from the
/// router's own secret, its router token, and the app and secret name as associated data, so a sealed value moved
/// to another app or name does not open. Whoever can read the file but does not hold the token learns nothing.
/// </summary>
public sealed class SecretSealer
{
    public const string Prefix = "sealed:v1:";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly byte[] _key;

    public SecretSealer(string routerSecret)
    {
        ArgumentException.ThrowIfNullOrEmpty(routerSecret);
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(routerSecret), 32, salt: [],
            info: "platform routing table secrets v1"u8.ToArray());
    }

    public string Seal(string app, string name, string value)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), AssociatedData(app, name));
        CryptographicOperations.ZeroMemory(plain);
        return Prefix + Convert.ToBase64String(sealedBytes);
    }

    /// <exception cref="CryptographicException">Not sealed by this key for this app and name (another token, altered, moved).</exception>
    public string Open(string app, string name, string sealedValue)
    {
        if (!sealedValue.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new CryptographicException($"The secret '{name}' of app '{app}' is not sealed.");
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(sealedValue[Prefix.Length..]);
        }
        catch (FormatException)
        {
            throw new CryptographicException($"The sealed secret '{name}' of app '{app}' is malformed.");
        }
        if (bytes.Length < NonceBytes + TagBytes)
        {
            throw new CryptographicException($"The sealed secret '{name}' of app '{app}' is truncated.");
        }
        var plain = new byte[bytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(_key, TagBytes);
        aes.Decrypt(bytes.AsSpan(0, NonceBytes), bytes.AsSpan(NonceBytes + TagBytes), bytes.AsSpan(NonceBytes, TagBytes), plain, AssociatedData(app, name));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The table as it may be written to disk: every route's secrets sealed.</summary>
    public RoutingTable SealAll(RoutingTable table) => Map(table, Seal);

    /// <summary>The saved table with its secrets opened again.</summary>
    /// <exception cref="CryptographicException">A secret does not open (the token changed, or the file was altered).</exception>
    public RoutingTable OpenAll(RoutingTable table) => Map(table, Open);

    private static RoutingTable Map(RoutingTable table, Func<string, string, string, string> transform)
    {
        if (table.Routes.All(r => r.Secrets is not { Count: > 0 }))
        {
            return table;
        }
        return table with
        {
            Routes = [.. table.Routes.Select(r => r.Secrets is not { Count: > 0 } secrets ? r : r with
            {
                Secrets = new SortedDictionary<string, string>(secrets.ToDictionary(kv => kv.Key, kv => transform(r.App, kv.Key, kv.Value)), StringComparer.Ordinal),
            })],
        };
    }

    private static byte[] AssociatedData(string app, string name) => Encoding.UTF8.GetBytes($"{app.Length}:{app}\n{name}");
}
