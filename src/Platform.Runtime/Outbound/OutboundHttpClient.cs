using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Platform.Runtime.Outbound;

/// <summary>
/// The one outbound HTTP client guests reach (the wasi_experimental_http ABI now, wasi:http/outgoing-handler
/// later). Every call is checked against the caller's allow-list on the parsed URL and again on the address
/// actually connected; redirects are never followed, cookies and proxies never used; request and response bodies
/// are capped; the call ends at the request's own deadline or cancellation.
/// </summary>
/// <remarks>
/// Wasm runs synchronously inside a host call, so <see cref="Send"/> is synchronous end to end (sync
/// <see cref="HttpMessageInvoker.Send"/>, a synchronous connect callback, sync stream reads): a waiting call holds
/// its own execution thread and no thread-pool thread. Connection pools are per allow-list (one handler for each
/// <see cref="AllowedHosts"/> instance), so a connection checked under one app's list is never reused under
/// another's.
/// </remarks>
public sealed partial class OutboundHttpClient : IDisposable
{
    private static readonly HashSet<string> s_skippedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "proxy-authorization",
        "te", "trailer", "upgrade", "expect",
    };

    private static readonly Counter<long> s_calls = RuntimeTelemetry.Meter.CreateCounter<long>(
        "platform.runtime.outbound.calls", description: "Outbound HTTP calls made by guests, by app, host and status (HTTP status or error).");

    private static readonly Histogram<double> s_duration = RuntimeTelemetry.Meter.CreateHistogram<double>(
        "platform.runtime.outbound.duration", unit: "s", description: "Duration of guests' outbound HTTP calls.");

    private readonly OutboundOptions _options;
    private readonly ProtectedEndpoint[] _protected;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<AllowedHosts, HttpMessageInvoker> _invokers = new();
    private bool _disposed;

    public OutboundHttpClient(IOptions<OutboundOptions> options, ILogger<OutboundHttpClient>? logger = null)
        : this(options.Value, logger)
    {
    }

    public OutboundHttpClient(OutboundOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _protected = [.. options.ProtectedEndpoints.SelectMany(ParseProtectedEndpoint)];
    }

    public OutboundOptions Options => _options;

    public IReadOnlyList<ProtectedEndpoint> ProtectedEndpoints => _protected;

    /// <summary>
    /// Sends <paramref name="request"/> under <paramref name="policy"/>. Never throws for anything the upstream or
    /// the guest does: every failure is an <see cref="OutboundResult"/> with a reason, also written to
    /// <paramref name="appLog"/> (naming the host, never the path or query).
    /// </summary>
    /// <param name="deadlineTimestamp">A <see cref="Stopwatch"/> timestamp: the request's remaining wall time ends here.</param>
    public OutboundResult Send(OutboundRequest request, OutboundPolicy policy, long deadlineTimestamp, CancellationToken cancellationToken,
        Action<string>? appLog = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(policy);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var url = request.Url;
        var started = Stopwatch.GetTimestamp();

        if (!policy.Hosts.Allows(url))
        {
            var reason = policy.Hosts.IsEmpty
                ? "the app's allow-list is empty"
                : $"it is not on the app's allow-list ({policy.Hosts})";
            return Finish(null, policy, request, OutboundStatus.DestinationNotAllowed, null,
                $"denied {request.Method} {url.Origin}: {reason}", started, appLog, hostTag: "(denied)");
        }

        using var activity = Activity.Current is { Recorded: false } ? null : RuntimeTelemetry.ActivitySource.StartActivity("outbound.http", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("app", policy.App);
            activity.SetTag("http.request.method", request.Method);
            activity.SetTag("server.address", url.Host);
            activity.SetTag("server.port", url.Port);
        }

        if (url.Scheme is not ("http" or "https"))
        {
            return Finish(activity, policy, request, OutboundStatus.InvalidRequest, null,
                $"{request.Method} {url.Origin} refused: only http and https can be sent", started, appLog);
        }
        if (request.Body.Length > _options.MaxRequestBodyBytes)
        {
            return Finish(activity, policy, request, OutboundStatus.RequestTooLarge, null,
                $"{request.Method} {url.Origin} refused: the request body has {request.Body.Length} bytes, more than the limit of {_options.MaxRequestBodyBytes}", started, appLog);
        }
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadlineTimestamp);
        if (remaining <= TimeSpan.Zero)
        {
            return Finish(activity, policy, request, OutboundStatus.Timeout, null,
                $"{request.Method} {url.Origin} not sent: the request's wall-time limit has passed", started, appLog);
        }

        HttpRequestMessage message;
        try
        {
            message = BuildMessage(request);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or UriFormatException)
        {
            return Finish(activity, policy, request, OutboundStatus.InvalidRequest, null,
                $"{request.Method} {url.Origin} refused: {ex.Message}", started, appLog);
        }

        using var _ = message;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(remaining);
        HttpResponseMessage? response = null;
        try
        {
            response = Invoker(policy.Hosts).Send(message, deadline.Token);
            var body = ReadBody(response, deadline.Token, out var tooLarge);
            if (tooLarge)
            {
                return Finish(activity, policy, request, OutboundStatus.ResponseTooLarge, null,
                    $"{request.Method} {url.Origin} failed: the response body is larger than the limit of {_options.MaxResponseBodyBytes} bytes", started, appLog);
            }
            var result = new OutboundResponse { StatusCode = (int)response.StatusCode, Headers = CollectHeaders(response), Body = body };
            return Finish(activity, policy, request, OutboundStatus.Ok, result, null, started, appLog);
        }
        catch (Exception ex) when (deadline.IsCancellationRequested && ex is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
            return cancellationToken.IsCancellationRequested
                ? Finish(activity, policy, request, OutboundStatus.Cancelled, null, $"{request.Method} {url.Origin} cancelled with the request", started, appLog)
                : Finish(activity, policy, request, OutboundStatus.Timeout, null,
                    $"{request.Method} {url.Origin} did not answer within the request's wall-time limit", started, appLog);
        }
        catch (Exception ex) when (FindDenial(ex) is { } denial)
        {
            return Finish(activity, policy, request, OutboundStatus.DestinationNotAllowed, null,
                $"denied {request.Method} {url.Origin}: {denial.Message}", started, appLog);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever the upstream or the network does, the guest gets an error code, never a host fault.
            return Finish(activity, policy, request, OutboundStatus.UpstreamFailed, null,
                $"{request.Method} {url.Origin} failed: {Describe(ex)}", started, appLog);
        }
        finally
        {
            response?.Dispose();
        }
    }

    private HttpRequestMessage BuildMessage(OutboundRequest request)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url.ToUri())
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (!request.Body.IsEmpty)
        {
            message.Content = new ReadOnlyMemoryContent(request.Body);
        }
        foreach (var (name, value) in request.Headers)
        {
            if (s_skippedRequestHeaders.Contains(name))
            {
                continue;
            }
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content ??= new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty);
                if (!message.Content.Headers.TryAddWithoutValidation(name, value))
                {
                    throw new FormatException($"the header '{name}' cannot be sent");
                }
            }
        }
        return message;
    }

    private ReadOnlyMemory<byte> ReadBody(HttpResponseMessage response, CancellationToken cancellationToken, out bool tooLarge)
    {
        tooLarge = false;
        var max = _options.MaxResponseBodyBytes;
        if (response.Content.Headers.ContentLength is long declared && declared > max)
        {
            tooLarge = true;
            return default;
        }
        // Sync reads cannot take the token; disposing the response unblocks them when the deadline passes.
        using var registration = cancellationToken.Register(static r => ((HttpResponseMessage)r!).Dispose(), response);
        using var stream = response.Content.ReadAsStream(cancellationToken);
        var initial = (int)Math.Min(Math.Max(response.Content.Headers.ContentLength ?? 16 * 1024, 256), max + 1);
        var buffer = new byte[Math.Max(initial, 1)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > max)
                {
                    tooLarge = true;
                    return default;
                }
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, max + 1));
            }
            var n = stream.Read(buffer, length, buffer.Length - length);
            if (n == 0)
            {
                break;
            }
            length += n;
            if (length > max)
            {
                tooLarge = true;
                return default;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        return buffer.AsMemory(0, length);
    }

    private static List<KeyValuePair<string, string>> CollectHeaders(HttpResponseMessage response)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in response.Headers.NonValidated)
        {
            var lower = name.ToLowerInvariant();
            foreach (var value in values)
            {
                headers.Add(new(lower, value));
            }
        }
        foreach (var (name, values) in response.Content.Headers.NonValidated)
        {
            var lower = name.ToLowerInvariant();
            foreach (var value in values)
            {
                headers.Add(new(lower, value));
            }
        }
        return headers;
    }

    private OutboundResult Finish(Activity? activity, OutboundPolicy policy, OutboundRequest request, OutboundStatus status,
        OutboundResponse? response, string? error, long started, Action<string>? appLog, string? hostTag = null)
    {
        var statusTag = response is not null ? response.StatusCode.ToString(CultureInfo.InvariantCulture) : StatusTag(status);
        var host = hostTag ?? request.Url.Host;
        s_calls.Add(1, new KeyValuePair<string, object?>("app", policy.App), new KeyValuePair<string, object?>("host", host),
            new KeyValuePair<string, object?>("status", statusTag));
        s_duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("app", policy.App),
            new KeyValuePair<string, object?>("status", statusTag));
        if (activity is not null)
        {
            if (activity.IsAllDataRequested)
            {
                activity.SetTag("outcome", statusTag);
                if (response is not null)
                {
                    activity.SetTag("http.response.status_code", response.StatusCode);
                }
            }
            if (status != OutboundStatus.Ok)
            {
                activity.SetStatus(ActivityStatusCode.Error, error);
            }
        }
        if (error is not null)
        {
            LogCallFailed(_logger, policy.App, request.Url.Host, status);
            try
            {
                appLog?.Invoke("[outbound] " + error);
            }
            catch (Exception)
            {
                // The app log is best effort.
            }
        }
        return new OutboundResult(status, response, error);
    }

    private static string StatusTag(OutboundStatus status) => status switch
    {
        OutboundStatus.DestinationNotAllowed => "denied",
        OutboundStatus.InvalidRequest => "invalid_request",
        OutboundStatus.RequestTooLarge => "request_too_large",
        OutboundStatus.ResponseTooLarge => "response_too_large",
        OutboundStatus.Timeout => "timeout",
        OutboundStatus.Cancelled => "cancelled",
        _ => "upstream_failed",
    };

    private static OutboundAddressDeniedException? FindDenial(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OutboundAddressDeniedException denied)
            {
                return denied;
            }
        }
        return null;
    }

    private static string Describe(Exception ex)
    {
        var message = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            message = inner.Message;
        }
        return message;
    }

    private HttpMessageInvoker Invoker(AllowedHosts hosts) =>
        _invokers.GetValue(hosts, h =>
        {
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
                PreAuthenticate = false,
                Credentials = null,
                MaxResponseHeadersLength = 64,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds),
                ConnectCallback = (context, token) => Connect(h, context, token),
            };
            return new HttpMessageInvoker(handler, disposeHandler: true);
        });

    /// <summary>
    /// Resolves and connects synchronously (the caller is a Wasm execution thread waiting anyway), refusing every
    /// address the guard refuses; cancellation (the deadline, the connect timeout) disposes the socket to abort it.
    /// </summary>
    private ValueTask<Stream> Connect(AllowedHosts hosts, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var scheme = context.InitialRequestMessage.RequestUri?.Scheme ?? "http";
        var host = endpoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : Dns.GetHostAddresses(host);
        string? denial = null;
        Exception? failure = null;
        foreach (var address in addresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = AddressGuard.Normalize(address);
            if (AddressGuard.Check(target, endpoint.Port, scheme, hosts, _protected) is { } reason)
            {
                denial ??= $"'{endpoint.Host}' resolved to {reason}";
                continue;
            }
            var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using (cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket))
                {
                    socket.Connect(target, endpoint.Port);
                }
                cancellationToken.ThrowIfCancellationRequested();
                return ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                socket.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                failure = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        if (failure is null && denial is not null)
        {
            throw new OutboundAddressDeniedException(denial);
        }
        throw failure ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>"host:port", "[v6]:port" or a URL; a name is resolved now; a wildcard host protects the port everywhere.</summary>
    internal static IEnumerable<ProtectedEndpoint> ParseProtectedEndpoint(string text)
    {
        var value = text.Trim();
        string host;
        int port;
        if (value.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(value.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri))
            {
                throw new FormatException($"The protected endpoint '{text}' is not a URL or host:port.");
            }
            host = uri.Host;
            port = uri.Port;
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                throw new FormatException($"The protected endpoint '{text}' is not host:port.");
            }
            host = value[..colon];
        }
        host = host.Trim('[', ']');
        if (host is "*" or "+" or "0.0.0.0" or "::")
        {
            return [new ProtectedEndpoint(null, port)];
        }
        if (IPAddress.TryParse(host, out var address))
        {
            return [new ProtectedEndpoint(address, port)];
        }
        IPAddress[] resolved;
        try
        {
            resolved = Dns.GetHostAddresses(host);
        }
        catch (SocketException)
        {
            resolved = [];
        }
        return resolved.Length == 0 && host == "localhost"
            ? [new ProtectedEndpoint(IPAddress.Loopback, port), new ProtectedEndpoint(IPAddress.IPv6Loopback, port)]
            : resolved.Select(a => new ProtectedEndpoint(a, port));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        // Handlers of allow-lists still alive; those of dropped lists went with them (idle connections close on their own).
        foreach (var (_, invoker) in _invokers)
        {
            invoker.Dispose();
        }
        _invokers.Clear();
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Debug, Message = "Outbound call of app {App} to host {Host} ended with {Status}")]
    private static partial void LogCallFailed(ILogger logger, string? app, string host, OutboundStatus status);
}
