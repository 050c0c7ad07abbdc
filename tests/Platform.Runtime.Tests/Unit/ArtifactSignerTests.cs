using Platform.Runtime.Security;

namespace Platform.Runtime.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class ArtifactSignerTests
{
    private const string Key = "artifact-signing-key-for-the-tests-0123456789";
    private static readonly string Module = "sha256:" + new string('a', 64);
    private static readonly string OtherModule = "sha256:" + new string('b', 64);
    private static readonly string Artifact = "sha256:" + new string('c', 64);
    private const string Fingerprint = "0123456789abcdef";

    [Fact]
    public void A_signature_verifies_for_exactly_the_module_artifact_and_engine_it_was_made_for()
    {
        var signer = new ArtifactSigner(Key);
        var signature = signer.Sign(Module, Artifact, Fingerprint);

        Assert.NotNull(signature);
        Assert.True(new ArtifactSigner(Key).Verify(Module, Artifact, Fingerprint, signature));
        Assert.False(signer.Verify(OtherModule, Artifact, Fingerprint, signature));
        Assert.False(signer.Verify(Module, "sha256:" + new string('d', 64), Fingerprint, signature));
        Assert.False(signer.Verify(Module, Artifact, "fedcba9876543210", signature));
    }

    [Fact]
    public void Another_key_does_not_verify_it() =>
        Assert.False(new ArtifactSigner("another-signing-key-0123456789abcdefgh").Verify(Module, Artifact, Fingerprint,
            new ArtifactSigner(Key).Sign(Module, Artifact, Fingerprint)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("hmac-sha256:")]
    [InlineData("hmac-sha256:!!!")]
    [InlineData("ed25519:AAAA")]
    public void Missing_or_malformed_signatures_do_not_verify(string? signature) =>
        Assert.False(new ArtifactSigner(Key).Verify(Module, Artifact, Fingerprint, signature));

    [Fact]
    public void Without_a_key_nothing_is_signed_and_nothing_verifies()
    {
        var none = new ArtifactSigner((string?)null);
        Assert.False(none.CanSign);
        Assert.Null(none.Sign(Module, Artifact, Fingerprint));
        Assert.False(none.Verify(Module, Artifact, Fingerprint, new ArtifactSigner(Key).Sign(Module, Artifact, Fingerprint)));
    }

    [Fact]
    public void Fields_cannot_be_shifted_between_one_another() =>
        Assert.False(new ArtifactSigner(Key).Verify("ab", "c", Fingerprint, new ArtifactSigner(Key).Sign("a", "bc", Fingerprint)));
}
