using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>POST /api/v1/apps/{app}/try, the call behind the dashboard's "try it" box, over plain HTTP.</summary>
[Collection(DashboardCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TryApiTests(DashboardStack stack)
{
    private static async Task<(HttpStatusCode Status, JsonElement Json)> TryAsync(HttpClient client, string app, object request)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/apps/{app}/try", request);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, json);
    }

    /// <summary>Tries until the app answers 200: a fresh deploy reaches the router asynchronously.</summary>
    private static async Task<JsonElement> TryUntilServedAsync(HttpClient client, string app, object request)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var (status, json) = await TryAsync(client, app, request);
            Assert.Equal(HttpStatusCode.OK, status);
            if (json.GetProperty("status").GetInt32() == 200 || DateTime.UtcNow > deadline)
            {
                return json;
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Try_returns_the_app_s_status_headers_and_body_for_a_post_with_query_and_headers()
    {
        var app = TestApps.UniqueName("try");
        await stack.DeployAsync(app, "hello");
        using var client = stack.ControlPlane.CreateClient();

        var answer = await TryUntilServedAsync(client, app,
            new { method = "POST", path = "/header?x=1", body = "ping-body", headers = new Dictionary<string, string> { ["X-Test"] = "yes" } });

        Assert.Equal(200, answer.GetProperty("status").GetInt32());
        Assert.Equal("Hello from POST /header?x=1\nping-body", answer.GetProperty("body").GetString());
        Assert.False(answer.GetProperty("truncated").GetBoolean());
        Assert.True(answer.GetProperty("durationMs").GetDouble() >= 0);
        var headers = answer.GetProperty("headers");
        Assert.Equal("world", headers.GetProperty("X-Hello")[0].GetString());
        Assert.StartsWith("text/plain", headers.GetProperty("Content-Type")[0].GetString());
    }

    [Fact]
    public async Task Try_passes_a_redirect_and_an_app_error_status_through_instead_of_following_them()
    {
        var app = TestApps.UniqueName("tryst");
        await stack.DeployAsync(app, "hello");
        using var client = stack.ControlPlane.CreateClient();
        await TryUntilServedAsync(client, app, new { method = "GET", path = "/" });

        var (_, redirect) = await TryAsync(client, app, new { method = "GET", path = "/redirect" });
        Assert.Equal(302, redirect.GetProperty("status").GetInt32());
        Assert.Equal("/elsewhere", redirect.GetProperty("headers").GetProperty("Location")[0].GetString());

        var (_, missing) = await TryAsync(client, app, new { method = "GET", path = "/status404" });
        Assert.Equal(404, missing.GetProperty("status").GetInt32());
        Assert.Contains("not here: /status404", missing.GetProperty("body").GetString());
    }

    [Fact]
    public async Task Try_cuts_a_body_longer_than_64_KiB_and_says_so()
    {
        var app = TestApps.UniqueName("trybig");
        await stack.DeployAsync(app, "hello");
        using var client = stack.ControlPlane.CreateClient();
        // hello echoes the request body after its greeting line, so the answer is larger than the cap.
        var payload = new string('x', 100 * 1024);

        var answer = await TryUntilServedAsync(client, app, new { method = "POST", path = "/", body = payload });

        Assert.True(answer.GetProperty("truncated").GetBoolean());
        var body = answer.GetProperty("body").GetString()!;
        Assert.Equal(64 * 1024, body.Length);
        Assert.StartsWith("Hello from POST /?\n", body);
    }

    [Theory]
    [InlineData("TRACE", "/", "Method 'TRACE' is not supported")]
    [InlineData("", "/", "Method '' is not supported")]
    [InlineData("GET", "no-slash", "Path 'no-slash' must start with '/'")]
    [InlineData("GET", "//elsewhere.example/x", "Path '//elsewhere.example/x' must not start with '//'")]
    [InlineData("GET", "/a b", "Path '/a b' must not start with '//' or contain spaces")]
    public async Task Try_refuses_a_bad_method_or_path_with_a_problem_that_quotes_it(string method, string path, string expected)
    {
        var app = TestApps.UniqueName("tryval");
        using var client = stack.ControlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();

        var response = await client.PostAsJsonAsync($"/api/v1/apps/{app}/try", new { method, path });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Try_refuses_a_host_header_given_by_the_caller()
    {
        var app = TestApps.UniqueName("tryhost");
        using var client = stack.ControlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();

        var (status, json) = await TryAsync(client, app,
            new { method = "GET", path = "/", headers = new Dictionary<string, string> { ["Host"] = "other.apps.localhost" } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Header 'Host' is set by the platform", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Try_for_an_unknown_app_is_a_404_problem()
    {
        using var client = stack.ControlPlane.CreateClient();

        var (status, json) = await TryAsync(client, "no-such-app-here", new { method = "GET", path = "/" });

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("No app is named 'no-such-app-here'.", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Try_without_a_key_is_refused_with_401()
    {
        using var client = stack.ControlPlane.CreateClient(key: null);

        var response = await client.PostAsJsonAsync("/api/v1/apps/anything/try", new { method = "GET", path = "/" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Try_is_a_502_problem_naming_the_router_when_the_router_cannot_be_reached()
    {
        // A second control plane on the same database whose router URL points at a port nobody listens on.
        var deadPort = TestPorts.GetFreeTcpPort();
        await using var controlPlane = await stack.Stack.StartControlPlaneAsync(
            new Dictionary<string, string?> { ["Platform__Apps__RouterUrl"] = $"http://127.0.0.1:{deadPort}", ["ASPNETCORE_WEBROOT"] = DashboardStack.WebRoot },
            routerPort: deadPort);
        var app = TestApps.UniqueName("trydead");
        using var client = controlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();

        var (status, json) = await TryAsync(client, app, new { method = "GET", path = "/" });

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains($"The router at http://127.0.0.1:{deadPort} did not answer GET / for app '{app}'", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_try_endpoint_is_described_in_the_OpenAPI_document()
    {
        using var client = stack.ControlPlane.CreateClient(key: null);

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var operation = document.GetProperty("paths").GetProperty("/api/v1/apps/{app}/try").GetProperty("post");
        Assert.Equal("TryApp", operation.GetProperty("operationId").GetString());
        Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()));
    }
}
