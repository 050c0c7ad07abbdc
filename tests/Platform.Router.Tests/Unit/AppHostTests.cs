using Platform.Router.Routing;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppHostTests
{
    [Theory]
    [InlineData("hello.apps.localhost", "hello")]
    [InlineData("HELLO.Apps.LocalHost", "hello")]
    [InlineData("my-app.apps.localhost", "my-app")]
    [InlineData("hello.apps.localhost.", "hello")]
    public void An_app_host_maps_to_its_lower_case_app_name(string host, string app) =>
        Assert.Equal(app, AppHost.AppNameOf(host, "apps.localhost"));

    [Theory]
    [InlineData("apps.localhost")]
    [InlineData(".apps.localhost")]
    [InlineData("a.b.apps.localhost")]
    [InlineData("helloapps.localhost")]
    [InlineData("hello.apps.localhost.evil.com")]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("apps.localhost.")]
    [InlineData("hello.apps.localhost..")]
    public void Hosts_that_are_not_one_label_under_the_app_domain_map_to_no_app(string host) =>
        Assert.Null(AppHost.AppNameOf(host, "apps.localhost"));
}
