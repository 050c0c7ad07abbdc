using System.ComponentModel.DataAnnotations;

namespace Platform.Bundles;

/// <summary>
/// Caps on what a bundle upload may unpack to (bound from <c>Platform:Bundles</c>, validated at start): a small
/// gzip can expand to gigabytes, so every cap is checked while reading, before the bytes are kept.
/// </summary>
public sealed class BundleOptions
{
    public const string Section = "Platform:Bundles";

    /// <summary>Largest upload body (the compressed archive); larger is a 413.</summary>
    [Range(1024L, long.MaxValue)]
    public long MaxBundleBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Largest total of the unpacked file contents.</summary>
    [Range(1024L, long.MaxValue)]
    public long MaxUnpackedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most entries (files and directories) an archive may hold.</summary>
    [Range(1, 1_000_000)]
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>Largest unpacked-to-compressed ratio, checked once more than <see cref="RatioCheckFloorBytes"/> are unpacked.</summary>
    [Range(1, 100_000)]
    public int MaxCompressionRatio { get; set; } = 200;

    /// <summary>Below this many unpacked bytes the ratio is not checked (tiny text files compress very well).</summary>
    [Range(0L, long.MaxValue)]
    public long RatioCheckFloorBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest spin.toml.</summary>
    [Range(64, 16 * 1024 * 1024)]
    public int MaxManifestBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Registry hosts (host or host:port) that deploy-by-reference talks to over plain HTTP; every other host is
    /// reached over HTTPS. Loopback only by default.
    /// </summary>
    public List<string> PlainHttpRegistries { get; set; } = ["localhost", "127.0.0.1", "[::1]"];
}
