using Platform.Contracts;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class HttpRoutePatternTests
{
    [Theory]
    [InlineData("/foo/bar", "/foo/bar", "")]
    [InlineData("/foo/bar", "/foo/bar/", "")]
    [InlineData("/foo/bar/", "/foo/bar", "")]
    [InlineData("/", "/", "")]
    [InlineData("/...", "/", "/")]
    [InlineData("/...", "/a/b", "/a/b")]
    [InlineData("/static/...", "/static", "")]
    [InlineData("/static/...", "/static/", "/")]
    [InlineData("/static/...", "/static/css/site.css", "/css/site.css")]
    [InlineData("/users/:id", "/users/42", "")]
    [InlineData("/users/:id/...", "/users/42/posts/7", "/posts/7")]
    public void A_route_matches_the_paths_spin_would_send_it(string route, string path, string pathInfo)
    {
        Assert.True(HttpRoutePattern.Parse(route).TryMatch(path, out var rest));
        Assert.Equal(pathInfo, rest);
    }

    [Theory]
    [InlineData("/foo/bar", "/foo")]
    [InlineData("/foo/bar", "/foo/bar/baz")]
    [InlineData("/foo/bar", "/foo/barn")]
    [InlineData("/static/...", "/staticfiles")]
    [InlineData("/static/...", "/")]
    [InlineData("/users/:id", "/users")]
    [InlineData("/users/:id", "/users//")]
    [InlineData("/users/:id", "/users/1/2")]
    [InlineData("/", "/a")]
    public void A_route_does_not_match_other_paths(string route, string path) =>
        Assert.False(HttpRoutePattern.Parse(route).TryMatch(path, out _));

    [Theory]
    [InlineData("")]
    [InlineData("foo")]
    [InlineData("/a//b")]
    [InlineData("/a/.../b")]
    [InlineData("/a/../b")]
    [InlineData("/a b")]
    [InlineData("/a?b")]
    [InlineData("/a/:")]
    [InlineData("/a/:x/:x")]
    public void Malformed_routes_are_refused_with_the_route_quoted(string route)
    {
        Assert.False(HttpRoutePattern.TryParse(route, out _, out var error));
        Assert.Contains(route.Length == 0 ? "empty" : $"'{route}'", error);
    }

    [Theory]
    [InlineData("/a/b", "/a/b/")]
    [InlineData("/a/...", "/a/.../")]
    [InlineData("/...", "/.../")]
    public void Routes_differing_only_in_a_trailing_slash_are_the_same_route(string a, string b) =>
        Assert.Equal(HttpRoutePattern.Parse(a).Canonical, HttpRoutePattern.Parse(b).Canonical);

    [Fact]
    public void The_most_specific_route_sorts_first()
    {
        string[] routes = ["/...", "/api/...", "/api/exact", "/api/:name", "/api/v1/...", "/static/..."];
        var sorted = routes.Select(HttpRoutePattern.Parse).Order().Select(r => r.Route).ToArray();
        Assert.Equal(["/api/exact", "/api/:name", "/api/v1/...", "/api/...", "/static/...", "/..."], sorted);
        // An exact route beats the wildcard of the same prefix.
        Assert.True(HttpRoutePattern.Parse("/api").CompareTo(HttpRoutePattern.Parse("/api/...")) < 0);
    }

    [Fact]
    public void Named_segments_yield_their_values() =>
        Assert.Equal([new("id", "42"), new("post", "7")],
            HttpRoutePattern.Parse("/users/:id/posts/:post").NamedValues("/users/42/posts/7"));
}
