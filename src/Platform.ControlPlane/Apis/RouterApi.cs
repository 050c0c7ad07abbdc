using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/internal/v1, the API routers call: they read the routing table (whole or as deltas) and report request figures and app log lines. Router token only.</summary>
public static class RouterApi
{
    public const int MaxWaitSeconds = 60;

    public static RouteGroupBuilder MapRouterApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/v1").WithTags("Internal (routers)").RequireAuthorization(AuthSchemes.RouterPolicy);
        api.MapGet("/routes", GetRoutes).WithName("GetRoutingTable")
            .WithSummary("The routing table; with If-None-Match and ?wait=N it long-polls until the table changes")
            .WithDescription("With ?since=R&epoch=E the answer is a RoutingChanges document: the apps changed after revision R "
                + "(or a snapshot when R is unknown or pruned), long-polling with ?wait=N while nothing changed after R.");
        api.MapPost("/stats", PostStats).WithName("ReportRequestStats").WithSummary("Routers report per-app request figures per minute");
        api.MapPost("/logs", PostLogs).WithName("ReportAppLogs").WithSummary("Routers report app log lines (stderr, stdout, the platform's own events)");
        return api;
    }

    public static async Task<Results<Ok<RoutingTable>, Ok<RoutingChanges>, StatusCodeHttpResult, ProblemHttpResult>> GetRoutes(
        HttpContext context, [FromQuery] int? wait, [FromQuery] long? since, [FromQuery] string? epoch,
        RoutingTableProvider provider, RoutingChangeLog log, RouteChangeNotifier notifier,
        IHostApplicationLifetime lifetime, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (since is not null || epoch is not null)
        {
            if (since is not >= 0)
            {
                return Problems.Validation($"since must be a revision (0 or more); got '{context.Request.Query["since"]}'.", "since", context.Request.Query["since"].ToString());
            }
            context.Response.Headers.CacheControl = "no-cache";
            // The delta protocol: answered from the change log, never by rebuilding the whole table.
            var changes = await LongPollAsync(wait, notifier, lifetime, clock, async ct =>
            {
                var head = await log.GetHeadAsync(ct);
                return head.Revision != since || !string.Equals(head.Epoch, epoch, StringComparison.Ordinal)
                    ? await log.ReadAsync(epoch, since.Value, head, ct)
                    : null;
            }, cancellationToken);
            return changes is null ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : TypedResults.Ok(changes);
        }
        context.Response.Headers.CacheControl = "no-cache";
        var known = context.Request.Headers.IfNoneMatch.ToString();
        var table = await LongPollAsync(wait, notifier, lifetime, clock, async ct =>
        {
            var current = await provider.GetAsync(ct);
            var etag = $"\"{current.Revision}\"";
            context.Response.Headers.ETag = etag;
            return string.Equals(known, etag, StringComparison.Ordinal) ? null : current;
        }, cancellationToken);
        return table is null ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : TypedResults.Ok(table);
    }

    /// <summary>
    /// The long-poll both forms share: <paramref name="read"/> answers, or returns null while the router already has
    /// what it would get; then wait for the next routing change, up to <paramref name="wait"/> seconds. Null: nothing
    /// new in time (304). A stopping control plane answers its long-polls at once, so routers move to another replica
    /// instead of holding up the shutdown.
    /// </summary>
    private static async Task<T?> LongPollAsync<T>(int? wait, RouteChangeNotifier notifier, IHostApplicationLifetime lifetime, TimeProvider clock,
        Func<CancellationToken, Task<T?>> read, CancellationToken cancellationToken) where T : class
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Clamp(wait ?? 0, 0, MaxWaitSeconds));
        while (true)
        {
            // Capture the change signal before reading, so a change between the read and the wait still wakes us.
            var changed = notifier.NextChange;
            if (await read(cancellationToken) is { } answer)
            {
                return answer;
            }
            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero || lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return null;
            }
            try
            {
                await changed.WaitAsync(remaining, stopping.Token);
            }
            catch (TimeoutException)
            {
                return null;
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> PostLogs(AppLogReport report, AppLogStore store, CancellationToken cancellationToken)
    {
        if (report.Entries.Count > AppLogStore.MaxEntriesPerReport)
        {
            return Problems.Validation($"The report has {report.Entries.Count} entries; at most {AppLogStore.MaxEntriesPerReport} are accepted at once.");
        }
        if (report.Entries.FirstOrDefault(e => !AppLogStreams.IsKnown(e.Stream)) is { } bad)
        {
            return Problems.Validation($"Log entry of app '{bad.App}' has stream '{bad.Stream}'; expected stdout, stderr or platform.", "stream", bad.Stream);
        }
        if (report.Entries.FirstOrDefault(e => e.App is null || e.Line is null || e.RequestId is null) is { } incomplete)
        {
            return Problems.Validation($"A log entry at {incomplete.Time:O} lacks its app, line or request id.");
        }
        await store.AppendAsync(report, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> PostStats(RequestStatsReport report, PlatformDbContext db, CancellationToken cancellationToken)
    {
        var bucketCount = LatencyHistogram.UpperBoundsMs.Length;
        foreach (var m in report.Minutes)
        {
            if (m.LatencyBuckets.Length != bucketCount || m.Requests < 0 || m.Errors < 0)
            {
                return Problems.Validation($"Stats for app '{m.App}' at {m.Minute:O} have {m.LatencyBuckets.Length} latency buckets; expected {bucketCount}.");
            }
        }
        // Stats are kept by app name: a late report for a deleted app, or for minutes before the app of that name was
        // created, would otherwise be shown to the next owner of the name (perhaps another tenant).
        var names = report.Minutes.Select(m => m.App).Distinct().ToList();
        var created = await db.Apps.AsNoTracking().Where(a => names.Contains(a.Name))
            .ToDictionaryAsync(a => a.Name, a => a.CreatedAt, cancellationToken);
        db.RequestStats.AddRange(report.Minutes
            .Where(m => created.TryGetValue(m.App, out var since) && m.Minute.AddMinutes(1) > since)
            .Select(m => new RequestStat
        {
            AppName = m.App,
            Minute = m.Minute,
            Requests = m.Requests,
            Errors = m.Errors,
            LatencyBuckets = m.LatencyBuckets,
        }));
        await db.SaveChangesAsync(cancellationToken);
        // Old figures are deleted by RequestStatsRetention on a timer.
        return TypedResults.NoContent();
    }
}
