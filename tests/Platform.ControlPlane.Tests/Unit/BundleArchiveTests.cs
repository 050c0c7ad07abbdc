using System.Formats.Tar;
using Platform.Bundles;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class BundleArchiveTests
{
    private static readonly BundleOptions Options = new();

    [Fact]
    public void A_single_top_level_directory_holding_spin_toml_is_taken_as_the_root()
    {
        var bytes = new BundleBuilder().Directory("app/").File("app/spin.toml", "x = 1").File("app/static/a.txt", "a").TarGz();
        var archive = BundleArchive.Read(new MemoryStream(bytes), Options);
        Assert.Equal(["spin.toml", "static/a.txt"], archive.FilePaths);
    }

    [Fact]
    public void Dot_slash_prefixes_are_normalised_away()
    {
        var archive = BundleArchive.Read(new MemoryStream(new BundleBuilder().File("./spin.toml", "x = 1").Tar()), Options);
        Assert.Equal(["spin.toml"], archive.FilePaths);
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink, "symbolic link")]
    [InlineData(TarEntryType.HardLink, "hard link")]
    public void Links_are_refused_naming_the_entry(TarEntryType type, string what)
    {
        var bytes = new BundleBuilder().File("spin.toml", "x = 1").Link(type, "static/passwd", "/etc/passwd").TarGz();
        var ex = Assert.Throws<BundleException>(() => BundleArchive.Read(new MemoryStream(bytes), Options));
        Assert.Contains("'static/passwd'", ex.Message);
        Assert.Contains(what, ex.Message);
    }

    [Theory]
    [InlineData("../evil.txt")]
    [InlineData("/etc/evil.txt")]
    [InlineData("static/../../evil.txt")]
    public void Absolute_and_dot_dot_paths_are_refused(string name)
    {
        var bytes = new BundleBuilder().File("spin.toml", "x = 1").File(name, "x").Tar();
        var ex = Assert.Throws<BundleException>(() => BundleArchive.Read(new MemoryStream(bytes), Options));
        Assert.Equal("bundle-path-not-allowed", ex.Kind);
        Assert.Contains(name, ex.Message);
    }

    [Fact]
    public void A_highly_compressed_archive_is_stopped_by_the_ratio_cap()
    {
        var bytes = new BundleBuilder().File("spin.toml", "x = 1").File("zeros.bin", new byte[32 * 1024 * 1024]).TarGz();
        var ex = Assert.Throws<BundleException>(() => BundleArchive.Read(new MemoryStream(bytes), Options));
        Assert.Equal("bundle-compression-ratio", ex.Kind);
    }

    [Fact]
    public void Entry_count_and_unpacked_size_caps_hold()
    {
        var many = new BundleBuilder().File("spin.toml", "x = 1");
        for (var i = 0; i < 5; i++)
        {
            many.File($"f{i}.txt", "x");
        }
        var ex = Assert.Throws<BundleException>(() => BundleArchive.Read(new MemoryStream(many.Tar()), new BundleOptions { MaxEntries = 4 }));
        Assert.Equal("bundle-too-many-entries", ex.Kind);

        var big = new BundleBuilder().File("spin.toml", "x = 1").File("big.bin", new byte[4096]).Tar();
        ex = Assert.Throws<BundleException>(() => BundleArchive.Read(new MemoryStream(big), new BundleOptions { MaxUnpackedBytes = 2048 }));
        Assert.Equal("bundle-too-large-unpacked", ex.Kind);
        Assert.Contains("'big.bin'", ex.Message);
    }

    [Fact]
    public void Caps_out_of_range_fail_validation_so_the_control_plane_refuses_to_start_with_them()
    {
        static bool Valid(BundleOptions options) => System.ComponentModel.DataAnnotations.Validator.TryValidateObject(
            options, new System.ComponentModel.DataAnnotations.ValidationContext(options), [], validateAllProperties: true);
        Assert.True(Valid(new BundleOptions()));
        Assert.False(Valid(new BundleOptions { MaxEntries = 0 }));
        Assert.False(Valid(new BundleOptions { MaxCompressionRatio = 0 }));
        Assert.False(Valid(new BundleOptions { MaxUnpackedBytes = 10 }));
    }
}
