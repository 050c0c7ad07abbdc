namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DocumentationAndHealthTests(ControlPlaneFixture fixture)
{
    [Fact]
    public async Task The_openapi_document_describes_the_apps_and_versions_api_and_the_bearer_scheme()
    {
        var doc = await (await fixture.CreateClient(key: null).GetAsync("/openapi/v1.json")).ExpectAsync(200);
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/apps", out _));
        Assert.True(paths.TryGetProperty("/api/v1/apps/{app}/versions", out _));
        Assert.True(paths.TryGetProperty("/api/v1/apps/{app}/versions/{version}/activate", out _));
        Assert.True(paths.TryGetProperty("/api/v1/apps/{app}/versions/{version}/manifest", out var manifest));
        Assert.True(manifest.GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("application/toml", out _));
        var upload = paths.GetProperty("/api/v1/apps/{app}/versions").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        foreach (var type in new[] { "application/wasm", "application/gzip", "application/x-tar", "multipart/form-data", "application/json" })
        {
            Assert.True(upload.TryGetProperty(type, out _), $"the upload documents '{type}'");
        }
        var details = paths.GetProperty("/api/v1/apps/{app}/versions/{version}").GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.Contains("VersionDetailsResponse", details.GetRawText());
        Assert.Equal("bearer", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task The_interactive_reference_page_is_served()
    {
        var response = await fixture.CreateClient(key: null).GetAsync("/openapi/reference");
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, html);
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Healthz_and_readyz_answer_when_postgres_and_the_registry_are_up()
    {
        var client = fixture.CreateClient(key: null);
        Assert.True((await client.GetAsync("/healthz")).IsSuccessStatusCode);
        Assert.True((await client.GetAsync("/readyz")).IsSuccessStatusCode);
    }
}
