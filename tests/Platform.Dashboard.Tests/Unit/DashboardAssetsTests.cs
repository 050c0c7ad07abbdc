using Platform.Testing;

namespace Platform.Dashboard.Tests.Unit;

/// <summary>The control plane's build assembles wwwroot from web/src with web/build.mjs; nothing of it is committed.</summary>
[Trait("Category", "Unit")]
public sealed class DashboardAssetsTests
{
    [Fact]
    public async Task The_control_plane_build_leaves_exactly_what_build_mjs_makes_of_the_web_sources()
    {
        var (code, output) = await ExternalProcess.RunAsync("node", [RepoPaths.Combine("web", "build.mjs"), "--check"]);

        Assert.True(code == 0, $"node web/build.mjs --check failed ({code}):\n{output}");
    }

    [Fact]
    public async Task The_dashboard_build_is_deterministic_and_reports_a_stale_folder()
    {
        var first = Directory.CreateTempSubdirectory("dashboard-a-").FullName;
        var second = Directory.CreateTempSubdirectory("dashboard-b-").FullName;
        try
        {
            var script = RepoPaths.Combine("web", "build.mjs");
            Assert.Equal(0, (await ExternalProcess.RunAsync("node", [script, "--out", first])).ExitCode);
            Assert.Equal(0, (await ExternalProcess.RunAsync("node", [script, "--out", second])).ExitCode);
            var files = Directory.GetFiles(first, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(first, f)).Order().ToArray();
            Assert.Contains("index.html", files);
            Assert.Equal(files, Directory.GetFiles(second, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(second, f)).Order());
            foreach (var file in files)
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(first, file)), File.ReadAllBytes(Path.Combine(second, file)));
            }

            File.AppendAllText(Path.Combine(second, "index.html"), "<!-- edited -->");
            var (code, output) = await ExternalProcess.RunAsync("node", [script, "--out", second, "--check"]);
            Assert.Equal(1, code);
            Assert.Contains("differs: index.html", output);
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
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
