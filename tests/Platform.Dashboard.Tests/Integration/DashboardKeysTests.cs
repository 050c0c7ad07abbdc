using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>The API keys screen and the admin's tenant switcher in Chromium, checked against the API.</summary>
[Collection(DashboardCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DashboardKeysTests(DashboardStack stack)
{
    [Fact]
    public async Task An_admin_filters_apps_by_tenant_makes_a_scoped_key_sees_its_secret_once_and_revokes_it()
    {
        using var admin = stack.ControlPlane.CreateClient();
        var (acme, globex) = (TestApps.UniqueName("acme"), TestApps.UniqueName("globex"));
        var (acmeApp, globexApp) = (TestApps.UniqueName("acme-app"), TestApps.UniqueName("globex-app"));
        foreach (var (tenant, app) in new[] { (acme, acmeApp), (globex, globexApp) })
        {
            (await admin.PostAsJsonAsync("/api/v1/tenants", new { name = tenant })).EnsureSuccessStatusCode();
            (await admin.PostAsJsonAsync("/api/v1/apps", new { name = app, tenant })).EnsureSuccessStatusCode();
        }

        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync();
        var rows = tab.ByTestId("app-row");
        await Expect(rows.And(page.Locator($"[data-app='{acmeApp}']"))).ToBeVisibleAsync();
        await Expect(rows.And(page.Locator($"[data-app='{globexApp}']"))).ToBeVisibleAsync();

        // The switcher narrows the list to one tenant, and back.
        var switcher = tab.ByTestId("tenant-switcher");
        await Expect(switcher.Locator($"option[value='{acme}']")).ToHaveCountAsync(1);
        await switcher.SelectOptionAsync(acme);
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-app", acmeApp);
        await Expect(rows.First.GetByTestId("app-tenant")).ToHaveTextAsync(acme);
        await switcher.SelectOptionAsync("");
        await Expect(rows.And(page.Locator($"[data-app='{globexApp}']"))).ToBeVisibleAsync();

        // A deploy-only key for one app of acme.
        await tab.ByTestId("nav-keys").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/keys$"));
        var keyName = TestApps.UniqueName("ci");
        await page.GetByLabel("Key name").FillAsync(keyName);
        await tab.ByTestId("key-tenant").SelectOptionAsync(acme);
        await tab.ByTestId("key-access").SelectOptionAsync("deploy-only");
        await page.GetByLabel("Only these apps (optional)").FillAsync(acmeApp);
        await tab.Button("Create key").ClickAsync();
        var secret = (await tab.ByTestId("new-key-secret").InnerTextAsync()).Trim();
        Assert.StartsWith("wpk_", secret);
        var row = page.Locator($"[data-testid=key-row][data-key='{keyName}']");
        await Expect(row.GetByTestId("key-tenant-cell")).ToHaveTextAsync(acme);
        await Expect(row.GetByTestId("key-access-cell")).ToHaveTextAsync("deploy-only");
        await Expect(row.GetByTestId("key-apps-cell")).ToHaveTextAsync(acmeApp);
        await Expect(tab.ByTestId("keys-table")).Not.ToContainTextAsync(secret);
        await tab.ScreenshotAsync("dashboard-api-keys");

        // The key made in the browser is what the API says it is.
        using (var made = stack.ControlPlane.CreateClient(secret))
        {
            var apps = await made.GetFromJsonAsync<JsonElement>("/api/v1/apps");
            Assert.Equal([acmeApp], apps.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
            Assert.Equal(HttpStatusCode.Forbidden, (await made.DeleteAsync($"/api/v1/apps/{acmeApp}")).StatusCode);
        }

        // Hidden on request and gone after a reload: the secret is never shown again.
        await tab.ByTestId("hide-key").ClickAsync();
        await Expect(tab.ByTestId("new-key-secret")).ToHaveCountAsync(0);
        await page.ReloadAsync();
        await Expect(row).ToBeVisibleAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync());

        // Revoke, confirmed in the dialog: the row goes and the key stops working.
        await row.GetByRole(AriaRole.Button, new() { Name = $"Revoke {keyName}" }).ClickAsync();
        await Expect(tab.Dialog).ToContainTextAsync(keyName);
        await tab.Dialog.GetByRole(AriaRole.Button, new() { Name = $"Revoke {keyName}" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        using (var revoked = stack.ControlPlane.CreateClient(secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/api/v1/apps")).StatusCode);
        }
        tab.AssertNoScriptProblems();
    }

    [Fact]
    public async Task A_tenant_key_sees_only_its_tenants_apps_and_keys_and_no_tenant_switcher()
    {
        using var admin = stack.ControlPlane.CreateClient();
        var (tenant, other) = (TestApps.UniqueName("own"), TestApps.UniqueName("other"));
        var (app, otherApp) = (TestApps.UniqueName("own-app"), TestApps.UniqueName("other-app"));
        foreach (var (t, a) in new[] { (tenant, app), (other, otherApp) })
        {
            (await admin.PostAsJsonAsync("/api/v1/tenants", new { name = t })).EnsureSuccessStatusCode();
            (await admin.PostAsJsonAsync("/api/v1/apps", new { name = a, tenant = t })).EnsureSuccessStatusCode();
        }
        var otherKey = TestApps.UniqueName("other-key");
        (await admin.PostAsJsonAsync("/api/v1/keys", new { name = otherKey, tenant = other })).EnsureSuccessStatusCode();
        var created = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = TestApps.UniqueName("own-key"), tenant })).Content.ReadFromJsonAsync<JsonElement>();

        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await tab.SignInAsync(created.GetProperty("key").GetString()!);
        var rows = tab.ByTestId("app-row");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-app", app);
        await Expect(tab.ByTestId("tenant-switcher")).Not.ToBeVisibleAsync();

        // The app of the other tenant is a page that does not exist.
        await page.GotoAsync($"/apps/{otherApp}");
        await Expect(tab.ByTestId("app-not-found")).ToContainTextAsync($"No app is named '{otherApp}'");

        // Its keys screen: a key made here is of its own tenant; the other tenant's key is not listed.
        await tab.ByTestId("nav-keys").ClickAsync();
        await Expect(tab.ByTestId("key-tenant")).Not.ToBeVisibleAsync();
        var keyName = TestApps.UniqueName("mine");
        await page.GetByLabel("Key name").FillAsync(keyName);
        await tab.ByTestId("key-access").SelectOptionAsync("read-only");
        await tab.Button("Create key").ClickAsync();
        await Expect(tab.ByTestId("new-key-secret")).ToContainTextAsync("wpk_");
        var row = page.Locator($"[data-testid=key-row][data-key='{keyName}']");
        await Expect(row.GetByTestId("key-tenant-cell")).ToHaveTextAsync(tenant);
        await Expect(row.GetByTestId("key-access-cell")).ToHaveTextAsync("read-only");
        await Expect(page.Locator($"[data-testid=key-row][data-key='{otherKey}']")).ToHaveCountAsync(0);
        tab.AssertNoScriptProblems();
    }
}
