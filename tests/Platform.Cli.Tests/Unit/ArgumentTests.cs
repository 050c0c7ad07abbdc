using System.Formats.Tar;
using System.IO.Compression;
using Platform.Cli;
using Platform.Cli.Commands;

namespace Platform.Cli.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class ArgumentTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("10m", "2026-12-01T11:50:00.000Z")]
    [InlineData("30s", "2026-12-01T11:59:30.000Z")]
    [InlineData("2h", "2026-12-01T10:00:00.000Z")]
    [InlineData("1d", "2026-11-30T12:00:00.000Z")]
    [InlineData("2026-11-30T08:00:00Z", "2026-11-30T08:00:00Z")]
    public void Since_accepts_durations_and_rfc3339_times(string since, string expected) =>
        Assert.Equal(expected, LogsCommand.SinceTime(since, s_now));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("10")]
    [InlineData("10w")]
    [InlineData("2026-11-30")]
    public void Since_refuses_anything_else_and_quotes_it(string since) =>
        Assert.Contains($"'{since}'", Assert.Throws<CliException>(() => LogsCommand.SinceTime(since, s_now)).Message);

    [Fact]
    public void The_query_carries_tail_and_an_escaped_since()
    {
        Assert.Equal("", LogsCommand.Query(null, null, s_now));
        Assert.Equal("?tail=5&since=2026-12-01T11%3A50%3A00.000Z", LogsCommand.Query(5, "10m", s_now));
        Assert.Throws<CliException>(() => LogsCommand.Query(0, null, s_now));
    }

    [Fact]
    public void The_application_name_comes_from_the_application_table_of_spin_toml()
    {
        Assert.Equal("shop", DeployCommand.ApplicationName("spin_manifest_version = 2\n[application]\nname = \"shop\"\n[component.x]\nname = \"no\"\n"));
        Assert.Null(DeployCommand.ApplicationName("[component.x]\nname = \"no\"\n"));
    }

    [Fact]
    public void A_bundle_is_a_gzipped_tar_of_the_directory_without_dot_git()
    {
        var dir = Directory.CreateTempSubdirectory("platform-pack-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "spin.toml"), "x");
            Directory.CreateDirectory(Path.Combine(dir, "static", "css"));
            File.WriteAllText(Path.Combine(dir, "static", "css", "a.css"), "body{}");
            Directory.CreateDirectory(Path.Combine(dir, ".git"));
            File.WriteAllText(Path.Combine(dir, ".git", "HEAD"), "ref");

            using var gzip = new GZipStream(new MemoryStream(DeployCommand.Pack(dir)), CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            var names = new List<string>();
            while (tar.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
            }
            Assert.Equal(["spin.toml", "static/css/a.css"], names);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Resolve_picks_a_module_or_a_bundle_and_names_the_app()
    {
        var dir = Directory.CreateTempSubdirectory("platform-resolve-").FullName;
        try
        {
            var wasm = Path.Combine(dir, "hello.wasm");
            File.WriteAllBytes(wasm, [0, 0x61, 0x73, 0x6d]);
            var module = DeployCommand.Resolve(wasm, null);
            Assert.Equal(("hello", "application/wasm", false), (module.App, module.ContentType, module.IsBundle));
            Assert.Contains("has no spin.toml", Assert.Throws<CliException>(() => DeployCommand.Resolve(dir, null)).Message);
            File.WriteAllText(Path.Combine(dir, "spin.toml"), "[application]\nname = \"site\"\n");
            var bundle = DeployCommand.Resolve(dir, null);
            Assert.Equal(("site", "application/gzip", true), (bundle.App, bundle.ContentType, bundle.IsBundle));
            Assert.Equal("other", DeployCommand.Resolve(Path.Combine(dir, "spin.toml"), "other").App);
            Assert.Contains("does not exist", Assert.Throws<CliException>(() => DeployCommand.Resolve(Path.Combine(dir, "nope.wasm"), null)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
