using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Bench;

/// <summary>The control plane's REST API as the benchmark uses it: create apps, upload versions.</summary>
public sealed class PlatformApi(string controlPlaneUrl, string adminKey) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
    {
        BaseAddress = new Uri(controlPlaneUrl),
        // A component upload compiles for a minute on a loaded machine (the compile child's wall limit is 240 s).
        Timeout = TimeSpan.FromSeconds(300),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", adminKey) },
    };

    /// <summary>Creates the app; an app that already exists (409) is fine.</summary>
    public async Task CreateAppAsync(string app, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/api/v1/apps", new { name = app }, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Conflict && !response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating app '{app}' failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>Uploads and activates a version; returns its number and how long the API took to accept it.</summary>
    public async Task<(int Number, TimeSpan Elapsed)> UploadAsync(string app, byte[] module, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(module);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        var started = Stopwatch.GetTimestamp();
        using var response = await _http.PostAsync($"/api/v1/apps/{app}/versions", content, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Uploading to '{app}' failed: {(int)response.StatusCode} {text}");
        }
        return (JsonDocument.Parse(text).RootElement.GetProperty("number").GetInt32(), elapsed);
    }

    public async Task<int?> ActiveVersionAsync(string app, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync($"/api/v1/apps/{app}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        return root.GetProperty("activeVersion").ValueKind == JsonValueKind.Number ? root.GetProperty("activeVersion").GetInt32() : null;
    }

    /// <summary>Creates the app and uploads the module unless it already serves a version.</summary>
    public async Task EnsureDeployedAsync(string app, byte[] module, CancellationToken cancellationToken)
    {
        await CreateAppAsync(app, cancellationToken);
        if (await ActiveVersionAsync(app, cancellationToken) is null)
        {
            await UploadAsync(app, module, cancellationToken);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Requests to apps through a router, with the app's host name as a browser would send it.</summary>
public sealed class RouterClient(string routerUrl, string managementUrl, string? logPath = null) : IDisposable
{
    /// <summary>The router's log file when the driver started it.</summary>
    public string? LogPath => logPath;

    private readonly Uri _router = new(routerUrl);
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public string RouterUrl => routerUrl;
    public string ManagementUrl => managementUrl;
    public string HostOf(string app) => $"{app}.apps.localhost:{_router.Port}";

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string app, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_router, path));
        request.Headers.Host = HostOf(app);
        using var response = await _http.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>Polls until the app answers 200 with a body containing <paramref name="expected"/>.</summary>
    public async Task WaitForAsync(string app, string path, string expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var last = "";
        while (Stopwatch.GetTimestamp() < deadline)
        {
            try
            {
                var (status, body) = await GetAsync(app, path, cancellationToken);
                last = $"{(int)status} {body}";
                if (status == HttpStatusCode.OK && body.Contains(expected, StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            await Task.Delay(20, cancellationToken);
        }
        throw new TimeoutException($"App '{app}' on {routerUrl} did not answer '{expected}' within {timeout.TotalSeconds} s; last answer: {last}");
    }

    public Task<string> MetricsAsync(CancellationToken cancellationToken) => _http.GetStringAsync($"{managementUrl}/metrics", cancellationToken);

    /// <summary>Number of routes the router holds (its /routing document).</summary>
    public async Task<int> RouteCountAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync($"{managementUrl}/routing", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return -1;
        }
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        return root.GetProperty("routes").GetArrayLength();
    }

    public static async Task WaitHealthyAsync(string url, ChildProcess? process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"{process.Name} exited before {url} answered; see its log.");
            }
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(20, cancellationToken);
        }
        throw new TimeoutException($"{url} did not answer within {timeout.TotalSeconds} s.");
    }

    public void Dispose() => _http.Dispose();
}
