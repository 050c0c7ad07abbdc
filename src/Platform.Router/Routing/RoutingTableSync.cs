using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;

namespace Platform.Router.Routing;

/// <summary>
/// Keeps the routing table current by long-polling the control plane (ETag + ?wait). When the control plane is
/// away, the router keeps serving the table it has and retries with backoff.
/// </summary>
public sealed class RoutingTableSync(HttpClient http, RoutingTableStore store, IOptions<RouterOptions> options, ILogger<RoutingTableSync> logger)
    : BackgroundService
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var known = store.Current?.Table.Revision;
                using var request = new HttpRequestMessage(HttpMethod.Get, $"{o.ControlPlaneUrl.TrimEnd('/')}/internal/v1/routes?wait={o.LongPollSeconds}");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.Token);
                if (known is not null)
                {
                    request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{known}\""));
                }
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
                    var table = await response.Content.ReadFromJsonAsync<RoutingTable>(s_json, timeout.Token)
                        ?? throw new JsonException("the control plane sent an empty routing table");
                    store.Update(table);
                }
                delay = TimeSpan.FromMilliseconds(200);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException or IOException)
            {
                logger.ControlPlaneUnreachable(ex, o.ControlPlaneUrl, store.Current?.Table.Revision ?? "none", delay);
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
