using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Configuration;
using Platform.Data;
using Platform.Runtime.Http;

namespace Platform.ControlPlane.Apis;

/// <param name="Method">GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.</param>
/// <param name="Path">Path and optional query of the app URL, starting with '/'.</param>
/// <param name="Body">Request body as text (sent as UTF-8); omit for none.</param>
/// <param name="Headers">Extra request headers; Host and hop-by-hop headers are refused.</param>
public sealed record TryRequest(string? Method, string? Path, string? Body = null, Dictionary<string, string>? Headers = null);

/// <param name="Headers">Response headers (content headers included); a header sent several times has several values.</param>
/// <param name="Body">Response body decoded as UTF-8, cut at 64 KiB.</param>
/// <param name="Truncated">True when the body was longer than 64 KiB and <paramref name="Body"/> holds only its start.</param>
/// <param name="DurationMs">Time from sending the request to reading the (possibly cut) body, as the control plane saw it.</param>
public sealed record TryResponse(int Status, IReadOnlyDictionary<string, string[]> Headers, string Body, bool Truncated, double DurationMs);

/// <summary>Where the control plane reaches a router for "try it" requests (section Platform:Apps).</summary>
public sealed class TryApiOptions
{
    /// <summary>Base URL of a router's app listener, reachable from the control plane.</summary>
    [Required]
    [Url(ErrorMessage = "Platform:Apps:RouterUrl must be an absolute http(s) URL.")]
    public string RouterUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>How long a try request may take in total; the router enforces each app's own wall-time limit.</summary>
    [Range(1, 3600)]
    public int TryTimeoutSeconds { get; set; } = 60;
}

/// <summary>
/// POST /api/v1/apps/{app}/try: sends one request to an app through a router and returns what came back. It exists
/// because a browser on the dashboard's origin cannot call {app}.apps.localhost cross-origin.
/// </summary>
public static class TryApi
{
    public const string HttpClientName = "Platform.TryApi";
    public const int MaxResponseBodyBytes = 64 * 1024;
    public const int MaxRequestBodyChars = 1024 * 1024;
    private const int MaxPathLength = 8192;
    private const int MaxHeaders = 50;

    private static readonly string[] s_methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    // Set by the control plane itself (Host, length, framing) or meaningless on a single proxied request.
    private static readonly HashSet<string> s_refusedHeaders = new([.. HopByHopHeaders.Names, "Host", "Content-Length", "Expect"], StringComparer.OrdinalIgnoreCase);

    public static IServiceCollection AddTryApi(this IServiceCollection services)
    {
        services.AddOptions<TryApiOptions>().BindConfiguration(AppsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // The user wants to see exactly what the app answered: redirects and cookies are shown, not followed or kept.
                AllowAutoRedirect = false,
                UseCookies = false,
                // Routers are internal to the platform; a host-wide HTTP proxy must not sit between them.
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });
        return services;
    }

    public static RouteHandlerBuilder MapTryApi(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/api/v1/apps/{app}/try", TryApp)
            .RequireAuthorization()
            // Calling the app is what its public URL allows anyone; a read-only key may do it too.
            .RequiresAppOperation(AppOperation.Read)
            .WithTags("Apps")
            .WithName("TryApp")
            .WithSummary("Send one request to the app through a router and return its status, headers and body")
            .WithDescription("For the dashboard's \"try it\" box: the control plane calls the router with the app's host name, " +
                             "so no cross-origin call is needed. The body is returned as UTF-8 text, cut at 64 KiB (truncated=true). " +
                             "502 when the router cannot be reached, 504 when it does not answer in time.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);

    public static async Task<Results<Ok<TryResponse>, ProblemHttpResult>> TryApp(
        string app, TryRequest request, PlatformDbContext db, IHttpClientFactory clients, IOptions<TryApiOptions> tryOptions,
        IOptions<AppsOptions> appsOptions, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        // The API class names the category (a static class cannot be ILogger<T>'s argument; a DTO should not be).
        var logger = loggers.CreateLogger(typeof(TryApi));
        var router = new Uri(tryOptions.Value.RouterUrl);
        if (Validate(request, router) is { } invalid)
        {
            return invalid;
        }
        if (!await db.Apps.AnyAsync(a => a.Name == app, cancellationToken))
        {
            return Problems.AppNotFound(app);
        }

        var method = request.Method!.Trim().ToUpperInvariant();
        using var message = new HttpRequestMessage(HttpMethod.Parse(method), new Uri(router.GetLeftPart(UriPartial.Authority) + request.Path));
        message.Headers.Host = router.IsDefaultPort ? $"{app}.{appsOptions.Value.Domain}" : $"{app}.{appsOptions.Value.Domain}:{router.Port}";
        if (request.Body is not null)
        {
            message.Content = new StringContent(request.Body, Encoding.UTF8);
        }
        foreach (var (name, value) in request.Headers ?? [])
        {
            // Content-Type and friends belong to the content; HttpRequestHeaders refuses them.
            if (!message.Headers.TryAddWithoutValidation(name, value) && message.Content?.Headers is { } contentHeaders)
            {
                contentHeaders.Remove(name);
                contentHeaders.TryAddWithoutValidation(name, value);
            }
        }

        var pathOnly = request.Path!.Split('?', 2)[0];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(tryOptions.Value.TryTimeoutSeconds));
        var started = clock.GetTimestamp();
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var (body, truncated) = await ReadCappedAsync(response.Content, MaxResponseBodyBytes, deadline.Token);
            var durationMs = Math.Round(clock.GetElapsedTime(started).TotalMilliseconds, 1);
            var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                headers[name] = headers.TryGetValue(name, out var earlier) ? [.. earlier, .. values] : [.. values];
            }
            logger.TryAnswered(app, method, pathOnly, (int)response.StatusCode, durationMs);
            return TypedResults.Ok(new TryResponse((int)response.StatusCode, headers, body, truncated, durationMs));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.TryTimedOut(app, method, pathOnly, tryOptions.Value.TryTimeoutSeconds);
            return Problems.Create(StatusCodes.Status504GatewayTimeout, "try-timeout", "App did not answer in time",
                $"{method} {pathOnly} to app '{app}' got no complete answer within {tryOptions.Value.TryTimeoutSeconds} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            logger.TryRouterUnreachable(ex, app, router.GetLeftPart(UriPartial.Authority));
            return Problems.Create(StatusCodes.Status502BadGateway, "router-unreachable", "Router unreachable",
                $"The router at {router.GetLeftPart(UriPartial.Authority)} did not answer {method} {pathOnly} for app '{app}': {ex.Message}");
        }
    }

    /// <summary>Returns a problem naming the first bad field and quoting its value, or null when the request is usable.</summary>
    internal static ProblemHttpResult? Validate(TryRequest request, Uri router)
    {
        var method = request.Method?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(method) || !s_methods.Contains(method, StringComparer.Ordinal))
        {
            return Problems.Validation($"Method '{request.Method}' is not supported; use one of {string.Join(", ", s_methods)}.", "method", request.Method);
        }
        if (PathError(request.Path, router) is { } pathError)
        {
            return Problems.Validation(pathError, "path", request.Path);
        }
        if (request.Body is { Length: > MaxRequestBodyChars } body)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "try-body-too-large", "Body too large",
                $"The body has {body.Length} characters; a try request may carry at most {MaxRequestBodyChars}.");
        }
        var headers = request.Headers ?? [];
        if (headers.Count > MaxHeaders)
        {
            return Problems.Validation($"{headers.Count} headers were given; at most {MaxHeaders} are allowed.", "headers");
        }
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || name.Length > 256 || !HttpToken.IsToken(name))
            {
                return Problems.Validation($"Header name '{name}' is not a valid HTTP header name.", "headers", name);
            }
            if (s_refusedHeaders.Contains(name))
            {
                return Problems.Validation($"Header '{name}' is set by the platform and cannot be given.", "headers", name);
            }
            if (value is null || value.Length > 8192 || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                return Problems.Validation($"The value of header '{name}' must be at most 8192 characters on one line.", "headers", name);
            }
            if (request.Body is null && IsContentHeader(name))
            {
                return Problems.Validation($"Header '{name}' describes a body, but the request has none.", "headers", name);
            }
        }
        return null;
    }

    private static string? PathError(string? path, Uri router)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            return $"Path '{path}' must start with '/'.";
        }
        if (path.Length > MaxPathLength)
        {
            return $"Path is {path.Length} characters long; at most {MaxPathLength} are allowed.";
        }
        if (path.StartsWith("//", StringComparison.Ordinal) || path.Any(c => char.IsControl(c) || c is ' ' or '#' or '\\'))
        {
            return $"Path '{path}' must not start with '//' or contain spaces, control characters, '#' or '\\'.";
        }
        // The request must stay on the router: the path can never change scheme, host or port.
        if (!Uri.TryCreate(router.GetLeftPart(UriPartial.Authority) + path, UriKind.Absolute, out var target)
            || !string.Equals(target.Authority, router.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return $"Path '{path}' does not form a valid URL.";
        }
        return null;
    }

    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Expires", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Allow", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads at most <paramref name="max"/> bytes as UTF-8 without buffering the rest; says whether more was there.</summary>
    private static async Task<(string Body, bool Truncated)> ReadCappedAsync(HttpContent content, int max, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(max + 1);
        try
        {
            var filled = 0;
            int read;
            while (filled <= max && (read = await stream.ReadAsync(buffer.AsMemory(filled, max + 1 - filled), cancellationToken)) > 0)
            {
                filled += read;
            }
            var truncated = filled > max;
            var length = Math.Min(filled, max);
            if (truncated)
            {
                // Do not cut a multi-byte character in half: back up to the start of the one that straddles the limit.
                while (length > 0 && (buffer[length] & 0xC0) == 0x80)
                {
                    length--;
                }
            }
            return (Encoding.UTF8.GetString(buffer, 0, length), truncated);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
