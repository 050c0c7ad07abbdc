using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// Spin application variables end to end: a bundle whose spin.toml declares <c>[variables]</c> and component
/// <c>variables</c>, uploaded to the real control plane and served by the real router to a real component
/// (tests/apps/components/variables.wat) that answers with <c>fermyon:spin/variables.get</c>.
/// </summary>
[Collection(SharedRouterCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SpinVariablesServingTests(SharedRouterStack shared)
{
    private const string Manifest = """
        spin_manifest_version = 2

        [application]
        name = "variables"

        [variables]
        greeting = { default = "hello" }
        api_token = { required = true, secret = true }

        [[trigger.http]]
        route = "/..."
        component = "web"

        [component.web]
        source = "web.wasm"
        variables = { message = "{{ greeting }}, world", token = "Bearer {{ api_token }}" }
        """;

    private PlatformStack Stack => shared.Stack;

    private static byte[] Bundle(string manifest = Manifest) =>
        new BundleBuilder().File("spin.toml", manifest).File("web.wasm", TestApps.Bytes("components/variables")).TarGz();

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string app, string path)
    {
        using var response = await Stack.Router.SendAsync(app, path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_component_reads_its_variables_from_defaults_then_from_app_variables_set_later_without_a_redeploy()
    {
        var app = $"spinvars-{Guid.NewGuid().ToString("N")[..8]}";
        using var client = Stack.ControlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();
        var content = new ByteArrayContent(Bundle());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        using var upload = await client.PostAsync($"/api/v1/apps/{app}/versions", content);
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());

        await Stack.WaitForAppAsync(app, "/message", "hello, world", TimeSpan.FromSeconds(60));
        var (status, body) = await GetAsync(app, "/token");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("1:", body); // undefined: the required variable has no value yet
        Assert.Contains("SPIN_VARIABLE_API_TOKEN", body);
        Assert.StartsWith("1:", (await GetAsync(app, "/not_declared")).Body);
        Assert.StartsWith("0:", (await GetAsync(app, "/Not-A-Name")).Body);

        var version = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/versions/1")).RootElement;
        var declared = version.GetProperty("variables").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!, v => v.Clone());
        Assert.Equal("default", declared["greeting"].GetProperty("source").GetString());
        Assert.Equal("hello", declared["greeting"].GetProperty("default").GetString());
        Assert.Equal("unset", declared["api_token"].GetProperty("source").GetString());
        Assert.True(declared["api_token"].GetProperty("secret").GetBoolean());
        Assert.Equal("SPIN_VARIABLE_API_TOKEN", declared["api_token"].GetProperty("appVariable").GetString());
        var templates = version.GetProperty("components")[0].GetProperty("variables");
        Assert.Equal("{{ greeting }}, world", templates.GetProperty("message").GetString());

        const string secret = "s3cret-value-7f3a";
        (await client.PatchAsJsonAsync($"/api/v1/apps/{app}", new
        {
            variables = new Dictionary<string, string> { ["greeting"] = "hi", ["SPIN_VARIABLE_API_TOKEN"] = secret },
        })).EnsureSuccessStatusCode();

        await Stack.WaitForAppAsync(app, "/message", "hi, world");
        Assert.Equal((HttpStatusCode.OK, $"Bearer {secret}"), await GetAsync(app, "/token"));
        var versions = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/versions")).RootElement;
        Assert.Equal(1, versions.GetArrayLength());
        var after = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/versions/1")).RootElement;
        Assert.Contains(after.GetProperty("variables").EnumerateArray(),
            v => v.GetProperty("name").GetString() == "api_token" && v.GetProperty("source").GetString() == "app-variable");

        // The Spin convention wins over a variable of the exact name.
        (await client.PatchAsJsonAsync($"/api/v1/apps/{app}", new
        {
            variables = new Dictionary<string, string> { ["greeting"] = "hi", ["SPIN_VARIABLE_GREETING"] = "hey", ["SPIN_VARIABLE_API_TOKEN"] = secret },
        })).EnsureSuccessStatusCode();
        await Stack.WaitForAppAsync(app, "/message", "hey, world");

        Assert.DoesNotContain(secret, Stack.Router.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bundle_whose_template_names_an_undeclared_variable_is_refused_and_no_version_is_stored()
    {
        var app = $"spinvars-{Guid.NewGuid().ToString("N")[..8]}";
        using var client = Stack.ControlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();
        var content = new ByteArrayContent(Bundle(Manifest.Replace("{{ greeting }}", "{{ salutation }}", StringComparison.Ordinal)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");

        using var upload = await client.PostAsync($"/api/v1/apps/{app}/versions", content);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, upload.StatusCode);
        Assert.Equal("application/problem+json", upload.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("'web'", detail);
        Assert.Contains("'message'", detail);
        Assert.Contains("'salutation'", detail);
        Assert.Equal(0, JsonDocument.Parse(await client.GetStringAsync($"/api/v1/apps/{app}/versions")).RootElement.GetArrayLength());
    }
}
