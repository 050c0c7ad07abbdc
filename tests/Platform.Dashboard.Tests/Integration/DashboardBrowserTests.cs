using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>The dashboard in Debian's Chromium against the real stack, the way a user clicks through it.</summary>
[Collection(DashboardCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DashboardBrowserTests(DashboardStack stack)
{
    private static ILocator VersionRow(IPage page, int number) => page.Locator($"[data-testid=version-row][data-version='{number}']");

    private async Task<JsonElement> GetAppAsync(string app)
    {
        using var client = stack.ControlPlane.CreateClient();
        return await client.GetFromJsonAsync<JsonElement>($"/api/v1/apps/{app}");
    }

    [Fact]
    public async Task A_user_signs_in_deploys_tries_rolls_back_and_deletes_an_app_in_the_browser()
    {
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        var app = TestApps.UniqueName("dash");

        await tab.SignInAsync();
        Assert.Equal(PlatformProcesses.AdminKey, await tab.StoredKeyAsync());

        // Create: the form leads to the new app's page.
        await page.GetByLabel("New app name").FillAsync(app);
        await tab.Button("Create app").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/apps/{app}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = app, Level = 1 })).ToBeVisibleAsync();
        await Expect(tab.ByTestId("versions-empty")).ToBeVisibleAsync();

        // Version 1 through the file input, with the progress bar run to the end.
        await tab.UploadAsync("hello");
        await Expect(tab.ByTestId("upload-result")).ToHaveTextAsync(new Regex(@"^hello\.wasm uploaded as version 1 \(\d+ KiB\), now live\.$"));
        await Expect(tab.ByTestId("upload-progress").Locator("progress")).ToHaveAttributeAsync("value", "100");
        await Expect(tab.ByTestId("active-version")).ToHaveTextAsync("v1");
        await Expect(VersionRow(page, 1).GetByTestId("active-badge")).ToHaveTextAsync("Active");
        var digest = (await GetAppVersionsAsync(app))[0].GetProperty("digest").GetString()!;
        await Expect(VersionRow(page, 1).GetByTestId("digest")).ToHaveAttributeAsync("title", digest);
        await Expect(VersionRow(page, 1).GetByTestId("digest")).ToHaveTextAsync(digest[..19] + "…");

        // Try it: the greeting of hello comes back through the router.
        await tab.TryUntilAsync("/greet?name=web", "Hello from GET /greet?name=web");
        await Expect(tab.ByTestId("try-status")).ToHaveTextAsync("200");
        await Expect(tab.ByTestId("try-headers-out")).ToContainTextAsync("text/plain");

        // Version 2 becomes live.
        await tab.UploadAsync("greeting-v2");
        await Expect(tab.ByTestId("upload-result")).ToContainTextAsync("greeting-v2.wasm uploaded as version 2");
        await Expect(tab.ByTestId("active-version")).ToHaveTextAsync("v2");
        await Expect(VersionRow(page, 2).GetByTestId("active-badge")).ToBeVisibleAsync();
        await tab.TryUntilAsync("/", "greeting v2");
        await Expect(tab.ByTestId("try-headers-out")).ToContainTextAsync("X-App-Version");

        // Roll back to 1, confirmed in the dialog.
        await VersionRow(page, 1).GetByRole(AriaRole.Button, new() { Name = "Roll back to v1" }).ClickAsync();
        await Expect(tab.Dialog).ToBeVisibleAsync();
        await Expect(tab.Dialog).ToContainTextAsync("instead of version 2");
        await tab.Dialog.GetByRole(AriaRole.Button, new() { Name = "Roll back to v1" }).ClickAsync();
        await Expect(tab.Dialog).ToHaveCountAsync(0);
        await Expect(tab.ByTestId("active-version")).ToHaveTextAsync("v1");
        await Expect(VersionRow(page, 1).GetByTestId("active-badge")).ToBeVisibleAsync();
        await Expect(VersionRow(page, 2).GetByRole(AriaRole.Button, new() { Name = "Activate v2" })).ToBeVisibleAsync();
        Assert.Equal(1, (await GetAppAsync(app)).GetProperty("activeVersion").GetInt32());
        await tab.TryUntilAsync("/", "Hello from GET /");

        // Invalid bytes: the validator's own message is shown and nothing changes.
        var refusal = await RefusalOfAsync(app, "invalid");
        await tab.UploadAsync("invalid");
        await Expect(tab.ByTestId("upload-error")).ToContainTextAsync("invalid.wasm was refused");
        await Expect(tab.ByTestId("upload-error-detail")).ToHaveTextAsync(refusal);
        await Expect(page.GetByTestId("version-row")).ToHaveCountAsync(2);
        await Expect(tab.ByTestId("active-version")).ToHaveTextAsync("v1");

        // The requests sent above show up in the chart.
        await tab.WaitForTrafficAsync();
        Assert.True(await page.Locator("[data-testid=stats-chart] rect.bar").CountAsync() >= 1, "The chart draws no request bars.");
        Assert.True(await page.Locator("[data-testid=stats-chart] :is(path.line-p50, circle.dot-p50)").CountAsync() >= 1, "The chart draws no p50 latency.");
        await tab.ScreenshotAsync("dashboard-app-page");

        // Delete, confirmed in the dialog: back on the list, the app is gone there and in the API.
        await tab.Button("Delete app…").ClickAsync();
        await tab.Dialog.GetByRole(AriaRole.Button, new() { Name = $"Delete {app}" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/$"));
        await Expect(tab.ByTestId("flash")).ToHaveTextAsync($"App {app} deleted.");
        await Expect(page.Locator($"[data-testid=app-row][data-app='{app}']")).ToHaveCountAsync(0);
        using var client = stack.ControlPlane.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/apps/{app}")).StatusCode);

        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_module_dropped_on_the_upload_box_goes_live_and_its_full_digest_can_be_copied()
    {
        var app = TestApps.UniqueName("drop");
        await stack.CreateAppAsync(app);
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await tab.SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = app, Exact = true }).ClickAsync();
        await Expect(tab.ByTestId("versions-empty")).ToBeVisibleAsync();

        // What a file dragged from the desktop delivers: a drop event whose DataTransfer holds the file.
        var bytes = TestApps.Bytes("greeting-v2").Select(b => (int)b).ToArray();
        var transfer = await page.EvaluateHandleAsync("""
            bytes => {
              const transfer = new DataTransfer();
              transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.wasm', { type: 'application/wasm' }));
              return transfer;
            }
            """, bytes);
        await tab.ByTestId("dropzone").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = transfer });

        await Expect(tab.ByTestId("upload-result")).ToContainTextAsync("dropped.wasm uploaded as version 1");
        await Expect(tab.ByTestId("active-version")).ToHaveTextAsync("v1");
        var digest = (await GetAppVersionsAsync(app))[0].GetProperty("digest").GetString();
        await VersionRow(page, 1).GetByRole(AriaRole.Button, new() { Name = "Copy digest of version 1" }).ClickAsync();
        await Expect(VersionRow(page, 1).GetByTestId("copy-digest")).ToHaveTextAsync("Copied");
        Assert.Equal(digest, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_dropped_tgz_bundle_goes_live_and_its_details_show_routes_and_components()
    {
        var app = TestApps.UniqueName("bundle");
        await stack.CreateAppAsync(app);
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = app, Exact = true }).ClickAsync();
        await Expect(tab.ByTestId("versions-empty")).ToBeVisibleAsync();

        var bytes = new BundleBuilder()
            .File("spin.toml", """
                spin_manifest_version = 2
                [application]
                name = "dashboard-bundle"
                version = "2.0.0"
                [[trigger.http]]
                route = "/..."
                component = "site"
                executor = { type = "wagi" }
                [[trigger.http]]
                route = "/api/exact"
                component = "api"
                executor = { type = "wagi", entrypoint = "_start" }
                [component.site]
                source = "hello.wasm"
                files = ["static/*"]
                [component.api]
                source = "hello.wasm"
                environment = { MODE = "api" }
                """)
            .File("hello.wasm", TestApps.Bytes("hello"))
            .File("static/index.html", "<h1>hi</h1>")
            .TarGz().Select(b => (int)b).ToArray();
        var transfer = await page.EvaluateHandleAsync("""
            bytes => {
              const transfer = new DataTransfer();
              transfer.items.add(new File([new Uint8Array(bytes)], 'app.tgz', { type: 'application/gzip' }));
              return transfer;
            }
            """, bytes);
        await tab.ByTestId("dropzone").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = transfer });

        await Expect(tab.ByTestId("upload-result")).ToContainTextAsync("app.tgz uploaded as version 1");
        await Expect(tab.ByTestId("active-version")).ToHaveTextAsync("v1");
        await VersionRow(page, 1).GetByRole(AriaRole.Button, new() { Name = "Routes and components of version 1" }).ClickAsync();
        var details = tab.ByTestId("version-details");
        await Expect(details).ToContainTextAsync("dashboard-bundle 2.0.0: 2 component(s), 2 route(s)");
        await Expect(details.GetByTestId("route-row")).ToHaveCountAsync(2);
        await Expect(details.GetByTestId("routes-table")).ToContainTextAsync("/api/exact");
        await Expect(details.GetByTestId("component-row")).ToHaveCountAsync(2);
        await Expect(details.GetByTestId("components-table")).ToContainTextAsync("MODE");

        // Served through a real router: the catch-all gets the whole path as PATH_INFO, the exact route (its own
        // component) none.
        await tab.TryUntilAsync("/some/page", "Hello from GET /some/page");
        await tab.TryUntilAsync("/api/exact", "Hello from GET");
        await Expect(tab.ByTestId("try-status")).ToHaveTextAsync("200");
        await Expect(tab.ByTestId("try-body")).Not.ToContainTextAsync("/api/exact");
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_wrong_key_shows_the_refusal_and_leaves_the_user_signed_out()
    {
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;

        await page.GetByLabel("API key").FillAsync("not-a-key-of-this-platform-42");
        await tab.Button("Sign in").ClickAsync();

        await Expect(tab.ByTestId("signin-error")).ToContainTextAsync("The key was refused");
        await Expect(tab.ByTestId("signin-error")).ToContainTextAsync("unknown or revoked");
        await Expect(page.GetByLabel("API key")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(tab.ByTestId("sign-out")).ToBeHiddenAsync();
        Assert.Null(await tab.StoredKeyAsync());

        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task Signing_out_forgets_the_key_and_a_reload_stays_signed_out()
    {
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync();

        // The key is kept for the tab, so a reload stays signed in...
        await page.ReloadAsync();
        await Expect(tab.ByTestId("sign-out")).ToBeVisibleAsync();

        // ...until the user signs out.
        await tab.ByTestId("sign-out").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(tab.ByTestId("signin-message")).ToContainTextAsync("Signed out");
        Assert.Null(await tab.StoredKeyAsync());
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(tab.ByTestId("sign-out")).ToBeHiddenAsync();
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task The_create_form_explains_a_bad_name_in_place_with_the_API_s_words_before_sending_anything()
    {
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync();
        var creates = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/api/v1/apps", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref creates);
            }
        };

        string[] badNames = ["ab", "Bad_Name", "-leading-dash", "trailing-", "xn--punycode", "admin", new string('a', 64)];
        using var client = stack.ControlPlane.CreateClient();
        foreach (var name in badNames)
        {
            // What the API itself says about this name (and it refuses it: nothing is created).
            var response = await client.PostAsJsonAsync("/api/v1/apps", new { name });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var apiSays = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();

            await page.GetByLabel("New app name").FillAsync(name);
            await tab.Button("Create app").ClickAsync();
            await Expect(tab.ByTestId("create-app-error")).ToHaveTextAsync(apiSays!);
            await Expect(page.GetByLabel("New app name")).ToHaveAttributeAsync("aria-invalid", "true");
            await Expect(page.GetByLabel("New app name")).ToBeFocusedAsync();
        }
        Assert.Equal(0, creates);
        await Expect(page).ToHaveURLAsync(new Regex(@"/$"));
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_taken_name_shows_the_API_s_refusal_under_the_field()
    {
        var app = TestApps.UniqueName("taken");
        await stack.CreateAppAsync(app);
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync();
        await Expect(page.Locator($"[data-testid=app-row][data-app='{app}']")).ToContainTextAsync("No version yet");

        await page.GetByLabel("New app name").FillAsync(app);
        await tab.Button("Create app").ClickAsync();

        await Expect(tab.ByTestId("create-app-error")).ToHaveTextAsync($"An app named '{app}' already exists.");
        await Expect(page).ToHaveURLAsync(new Regex(@"/$"));
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_secret_set_on_the_secrets_screen_is_listed_by_name_and_its_value_is_never_shown_again()
    {
        var app = TestApps.UniqueName("secret");
        var value = "dash-" + Guid.NewGuid().ToString("N");
        await stack.CreateAppAsync(app);
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = app, Exact = true }).ClickAsync();
        await Expect(tab.ByTestId("secret-empty")).ToBeVisibleAsync();

        // A bad name is explained in place and nothing is sent.
        await page.GetByLabel("Secret name", new() { Exact = true }).FillAsync("1bad");
        await page.GetByLabel("Secret value", new() { Exact = true }).FillAsync(value);
        await tab.Button("Set secret").ClickAsync();
        await Expect(tab.ByTestId("secret-status")).ToContainTextAsync("'1bad' is not a valid name");
        Assert.Empty((await GetAppAsync(app)).GetProperty("secrets").EnumerateArray());

        await page.GetByLabel("Secret name", new() { Exact = true }).FillAsync("DB_PASSWORD");
        await tab.Button("Set secret").ClickAsync();
        await Expect(tab.ByTestId("secret-status")).ToHaveTextAsync("Secret DB_PASSWORD set.");
        await Expect(tab.ByTestId("secret-item")).ToHaveCountAsync(1);
        await Expect(tab.ByTestId("secret-item")).ToContainTextAsync("DB_PASSWORD");
        await Expect(page.GetByLabel("Secret value", new() { Exact = true })).ToHaveValueAsync("");
        Assert.Equal("DB_PASSWORD", Assert.Single((await GetAppAsync(app)).GetProperty("secrets").EnumerateArray()).GetString());
        await page.ReloadAsync();
        await Expect(tab.ByTestId("secret-item")).ToContainTextAsync("DB_PASSWORD");
        Assert.DoesNotContain(value, await page.ContentAsync());

        await tab.Button("Remove DB_PASSWORD").ClickAsync();
        await tab.Dialog.GetByRole(AriaRole.Button, new() { Name = "Remove DB_PASSWORD" }).ClickAsync();
        await Expect(tab.ByTestId("secret-item")).ToHaveCountAsync(0);
        Assert.Empty((await GetAppAsync(app)).GetProperty("secrets").EnumerateArray());
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task The_delete_dialog_works_from_the_keyboard_starts_on_cancel_and_escape_keeps_the_app()
    {
        var app = TestApps.UniqueName("keys");
        await stack.CreateAppAsync(app);
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;

        // Sign in and reach the app with the keyboard only.
        await page.GetByLabel("API key").PressSequentiallyAsync(PlatformProcesses.AdminKey);
        await page.Keyboard.PressAsync("Enter");
        var link = page.GetByRole(AriaRole.Link, new() { Name = app, Exact = true });
        await link.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = app, Level = 1 })).ToBeFocusedAsync();

        var delete = tab.Button("Delete app…");
        await delete.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(tab.Dialog).ToBeVisibleAsync();
        await Expect(tab.Dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync();

        await page.Keyboard.PressAsync("Escape");
        await Expect(tab.Dialog).ToHaveCountAsync(0);
        await Expect(delete).ToBeFocusedAsync();
        Assert.Equal(app, (await GetAppAsync(app)).GetProperty("name").GetString());
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_deep_link_to_an_app_on_a_phone_sized_screen_signs_in_there_and_needs_no_sideways_scrolling()
    {
        var app = TestApps.UniqueName("phone");
        await stack.DeployAsync(app, "hello");
        await using var tab = await stack.OpenAsync(width: 375, height: 812);
        var page = tab.Page;

        await page.GotoAsync($"/apps/{app}");
        await tab.SignInAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/apps/{app}$"));
        await Expect(VersionRow(page, 1).GetByTestId("active-badge")).ToBeVisibleAsync();
        await Expect(tab.ByTestId("stats-summary")).ToContainTextAsync("in the last 60 minutes");

        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"),
            "The app page scrolls sideways at 375 px.");
        await tab.ScreenshotAsync("dashboard-app-page-narrow");

        await page.GetByRole(AriaRole.Link, new() { Name = "Apps", Exact = true }).First.ClickAsync();
        await Expect(page.Locator($"[data-testid=app-row][data-app='{app}']")).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"),
            "The apps list scrolls sideways at 375 px.");
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task The_app_page_shows_the_outbound_allow_list_and_says_when_it_is_empty()
    {
        var app = TestApps.UniqueName("hosts");
        await stack.DeployAsync(app, "hello");
        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await page.GotoAsync($"/apps/{app}");
        await tab.SignInAsync();
        await Expect(tab.ByTestId("outbound-hosts")).ToHaveTextAsync("none allowed");

        using var client = stack.ControlPlane.CreateClient();
        (await client.PatchAsJsonAsync($"/api/v1/apps/{app}", new { allowedOutboundHosts = new[] { "https://api.example.com", "http://127.0.0.1:*" } }))
            .EnsureSuccessStatusCode();
        await page.ReloadAsync();
        await Expect(tab.ByTestId("outbound-hosts").Locator("li")).ToHaveTextAsync(["https://api.example.com", "http://127.0.0.1:*"]);
        tab.AssertNoScriptProblems();
    }

    private async Task<List<JsonElement>> GetAppVersionsAsync(string app)
    {
        using var client = stack.ControlPlane.CreateClient();
        return (await client.GetFromJsonAsync<List<JsonElement>>($"/api/v1/apps/{app}/versions"))!;
    }

    /// <summary>The detail the API gives when this module is uploaded; the dashboard must show the same words.</summary>
    private async Task<string> RefusalOfAsync(string app, string module)
    {
        using var client = stack.ControlPlane.CreateClient();
        var response = await DashboardStack.UploadAsync(client, app, module);
        Assert.False(response.IsSuccessStatusCode, $"Uploading {module} was accepted ({(int)response.StatusCode}).");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }
}
