using Platform.Bundles;
using Platform.Contracts;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class SpinVariablesTests
{
    private static SpinManifest Parse(string variables, string componentVariables = "") => SpinManifestParser.Parse($$"""
        spin_manifest_version = 2
        [application]
        name = "vars"
        {{variables}}
        [[trigger.http]]
        route = "/..."
        component = "web"
        [component.web]
        source = "web.wasm"
        {{componentVariables}}
        """);

    private static BundleException Refused(string variables, string componentVariables = "") =>
        Assert.Throws<BundleException>(() => Parse(variables, componentVariables));

    [Fact]
    public void Application_variables_and_component_templates_are_parsed_as_spin_writes_them()
    {
        var manifest = Parse("""
            [variables]
            greeting = { default = "hello" }
            api_token = { required = true, secret = true, description = "the upstream's token" }
            """, """variables = { message = "{{ greeting }}, {{greeting}}!", token = "Bearer {{api_token}}", plain = "no templates" }""");

        Assert.Equal(new SpinVariableDeclaration("hello", false, false), manifest.Variables["greeting"]);
        Assert.Equal(new SpinVariableDeclaration(null, true, true), manifest.Variables["api_token"]);
        var web = Assert.Single(manifest.Components);
        Assert.Equal("{{ greeting }}, {{greeting}}!", web.Variables["message"]);
        Assert.Equal(3, web.Variables.Count);
    }

    [Theory]
    [InlineData("Token = { default = \"x\" }", "'Token'")]
    [InlineData("1token = { default = \"x\" }", "'1token'")]
    [InlineData("to__ken = { default = \"x\" }", "'to__ken'")]
    [InlineData("token_ = { default = \"x\" }", "'token_'")]
    [InlineData("\"to-ken\" = { default = \"x\" }", "'to-ken'")]
    [InlineData("token = { default = \"x\", required = true }", "'token'")]
    [InlineData("token = { secret = true }", "'token'")]
    [InlineData("token = { default = 1 }", "'variables.token.default'")]
    [InlineData("token = { required = \"yes\" }", "'variables.token.required'")]
    [InlineData("token = { default = \"x\", sensitive = true }", "'variables.token.sensitive'")]
    [InlineData("token = \"x\"", "'variables.token'")]
    public void A_bad_variable_declaration_is_refused_quoting_it(string declaration, string quoted)
    {
        var ex = Refused("[variables]\n" + declaration);

        Assert.Equal(422, ex.Status);
        Assert.Contains(quoted, ex.Message);
    }

    [Theory]
    [InlineData("variables = { message = \"{{ ghost }}\" }", "unknown-variable", "'ghost'")]
    [InlineData("variables = { message = \"{{ greeting \" }", "invalid-variable", "{{ greeting ")]
    [InlineData("variables = { message = \"{{ Greeting }}\" }", "invalid-variable", "Greeting")]
    [InlineData("variables = { Message = \"x\" }", "invalid-variable", "'Message'")]
    [InlineData("variables = { message = 1 }", "invalid-manifest", "'component.web.variables.message'")]
    public void A_bad_component_variable_is_refused_naming_the_component_key_and_value(string componentVariables, string kind, string quoted)
    {
        var ex = Refused("[variables]\ngreeting = { default = \"hi\" }", componentVariables);

        Assert.Equal(422, ex.Status);
        Assert.Equal(kind, ex.Kind);
        Assert.Contains(quoted, ex.Message);
        if (kind != "invalid-manifest")
        {
            Assert.Contains("'web'", ex.Message);
        }
    }

    [Fact]
    public void A_template_referring_to_a_variable_of_an_app_without_variables_is_refused()
    {
        var ex = Refused("", "variables = { message = \"{{ greeting }}\" }");

        Assert.Equal("unknown-variable", ex.Kind);
        Assert.Contains("'greeting'", ex.Message);
        Assert.Contains("no variables", ex.Message);
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("plain", new[] { "L:plain" })]
    [InlineData("a-{{ x }}-b", new[] { "L:a-", "V:x", "L:-b" })]
    [InlineData("{{x}}{{  y_1  }}", new[] { "V:x", "V:y_1" })]
    [InlineData("one } and { brace", new[] { "L:one } and { brace" })]
    public void Templates_split_into_literals_and_variable_names_as_spin_splits_them(string text, string[] parts)
    {
        Assert.True(SpinTemplate.TryParse(text, out var template, out var error), error);

        Assert.Equal(parts, template.Parts.Select(p => (p.IsVariable ? "V:" : "L:") + p.Text));
    }

    [Theory]
    [InlineData("{{ matched }} {{ unmatched")]
    [InlineData("{{ }}")]
    [InlineData("{{ a b }}")]
    public void Malformed_templates_are_refused(string text)
    {
        Assert.False(SpinTemplate.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("a", null)]
    [InlineData("api_token2", null)]
    [InlineData("", "empty")]
    [InlineData("_a", "start")]
    [InlineData("a_", "end")]
    [InlineData("a__b", "two underscores")]
    [InlineData("a-b", "'-'")]
    [InlineData("aB", "'B'")]
    public void Names_follow_spins_rule(string name, string? reason)
    {
        var error = SpinVariables.NameError(name);
        if (reason is null)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.NotNull(error);
            Assert.Contains(reason, error);
        }
    }

    private static readonly Dictionary<string, SpinVariableDeclaration> Declarations = new()
    {
        ["greeting"] = new("hello"),
        ["api_token"] = new(null, Required: true, Secret: true),
    };

    [Fact]
    public void A_value_comes_from_the_spin_variable_app_variable_then_the_exact_name_then_the_default()
    {
        var templates = new Dictionary<string, string> { ["message"] = "{{ greeting }}, world" };

        Assert.Equal("hello, world", SpinVariables.ResolveComponent(templates, Declarations, null)["message"].Value);
        Assert.Equal("hi, world", SpinVariables.ResolveComponent(templates, Declarations, new Dictionary<string, string> { ["greeting"] = "hi" })["message"].Value);
        Assert.Equal("hey, world", SpinVariables.ResolveComponent(templates, Declarations,
            new Dictionary<string, string> { ["greeting"] = "hi", ["SPIN_VARIABLE_GREETING"] = "hey" })["message"].Value);
        Assert.Equal("SPIN_VARIABLE_API_TOKEN", SpinVariables.EnvironmentName("api_token"));
    }

    [Fact]
    public void A_required_variable_without_a_value_is_an_error_naming_the_app_variable_to_set()
    {
        var templates = new Dictionary<string, string> { ["token"] = "Bearer {{ api_token }}", ["message"] = "{{ greeting }}" };

        var resolved = SpinVariables.ResolveComponent(templates, Declarations, null);

        Assert.Null(resolved["token"].Value);
        Assert.Contains("SPIN_VARIABLE_API_TOKEN", resolved["token"].Error);
        Assert.Equal("hello", resolved["message"].Value);
        var set = SpinVariables.ResolveComponent(templates, Declarations, new Dictionary<string, string> { ["SPIN_VARIABLE_API_TOKEN"] = "s3cret" });
        Assert.Equal("Bearer s3cret", set["token"].Value);
        Assert.True(set["token"].Secret);
        Assert.False(set["message"].Secret);
    }

    [Fact]
    public void A_template_naming_an_undeclared_variable_resolves_to_an_error_not_an_exception()
    {
        var resolved = SpinVariables.ResolveComponent(new Dictionary<string, string> { ["a"] = "{{ ghost }}", ["b"] = "{{ broken" }, Declarations, null);

        Assert.Contains("'ghost'", resolved["a"].Error);
        Assert.Contains("invalid", resolved["b"].Error);
    }
}

[Trait("Category", "Unit")]
public sealed class SpinVariablesLockedAppTests
{
    private const string Manifest = """
        spin_manifest_version = 2
        [application]
        name = "vars"
        [variables]
        greeting = { default = "hello" }
        api_token = { required = true, secret = true }
        [[trigger.http]]
        route = "/..."
        component = "web"
        [component.web]
        source = "web.wasm"
        variables = { message = "{{ greeting }}!", token = "{{ api_token }}" }
        """;

    private static readonly byte[] Module = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    [Fact]
    public void The_locked_app_carries_variables_and_component_config_as_spin_writes_them_and_reads_them_back()
    {
        var bundle = ResolvedBundle.Resolve(BundleArchive.FromFiles(new Dictionary<string, byte[]> { ["web.wasm"] = Module }, Manifest), SpinManifestParser.Parse(Manifest));

        var config = BundleLayout.LockedApp(bundle);
        var json = System.Text.Json.JsonDocument.Parse(config).RootElement;
        Assert.Equal("hello", json.GetProperty("variables").GetProperty("greeting").GetProperty("default").GetString());
        Assert.False(json.GetProperty("variables").GetProperty("api_token").TryGetProperty("default", out _));
        Assert.True(json.GetProperty("variables").GetProperty("api_token").GetProperty("secret").GetBoolean());
        Assert.Equal("{{ greeting }}!", json.GetProperty("components")[0].GetProperty("config").GetProperty("message").GetString());

        var locked = LockedAppReader.Read(config);
        Assert.Equal(new SpinVariableDeclaration("hello", false, false), locked.Manifest.Variables["greeting"]);
        Assert.Equal(new SpinVariableDeclaration(null, true, true), locked.Manifest.Variables["api_token"]);
        Assert.Equal("{{ api_token }}", Assert.Single(locked.Manifest.Components).Variables["token"]);
    }

    [Theory]
    [InlineData("""{"variables":{"Bad":{"default":"x"}},"triggers":[],"components":[]}""", "'Bad'")]
    [InlineData("""{"variables":{},"triggers":[],"components":[{"id":"web","source":{"content":{"digest":"sha256:00"}},"config":{"k":"{{ ghost }}"}}]}""", "'ghost'")]
    [InlineData("""{"triggers":[],"components":[{"id":"web","source":{"content":{"digest":"sha256:00"}},"config":{"k":"{{ open"}}]}""", "{{ open")]
    public void A_locked_app_with_bad_variables_is_refused_quoting_them(string config, string quoted)
    {
        var ex = Assert.Throws<BundleException>(() => LockedAppReader.Read(System.Text.Encoding.UTF8.GetBytes(config)));

        Assert.Equal(422, ex.Status);
        Assert.Contains(quoted, ex.Message);
    }
}
