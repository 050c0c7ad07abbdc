using Platform.Router.Serving;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class SharedDomainCookiesTests
{
    private const string Host = "hello.apps.localhost";
    private const string Apps = "apps.localhost";

    [Theory]
    [InlineData("sid=1; Domain=apps.localhost", "apps.localhost")]
    [InlineData("sid=1; Path=/; domain=.apps.localhost; HttpOnly", ".apps.localhost")]
    [InlineData("sid=1; DOMAIN=APPS.LOCALHOST", "APPS.LOCALHOST")]
    [InlineData("sid=1; Domain=localhost", "localhost")]
    [InlineData("sid=1; Domain = apps.localhost. ; Secure", "apps.localhost.")]
    [InlineData("sid=1; Domain=hello.apps.localhost; Domain=apps.localhost", "apps.localhost")]
    public void A_cookie_for_the_apps_domain_or_a_parent_of_the_host_is_dropped(string header, string domain)
    {
        Assert.True(SharedDomainCookies.ShouldDrop(header, Host, Apps, out var found));
        Assert.Equal(domain, found);
    }

    [Theory]
    [InlineData("sid=1")]
    [InlineData("sid=1; Path=/; HttpOnly; SameSite=Lax")]
    [InlineData("sid=1; Domain=hello.apps.localhost")]
    [InlineData("sid=1; Domain=.HELLO.apps.localhost")]
    [InlineData("sid=1; Domain=")]
    [InlineData("sid=domain=apps.localhost")]
    [InlineData("sid=1; Path=/Domain=apps.localhost")]
    public void Host_only_cookies_and_cookies_for_the_apps_own_host_stay(string header) =>
        Assert.False(SharedDomainCookies.ShouldDrop(header, Host, Apps, out _));

    [Fact]
    public void A_sibling_apps_name_that_merely_ends_like_the_host_is_no_parent() =>
        Assert.False(SharedDomainCookies.ShouldDrop("a=1; Domain=llo.apps.localhost", Host, Apps, out _));

    [Fact]
    public void The_host_may_come_in_any_case_with_a_trailing_dot() =>
        Assert.True(SharedDomainCookies.ShouldDrop("a=1; Domain=apps.localhost", "HELLO.Apps.Localhost.", Apps, out _));

    [Theory]
    [InlineData("sid=secret-value; Domain=apps.localhost", "sid")]
    [InlineData(" token = x", "token")]
    [InlineData("bare", "bare")]
    public void The_logged_name_never_includes_the_value(string header, string name) =>
        Assert.Equal(name, SharedDomainCookies.NameOf(header));
}
