using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Contracts;
using Platform.Router.Routing;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class SecretSealerTests
{
    private const string Token = "router-token-for-the-sealer-tests-0123456789";

    [Fact]
    public void A_sealed_secret_opens_with_the_same_token_app_and_name()
    {
        var sealer = new SecretSealer(Token);
        var sealedValue = sealer.Seal("shop", "DB_PASSWORD", "hunter2-ünïcode");

        Assert.StartsWith(SecretSealer.Prefix, sealedValue);
        Assert.DoesNotContain("hunter2", sealedValue);
        Assert.Equal("hunter2-ünïcode", new SecretSealer(Token).Open("shop", "DB_PASSWORD", sealedValue));
    }

    [Fact]
    public void Sealing_the_same_value_twice_gives_different_ciphertexts() =>
        Assert.NotEqual(new SecretSealer(Token).Seal("a", "N", "v"), new SecretSealer(Token).Seal("a", "N", "v"));

    [Fact]
    public void Another_token_does_not_open_it() =>
        Assert.ThrowsAny<CryptographicException>(() =>
            new SecretSealer("another-router-token-0123456789abcdef").Open("shop", "DB_PASSWORD", new SecretSealer(Token).Seal("shop", "DB_PASSWORD", "v")));

    [Theory]
    [InlineData("other", "DB_PASSWORD")]
    [InlineData("shop", "API_KEY")]
    public void A_sealed_value_moved_to_another_app_or_name_does_not_open(string app, string name)
    {
        var sealer = new SecretSealer(Token);
        var sealedValue = sealer.Seal("shop", "DB_PASSWORD", "v");
        Assert.ThrowsAny<CryptographicException>(() => sealer.Open(app, name, sealedValue));
    }

    [Theory]
    [InlineData("plain text")]
    [InlineData("sealed:v1:not base64!")]
    [InlineData("sealed:v1:AAAA")]
    public void A_value_that_was_not_sealed_or_is_damaged_does_not_open(string value) =>
        Assert.ThrowsAny<CryptographicException>(() => new SecretSealer(Token).Open("shop", "N", value));

    [Fact]
    public void An_altered_ciphertext_does_not_open()
    {
        var sealer = new SecretSealer(Token);
        var bytes = Convert.FromBase64String(sealer.Seal("shop", "N", "value")[SecretSealer.Prefix.Length..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => sealer.Open("shop", "N", SecretSealer.Prefix + Convert.ToBase64String(bytes)));
    }

    [Fact]
    public void A_table_round_trips_with_no_secret_value_in_its_saved_form()
    {
        var route = new RouteEntry("shop", 1, "sha256:" + new string('a', 64), "apps/shop", "r", 1, 1, new Dictionary<string, string> { ["MODE"] = "prod" },
            Secrets: new Dictionary<string, string> { ["DB_PASSWORD"] = "s3cr3t-value", ["API_KEY"] = "k3y-value" });
        var table = new RoutingTable("rev", DateTimeOffset.UnixEpoch, [route, route with { App = "plain", Secrets = null }]);
        var sealer = new SecretSealer(Token);

        var saved = JsonSerializer.Serialize(sealer.SealAll(table));
        var opened = sealer.OpenAll(JsonSerializer.Deserialize<RoutingTable>(saved)!);

        Assert.DoesNotContain("s3cr3t-value", saved);
        Assert.DoesNotContain("k3y-value", saved);
        Assert.Contains("DB_PASSWORD", saved);
        Assert.Equal("s3cr3t-value", opened.Routes[0].Secrets!["DB_PASSWORD"]);
        Assert.Equal("k3y-value", opened.Routes[0].Secrets!["API_KEY"]);
        Assert.Null(opened.Routes[1].Secrets);
        Assert.Equal("prod", opened.Routes[0].Variables["MODE"]);
    }
}
