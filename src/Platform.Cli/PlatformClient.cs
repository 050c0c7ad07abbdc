using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Platform.Cli;

public sealed record AppInfo(string Name, string Url, int? ActiveVersion, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? LastDeployedAt, string Status, Dictionary<string, string> Variables, int MemoryLimitMb, int TimeoutSeconds, string? Tenant = null);

public sealed record VersionInfo(int Number, string Digest, string ManifestDigest, string OciReference, long Size, DateTimeOffset CreatedAt,
    string? CreatedBy, bool Active);

/// <summary>A secret as the API lists it: name and times, never the value.</summary>
public sealed record SecretInfo(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record SecretList(List<SecretInfo> Secrets);

public sealed record KeyInfo(string Name, string Prefix, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt,
    string? Tenant = null, List<string>? Apps = null, string Access = "full");

public sealed record CreatedKey(string Name, string Key, string Prefix, bool Admin, DateTimeOffset CreatedAt,
    string? Tenant = null, List<string>? Apps = null, string Access = "full");

public sealed record TenantQuotas(int? MaxApps, long? MaxStoredBytes, int? MaxMemoryLimitMb, int? MaxTimeoutSeconds, int? MaxCpuTimeLimitMs, int? MaxConcurrency);

public sealed record TenantUsage(int Apps, long StoredBytes, int Keys);

public sealed record TenantInfo(string Name, DateTimeOffset CreatedAt, TenantQuotas Quotas, TenantUsage Usage);

public sealed record LogEntry(DateTimeOffset Time, int Version, string? Component, string RequestId, string Router, string Stream, string Line);

public sealed record LogsPage(List<LogEntry> Entries);

/// <summary>The control plane's REST API as the CLI uses it. A problem response becomes a <see cref="CliException"/> with its detail.</summary>
internal sealed class PlatformClient : IDisposable
{
    private readonly HttpClient _http;

    public PlatformClient(CliSettings settings, TimeSpan? timeout = null)
    {
        Settings = settings;
        _http = new HttpClient(CreateHandler()) { BaseAddress = new Uri(settings.Url + "/"), Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Key);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("platform-cli/1.0");
    }

    public CliSettings Settings { get; }

    public static PlatformClient FromSettings(TimeSpan? timeout = null) => new(CliSettings.Load(), timeout);

    /// <summary>*.localhost names are loopback (RFC 6761), as curl and browsers treat them, whatever the resolver says.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                }
                else
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                }
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public Task<List<AppInfo>> ListAppsAsync(CancellationToken ct) => ListAppsAsync(null, ct);

    /// <param name="tenant">Admins: only this tenant's apps.</param>
    public Task<List<AppInfo>> ListAppsAsync(string? tenant, CancellationToken ct) =>
        GetAsync<List<AppInfo>>(tenant is null ? "api/v1/apps" : $"api/v1/apps?tenant={Uri.EscapeDataString(tenant)}", ct);

    public Task<AppInfo> GetAppAsync(string app, CancellationToken ct) => GetAsync<AppInfo>($"api/v1/apps/{Uri.EscapeDataString(app)}", ct);

    /// <summary>The app, or null when there is none of that name.</summary>
    public async Task<AppInfo?> FindAppAsync(string app, CancellationToken ct)
    {
        using var response = await _http.GetAsync($"api/v1/apps/{Uri.EscapeDataString(app)}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        return await ReadAsync<AppInfo>(response, ct);
    }

    public async Task<AppInfo> CreateAppAsync(string app, CancellationToken ct)
    {
        using var response = await _http.PostAsJsonAsync("api/v1/apps", new { name = app }, Cli.Json, ct);
        return await ReadAsync<AppInfo>(response, ct);
    }

    /// <summary>Deletes the app; best effort (a failure is not reported).</summary>
    public async Task DeleteAppAsync(string app, CancellationToken ct)
    {
        try
        {
            using var response = await _http.DeleteAsync($"api/v1/apps/{Uri.EscapeDataString(app)}", ct);
        }
        catch (HttpRequestException)
        {
        }
    }

    public async Task<AppInfo> UpdateVariablesAsync(string app, Dictionary<string, string> variables, CancellationToken ct)
    {
        using var response = await _http.PatchAsJsonAsync($"api/v1/apps/{Uri.EscapeDataString(app)}", new { variables }, Cli.Json, ct);
        return await ReadAsync<AppInfo>(response, ct);
    }

    public Task<List<VersionInfo>> ListVersionsAsync(string app, CancellationToken ct) =>
        GetAsync<List<VersionInfo>>($"api/v1/apps/{Uri.EscapeDataString(app)}/versions", ct);

    public async Task<VersionInfo> UploadAsync(string app, HttpContent content, CancellationToken ct)
    {
        using var response = await _http.PostAsync($"api/v1/apps/{Uri.EscapeDataString(app)}/versions", content, ct);
        return await ReadAsync<VersionInfo>(response, ct);
    }

    public async Task<AppInfo> ActivateAsync(string app, int version, CancellationToken ct)
    {
        using var response = await _http.PostAsync($"api/v1/apps/{Uri.EscapeDataString(app)}/versions/{version}/activate", null, ct);
        return await ReadAsync<AppInfo>(response, ct);
    }

    public Task<LogsPage> GetLogsAsync(string app, string query, CancellationToken ct) =>
        GetAsync<LogsPage>($"api/v1/apps/{Uri.EscapeDataString(app)}/logs{query}", ct);

    /// <summary>Opens the SSE stream of the app's logs; the caller reads it.</summary>
    public async Task<HttpResponseMessage> OpenLogStreamAsync(string app, string query, long? lastEventId, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/apps/{Uri.EscapeDataString(app)}/logs{query}");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is { } id)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await ProblemAsync(response, ct);
            }
        }
        return response;
    }

    public Task<SecretList> ListSecretsAsync(string app, CancellationToken ct) =>
        GetAsync<SecretList>($"api/v1/apps/{Uri.EscapeDataString(app)}/secrets", ct);

    /// <summary>Sets a secret; true when it was created, false when it replaced one.</summary>
    public async Task<bool> SetSecretAsync(string app, string name, string value, CancellationToken ct)
    {
        using var response = await _http.PutAsJsonAsync($"api/v1/apps/{Uri.EscapeDataString(app)}/secrets/{Uri.EscapeDataString(name)}", new { value }, Cli.Json, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
        return response.StatusCode == System.Net.HttpStatusCode.Created;
    }

    public async Task UnsetSecretAsync(string app, string name, CancellationToken ct)
    {
        using var response = await _http.DeleteAsync($"api/v1/apps/{Uri.EscapeDataString(app)}/secrets/{Uri.EscapeDataString(name)}", ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
    }

    public Task<List<KeyInfo>> ListKeysAsync(CancellationToken ct) => GetAsync<List<KeyInfo>>("api/v1/keys", ct);

    public async Task<CreatedKey> CreateKeyAsync(string name, bool admin, string? tenant, IReadOnlyList<string>? apps, string? access, CancellationToken ct)
    {
        using var response = await _http.PostAsJsonAsync("api/v1/keys", new { name, admin, tenant, apps, access }, Cli.Json, ct);
        return await ReadAsync<CreatedKey>(response, ct);
    }

    public Task<List<TenantInfo>> ListTenantsAsync(CancellationToken ct) => GetAsync<List<TenantInfo>>("api/v1/tenants", ct);

    /// <param name="quotas">Quota fields by their API names (maxApps, ...); only those given are sent.</param>
    public async Task<TenantInfo> CreateTenantAsync(string name, IReadOnlyDictionary<string, long> quotas, CancellationToken ct)
    {
        var body = new Dictionary<string, object> { ["name"] = name };
        foreach (var (k, v) in quotas)
        {
            body[k] = v;
        }
        using var response = await _http.PostAsJsonAsync("api/v1/tenants", body, Cli.Json, ct);
        return await ReadAsync<TenantInfo>(response, ct);
    }

    public async Task DeleteTenantAsync(string name, CancellationToken ct)
    {
        using var response = await _http.DeleteAsync($"api/v1/tenants/{Uri.EscapeDataString(name)}", ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
    }

    public async Task RevokeKeyAsync(string name, CancellationToken ct)
    {
        using var response = await _http.DeleteAsync($"api/v1/keys/{Uri.EscapeDataString(name)}", ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await _http.GetAsync(path, ct);
        return await ReadAsync<T>(response, ct);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Cli.Json, ct)
                ?? throw new CliException($"the platform answered {(int)response.StatusCode} with an empty body");
        }
        catch (JsonException)
        {
            throw new CliException($"the platform answered {(int)response.StatusCode} with something that is not the expected JSON; is the URL right?");
        }
    }

    /// <summary>The problem's detail (RFC 9457), else its title, else the status line.</summary>
    public static async Task<CliException> ProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        string? detail = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                detail = doc.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                    : doc.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                    : null;
            }
        }
        catch (JsonException)
        {
        }
        return new CliException($"{detail ?? response.ReasonPhrase ?? "request failed"} (HTTP {status})");
    }

    public void Dispose() => _http.Dispose();
}
