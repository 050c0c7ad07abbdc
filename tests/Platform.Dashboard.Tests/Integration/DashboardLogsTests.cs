using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>The app page's log panel in Chromium: the tail, filters, and live follow over SSE read through fetch.</summary>
[Collection(DashboardCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DashboardLogsTests(DashboardStack stack)
{
    private async Task SendAsync(string app, string path, HttpStatusCode expected)
    {
        using var response = await stack.Router.SendAsync(app, path);
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task The_log_panel_shows_stderr_and_the_platforms_reasons_filters_by_stream_and_follows_new_lines()
    {
        var app = TestApps.UniqueName("logs");
        await stack.DeployAsync(app, "logger");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while ((await stack.Router.SendAsync(app, "/?first")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        await SendAsync(app, "/trap", HttpStatusCode.InternalServerError);
        await Task.Delay(1000); // routers ship lines every quarter second

        await using var tab = await stack.OpenAsync();
        var page = tab.Page;
        await page.GotoAsync($"/apps/{app}");
        await tab.SignInAsync();
        var lines = tab.ByTestId("log-line");
        await Expect(lines.Filter(new() { HasText = "token=first" }).First).ToBeVisibleAsync();
        var trap = lines.Filter(new() { HasText = "[Trap]" });
        await Expect(trap).ToHaveCountAsync(1);
        await Expect(trap).ToHaveAttributeAsync("data-stream", "platform");

        // Only the platform's own lines.
        await tab.ByTestId("logs-stream").SelectOptionAsync("platform");
        await Expect(lines).ToHaveCountAsync(1);
        await Expect(lines.First).ToContainTextAsync("[Trap]");
        await tab.ByTestId("logs-stream").SelectOptionAsync("");
        await Expect(lines.Filter(new() { HasText = "about to trap" })).ToHaveCountAsync(1);

        // Follow: a line written now appears without a reload.
        await tab.Button("Follow").ClickAsync();
        await Expect(tab.ByTestId("logs-following")).ToBeVisibleAsync();
        await Expect(tab.ByTestId("logs-follow")).ToHaveAttributeAsync("aria-pressed", "true");
        var token = Guid.NewGuid().ToString("N");
        await SendAsync(app, "/?" + token, HttpStatusCode.OK);
        await Expect(lines.Filter(new() { HasText = "token=" + token })).ToHaveCountAsync(1, new() { Timeout = 5000 });
        await Expect(lines.Filter(new() { HasText = "token=first" })).ToHaveCountAsync(1);
        await tab.ScreenshotAsync("dashboard-app-logs");

        await tab.Button("Stop following").ClickAsync();
        await Expect(tab.ByTestId("logs-follow")).ToHaveAttributeAsync("aria-pressed", "false");

        // A version filter that matches nothing says so.
        await tab.ByTestId("logs-version").FillAsync("7");
        await tab.ByTestId("logs-version").DispatchEventAsync("change");
        await Expect(lines).ToHaveCountAsync(0);
        await Expect(tab.ByTestId("logs-empty")).ToContainTextAsync(new Regex("No lines yet"));
        tab.AssertNoScriptProblems();
    }
}
