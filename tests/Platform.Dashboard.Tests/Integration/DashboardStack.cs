using System.Net.Http.Json;
using Microsoft.Playwright;
using Platform.Testing;

namespace Platform.Dashboard.Tests.Integration;

/// <summary>
/// The whole platform on loopback (real PostgreSQL, docker-registry, control plane and router as processes) plus
/// Debian's Chromium driven by Playwright. One per test collection: starting it takes several seconds.
/// </summary>
public sealed class DashboardStack() : PlatformStackFixture(Options(TestPorts.GetFreeTcpPort()))
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The dashboard's built files as committed; what `dotnet publish` ships.</summary>
    public static string WebRoot => RepoPaths.Combine("src", "Platform.ControlPlane", "wwwroot");

    /// <summary>Where screenshots go: TestResults/dashboard under the repository root (ignored by git, kept by CI).</summary>
    public static string ArtifactsDirectory => RepoPaths.Combine("TestResults", "dashboard");

    private static PlatformStackOptions Options(int routerPort) => new()
    {
        RouterPort = routerPort,
        ControlPlaneEnvironment = new Dictionary<string, string?>
        {
            ["Platform__Apps__RouterUrl"] = $"http://127.0.0.1:{routerPort}",
            // The build output has no wwwroot (only publish copies it, which the run command uses): serve the committed files.
            ["ASPNETCORE_WEBROOT"] = WebRoot,
        },
    };

    public override async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("PLATFORM_CHROMIUM") is { Length: > 0 } custom ? custom : ChromiumPath;
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"Chromium not found at '{chromium}'; install the Debian package 'chromium' (deploy/platform.sh test does).");
        }
        await base.InitializeAsync();
        try
        {
            await StartBrowserAsync(chromium);
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed; do not leave servers behind.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartBrowserAsync(string chromium)
    {
        // Only the driver (Node, shipped inside the NuGet package) is used; browsers are never downloaded.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        // A loaded 2-core machine runs the whole stack; waits for UI state get room (they still fail when the state never comes).
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    /// <summary>Uploads a test module the way the dashboard does (multipart, a 'module' part) and returns the raw answer.</summary>
    public static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string app, string module)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(TestApps.Bytes(module));
        file.Headers.ContentType = new("application/wasm");
        form.Add(file, "module", module + ".wasm");
        return await client.PostAsync($"/api/v1/apps/{app}/versions", form);
    }

    /// <summary>Creates an app, without a version, through the API.</summary>
    public async Task CreateAppAsync(string app, ControlPlaneProcess? controlPlane = null)
    {
        using var client = (controlPlane ?? ControlPlane).CreateClient();
        var created = await client.PostAsJsonAsync("/api/v1/apps", new { name = app });
        Assert.True(created.IsSuccessStatusCode, $"create app '{app}': {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates an app through the API and deploys a test module as its first version.</summary>
    public async Task DeployAsync(string app, string module, ControlPlaneProcess? controlPlane = null)
    {
        await CreateAppAsync(app, controlPlane);
        using var client = (controlPlane ?? ControlPlane).CreateClient();
        var uploaded = await UploadAsync(client, app, module);
        Assert.True(uploaded.IsSuccessStatusCode, $"upload {module} to '{app}': {(int)uploaded.StatusCode} {await uploaded.Content.ReadAsStringAsync()}");
    }

    /// <summary>A fresh browser context (own session storage) with a page on the dashboard.</summary>
    public async Task<DashboardPage> OpenAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = ControlPlane.Url,
            ViewportSize = new() { Width = width, Height = height },
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        var opened = new DashboardPage(context, page);
        await page.GotoAsync("/");
        return opened;
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        await base.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardStack>
{
    public const string Name = "dashboard stack";
}
