namespace Platform.Oci.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class OciNamesTests
{
    [Theory]
    [InlineData("apps/hello")]
    [InlineData("a")]
    [InlineData("apps/my-app")]
    [InlineData("apps/my--app")]
    [InlineData("team.one/apps/my_app")]
    [InlineData("team/a__b/c.d-e")]
    [InlineData("0/1/2")]
    public void Valid_repository_names_are_accepted(string name)
    {
        Assert.True(OciNames.IsValidRepository(name));
        OciNames.ValidateRepository(name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Apps/hello")]
    [InlineData("apps/")]
    [InlineData("/apps")]
    [InlineData("apps//hello")]
    [InlineData("apps/-hello")]
    [InlineData("apps/hello-")]
    [InlineData("apps/he___llo")]
    [InlineData("apps/he..llo")]
    [InlineData("apps/hello world")]
    [InlineData("apps/hello:v1")]
    [InlineData("apps/héllo")]
    [InlineData("apps/hello\n")]
    public void Invalid_repository_names_are_refused_with_the_name_quoted(string name)
    {
        Assert.False(OciNames.IsValidRepository(name));
        var ex = Assert.Throws<ArgumentException>(() => OciNames.ValidateRepository(name));
        Assert.Contains($"'{name}'", ex.Message);
    }

    [Fact]
    public void A_repository_name_longer_than_255_characters_is_refused()
    {
        var name = "a/" + new string('b', 254);

        Assert.False(OciNames.IsValidRepository(name));
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("latest")]
    [InlineData("_x")]
    [InlineData("V1.2.3-rc_4")]
    [InlineData("sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.cwasm-1a2b3c4d")]
    public void Valid_tags_are_accepted(string tag)
    {
        Assert.True(OciNames.IsValidTag(tag));
        OciNames.ValidateTag(tag);
        OciNames.ValidateReference(tag);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".v1")]
    [InlineData("-v1")]
    [InlineData("v1/2")]
    [InlineData("v 1")]
    [InlineData("v1:2")]
    public void Invalid_tags_are_refused_with_the_tag_quoted(string tag)
    {
        var ex = Assert.Throws<ArgumentException>(() => OciNames.ValidateTag(tag));
        Assert.Contains($"'{tag}'", ex.Message);
    }

    [Fact]
    public void A_tag_of_129_characters_is_refused_and_one_of_128_accepted()
    {
        Assert.True(OciNames.IsValidTag(new string('a', 128)));
        Assert.False(OciNames.IsValidTag(new string('a', 129)));
    }

    [Fact]
    public void Sha256_and_sha512_digests_are_accepted()
    {
        OciNames.ValidateDigest("sha256:" + new string('a', 64));
        OciNames.ValidateDigest("sha512:" + new string('0', 128));
        OciNames.ValidateReference("sha256:" + new string('a', 64));
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("md5:0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Malformed_or_unverifiable_digests_are_refused_with_the_digest_quoted(string digest)
    {
        var ex = Assert.Throws<ArgumentException>(() => OciNames.ValidateDigest(digest));
        Assert.Contains($"'{digest}'", ex.Message);
    }

    [Fact]
    public void The_sha256_digest_of_known_bytes_matches_the_published_value()
    {
        // SHA-256 of "abc" (FIPS 180-2 test vector).
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", OciDigest.ComputeSha256("abc"u8));
    }
}
