using System.Text;
using Platform.Runtime;
using Platform.Runtime.Components;
using Xunit.Abstractions;

namespace Platform.Runtime.Components.Tests.Integration;

/// <summary>
/// Real components (tests/apps/components/variables.wat and config-store.wat) importing
/// fermyon:spin/variables@2.0.0 and wasi:config/store@0.2.0-draft, answering with what the host gives them.
/// </summary>
[Collection(ComponentCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SpinVariablesComponentTests(ComponentFixture fixture, ITestOutputHelper output)
{
    private static readonly AppLimits Limits = AppLimits.Default with { WallTime = TimeSpan.FromSeconds(5), MemoryBytes = 32L * 1024 * 1024 };

    private static readonly ComponentVariables Variables = new("web",
    [
        KeyValuePair.Create("greeting", new ComponentVariable("hello, world", null)),
        KeyValuePair.Create("api_token", new ComponentVariable(null, "the required variable 'token' has no value")),
    ]);

    private (int Status, string Body) Get(string app, string path, ComponentVariables variables)
    {
        var request = ComponentFixture.Get(path) with { Variables = variables };
        var result = fixture.Host.Execute(fixture.Load(app), request, Limits, null, CancellationToken.None);
        output.WriteLine($"{app} {path}: {result.Outcome} {result.StatusCode} {result.Error}");
        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        return (result.StatusCode, Encoding.UTF8.GetString(result.Body.Span));
    }

    [Fact]
    public void Spin_variables_get_returns_the_components_value()
    {
        Assert.Equal((200, "hello, world"), Get("variables", "/greeting", Variables));
    }

    [Fact]
    public void Spin_variables_get_of_a_key_the_component_lacks_is_undefined()
    {
        var (status, body) = Get("variables", "/missing", Variables);

        Assert.Equal(500, status);
        Assert.StartsWith("1:", body);
        Assert.Contains("\"web\".\"missing\"", body);
    }

    [Fact]
    public void Spin_variables_get_of_a_required_variable_without_a_value_is_undefined_with_the_reason()
    {
        var (status, body) = Get("variables", "/api_token", Variables);

        Assert.Equal(500, status);
        Assert.Equal("1:the required variable 'token' has no value", body);
    }

    [Theory]
    [InlineData("/Greeting")]
    [InlineData("/4name")]
    [InlineData("/two__underscores")]
    [InlineData("/trailing_")]
    [InlineData("/")]
    [InlineData("/invalid-name")]
    public void Spin_variables_get_with_a_name_Spin_refuses_is_invalid_name(string path)
    {
        var (status, body) = Get("variables", path, Variables);

        Assert.Equal(500, status);
        Assert.StartsWith("0:", body);
    }

    [Fact]
    public void A_component_without_variables_gets_undefined_not_a_trap()
    {
        var (status, body) = Get("variables", "/greeting", ComponentVariables.Empty);

        Assert.Equal(500, status);
        Assert.StartsWith("1:", body);
    }

    [Fact]
    public void A_very_long_name_from_the_guest_is_refused_as_invalid_and_quoted_shortened()
    {
        var (status, body) = Get("variables", "/" + new string('A', 100_000), Variables);

        Assert.Equal(500, status);
        Assert.StartsWith("0:", body);
        Assert.True(body.Length < 300, body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Wasi_config_store_get_returns_the_value_none_for_unknown_keys_and_upstream_for_unset_ones()
    {
        Assert.Equal((200, "hello, world"), Get("config-store", "/greeting", Variables));
        Assert.Equal((404, ""), Get("config-store", "/missing", Variables));
        Assert.Equal((404, ""), Get("config-store", "/Not-A-Name", Variables));
        Assert.Equal((500, "0:the required variable 'token' has no value"), Get("config-store", "/api_token", Variables));
    }

    [Fact]
    public void Wasi_config_store_get_all_lists_every_variable_or_fails_when_one_has_no_value()
    {
        var complete = new ComponentVariables("web",
        [
            KeyValuePair.Create("b_key", new ComponentVariable("two", null)),
            KeyValuePair.Create("a_key", new ComponentVariable("one", null)),
        ]);

        Assert.Equal((200, "a_key=one\nb_key=two\n"), Get("config-store", "/", complete));
        Assert.Equal((200, ""), Get("config-store", "/", ComponentVariables.Empty));
        var (status, body) = Get("config-store", "/", Variables);
        Assert.Equal(500, status);
        Assert.StartsWith("0:variable 'api_token'", body);
    }

    [Fact]
    public void Components_importing_the_variables_interfaces_validate_for_upload()
    {
        Assert.Null(fixture.Host.Validate(ComponentFixture.Bytes("variables"), out var variables));
        variables!.Dispose();
        Assert.Null(fixture.Host.Validate(ComponentFixture.Bytes("config-store"), out var store));
        store!.Dispose();
    }

    [Fact]
    public void A_js_app_built_with_j2w_reads_its_variables_through_the_spin_variables_import()
    {
        var (status, body) = Get("js-vars", "/greeting", Variables);
        Assert.Equal((200, "hello, world"), (status, body));

        var (missingStatus, missing) = Get("js-vars", "/missing", Variables);
        Assert.Equal(404, missingStatus);
        Assert.StartsWith("undefined: ", missing);

        var (invalidStatus, invalid) = Get("js-vars", "/Bad-Name", Variables);
        Assert.Equal(404, invalidStatus);
        Assert.StartsWith("invalid-name: ", invalid);
    }
}
