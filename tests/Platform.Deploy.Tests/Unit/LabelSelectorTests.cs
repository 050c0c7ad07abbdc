using Platform.Deploy.Tests.Support;

namespace Platform.Deploy.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> s_router = new() { ["app.kubernetes.io/name"] = "router", ["tier"] = "edge" };

    private static Dictionary<string, object?> Selector(string yaml) => Yaml.LoadMapping(yaml, "selector");

    [Theory]
    [InlineData("{}", true)]
    [InlineData("matchLabels: {app.kubernetes.io/name: router}", true)]
    [InlineData("matchLabels: {app.kubernetes.io/name: controlplane}", false)]
    [InlineData("matchLabels: {app.kubernetes.io/name: router, tier: core}", false)]
    [InlineData("matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [controlplane, router]}]", true)]
    [InlineData("matchExpressions: [{key: app.kubernetes.io/name, operator: NotIn, values: [router]}]", false)]
    [InlineData("matchExpressions: [{key: tier, operator: Exists}]", true)]
    [InlineData("matchExpressions: [{key: tier, operator: DoesNotExist}]", false)]
    [InlineData("matchExpressions: [{key: zone, operator: NotIn, values: [a]}]", true)]
    public void Selectors_match_labels_as_the_Kubernetes_API_defines(string selector, bool matches)
    {
        Assert.Equal(matches, LabelSelectors.Matches(Selector(selector), s_router));
    }

    [Fact]
    public void An_unknown_operator_is_an_error_that_quotes_it()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LabelSelectors.Matches(Selector("matchExpressions: [{key: tier, operator: Like, values: [e]}]"), s_router));

        Assert.Contains("'Like'", ex.Message);
    }
}
