using System.Collections.Concurrent;

namespace Platform.Oci;

/// <summary>
/// What the client learned about the registry's auth: bearer tokens per scope and whether it asked for Basic.
/// A singleton in DI, because typed HttpClient instances are transient and a token per request would hammer the token service.
/// </summary>
internal sealed class RegistryAuthState
{
    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private volatile bool _basicRequested;

    /// <summary>Set once the registry answered a Basic challenge; from then on credentials go with every request.</summary>
    public bool BasicRequested
    {
        get => _basicRequested;
        set => _basicRequested = value;
    }

    public int CachedTokenCount => _tokens.Count;

    public bool TryGetToken(string scope, DateTimeOffset now, out string token)
    {
        if (_tokens.TryGetValue(scope, out var cached))
        {
            if (cached.ExpiresAt > now)
            {
                token = cached.Token;
                return true;
            }
            _tokens.TryRemove(new KeyValuePair<string, CachedToken>(scope, cached));
        }
        token = "";
        return false;
    }

    public void StoreToken(string scope, string token, DateTimeOffset expiresAt) => _tokens[scope] = new CachedToken(token, expiresAt);

    public void Forget(string scope) => _tokens.TryRemove(scope, out _);

    private sealed record CachedToken(string Token, DateTimeOffset ExpiresAt)
    {
        // Never let a token reach a log through a record's generated ToString.
        public override string ToString() => $"token expiring {ExpiresAt:O}";
    }
}
