using Platform.Runtime;

namespace Platform.Runtime.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class WagiDynamicRouteTests
{
    [Fact]
    public void Lines_of_path_and_entrypoint_are_parsed_skipping_blank_lines_and_extra_spaces()
    {
        var routes = WagiDynamicRoute.Parse("/hello hello\r\n\n  /files/...\t files  \n");

        Assert.Equal([new WagiDynamicRoute("/hello", "hello"), new WagiDynamicRoute("/files/...", "files")], routes);
    }

    [Theory]
    [InlineData("/hello")]
    [InlineData("/hello hello extra")]
    [InlineData("hello hello")]
    public void A_line_that_is_not_path_and_entrypoint_is_refused_quoting_it(string line)
    {
        var error = Assert.Throws<FormatException>(() => WagiDynamicRoute.Parse("/ok ok\n" + line));

        Assert.Contains($"'{line}'", error.Message);
    }

    [Fact]
    public void A_sub_path_goes_below_the_route_prefix()
    {
        Assert.Equal("/api/hello", new WagiDynamicRoute("/hello", "h").Under("/api"));
        Assert.Equal("/hello", new WagiDynamicRoute("/hello", "h").Under("/"));
        Assert.Equal("/api/", new WagiDynamicRoute("/", "h").Under("/api"));
    }
}
