using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

internal static class ApiHelpers
{
    public static string UniqueAppName(string stem) => TestApps.UniqueName(stem);

    public static async Task CreateAppAsync(this HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/apps", new { name });
        Assert.True(response.IsSuccessStatusCode, $"creating app '{name}': {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, string app, byte[] module, string contentType = "application/wasm", string query = "")
    {
        var content = new ByteArrayContent(module);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return client.PostAsync($"/api/v1/apps/{app}/versions{query}", content);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task ExpectProblemAsync(this HttpResponseMessage response, int status, string? detailContains = null)
    {
        var body = await response.ExpectAsync(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, body.GetProperty("detail").GetString());
        }
    }
}
