using Platform.Deploy.Tests.Support;

namespace Platform.Deploy.Tests.Unit;

/// <summary>The Dockerfiles and .dockerignore, parsed and checked; then broken on purpose to show each check bites.</summary>
[Trait("Category", "Unit")]
public sealed class DockerfileTests
{
    public static TheoryData<string> ImageNames => [.. PlatformLayout.Images.Select(i => i.Name)];

    private static PlatformImage Image(string name) => PlatformLayout.Images.Single(i => i.Name == name);

    [Theory]
    [MemberData(nameof(ImageNames))]
    public void Every_platform_image_has_a_Dockerfile_that_passes_the_checks(string name)
    {
        var image = Image(name);

        var problems = DockerfileChecks.Check(image, RepoFiles.Read(image.Dockerfile), RepoFiles.DockerIgnore());

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_dockerignore_keeps_build_output_and_secrets_out_and_the_sources_in()
    {
        var problems = DockerfileChecks.CheckIgnore(RepoFiles.DockerIgnore());

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_migrations_image_needs_the_ASP_NET_Core_runtime_through_its_data_project()
    {
        Assert.True(DockerfileChecks.NeedsAspNetCore(Platform.Testing.RepoPaths.Combine(PlatformLayout.Migrations.Project)));
    }

    private static readonly Dictionary<string, (string Image, Func<string, string> Break, string Expected)> s_mutations = new()
    {
        ["no USER"] = ("platform/router", t => t.Replace("USER $APP_UID\n", "", StringComparison.Ordinal),
            "the final stage has no USER, so the container runs as root"),
        ["USER root"] = ("platform/controlplane", t => t.Replace("USER $APP_UID", "USER root", StringComparison.Ordinal), "USER 'root' is root"),
        ["runtime on the SDK image"] = ("platform/controlplane", t => t.Replace("FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime", "FROM mcr.microsoft.com/dotnet/sdk:10.0 AS runtime", StringComparison.Ordinal),
            "the final stage is FROM 'mcr.microsoft.com/dotnet/sdk:10.0'"),
        ["migrations on the plain runtime image"] = ("platform/migrations", t => t.Replace("dotnet/aspnet:10.0", "dotnet/runtime:10.0", StringComparison.Ordinal),
            "(the project uses ASP.NET Core)"),
        ["restore after the sources"] = ("platform/router", t => MoveRestoreAfterSources(t, PlatformLayout.Router.Project),
            "must run before the sources are copied"),
        ["restore without the package versions"] = ("platform/router", t => t.Replace("-o -name 'Directory.Packages.props' ", "", StringComparison.Ordinal),
            "copy Directory.Packages.props"),
        ["publish in Debug"] = ("platform/router", t => t.Replace("-c Release", "-c Debug", StringComparison.Ordinal), "expected '-c Release'"),
        ["publish of another project"] = ("platform/router", t => t.Replace("dotnet publish src/Platform.Router/", "dotnet publish src/Platform.ControlPlane/", StringComparison.Ordinal),
            "expected 'dotnet publish src/Platform.Router/Platform.Router.csproj'"),
        ["no cache volume"] = ("platform/router", t => t.Replace("VOLUME [\"/var/cache/platform/router\", ", "VOLUME [", StringComparison.Ordinal),
            "does not include '/var/cache/platform/router'"),
        ["cache folder not owned by the app user"] = ("platform/router", t => t.Replace("&& chown \"$APP_UID:$APP_UID\" /var/cache/platform/router /var/lib/platform/router", "", StringComparison.Ordinal),
            "'/var/cache/platform/router' is not created and given to the app user"),
        ["management port not exposed"] = ("platform/router", t => t.Replace("EXPOSE 8080 9090", "EXPOSE 8080", StringComparison.Ordinal),
            "EXPOSE [8080], expected [8080, 9090]"),
        ["shell-form entrypoint"] = ("platform/controlplane", t => t.Replace("ENTRYPOINT [\"dotnet\", \"Platform.ControlPlane.dll\"]", "ENTRYPOINT dotnet Platform.ControlPlane.dll", StringComparison.Ordinal),
            "(exec form, so SIGTERM reaches the process)"),
        ["loopback bind address"] = ("platform/controlplane", t => t.Replace("Platform__ControlPlane__Url=http://0.0.0.0:5080", "Platform__ControlPlane__Url=http://127.0.0.1:5080", StringComparison.Ordinal),
            "ENV Platform__ControlPlane__Url is 'http://127.0.0.1:5080'"),
        ["copy of a missing file"] = ("platform/router", t => t.Replace("deploy/docker/healthcheck.sh", "deploy/docker/health.sh", StringComparison.Ordinal),
            "'deploy/docker/health.sh' does not exist in the repository"),
    };

    public static TheoryData<string> Mutations => [.. s_mutations.Keys];

    [Theory]
    [MemberData(nameof(Mutations))]
    public void A_broken_Dockerfile_is_rejected(string mutation)
    {
        var (name, breakIt, expected) = s_mutations[mutation];
        var image = Image(name);
        var original = RepoFiles.Read(image.Dockerfile);
        var broken = breakIt(original);
        Assert.NotEqual(original, broken); // the mutation must still match the file

        var problems = DockerfileChecks.Check(image, broken, RepoFiles.DockerIgnore());

        Assert.True(problems.Any(p => p.Contains(expected, StringComparison.Ordinal)),
            $"expected a problem containing \"{expected}\", got:\n{string.Join('\n', problems)}");
    }

    private static string MoveRestoreAfterSources(string text, string project)
    {
        var lines = text.Split('\n').ToList();
        var restore = lines.FindIndex(l => l.StartsWith($"RUN dotnet restore {project}", StringComparison.Ordinal));
        var line = lines[restore];
        lines.RemoveAt(restore);
        // After the build stage's "COPY . ." (the last one in the file).
        lines.Insert(lines.FindLastIndex(l => l == "COPY . .") + 1, line);
        return string.Join('\n', lines);
    }

    [Fact]
    public void A_dockerignore_that_drops_the_sources_or_lets_secrets_in_is_rejected()
    {
        var problems = DockerfileChecks.CheckIgnore(new DockerIgnore("**/bin/\n**/obj/\n.git/\n/src/\n"));

        Assert.Contains(problems, p => p.Contains("pattern '/src/' keeps 'src/Platform.Router/Platform.Router.csproj' out"));
        Assert.Contains(problems, p => p.Contains("lets '.env' into the build context"));
        Assert.Contains(problems, p => p.Contains("lets 'web/node_modules/x/index.js' into"));
    }

    [Theory]
    [InlineData("**/bin/", "src/A/bin/Release/a.dll", true)]
    [InlineData("**/bin/", "bin/a.dll", true)]
    [InlineData("**/bin/", "src/binary.txt", false)]
    [InlineData("/tests/", "tests/x/y.cs", true)]
    [InlineData("/tests/", "src/tests/y.cs", false)]
    [InlineData("**/*.env", "deploy/compose/platform.env", true)]
    [InlineData("**/*.env", "deploy/compose/platform.env.example", false)]
    [InlineData("docs/\n!docs/keep.md", "docs/keep.md", false)]
    [InlineData("docs/\n!docs/keep.md", "docs/other.md", true)]
    public void Dockerignore_patterns_match_as_Docker_matches_them(string patterns, string path, bool excluded)
    {
        Assert.Equal(excluded, new DockerIgnore(patterns).ExcludedBy(path) is not null);
    }

    [Fact]
    public void A_Dockerfile_without_FROM_is_reported_with_the_offending_line()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Dockerfile.Parse("RUN echo hi\n", "x.Dockerfile"));

        Assert.Contains("x.Dockerfile line 1: RUN echo hi", ex.Message);
    }

    [Fact]
    public void Continuation_lines_are_joined_into_one_instruction()
    {
        var file = Dockerfile.Parse("FROM a AS b\nRUN one \\\n    # a comment inside\n    two\nENV A=1 B=\"x y\" C=\n", "x");

        Assert.Equal("b", file.Final.Name);
        Assert.Equal("one  two", file.Final.All("RUN").Single().Arguments);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "x y", ["C"] = "" }, Dockerfile.Env(file.Final));
    }
}
