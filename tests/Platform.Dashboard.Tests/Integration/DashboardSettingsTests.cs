using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>
/// The app page's settings editors (variables, limits, outbound hosts) and version details in Chromium against the
/// real stack: every change is checked in the API and, for variables, in a request served by the real router.
/// </summary>
[Collection(DashboardCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DashboardSettingsTests(DashboardStack stack)
{
    private async Task<JsonElement> GetAppAsync(string app)
    {
        using var client = stack.ControlPlane.CreateClient();
        return await client.GetFromJsonAsync<JsonElement>($"/api/v1/apps/{app}");
    }

    /// <summary>What the API itself answers to this change, which must be a refusal; the dashboard must show the same words.</summary>
    private async Task<string> RefusalOfAsync(string app, object change)
    {
        using var client = stack.ControlPlane.CreateClient();
        using var response = await client.PatchAsJsonAsync($"/api/v1/apps/{app}", change);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    /// <summary>Asks the app through the router until its answer satisfies <paramref name="done"/>: settings reach routers within about a second.</summary>
    private async Task<string> RouterAnswerAsync(string app, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var body = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await stack.Router.SendAsync(app, "/env?x=1");
            body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && done(body))
            {
                return body;
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"The router never gave the expected answer for '{app}'; last:\n{body}");
    }

    /// <summary>The app's entry in the router's routing table (management port), once <paramref name="done"/> holds.</summary>
    private async Task<JsonElement> RouterRouteAsync(string app, Func<JsonElement, bool> done)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            last = await http.GetStringAsync($"{stack.Router.ManagementUrl}/routing");
            var route = JsonDocument.Parse(last).RootElement.GetProperty("routes").EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("app").GetString() == app);
            if (route.ValueKind == JsonValueKind.Object && done(route))
            {
                return route.Clone();
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"The router's table never showed the change for '{app}': {last}");
    }

    private async Task<DashboardPage> OpenAppAsync(string app)
    {
        var tab = await stack.OpenAsync();
        await tab.Page.GotoAsync($"/apps/{app}");
        await tab.SignInAsync();
        await Expect(tab.ByTestId("vars-panel")).ToBeVisibleAsync();
        return tab;
    }

    [Fact]
    public async Task A_variable_added_edited_and_removed_in_the_browser_is_what_the_router_hands_the_module()
    {
        var app = TestApps.UniqueName("vars");
        await stack.DeployAsync(app, "cgienv");
        await using var tab = await OpenAppAsync(app);
        var page = tab.Page;
        await Expect(tab.ByTestId("vars-empty")).ToBeVisibleAsync();
        var token = Guid.NewGuid().ToString("N")[..12];

        // Add, with the keyboard: Enter in the value field submits the form.
        await page.GetByLabel("Variable name").FillAsync("GREETING");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("hello " + token);
        await page.GetByLabel("Value", new() { Exact = true }).PressAsync("Enter");
        await Expect(tab.ByTestId("vars-message")).ToHaveTextAsync("Variable GREETING saved. Routers use it within about a second.");
        await Expect(page.Locator("#announcer")).ToHaveTextAsync("Variable GREETING saved. Routers use it within about a second.");
        var row = page.Locator("[data-testid=var-row][data-name=GREETING]");
        await Expect(row.GetByTestId("var-value")).ToHaveTextAsync("hello " + token);
        Assert.Equal("hello " + token, (await GetAppAsync(app)).GetProperty("variables").GetProperty("GREETING").GetString());
        await RouterAnswerAsync(app, body => body.Contains($"GREETING=hello {token}\n", StringComparison.Ordinal));

        // Edit: the row's button fills the form; the new value replaces the old one.
        await row.GetByRole(AriaRole.Button, new() { Name = "Edit GREETING" }).ClickAsync();
        await Expect(page.GetByLabel("Variable name")).ToHaveValueAsync("GREETING");
        await Expect(page.GetByLabel("Value", new() { Exact = true })).ToBeFocusedAsync();
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("bye " + token);
        await tab.Button("Save variable").ClickAsync();
        await Expect(row.GetByTestId("var-value")).ToHaveTextAsync("bye " + token);
        var served = await RouterAnswerAsync(app, body => body.Contains($"GREETING=bye {token}\n", StringComparison.Ordinal));
        Assert.DoesNotContain("hello " + token, served);

        // A second one, so removing one shows the other is kept.
        await page.GetByLabel("Variable name").FillAsync("MODE");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("test");
        await tab.Button("Save variable").ClickAsync();
        await Expect(tab.ByTestId("var-row")).ToHaveCountAsync(2);

        // A name the API refuses: its own detail, inline; nothing changes, in the list or in the API.
        var refusal = await RefusalOfAsync(app, new { variables = new Dictionary<string, string> { ["GREETING"] = "bye " + token, ["MODE"] = "test", ["1BAD"] = "x" } });
        await page.GetByLabel("Variable name").FillAsync("1BAD");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("x");
        await tab.Button("Save variable").ClickAsync();
        await Expect(tab.ByTestId("vars-error-detail")).ToHaveTextAsync(refusal);
        await Expect(tab.ByTestId("vars-error")).ToHaveAttributeAsync("role", "alert");
        await Expect(page.GetByLabel("Variable name")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("Variable name")).ToHaveValueAsync("1BAD");
        await Expect(page.GetByLabel("Value", new() { Exact = true })).Not.ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(tab.ByTestId("var-row")).ToHaveCountAsync(2);
        var variables = (await GetAppAsync(app)).GetProperty("variables");
        Assert.Equal(["GREETING", "MODE"], variables.EnumerateObject().Select(p => p.Name).Order());
        await tab.ScreenshotAsync("dashboard-app-variables");

        // Remove, confirmed in the dialog: gone from the API and from what the module sees; the other stays.
        await row.GetByRole(AriaRole.Button, new() { Name = "Remove GREETING" }).ClickAsync();
        await Expect(tab.Dialog).ToContainTextAsync("no longer see GREETING");
        await tab.Dialog.GetByRole(AriaRole.Button, new() { Name = "Remove GREETING" }).ClickAsync();
        await Expect(tab.ByTestId("vars-message")).ToHaveTextAsync("Variable GREETING removed.");
        await Expect(tab.ByTestId("var-row")).ToHaveCountAsync(1);
        Assert.False((await GetAppAsync(app)).GetProperty("variables").TryGetProperty("GREETING", out _));
        served = await RouterAnswerAsync(app, body => !body.Contains("GREETING=", StringComparison.Ordinal));
        Assert.Contains("MODE=test\n", served);
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task Limits_saved_in_the_browser_are_what_the_API_returns_and_a_refused_value_shows_the_API_s_detail()
    {
        var app = TestApps.UniqueName("limits");
        await stack.DeployAsync(app, "hello");
        await using var tab = await OpenAppAsync(app);
        var page = tab.Page;
        var before = await GetAppAsync(app);
        await Expect(page.GetByLabel("Memory per instance (MiB)")).ToHaveValueAsync(before.GetProperty("memoryLimitMb").GetInt32().ToString());
        await Expect(page.GetByLabel("Wall time per request (s)")).ToHaveValueAsync(before.GetProperty("timeoutSeconds").GetInt32().ToString());

        await page.GetByLabel("Memory per instance (MiB)").FillAsync("64");
        await page.GetByLabel("Wall time per request (s)").FillAsync("5");
        await page.GetByLabel("CPU time per request (ms)").FillAsync("1500");
        await page.GetByLabel("Concurrency per router").FillAsync("3");
        await page.GetByLabel("CPU time per request (ms)").PressAsync("Enter");
        await Expect(tab.ByTestId("limits-message")).ToContainTextAsync("Saved: ");
        var saved = await GetAppAsync(app);
        Assert.Equal(64, saved.GetProperty("memoryLimitMb").GetInt32());
        Assert.Equal(5, saved.GetProperty("timeoutSeconds").GetInt32());
        Assert.Equal(1500, saved.GetProperty("cpuTimeLimitMs").GetInt32());
        Assert.Equal(3, saved.GetProperty("maxConcurrency").GetInt32());
        await Expect(tab.ByTestId("limit-memoryLimitMb-saved")).ToHaveTextAsync("Saved: 64 MiB.");
        await Expect(tab.ByTestId("limits-fact")).ToHaveTextAsync("64 MiB, 5 s, 1500 ms CPU");

        // Over the maximum: the API's words under the form, the field marked, nothing saved.
        var refusal = await RefusalOfAsync(app, new { memoryLimitMb = 999_999 });
        await page.GetByLabel("Memory per instance (MiB)").FillAsync("999999");
        await tab.Button("Save limits").ClickAsync();
        await Expect(tab.ByTestId("limits-error-detail")).ToHaveTextAsync(refusal);
        await Expect(page.GetByLabel("Memory per instance (MiB)")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("Memory per instance (MiB)")).ToBeFocusedAsync();
        await Expect(tab.ByTestId("limit-memoryLimitMb-saved")).ToHaveTextAsync("Saved: 64 MiB.");
        await Expect(tab.ByTestId("limits-fact")).ToHaveTextAsync("64 MiB, 5 s, 1500 ms CPU");
        Assert.Equal(64, (await GetAppAsync(app)).GetProperty("memoryLimitMb").GetInt32());
        await tab.ScreenshotAsync("dashboard-app-limits-refused");

        // Not a number: refused before anything is sent, quoting the value.
        var patches = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "PATCH")
            {
                Interlocked.Increment(ref patches);
            }
        };
        await page.GetByLabel("Memory per instance (MiB)").FillAsync("64");
        await page.GetByLabel("Wall time per request (s)").FillAsync("lots");
        await tab.Button("Save limits").ClickAsync();
        await Expect(tab.ByTestId("limits-error-detail")).ToHaveTextAsync("Wall time per request must be a whole number of s; 'lots' is not.");
        Assert.Equal(0, patches);
        Assert.Equal(5, (await GetAppAsync(app)).GetProperty("timeoutSeconds").GetInt32());

        // A saved limit reaches the router: its routing table carries it within about a second.
        await page.GetByLabel("Wall time per request (s)").FillAsync("7");
        await tab.Button("Save limits").ClickAsync();
        await Expect(tab.ByTestId("limit-timeoutSeconds-saved")).ToHaveTextAsync("Saved: 7 s.");
        Assert.Equal(7, (await GetAppAsync(app)).GetProperty("timeoutSeconds").GetInt32());
        var route = await RouterRouteAsync(app, r => r.GetProperty("timeoutMilliseconds").GetInt32() == 7000);
        Assert.Equal(64L * 1024 * 1024, route.GetProperty("memoryLimitBytes").GetInt64());
        Assert.Equal(1500, route.GetProperty("cpuTimeMilliseconds").GetInt32());
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task Outbound_hosts_are_added_and_removed_in_the_browser_and_a_bad_entry_shows_the_API_s_detail()
    {
        var app = TestApps.UniqueName("hosts");
        await stack.DeployAsync(app, "hello");
        await using var tab = await OpenAppAsync(app);
        var page = tab.Page;
        await Expect(tab.ByTestId("hosts-empty")).ToBeVisibleAsync();
        var field = page.GetByLabel("Allowed outbound host");

        await field.FillAsync("https://api.example.com");
        await field.PressAsync("Enter");
        await Expect(tab.ByTestId("hosts-message")).ToHaveTextAsync("https://api.example.com allowed. Routers apply it within about a second.");
        await field.FillAsync("*://*.example.com:*");
        await tab.Button("Allow host").ClickAsync();
        await Expect(tab.ByTestId("host-value")).ToHaveTextAsync(["https://api.example.com", "*://*.example.com:*"]);
        Assert.Equal(["https://api.example.com", "*://*.example.com:*"], Hosts(await GetAppAsync(app)));
        // The page's facts follow the saved list.
        await Expect(tab.ByTestId("outbound-hosts").Locator("li")).ToHaveTextAsync(["https://api.example.com", "*://*.example.com:*"]);

        var refusal = await RefusalOfAsync(app, new { allowedOutboundHosts = new[] { "https://api.example.com", "*://*.example.com:*", "ftp://files.example.com" } });
        await field.FillAsync("ftp://files.example.com");
        await tab.Button("Allow host").ClickAsync();
        await Expect(tab.ByTestId("hosts-error-detail")).ToHaveTextAsync(refusal);
        await Expect(field).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(tab.ByTestId("host-row")).ToHaveCountAsync(2);
        Assert.Equal(["https://api.example.com", "*://*.example.com:*"], Hosts(await GetAppAsync(app)));
        await tab.ScreenshotAsync("dashboard-app-outbound-hosts");

        await page.Locator("[data-testid=host-row][data-host='https://api.example.com']")
            .GetByRole(AriaRole.Button, new() { Name = "Remove https://api.example.com" }).ClickAsync();
        await Expect(tab.ByTestId("hosts-message")).ToHaveTextAsync("https://api.example.com removed from the allow-list.");
        await Expect(tab.ByTestId("host-value")).ToHaveTextAsync(["*://*.example.com:*"]);
        Assert.Equal(["*://*.example.com:*"], Hosts(await GetAppAsync(app)));
        tab.AssertNoScriptProblems();
    }

    private static string[] Hosts(JsonElement app) =>
        [.. app.GetProperty("allowedOutboundHosts").EnumerateArray().Select(h => h.GetString()!)];

    [Fact]
    public async Task Version_details_of_a_bundle_show_its_routes_components_files_and_digests()
    {
        var app = TestApps.UniqueName("details");
        using var client = stack.ControlPlane.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/apps", new { name = app })).EnsureSuccessStatusCode();
        var tgz = new BundleBuilder()
            .File("spin.toml", """
                spin_manifest_version = 2
                [application]
                name = "details-bundle"
                version = "1.2.3"
                [[trigger.http]]
                route = "/..."
                component = "site"
                executor = { type = "wagi" }
                [[trigger.http]]
                route = "/component"
                component = "handler"
                executor = { type = "wagi", entrypoint = "_start" }
                [component.site]
                source = "hello.wasm"
                files = ["static/*"]
                [component.handler]
                source = "cgienv.wasm"
                """)
            .File("hello.wasm", TestApps.Bytes("hello"))
            .File("cgienv.wasm", TestApps.Bytes("cgienv"))
            .File("static/index.html", "<h1>details</h1>")
            .File("static/app.css", "h1 { color: teal; }")
            .TarGz();
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new ByteArrayContent(tgz), "bundle", "details.tgz");
            var uploaded = await client.PostAsync($"/api/v1/apps/{app}/versions", form);
            Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
        }
        var api = await client.GetFromJsonAsync<JsonElement>($"/api/v1/apps/{app}/versions/1");
        var site = api.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "site");
        var indexDigest = site.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "/static/index.html").GetProperty("digest").GetString();
        var handlerDigest = api.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "handler").GetProperty("digest").GetString();

        await using var tab = await OpenAppAsync(app);
        var page = tab.Page;
        var toggle = page.GetByRole(AriaRole.Button, new() { Name = "Routes and components of version 1" });
        await toggle.ClickAsync();
        await Expect(toggle).ToHaveAttributeAsync("aria-expanded", "true");
        var details = tab.ByTestId("version-details");
        await Expect(details).ToContainTextAsync("details-bundle 1.2.3: 2 component(s), 2 route(s)");
        await Expect(details.GetByTestId("route-row")).ToHaveTextAsync([new System.Text.RegularExpressions.Regex(@"^/\.\.\.\s*site$"),
            new System.Text.RegularExpressions.Regex(@"^/component\s*handler$")]);
        var siteRow = details.Locator("[data-testid=component-row][data-component=site]");
        var handlerRow = details.Locator("[data-testid=component-row][data-component=handler]");
        await Expect(siteRow.GetByTestId("component-kind")).ToHaveTextAsync("WAGI module");
        await Expect(handlerRow.GetByTestId("component-kind")).ToHaveTextAsync("WAGI module");
        await Expect(handlerRow.GetByTestId("component-digest")).ToHaveAttributeAsync("title", handlerDigest!);
        await Expect(siteRow.GetByTestId("file-row")).ToHaveCountAsync(2);
        await Expect(siteRow.Locator("[data-testid=file-row][data-path='/static/index.html'] [data-testid=file-digest]"))
            .ToHaveAttributeAsync("title", indexDigest!);
        await tab.ScreenshotAsync("dashboard-version-details");

        await toggle.ClickAsync();
        await Expect(details).ToHaveCountAsync(0);
        tab.AssertNoScriptProblems();
    }
}
