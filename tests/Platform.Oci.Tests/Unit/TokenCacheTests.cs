namespace Platform.Oci.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class TokenCacheTests
{
    [Fact]
    public void A_cached_token_is_returned_until_it_expires()
    {
        var state = new RegistryAuthState();
        var now = DateTimeOffset.UtcNow;
        state.StoreToken("repository:a:pull", "tok", now.AddSeconds(30));

        Assert.True(state.TryGetToken("repository:a:pull", now.AddSeconds(29), out var token));
        Assert.Equal("tok", token);
        Assert.False(state.TryGetToken("repository:a:pull", now.AddSeconds(30), out _));
        Assert.Equal(0, state.CachedTokenCount);
    }

    [Fact]
    public void Tokens_are_kept_per_scope()
    {
        var state = new RegistryAuthState();
        var now = DateTimeOffset.UtcNow;
        state.StoreToken("repository:a:pull", "a", now.AddMinutes(1));

        Assert.False(state.TryGetToken("repository:b:pull", now, out _));
        Assert.False(state.TryGetToken("repository:a:pull,push", now, out _));
    }
}
