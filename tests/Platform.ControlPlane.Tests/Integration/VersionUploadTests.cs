using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class VersionUploadTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _client = fixture.CreateClient();

    [Fact]
    public async Task Uploading_hello_returns_201_with_the_sha256_of_the_module_and_the_registry_holds_it_as_a_wasm_layer()
    {
        var app = ApiHelpers.UniqueAppName("hello");
        await _client.CreateAppAsync(app);
        var module = TestApps.Bytes("hello");

        var response = await _client.UploadAsync(app, module);
        var version = await response.ExpectAsync(201);

        var expectedDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(module));
        Assert.Equal(expectedDigest, version.GetProperty("digest").GetString());
        Assert.Equal(1, version.GetProperty("number").GetInt32());
        Assert.True(version.GetProperty("active").GetBoolean());
        Assert.Equal(module.Length, version.GetProperty("size").GetInt64());
        Assert.Equal($"/api/v1/apps/{app}/versions/1", response.Headers.Location?.OriginalString);

        // Read the manifest straight from the registry, by tag, as any OCI client would.
        using var registry = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fixture.Registry.Url}/v2/apps/{app}/manifests/v1");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        var manifestResponse = await registry.SendAsync(request);
        manifestResponse.EnsureSuccessStatusCode();
        var manifest = JsonDocument.Parse(await manifestResponse.Content.ReadAsStringAsync()).RootElement;
        var layer = Assert.Single(manifest.GetProperty("layers").EnumerateArray());
        Assert.Equal("application/wasm", layer.GetProperty("mediaType").GetString());
        Assert.Equal(expectedDigest, layer.GetProperty("digest").GetString());
        Assert.Equal("application/vnd.wasm.config.v0+json", manifest.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.EndsWith("@" + manifestResponse.Headers.GetValues("Docker-Content-Digest").Single(), version.GetProperty("ociReference").GetString());

        var versions = await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        var only = Assert.Single(versions.EnumerateArray());
        Assert.True(only.GetProperty("active").GetBoolean());
        var shown = await (await _client.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        Assert.Equal(1, shown.GetProperty("activeVersion").GetInt32());
        Assert.Equal($"http://{app}.apps.localhost:8080/", shown.GetProperty("url").GetString());
    }

    [Fact]
    public async Task A_second_upload_becomes_version_2_and_activating_1_rolls_back()
    {
        var app = ApiHelpers.UniqueAppName("roll");
        await _client.CreateAppAsync(app);
        await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        var second = await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        Assert.Equal(2, second.GetProperty("number").GetInt32());

        var versions = await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        Assert.Equal([2, 1], versions.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
        Assert.Equal([true, false], versions.EnumerateArray().Select(v => v.GetProperty("active").GetBoolean()));

        var activated = await (await _client.PostAsync($"/api/v1/apps/{app}/versions/1/activate", null)).ExpectAsync(200);
        Assert.Equal(1, activated.GetProperty("activeVersion").GetInt32());
        versions = await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        Assert.Equal([false, true], versions.EnumerateArray().Select(v => v.GetProperty("active").GetBoolean()));

        await (await _client.PostAsync($"/api/v1/apps/{app}/versions/7/activate", null)).ExpectProblemAsync(404, "no version 7");
    }

    [Fact]
    public async Task Upload_with_activate_false_records_the_version_but_keeps_the_active_one()
    {
        var app = ApiHelpers.UniqueAppName("staged");
        await _client.CreateAppAsync(app);
        await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        var staged = await (await _client.UploadAsync(app, TestApps.Bytes("hello"), query: "?activate=false")).ExpectAsync(201);
        Assert.False(staged.GetProperty("active").GetBoolean());
        var shown = await (await _client.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        Assert.Equal(1, shown.GetProperty("activeVersion").GetInt32());
    }

    [Fact]
    public async Task A_multipart_upload_with_a_module_part_is_accepted()
    {
        var app = ApiHelpers.UniqueAppName("multi");
        await _client.CreateAppAsync(app);
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(TestApps.Bytes("hello"));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        form.Add(file, "module", "hello.wasm");
        var version = await (await _client.PostAsync($"/api/v1/apps/{app}/versions", form)).ExpectAsync(201);
        Assert.Equal(1, version.GetProperty("number").GetInt32());
    }

    [Fact]
    public async Task Invalid_bytes_are_refused_and_leave_no_version_row_and_no_registry_tag()
    {
        var app = ApiHelpers.UniqueAppName("bad");
        await _client.CreateAppAsync(app);

        await (await _client.UploadAsync(app, TestApps.Bytes("invalid"))).ExpectProblemAsync(400, "magic bytes");
        // Right magic and version, broken body: the validator's own message comes back.
        byte[] truncated = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00];
        var response = await _client.UploadAsync(app, truncated);
        await response.ExpectProblemAsync(422, "refused by the validator");

        await AssertNoVersionsAsync(app);
        using var registry = new HttpClient();
        var tags = await registry.GetAsync($"{fixture.Registry.Url}/v2/apps/{app}/tags/list");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, tags.StatusCode);
    }

    [Fact]
    public async Task A_module_that_is_not_a_wasi_command_is_refused_with_422()
    {
        var app = ApiHelpers.UniqueAppName("lib");
        await _client.CreateAppAsync(app);
        // Valid Wasm, but no _start: a library, not a WASI command.
        byte[] empty = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        await (await _client.UploadAsync(app, empty)).ExpectProblemAsync(422, "_start");
        await AssertNoVersionsAsync(app);
    }

    [Fact]
    public async Task Wrong_content_type_is_415_and_empty_body_is_400_and_unknown_app_is_404()
    {
        var app = ApiHelpers.UniqueAppName("types");
        await _client.CreateAppAsync(app);
        await (await _client.UploadAsync(app, TestApps.Bytes("hello"), "text/plain")).ExpectProblemAsync(415, "'text/plain'");
        await (await _client.UploadAsync(app, [])).ExpectProblemAsync(400, "empty");
        await (await _client.UploadAsync("no-such-app", TestApps.Bytes("hello"))).ExpectProblemAsync(404, "'no-such-app'");
        await AssertNoVersionsAsync(app);
    }

    [Fact]
    public async Task A_module_over_the_size_limit_is_413_and_changes_nothing()
    {
        await using var small = fixture.CreateFactory(new Dictionary<string, string> { ["Platform:Apps:MaxModuleBytes"] = "4096" });
        var client = fixture.CreateClient(factory: small);
        var app = ApiHelpers.UniqueAppName("big");
        await client.CreateAppAsync(app);
        await (await client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectProblemAsync(413, "limit is 4096 bytes");
        await AssertNoVersionsAsync(app);
    }

    [Fact]
    public async Task When_the_registry_is_down_the_upload_fails_with_503_and_no_version_is_recorded()
    {
        var app = ApiHelpers.UniqueAppName("down");
        await _client.CreateAppAsync(app);
        await fixture.Registry.StopAsync();
        try
        {
            await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectProblemAsync(503, "no version was recorded");
            await AssertNoVersionsAsync(app);
            var ready = await _client.GetAsync("/readyz");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            await fixture.Registry.StartAsync();
        }
        // The same upload succeeds once the registry is back, as version 1: the failure burned no number.
        var version = await (await _client.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        Assert.Equal(1, version.GetProperty("number").GetInt32());
    }

    [Fact]
    public async Task Concurrent_uploads_to_one_app_get_distinct_consecutive_numbers()
    {
        var app = ApiHelpers.UniqueAppName("race");
        await _client.CreateAppAsync(app);
        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => _client.UploadAsync(app, TestApps.Bytes("hello"))));
        var numbers = new List<int>();
        foreach (var r in responses)
        {
            numbers.Add((await r.ExpectAsync(201)).GetProperty("number").GetInt32());
        }
        Assert.Equal([1, 2, 3, 4, 5], numbers.Order());
    }

    private async Task AssertNoVersionsAsync(string app)
    {
        var versions = await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        Assert.Empty(versions.EnumerateArray());
        await using var db = new NpgsqlConnection(fixture.ConnectionString);
        await db.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM app_versions v JOIN apps a ON a.\"Id\" = v.\"AppId\" WHERE a.\"Name\" = @n", db);
        cmd.Parameters.AddWithValue("n", app);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }
}
