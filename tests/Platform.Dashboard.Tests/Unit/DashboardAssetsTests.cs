using Platform.Testing;

namespace Platform.Dashboard.Tests.Unit;

/// <summary>The control plane serves the committed wwwroot as is, so it must be exactly what web/build.mjs makes of web/src.</summary>
[Trait("Category", "Unit")]
public sealed class DashboardAssetsTests
{
    [Fact]
    public async Task The_committed_dashboard_assets_are_exactly_what_the_build_makes_of_the_web_sources()
    {
        var (code, output) = await ExternalProcess.RunAsync("node", [RepoPaths.Combine("web", "build.mjs"), "--check"]);

        Assert.True(code == 0, $"node web/build.mjs --check failed ({code}):\n{output}");
    }

    [Fact]
    public void Every_script_and_stylesheet_the_page_loads_carries_a_content_version()
    {
        var html = File.ReadAllText(RepoPaths.Combine("src", "Platform.ControlPlane", "wwwroot", "index.html"));

        Assert.Matches("""<link rel="stylesheet" href="/css/app\.css\?v=[0-9a-f]{12}">""", html);
        Assert.Matches("""<script type="module" src="/js/main\.js\?v=[0-9a-f]{12}"></script>""", html);
        Assert.Matches("\"/js/api\\.js\": \"/js/api\\.js\\?v=[0-9a-f]{12}\"", html);
        Assert.Contains("Content-Security-Policy", html);
    }
}
