namespace Platform.Oci.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class UploadLocationTests
{
    private static readonly Uri s_post = new("http://127.0.0.1:5000/v2/apps/x/blobs/uploads/");
    private static readonly string s_digest = "sha256:" + new string('c', 64);

    [Fact]
    public void An_absolute_location_with_a_state_query_gets_the_digest_appended()
    {
        var location = new Uri("http://127.0.0.1:5000/v2/apps/x/blobs/uploads/abc?_state=Ss2J%3D%3D");

        var uri = OciClient.BuildUploadCompletionUri(s_post, location, s_digest);

        Assert.Equal($"http://127.0.0.1:5000/v2/apps/x/blobs/uploads/abc?_state=Ss2J%3D%3D&digest=sha256%3A{new string('c', 64)}", uri.AbsoluteUri);
    }

    [Fact]
    public void A_relative_location_resolves_against_the_request_url()
    {
        var location = new Uri("/v2/apps/x/blobs/uploads/abc", UriKind.Relative);

        var uri = OciClient.BuildUploadCompletionUri(s_post, location, s_digest);

        Assert.Equal($"http://127.0.0.1:5000/v2/apps/x/blobs/uploads/abc?digest=sha256%3A{new string('c', 64)}", uri.AbsoluteUri);
    }

    [Fact]
    public void A_relative_location_with_a_query_keeps_it()
    {
        var location = new Uri("/v2/apps/x/blobs/uploads/abc?session=1", UriKind.Relative);

        var uri = OciClient.BuildUploadCompletionUri(s_post, location, s_digest);

        Assert.Equal("?session=1&digest=sha256%3A" + new string('c', 64), uri.Query);
    }

    [Fact]
    public void An_absolute_location_on_another_host_is_followed()
    {
        // Registries behind a proxy or with separate upload hosts hand out full URLs; they are used as given.
        var location = new Uri("https://uploads.example:8443/upload/42");

        var uri = OciClient.BuildUploadCompletionUri(s_post, location, s_digest);

        Assert.Equal("uploads.example", uri.Host);
        Assert.Equal(8443, uri.Port);
        Assert.Equal("/upload/42", uri.AbsolutePath);
    }
}
