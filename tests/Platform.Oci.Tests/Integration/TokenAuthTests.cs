using System.Net;
using Platform.Oci.Tests.Support;
using Platform.Testing;

namespace Platform.Oci.Tests.Integration;

/// <summary>
/// A real docker-registry in token-auth mode (<c>auth.token</c> with realm, service, issuer and rootcertbundle) and an
/// in-process token service that signs JWTs with a certificate the registry trusts.
/// </summary>
public sealed class TokenAuthRegistryFixture : IAsyncLifetime
{
    public const string User = "bob";
    public const string Password = "s3cret-token-pass";

    private string _directory = "";

    public TokenServer Tokens { get; private set; } = null!;

    public RegistryServer Registry { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("platform-token-").FullName;
        Tokens = await TokenServer.StartAsync(_directory, User, Password);
        Registry = await RegistryServer.StartNewAsync(new RegistryServerOptions
        {
            TokenAuth = new RegistryTokenAuth(Tokens.Realm, TokenServer.Service, TokenServer.Issuer, Tokens.RootCertBundlePath),
        });
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        await Tokens.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

[Trait("Category", "Integration")]
public sealed class TokenAuthTests : IClassFixture<TokenAuthRegistryFixture>
{
    private readonly TokenAuthRegistryFixture _fixture;

    public TokenAuthTests(TokenAuthRegistryFixture fixture)
    {
        _fixture = fixture;
        // Tests of a class run one at a time; each starts from the service's normal behaviour.
        fixture.Tokens.AccessTokenOnly = false;
        fixture.Tokens.ExpiresInSeconds = 300;
    }

    [Fact]
    public async Task Push_and_pull_work_with_tokens_from_the_challenge_realm()
    {
        var (client, recorder) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, TokenAuthRegistryFixture.Password);
        var module = TestModules.Unique();
        var app = TestModules.UniqueAppName();
        var before = _fixture.Tokens.Requests.Count;

        var pushed = await client.PushWasmModuleAsync(app, 1, module);
        var pulled = await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest);

        Assert.Equal(module, pulled);
        var requests = _fixture.Tokens.Requests.Skip(before).ToList();
        Assert.NotEmpty(requests);
        Assert.All(requests, r =>
        {
            Assert.Equal(TokenServer.Service, r.Service);
            Assert.Equal(TokenAuthRegistryFixture.User, r.User);
        });
        Assert.Contains(requests, r => r.Scopes.Contains($"repository:apps/{app}:pull,push"));
        Assert.Contains(recorder.Exchanges, e => e.AuthScheme == "Bearer" && e.Status == HttpStatusCode.Created);
    }

    [Fact]
    public async Task Tokens_are_cached_per_scope_so_a_second_push_asks_for_none()
    {
        var (client, recorder) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, TokenAuthRegistryFixture.Password);
        var app = TestModules.UniqueAppName();
        await client.PushWasmModuleAsync(app, 1, TestModules.Unique());
        var tokensAfterFirst = _fixture.Tokens.Requests.Count;
        recorder.Clear();

        await client.PushWasmModuleAsync(app, 2, TestModules.Unique());

        Assert.Equal(tokensAfterFirst, _fixture.Tokens.Requests.Count);
        Assert.DoesNotContain(recorder.Exchanges, e => e.Status == HttpStatusCode.Unauthorized);
        Assert.All(recorder.Exchanges, e => Assert.Equal("Bearer", e.AuthScheme));
    }

    [Fact]
    public async Task An_expired_token_is_replaced_by_a_new_one()
    {
        var time = new ManualTimeProvider();
        var (client, _) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, TokenAuthRegistryFixture.Password, time);
        var app = TestModules.UniqueAppName();
        var pushed = await client.PushWasmModuleAsync(app, 1, TestModules.Unique());
        await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest);
        var before = _fixture.Tokens.Requests.Count;

        await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest);
        Assert.Equal(before, _fixture.Tokens.Requests.Count);

        time.Advance(TimeSpan.FromSeconds(_fixture.Tokens.ExpiresInSeconds));
        await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest);
        Assert.Equal(before + 1, _fixture.Tokens.Requests.Count);
    }

    [Fact]
    public async Task An_access_token_field_is_accepted_in_place_of_token()
    {
        _fixture.Tokens.AccessTokenOnly = true;
        var (client, _) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, TokenAuthRegistryFixture.Password);
        var module = TestModules.Unique();

        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);

        Assert.Equal(module, await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));
    }

    [Fact]
    public async Task Ping_gets_a_token_without_a_scope()
    {
        var (client, _) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, TokenAuthRegistryFixture.Password);
        var before = _fixture.Tokens.Requests.Count;

        await client.PingAsync();

        var request = Assert.Single(_fixture.Tokens.Requests.Skip(before));
        Assert.Empty(request.Scopes);
    }

    [Fact]
    public async Task Without_credentials_the_token_service_refusal_is_reported_as_an_auth_error()
    {
        var (client, _) = ClientFactory.Create(_fixture.Registry);

        var ex = await Assert.ThrowsAsync<OciAuthenticationException>(() => client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique()));

        Assert.Contains(_fixture.Tokens.Realm, ex.Message);
        Assert.Contains("none are configured", ex.Message);
        Assert.Contains("invalid username or password", ex.Message);
    }

    [Fact]
    public async Task With_a_wrong_password_the_error_names_the_user_and_never_the_password_or_a_token()
    {
        const string wrong = "wrong-password-123";
        var logger = new CapturingLogger<OciClient>();
        var (client, _) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, wrong, logger: logger);

        var ex = await Assert.ThrowsAsync<OciAuthenticationException>(() => client.PingAsync());

        Assert.Contains("user 'bob'", ex.Message);
        Assert.DoesNotContain(wrong, ex.Message);
        Assert.DoesNotContain(wrong, logger.All);
    }

    [Fact]
    public async Task Issued_tokens_and_the_password_never_reach_the_log()
    {
        var logger = new CapturingLogger<OciClient>();
        var (client, _) = ClientFactory.Create(_fixture.Registry, TokenAuthRegistryFixture.User, TokenAuthRegistryFixture.Password, logger: logger);
        var before = _fixture.Tokens.IssuedTokens.Count;

        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());
        await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest);

        var issued = _fixture.Tokens.IssuedTokens.Skip(before).ToList();
        Assert.NotEmpty(issued);
        Assert.Contains(logger.Lines, l => l.Contains("5107")); // the token event was logged...
        Assert.All(issued, token => Assert.DoesNotContain(token, logger.All)); // ...without the token
        Assert.DoesNotContain(TokenAuthRegistryFixture.Password, logger.All);
    }
}
