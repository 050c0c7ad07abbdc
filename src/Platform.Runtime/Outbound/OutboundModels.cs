using System.ComponentModel.DataAnnotations;

namespace Platform.Runtime.Outbound;

/// <summary>Router-wide settings of outbound HTTP ("Platform:Outbound").</summary>
public sealed class OutboundOptions
{
    public const string SectionName = "Platform:Outbound";

    /// <summary>Calls one instance may have open at once (responses not yet closed); beyond it: too_many_sessions.</summary>
    [Range(1, 1024)]
    public int MaxCallsPerInstance { get; set; } = 8;

    /// <summary>Largest upstream response body a guest can receive; a larger one fails the call.</summary>
    [Range(0, int.MaxValue)]
    public long MaxResponseBodyBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Largest request body a guest can send (the same default as the app's own request body).</summary>
    [Range(0, int.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Seconds a TCP connect may take (within the request's own deadline).</summary>
    [Range(0.1, 300)]
    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// The platform's own endpoints ("host:port", "[v6]:port" or URLs: control plane, registry, router ports) that
    /// guests may only reach when their allow-list names the address and exact port. Hosts that serve on a
    /// wildcard address ("0.0.0.0", "[::]", "*") protect the port on every address.
    /// </summary>
    public List<string> ProtectedEndpoints { get; set; } = [];
}

/// <summary>
/// What governs one app's (or component's) outbound calls: its parsed allow-list and name. Build it once per route
/// when a routing table is applied and reuse it for every request; connection pools are kept per allow-list.
/// </summary>
public sealed class OutboundPolicy(AllowedHosts hosts, string? app = null)
{
    /// <summary>No allow-list: every call is refused (destination_not_allowed).</summary>
    public static OutboundPolicy DenyAll { get; } = new(AllowedHosts.None);

    public AllowedHosts Hosts { get; } = hosts ?? AllowedHosts.None;

    /// <summary>App name for logs and metrics.</summary>
    public string? App { get; } = app;

    /// <summary>Parses <paramref name="entries"/> (Spin syntax); throws <see cref="FormatException"/> quoting a malformed one.</summary>
    public static OutboundPolicy Create(IEnumerable<string>? entries, string? app = null) =>
        new(AllowedHosts.Parse(entries), app);
}

/// <summary>An outbound request as a guest made it, with its URL already parsed strictly.</summary>
public sealed class OutboundRequest
{
    public required string Method { get; init; }
    public required OutboundUrl Url { get; init; }

    /// <summary>Request headers; Host, Content-Length, Transfer-Encoding and hop-by-hop headers are set by the client, not taken from here.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public ReadOnlyMemory<byte> Body { get; init; }
}

/// <summary>A received response, body read completely (within the cap).</summary>
public sealed class OutboundResponse
{
    public required int StatusCode { get; init; }

    /// <summary>Response and content headers in arrival order, names lower-case, one entry per value.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }
}

public enum OutboundStatus
{
    Ok,
    /// <summary>The allow-list does not name the URL, or the address it resolved to is protected.</summary>
    DestinationNotAllowed,
    /// <summary>Method, header or URL the client cannot send.</summary>
    InvalidRequest,
    RequestTooLarge,
    ResponseTooLarge,
    /// <summary>The request's wall-time deadline passed while waiting.</summary>
    Timeout,
    /// <summary>The request itself was cancelled (client gone, router stopping).</summary>
    Cancelled,
    /// <summary>Connect, TLS or protocol failure.</summary>
    UpstreamFailed,
}

/// <summary>Outcome of <see cref="OutboundHttpClient.Send"/>; <see cref="Error"/> is fit for the app's log.</summary>
public sealed record OutboundResult(OutboundStatus Status, OutboundResponse? Response, string? Error)
{
    public bool IsSuccess => Status == OutboundStatus.Ok;
}

/// <summary>
/// Counts one instance's open outbound calls against <see cref="OutboundOptions.MaxCallsPerInstance"/>. Both
/// guest ABIs use it: a wasi_experimental_http response handle holds a slot until closed, a wasi:http future
/// response until it is dropped.
/// </summary>
public sealed class OutboundCallBudget(int max)
{
    private int _open;

    public int Max { get; } = max;

    public int Open => _open;

    public bool TryAcquire()
    {
        while (true)
        {
            var open = Volatile.Read(ref _open);
            if (open >= Max)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _open) < 0)
        {
            Interlocked.Exchange(ref _open, 0);
        }
    }
}

/// <summary>Thrown inside the connect callback when the resolved address is refused; carries the reason.</summary>
internal sealed class OutboundAddressDeniedException(string message) : Exception(message);
