using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>
/// One browser tab on the dashboard, with the steps tests repeat. It records uncaught script errors and
/// Content-Security-Policy violations, which would otherwise pass unseen while the page looks fine.
/// </summary>
public sealed partial class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _scriptProblems = new();

    public DashboardPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.PageError += (_, error) => _scriptProblems.Enqueue($"uncaught: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                _scriptProblems.Enqueue($"CSP: {message.Text}");
            }
        };
    }

    public IPage Page { get; }

    public ILocator ByTestId(string id) => Page.GetByTestId(id);

    public ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    public ILocator Dialog => Page.GetByRole(AriaRole.Dialog);

    public async Task SignInAsync(string key = PlatformProcesses.AdminKey)
    {
        await Page.GetByLabel("API key").FillAsync(key);
        await Button("Sign in").ClickAsync();
        await Expect(ByTestId("sign-out")).ToBeVisibleAsync();
    }

    public Task<string?> StoredKeyAsync() => Page.EvaluateAsync<string?>("() => sessionStorage.getItem('platform.apiKey')");

    /// <summary>Uploads a test module through the real file input and waits for the outcome (success or refusal) to show.</summary>
    public async Task UploadAsync(string module)
    {
        await ByTestId("module-file").SetInputFilesAsync(TestApps.PathOf(module));
        await Expect(ByTestId("upload-result").Or(ByTestId("upload-error"))).ToContainTextAsync(module);
    }

    /// <summary>
    /// Sends the try-it form until the app's answer contains the text: a deploy or rollback reaches routers
    /// asynchronously (about a second), so the first request may still see the previous version.
    /// </summary>
    public async Task TryUntilAsync(string path, string expected, string method = "GET", string? body = null)
    {
        await ByTestId("try-method").SelectOptionAsync(method);
        await Page.GetByLabel("Path", new() { Exact = true }).FillAsync(path);
        await Page.GetByLabel("Body (optional)").FillAsync(body ?? "");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var last = "";
        while (true)
        {
            var send = ByTestId("try-send");
            await send.ClickAsync();
            await Expect(send).ToBeEnabledAsync();
            last = await ByTestId("try-output").InnerTextAsync();
            if (last.Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The try-it box never showed '{expected}'; last it showed:\n{last}");
            }
            await Task.Delay(250);
        }
    }

    public async Task<string> ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(DashboardStack.ArtifactsDirectory);
        var path = Path.Combine(DashboardStack.ArtifactsDirectory, name + ".png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        return path;
    }

    /// <summary>Fails with the recorded problems when any script error or CSP violation happened in this tab.</summary>
    public void AssertNoScriptProblems() =>
        Assert.True(_scriptProblems.IsEmpty, "The dashboard had script problems:\n" + string.Join('\n', _scriptProblems));

    /// <summary>Refreshes the traffic figures until they count a request: routers report figures about once a second.</summary>
    public async Task<string> WaitForTrafficAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var summary = ByTestId("stats-summary");
        while (true)
        {
            await ByTestId("refresh-stats").ClickAsync();
            await Task.Delay(500);
            var text = await summary.InnerTextAsync();
            if (SomeRequests().IsMatch(text))
            {
                return text;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The traffic figures never counted a request; they say: {text}");
            }
        }
    }

    [GeneratedRegex(@"^[1-9]\d* requests? and")]
    private static partial Regex SomeRequests();

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
