using System.Net;
using Platform.Oci.Tests.Support;
using Platform.Testing;

namespace Platform.Oci.Tests.Integration;

public sealed class BasicAuthRegistryFixture : IAsyncLifetime
{
    public const string User = "alice";
    public const string Password = "correct horse battery staple";

    public RegistryServer Registry { get; private set; } = null!;

    public async Task InitializeAsync() => Registry = await RegistryServer.StartNewAsync(new RegistryServerOptions { Username = User, Password = Password });

    public async Task DisposeAsync() => await Registry.DisposeAsync();
}

/// <summary>docker-registry with htpasswd (bcrypt) auth: it answers 401 with <c>WWW-Authenticate: Basic realm=...</c>.</summary>
[Trait("Category", "Integration")]
public sealed class BasicAuthTests(BasicAuthRegistryFixture fixture) : IClassFixture<BasicAuthRegistryFixture>
{
    [Fact]
    public async Task With_the_right_credentials_push_and_pull_work()
    {
        var logger = new CapturingLogger<OciClient>();
        var (client, _) = ClientFactory.Create(fixture.Registry, BasicAuthRegistryFixture.User, BasicAuthRegistryFixture.Password, logger: logger);
        var module = TestModules.Unique();

        await client.PingAsync();
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);

        Assert.Equal(module, await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));
        Assert.NotEmpty(logger.Lines);
        Assert.DoesNotContain(BasicAuthRegistryFixture.Password, logger.All);
        Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{BasicAuthRegistryFixture.User}:{BasicAuthRegistryFixture.Password}")), logger.All);
    }

    [Fact]
    public async Task Credentials_are_sent_only_after_the_registry_asks_and_then_up_front()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry, BasicAuthRegistryFixture.User, BasicAuthRegistryFixture.Password);

        await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());
        await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());

        var exchanges = recorder.Exchanges;
        Assert.Null(exchanges[0].AuthScheme);
        Assert.Equal(HttpStatusCode.Unauthorized, exchanges[0].Status);
        Assert.Single(exchanges, e => e.Status == HttpStatusCode.Unauthorized);
        Assert.All(exchanges.Skip(1), e => Assert.Equal("Basic", e.AuthScheme));
    }

    [Fact]
    public async Task Without_credentials_the_error_says_they_are_required_and_where_to_set_them()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);

        var ex = await Assert.ThrowsAsync<OciAuthenticationException>(() => client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique()));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Contains("requires credentials", ex.Message);
        Assert.Contains("platform-test-registry", ex.Message); // the Basic realm the registry named
        Assert.Contains("Platform:Registry:Username", ex.Message);
        Assert.Contains("HEAD ", ex.Message); // which request needed them
    }

    [Fact]
    public async Task With_a_wrong_password_the_error_names_the_user_but_not_the_password()
    {
        const string wrong = "not-the-password";
        var logger = new CapturingLogger<OciClient>();
        var (client, _) = ClientFactory.Create(fixture.Registry, BasicAuthRegistryFixture.User, wrong, logger: logger);

        var ex = await Assert.ThrowsAsync<OciAuthenticationException>(() => client.PingAsync());

        Assert.Contains("rejected the configured credentials of user 'alice'", ex.Message);
        Assert.Contains("UNAUTHORIZED", ex.Message); // the registry's own error, quoted
        Assert.DoesNotContain(wrong, ex.Message);
        Assert.DoesNotContain(wrong, logger.All);
    }

    [Fact]
    public async Task Pulling_anonymously_from_an_authenticated_registry_fails_with_an_auth_error()
    {
        var (owner, _) = ClientFactory.Create(fixture.Registry, BasicAuthRegistryFixture.User, BasicAuthRegistryFixture.Password);
        var pushed = await owner.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());
        var (anonymous, _) = ClientFactory.Create(fixture.Registry);

        await Assert.ThrowsAsync<OciAuthenticationException>(() => anonymous.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));
    }
}
