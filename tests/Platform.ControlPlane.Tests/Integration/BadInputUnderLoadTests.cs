using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>Defects found under load and bad input (issue 10, item 7) on the control plane's side.</summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BadInputUnderLoadTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _client = fixture.CreateClient();

    [Theory]
    [InlineData("bigmemory", "memory")]
    [InlineData("bigtable", "table")]
    public async Task A_module_larger_than_the_allocators_slots_is_refused_with_422_naming_the_limit(string module, string what)
    {
        var app = ApiHelpers.UniqueAppName(module);
        await _client.CreateAppAsync(app);
        var response = await _client.UploadAsync(app, TestApps.Bytes(module));
        var problem = await response.ExpectAsync(422);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("limit", detail);
        Assert.Contains(what, detail);
        Assert.Empty((await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200)).EnumerateArray());
    }

    [Fact]
    public async Task A_multipart_upload_cut_off_inside_its_part_is_400_and_stores_nothing()
    {
        var app = ApiHelpers.UniqueAppName("truncated");
        await _client.CreateAppAsync(app);
        var module = TestApps.Bytes("hello");
        var head = "--cut\r\nContent-Disposition: form-data; name=\"module\"; filename=\"hello.wasm\"\r\nContent-Type: application/wasm\r\n\r\n"u8.ToArray();
        // The part's bytes stop half-way and the closing boundary never comes.
        var body = head.Concat(module.Take(module.Length / 2)).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut");

        var response = await _client.PostAsync($"/api/v1/apps/{app}/versions", content);

        await response.ExpectProblemAsync(400, "multipart");
        Assert.Empty((await (await _client.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200)).EnumerateArray());
    }

    [Fact]
    public async Task A_memory_limit_above_what_the_allocator_can_give_is_refused_quoting_the_maximum_and_changes_nothing()
    {
        var app = ApiHelpers.UniqueAppName("memlimit");
        var created = await _client.PostAsJsonAsync("/api/v1/apps", new { name = app, memoryLimitMb = 4096 });
        await created.ExpectProblemAsync(400, "the maximum is 128");
        await _client.CreateAppAsync(app);

        var patched = await _client.PatchAsJsonAsync($"/api/v1/apps/{app}", new { memoryLimitMb = 129 });
        await patched.ExpectProblemAsync(400, "memoryLimitMb 129");
        var shown = await (await _client.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        Assert.Equal(128, shown.GetProperty("memoryLimitMb").GetInt32());

        (await _client.PatchAsJsonAsync($"/api/v1/apps/{app}", new { memoryLimitMb = 128 })).EnsureSuccessStatusCode();
    }
}

/// <summary>Stops its own PostgreSQL, so it has a control plane of its own.</summary>
[Trait("Category", "Integration")]
public sealed class DatabaseOutageTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task With_PostgreSQL_down_every_API_call_a_wrong_key_included_answers_503_problem_and_recovers_after()
    {
        using var admin = fixture.CreateClient();
        var app = ApiHelpers.UniqueAppName("outage");
        await admin.CreateAppAsync(app);

        await fixture.Postgres.StopAsync();
        try
        {
            using var wrongKey = fixture.CreateClient("not-a-key-0123456789");
            var calls = new (string What, Func<Task<HttpResponseMessage>> Send)[]
            {
                ("list apps", () => admin.GetAsync("/api/v1/apps")),
                ("show app", () => admin.GetAsync($"/api/v1/apps/{app}")),
                ("create app", () => admin.PostAsJsonAsync("/api/v1/apps", new { name = ApiHelpers.UniqueAppName("new") })),
                ("patch app", () => admin.PatchAsJsonAsync($"/api/v1/apps/{app}", new { timeoutSeconds = 5 })),
                ("delete app", () => admin.DeleteAsync($"/api/v1/apps/{app}")),
                ("upload", () => admin.UploadAsync(app, TestApps.Bytes("hello"))),
                ("versions", () => admin.GetAsync($"/api/v1/apps/{app}/versions")),
                ("keys", () => admin.GetAsync("/api/v1/keys")),
                ("wrong key", () => wrongKey.GetAsync("/api/v1/apps")),
            };
            foreach (var (what, send) in calls)
            {
                var response = await send();
                Assert.True(503 == (int)response.StatusCode, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.True(response.Headers.RetryAfter is not null, $"{what}: no Retry-After");
            }
        }
        finally
        {
            await fixture.Postgres.StartAgainAsync();
        }

        // Once PostgreSQL is back the same control plane serves again (its pooled connections broke with the server).
        // Asked with a list, not the app made before the outage: the test server runs with synchronous_commit=off and is
        // killed, so that last commit may be lost with it (a 404 then is the database's doing, not the control plane's).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await admin.GetAsync("/api/v1/apps");
            if (response.IsSuccessStatusCode)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline,
                $"the control plane did not recover within 30 s of PostgreSQL's restart: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
        // And it writes again.
        await admin.CreateAppAsync(ApiHelpers.UniqueAppName("after"));
    }
}
