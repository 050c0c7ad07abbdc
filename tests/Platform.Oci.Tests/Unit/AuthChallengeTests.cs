namespace Platform.Oci.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AuthChallengeTests
{
    [Fact]
    public void A_distribution_bearer_challenge_yields_realm_service_and_scope()
    {
        var c = Assert.Single(AuthChallenge.Parse(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\""));

        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.docker.io/token", c.Realm);
        Assert.Equal("registry.docker.io", c.Service);
        Assert.Equal("repository:samalba/my-app:pull,push", c.Scope);
        Assert.Null(c.Token68);
    }

    [Fact]
    public void A_basic_challenge_yields_its_realm()
    {
        var c = Assert.Single(AuthChallenge.Parse("Basic realm=\"Registry Realm\""));

        Assert.True(c.IsBasic);
        Assert.False(c.IsBearer);
        Assert.Equal("Registry Realm", c.Realm);
    }

    [Theory]
    [InlineData("bearer realm=\"r\"")]
    [InlineData("BEARER realm=\"r\"")]
    [InlineData("Bearer REALM=\"r\"")]
    public void Scheme_and_parameter_names_are_case_insensitive(string header)
    {
        var c = Assert.Single(AuthChallenge.Parse(header));

        Assert.True(c.IsBearer);
        Assert.Equal("r", c.Realm);
    }

    [Fact]
    public void Commas_and_equals_signs_inside_quoted_values_do_not_split_parameters()
    {
        var c = Assert.Single(AuthChallenge.Parse(
            "Bearer realm=\"https://a.example/token?x=1,y=2\",scope=\"repository:a/b:pull,push repository:c/d:pull\""));

        Assert.Equal("https://a.example/token?x=1,y=2", c.Realm);
        Assert.Equal("repository:a/b:pull,push repository:c/d:pull", c.Scope);
        Assert.Equal(2, c.Parameters.Count);
    }

    [Fact]
    public void Escaped_quotes_and_backslashes_in_quoted_values_are_unescaped()
    {
        var c = Assert.Single(AuthChallenge.Parse("Basic realm=\"say \\\"hi\\\" \\\\ bye\""));

        Assert.Equal("say \"hi\" \\ bye", c.Realm);
    }

    [Fact]
    public void Unquoted_token_values_and_whitespace_around_separators_are_accepted()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer   realm = https://r.example/t ,  service=svc  ,error=insufficient_scope"));

        Assert.Equal("https://r.example/t", c.Realm);
        Assert.Equal("svc", c.Service);
        Assert.Equal("insufficient_scope", c.Error);
    }

    [Fact]
    public void Several_challenges_in_one_header_are_all_returned_in_order()
    {
        var challenges = AuthChallenge.Parse(
            "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\", Bearer realm=\"https://t\",service=\"s\"");

        Assert.Equal(["Newauth", "Basic", "Bearer"], challenges.Select(c => c.Scheme));
        Assert.Equal("1", challenges[0].Get("type"));
        Assert.Equal("Login to \"apps\"", challenges[0].Get("title"));
        Assert.Equal("simple", challenges[1].Realm);
        Assert.Equal("s", challenges[2].Service);
    }

    [Fact]
    public void Challenges_from_several_header_values_are_combined()
    {
        var challenges = AuthChallenge.Parse(["Basic realm=\"a\"", "Bearer realm=\"b\""]);

        Assert.Equal(["a", "b"], challenges.Select(c => c.Realm));
    }

    [Fact]
    public void A_scheme_without_parameters_followed_by_another_challenge_is_parsed()
    {
        var challenges = AuthChallenge.Parse("Negotiate, Basic realm=\"x\"");

        Assert.Equal(["Negotiate", "Basic"], challenges.Select(c => c.Scheme));
        Assert.Empty(challenges[0].Parameters);
        Assert.Equal("x", challenges[1].Realm);
    }

    [Fact]
    public void A_token68_challenge_keeps_its_padding()
    {
        var challenges = AuthChallenge.Parse("Negotiate a87421/+b==, Basic realm=\"x\"");

        Assert.Equal("a87421/+b==", challenges[0].Token68);
        Assert.Empty(challenges[0].Parameters);
        Assert.Equal("x", challenges[1].Realm);
    }

    [Fact]
    public void Empty_list_elements_are_ignored()
    {
        var c = Assert.Single(AuthChallenge.Parse(" , Bearer realm=\"r\",,service=\"s\", "));

        Assert.Equal("r", c.Realm);
        Assert.Equal("s", c.Service);
    }

    [Fact]
    public void An_empty_header_has_no_challenges()
    {
        Assert.Empty(AuthChallenge.Parse(""));
    }

    [Theory]
    [InlineData("Bearer realm=\"unterminated")]
    [InlineData("Bearer realm=\"a\" service=\"b\"")]
    [InlineData("\"quoted-scheme\"")]
    [InlineData("Bearer realm=\"a\"; service=b")]
    public void Malformed_headers_fail_with_a_message_quoting_the_value(string header)
    {
        var ex = Assert.Throws<FormatException>(() => AuthChallenge.Parse(header));

        Assert.Contains($"'{header}'", ex.Message);
        Assert.False(AuthChallenge.TryParse(header, out var none));
        Assert.Empty(none);
    }

    [Fact]
    public void Missing_parameters_read_as_null()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"r\""));

        Assert.Null(c.Service);
        Assert.Null(c.Scope);
    }

    [Fact]
    public void ToString_round_trips_through_Parse()
    {
        var original = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://t/x?a=1,b=2\",scope=\"a \\\"b\\\"\""));

        var again = Assert.Single(AuthChallenge.Parse(original.ToString()));

        Assert.Equal(original.Realm, again.Realm);
        Assert.Equal(original.Scope, again.Scope);
    }
}
