using System.Net;
using System.Net.Http.Json;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AppsApiTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _client = fixture.CreateClient();

    [Fact]
    public async Task Creating_an_app_returns_201_and_it_appears_in_the_list()
    {
        var name = ApiHelpers.UniqueAppName("list");
        var created = await (await _client.PostAsJsonAsync("/api/v1/apps", new { name })).ExpectAsync(201);
        Assert.Equal(name, created.GetProperty("name").GetString());
        Assert.Equal(JsonValueKindNull, created.GetProperty("activeVersion").ValueKind);

        var list = await (await _client.GetAsync("/api/v1/apps")).ExpectAsync(200);
        Assert.Contains(list.EnumerateArray(), a => a.GetProperty("name").GetString() == name);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [Fact]
    public async Task Creating_an_app_whose_name_is_taken_is_a_409()
    {
        var name = ApiHelpers.UniqueAppName("dup");
        await _client.CreateAppAsync(name);
        await (await _client.PostAsJsonAsync("/api/v1/apps", new { name })).ExpectProblemAsync(409, $"'{name}'");
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Hello")]
    [InlineData("-lead")]
    [InlineData("under_score")]
    public async Task Creating_an_app_with_an_invalid_name_is_a_400_that_quotes_the_name(string name)
    {
        await (await _client.PostAsJsonAsync("/api/v1/apps", new { name })).ExpectProblemAsync(400, $"'{name}'");
        var list = await (await _client.GetAsync("/api/v1/apps")).ExpectAsync(200);
        Assert.DoesNotContain(list.EnumerateArray(), a => a.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task A_malformed_json_body_is_a_400_problem()
    {
        var response = await _client.PostAsync("/api/v1/apps", new StringContent("{\"name\":", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Deleting_an_app_makes_it_404_afterwards()
    {
        var name = ApiHelpers.UniqueAppName("gone");
        await _client.CreateAppAsync(name);
        await (await _client.UploadAsync(name, Platform.Testing.TestApps.Bytes("hello"))).ExpectAsync(201);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/apps/{name}")).StatusCode);
        await (await _client.GetAsync($"/api/v1/apps/{name}")).ExpectProblemAsync(404, $"'{name}'");
        await (await _client.GetAsync($"/api/v1/apps/{name}/versions")).ExpectProblemAsync(404);
        await (await _client.DeleteAsync($"/api/v1/apps/{name}")).ExpectProblemAsync(404);
    }

    [Fact]
    public async Task Variables_and_limits_can_be_changed_and_bad_ones_are_refused()
    {
        var name = ApiHelpers.UniqueAppName("vars");
        await _client.CreateAppAsync(name);
        var updated = await (await _client.PatchAsJsonAsync($"/api/v1/apps/{name}", new { variables = new Dictionary<string, string> { ["GREETING"] = "hi" }, timeoutSeconds = 5 })).ExpectAsync(200);
        Assert.Equal("hi", updated.GetProperty("variables").GetProperty("GREETING").GetString());
        Assert.Equal(5, updated.GetProperty("timeoutSeconds").GetInt32());
        Assert.Equal(128, updated.GetProperty("memoryLimitMb").GetInt32());

        await (await _client.PatchAsJsonAsync($"/api/v1/apps/{name}", new { variables = new Dictionary<string, string> { ["1BAD"] = "x" } })).ExpectProblemAsync(400, "'1BAD'");
        await (await _client.PatchAsJsonAsync($"/api/v1/apps/{name}", new { variables = new Dictionary<string, string> { ["OK\n"] = "x" } })).ExpectProblemAsync(400, "is invalid");
        await (await _client.PatchAsJsonAsync($"/api/v1/apps/{name}", new { memoryLimitMb = 0 })).ExpectProblemAsync(400, "memoryLimitMb 0");
        var shown = await (await _client.GetAsync($"/api/v1/apps/{name}")).ExpectAsync(200);
        Assert.Equal("hi", shown.GetProperty("variables").GetProperty("GREETING").GetString());
    }
}
