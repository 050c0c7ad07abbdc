using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Platform.Oci.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class OptionsAndRegistrationTests
{
    private static List<ValidationResult> Validate(OciRegistryOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        if (results.Count == 0)
        {
            results.AddRange(options.Validate(new ValidationContext(options)));
        }
        return results;
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://127.0.0.1:5000/")]
    [InlineData("https://ghcr.io")]
    public void Http_and_https_registry_urls_are_valid(string url)
    {
        Assert.Empty(Validate(new OciRegistryOptions { Url = url }));
    }

    [Theory]
    [InlineData("127.0.0.1:5000")]
    [InlineData("ftp://registry.example")]
    [InlineData("http://registry.example/v2/")]
    [InlineData("http://registry.example/?x=1")]
    public void Other_urls_are_invalid_and_quoted(string url)
    {
        var error = Assert.Single(Validate(new OciRegistryOptions { Url = url }));

        Assert.Contains($"'{url}'", error.ErrorMessage);
    }

    [Fact]
    public void Credentials_in_the_url_are_refused_without_echoing_them()
    {
        var error = Assert.Single(Validate(new OciRegistryOptions { Url = "http://bob:hunter2@registry.example" }));

        Assert.DoesNotContain("hunter2", error.ErrorMessage);
    }

    [Fact]
    public void A_missing_url_is_invalid()
    {
        var error = Assert.Single(Validate(new OciRegistryOptions()));

        Assert.Contains("Url", error.MemberNames);
    }

    [Fact]
    public void A_username_without_a_password_is_invalid()
    {
        var error = Assert.Single(Validate(new OciRegistryOptions { Url = "http://r", Username = "bob" }));

        Assert.Contains("Password", error.MemberNames);
    }

    [Theory]
    [InlineData("Apps")]
    [InlineData("apps/")]
    [InlineData("/apps")]
    [InlineData("my apps")]
    public void A_repository_prefix_outside_the_grammar_is_invalid(string prefix)
    {
        var error = Assert.Single(Validate(new OciRegistryOptions { Url = "http://r", RepositoryPrefix = prefix }));

        Assert.Contains("RepositoryPrefix", error.MemberNames);
    }

    [Fact]
    public void The_client_constructor_refuses_invalid_options()
    {
        Assert.Throws<ValidationException>(() => new OciClient(new HttpClient(), new OciRegistryOptions { Url = "nope" }));
    }

    [Fact]
    public void Repository_names_are_the_prefix_and_the_app()
    {
        var client = new OciClient(new HttpClient(), new OciRegistryOptions { Url = "http://127.0.0.1:5000", RepositoryPrefix = "team/apps" });

        Assert.Equal("team/apps/hello", client.GetRepositoryName("hello"));
        Assert.Equal("127.0.0.1:5000", client.RegistryHost);
        var ex = Assert.Throws<ArgumentException>(() => client.GetRepositoryName("Hello/World"));
        Assert.Contains("'Hello/World'", ex.Message);
    }

    [Fact]
    public void An_empty_prefix_puts_apps_at_the_top_level()
    {
        var client = new OciClient(new HttpClient(), new OciRegistryOptions { Url = "http://r:1", RepositoryPrefix = "" });

        Assert.Equal("hello", client.GetRepositoryName("hello"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_di_extension_binds_Platform_Registry_from_the_root_or_the_section(bool passSection)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Platform:Registry:Url"] = "http://127.0.0.1:5999",
            ["Platform:Registry:Username"] = "bob",
            ["Platform:Registry:Password"] = "pw",
            ["Platform:Registry:RepositoryPrefix"] = "prod",
            ["Platform:Registry:RequestTimeout"] = "00:00:07",
        }).Build();
        var services = new ServiceCollection();

        services.AddOciRegistryClient(passSection ? configuration.GetSection("Platform:Registry") : configuration);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<OciRegistryOptions>>().Value;
        Assert.Equal("http://127.0.0.1:5999", options.Url);
        Assert.Equal("prod", options.RepositoryPrefix);
        Assert.Equal(TimeSpan.FromSeconds(7), options.RequestTimeout);
        var client = provider.GetRequiredService<OciClient>();
        Assert.Equal("prod/x", client.GetRepositoryName("x"));
        Assert.IsType<OciClient>(provider.GetRequiredService<IOciRegistryClient>());
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(OciServiceCollectionExtensions.HttpClientName);
        Assert.Equal(TimeSpan.FromSeconds(7), http.Timeout);
    }

    [Fact]
    public void Invalid_configuration_fails_options_validation_with_the_value_quoted()
    {
        var services = new ServiceCollection();
        services.AddOciRegistryClient(o => o.Url = "registry:5000");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<OciRegistryOptions>>().Value);

        Assert.Contains("'registry:5000'", ex.Message);
    }

    [Fact]
    public void Typed_clients_share_one_token_cache()
    {
        var services = new ServiceCollection();
        services.AddOciRegistryClient(o => o.Url = "http://127.0.0.1:5999");
        using var provider = services.BuildServiceProvider();

        var first = provider.GetRequiredService<RegistryAuthState>();
        first.StoreToken("repository:apps/x:pull", "t", DateTimeOffset.UtcNow.AddMinutes(1));

        Assert.NotSame(provider.GetRequiredService<OciClient>(), provider.GetRequiredService<OciClient>());
        Assert.Same(first, provider.GetRequiredService<RegistryAuthState>());
    }
}
