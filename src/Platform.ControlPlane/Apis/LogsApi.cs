using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/apps/{app}/logs: what an app wrote and what the platform said about its requests; live with follow=true (SSE).</summary>
public static partial class LogsApi
{
    public const int DefaultTail = 100;
    public const int MaxTail = 10_000;
    private static readonly TimeSpan s_keepAlive = TimeSpan.FromSeconds(15);

    public static RouteGroupBuilder MapLogsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/apps/{app}/logs").WithTags("Apps").RequireAuthorization();
        api.MapGet("/", GetLogs).WithName("GetAppLogs")
            .WithSummary("The app's log lines, oldest first; follow=true with Accept: text/event-stream streams new lines as SSE")
            .WithDescription("tail=N (1-10000, default 100) keeps the last N lines; since=RFC 3339 time keeps lines written at or after it; " +
                "stream=stdout|stderr|platform and version=N filter. With follow=true the answer is text/event-stream: the selected lines, " +
                "then each new line as it arrives, every event a `data:` line holding one entry as JSON; `Last-Event-ID` resumes after an event.")
            .Produces<AppLogsResponse>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return api;
    }

    public static async Task<Results<Ok<AppLogsResponse>, ProblemHttpResult, EmptyHttpResult>> GetLogs(
        string app, [Microsoft.AspNetCore.Mvc.FromQuery] string? tail, [Microsoft.AspNetCore.Mvc.FromQuery] string? since,
        [Microsoft.AspNetCore.Mvc.FromQuery] string? follow, [Microsoft.AspNetCore.Mvc.FromQuery] string? stream,
        [Microsoft.AspNetCore.Mvc.FromQuery] string? version,
        HttpContext context, PlatformDbContext db, AppLogNotifier notifier, IOptions<JsonOptions> json,
        IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var count = DefaultTail;
        if (tail is not null && (!int.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxTail))
        {
            return Problems.Validation($"tail='{tail}' is not a whole number from 1 to {MaxTail}.", "tail", tail);
        }
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!Rfc3339().IsMatch(since)
                || !DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                return Problems.Validation($"since='{since}' is not an RFC 3339 time such as 2026-01-31T12:00:00Z.", "since", since);
            }
            from = parsed;
        }
        var following = false;
        if (follow is not null && !bool.TryParse(follow, out following))
        {
            return Problems.Validation($"follow='{follow}' is not true or false.", "follow", follow);
        }
        if (stream is not null && !AppLogStreams.IsKnown(stream))
        {
            return Problems.Validation($"stream='{stream}' is not one of stdout, stderr, platform.", "stream", stream);
        }
        int? onlyVersion = null;
        if (version is not null)
        {
            if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
            {
                return Problems.Validation($"version='{version}' is not a version number.", "version", version);
            }
            onlyVersion = v;
        }
        var appId = await db.Apps.AsNoTracking().Where(a => a.Name == app).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken);
        if (appId is not { } id)
        {
            return Problems.AppNotFound(app);
        }

        var filtered = db.AppLogs.AsNoTracking().Where(l => l.AppId == id);
        if (from is { } f)
        {
            filtered = filtered.Where(l => l.Time >= f);
        }
        if (stream is not null)
        {
            filtered = filtered.Where(l => l.Stream == stream);
        }
        if (onlyVersion is { } ov)
        {
            filtered = filtered.Where(l => l.Version == ov);
        }

        List<AppLogEntry> initial;
        long resumeAfter = 0;
        if (following && long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out resumeAfter))
        {
            initial = await filtered.Where(l => l.Id > resumeAfter).OrderBy(l => l.Id).Take(MaxTail).ToListAsync(cancellationToken);
        }
        else
        {
            initial = await filtered.OrderByDescending(l => l.Id).Take(count).ToListAsync(cancellationToken);
            initial.Reverse();
        }
        if (!following)
        {
            // Chosen by arrival, shown by time: routers report on their own schedule.
            return TypedResults.Ok(new AppLogsResponse(initial.OrderBy(l => l.Time).ThenBy(l => l.Id).Select(ToResponse).ToList()));
        }

        await StreamAsync(context, filtered, initial, resumeAfter, id, notifier, json.Value.SerializerOptions, lifetime, cancellationToken);
        return TypedResults.Empty;
    }

    /// <summary>Writes the selected lines, then each new one as it is stored, until the caller or the server goes away.</summary>
    private static async Task StreamAsync(HttpContext context, IQueryable<AppLogEntry> filtered, List<AppLogEntry> initial, long after, Guid appId,
        AppLogNotifier notifier, JsonSerializerOptions jsonOptions, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var token = stopping.Token;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();

        // Nothing matched before the initial read means every later match is new; otherwise resume after what was sent.
        var last = after;
        try
        {
            last = await WriteAsync(response, initial, last, jsonOptions, token);
            if (initial.Count == 0)
            {
                await response.WriteAsync(": following\n\n", token);
            }
            await response.Body.FlushAsync(token);
            while (!token.IsCancellationRequested)
            {
                // The change signal is taken before each read, so a line stored between the read and the wait still
                // wakes us; the read after a quiet keep-alive interval catches anything a lost notification hid.
                var next = notifier.NextAppend(appId);
                var fresh = await filtered.Where(l => l.Id > last).OrderBy(l => l.Id).Take(MaxTail).ToListAsync(token);
                last = await WriteAsync(response, fresh, last, jsonOptions, token);
                if (fresh.Count > 0)
                {
                    await response.Body.FlushAsync(token);
                    if (fresh.Count == MaxTail)
                    {
                        continue;
                    }
                }
                try
                {
                    await next.WaitAsync(s_keepAlive, token);
                }
                catch (TimeoutException)
                {
                    await response.WriteAsync(": keep-alive\n\n", token);
                    await response.Body.FlushAsync(token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The follower left, or this replica is stopping (the client reconnects to another with Last-Event-ID).
        }
        catch (IOException)
        {
        }
    }

    private static async Task<long> WriteAsync(HttpResponse response, List<AppLogEntry> entries, long last, JsonSerializerOptions jsonOptions, CancellationToken token)
    {
        if (entries.Count == 0)
        {
            return last;
        }
        var text = new StringBuilder();
        foreach (var e in entries)
        {
            text.Append("id: ").Append(e.Id.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("data: ").Append(JsonSerializer.Serialize(ToResponse(e), jsonOptions)).Append("\n\n");
            last = Math.Max(last, e.Id);
        }
        await response.WriteAsync(text.ToString(), token);
        return last;
    }

    private static AppLogEntryResponse ToResponse(AppLogEntry e) => new(e.Time, e.Version, e.Component, e.RequestId, e.Router, e.Stream, e.Line);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
