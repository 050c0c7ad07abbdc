using Platform.Contracts;
using Platform.ControlPlane.Auth;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class ApiKeysTests
{
    [Fact]
    public void New_keys_are_distinct_prefixed_and_hash_to_64_hex_characters()
    {
        var a = ApiKeys.NewKey();
        var b = ApiKeys.NewKey();
        Assert.NotEqual(a, b);
        Assert.StartsWith(ApiKeys.KeyPrefix, a);
        Assert.Matches("^[0-9a-f]{64}$", ApiKeys.Hash(a));
        Assert.NotEqual(ApiKeys.Hash(a), ApiKeys.Hash(b));
        Assert.True(ApiKeys.HashesEqual(ApiKeys.Hash(a), ApiKeys.Hash(a)));
        Assert.False(ApiKeys.HashesEqual(ApiKeys.Hash(a), ApiKeys.Hash(b)));
    }

    [Fact]
    public void The_shown_prefix_never_reveals_the_whole_key()
    {
        var key = ApiKeys.NewKey();
        Assert.True(ApiKeys.ShownPrefix(key).Length < key.Length / 2);
    }

    [Fact]
    public void Latency_quantiles_come_from_the_histogram_buckets()
    {
        var buckets = new long[LatencyHistogram.UpperBoundsMs.Length];
        buckets[LatencyHistogram.BucketOf(0.8)] += 98; // 98 requests at <= 1 ms
        buckets[LatencyHistogram.BucketOf(40)] += 2;   // 2 slow ones at <= 50 ms
        Assert.Equal(1, LatencyHistogram.Quantile(buckets, 0.5));
        Assert.Equal(50, LatencyHistogram.Quantile(buckets, 0.99));
        Assert.Null(LatencyHistogram.Quantile(new long[buckets.Length], 0.5));
        Assert.Equal(LatencyHistogram.UpperBoundsMs.Length - 1, LatencyHistogram.BucketOf(1e9));
    }
}
