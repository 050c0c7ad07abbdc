using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;

namespace Platform.Router.Routing;

/// <summary>
/// Keeps the routing table current by long-polling the control plane for what changed after the router's revision
/// (<c>?since=R&amp;epoch=E&amp;wait=N</c>; gzip or brotli). A delta that does not follow on (a lost or out-of-order
/// answer, another database) makes the next request ask for a snapshot. When the control plane is away, the router
/// keeps serving the table it has and retries with backoff.
/// </summary>
public sealed class RoutingTableSync(HttpClient http, RoutingTableStore store, IOptions<RouterOptions> options, ILogger<RoutingTableSync> logger)
    : BackgroundService
{
    private static readonly JsonSerializerOptions s_json = RoutingJson.Options;

    /// <summary>Saves the table on a graceful stop, so the next start resumes from the newest revision.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        store.Flush();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var delay = TimeSpan.FromMilliseconds(200);
        var needSnapshot = false;
        // The saved table's revision is what the first request asks from (then only the changes since come).
        await store.SavedTableLoaded.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // First contact, or after a gap: since=0 without an epoch always gets a snapshot.
                var current = store.Current;
                var query = current is { Epoch: { } epoch } && !needSnapshot
                    ? $"since={current.Revision}&epoch={Uri.EscapeDataString(epoch)}"
                    : "since=0";
                using var request = new HttpRequestMessage(HttpMethod.Get, $"{o.ControlPlaneUrl.TrimEnd('/')}/internal/v1/routes?{query}&wait={o.LongPollSeconds}");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.Token);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(o.LongPollSeconds + 15));
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    logger.RouterTokenRefused((int)response.StatusCode);
                    await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
                    continue;
                }
                if (response.StatusCode != HttpStatusCode.NotModified)
                {
                    response.EnsureSuccessStatusCode();
                    var changes = await response.Content.ReadFromJsonAsync<RoutingChanges>(s_json, timeout.Token)
                        ?? throw new JsonException("the control plane sent an empty routing document");
                    needSnapshot = store.Apply(changes) == RoutingApplyOutcome.Gap;
                }
                delay = TimeSpan.FromMilliseconds(200);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException or IOException)
            {
                logger.ControlPlaneUnreachable(ex, o.ControlPlaneUrl, store.Current?.RevisionText ?? "none", delay);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
