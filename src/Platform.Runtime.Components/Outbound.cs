using System.Text;
using Platform.Runtime.Outbound;

namespace Platform.Runtime.Components;

/// <summary>A request a component sends through <c>wasi:http/outgoing-handler</c>.</summary>
public sealed record ComponentOutboundRequest(
    string Method,
    string Scheme,
    string Authority,
    string PathWithQuery,
    IReadOnlyList<KeyValuePair<string, byte[]>> Headers,
    ReadOnlyMemory<byte> Body,
    string? AppName)
{
    /// <summary>The allow-list of the request's component (<see cref="ComponentRequest.Outbound"/>).</summary>
    public OutboundPolicy Policy { get; init; } = OutboundPolicy.DenyAll;

    /// <summary>A Stopwatch timestamp: the incoming request's wall time ends here.</summary>
    public long DeadlineTimestamp { get; init; } = long.MaxValue;

    /// <summary>The app log, for the reason a call failed.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// The answer to an outbound request: a response, or a wasi:http <c>error-code</c> case name (for example
/// <c>HTTP-request-denied</c>) that the guest receives as the handler's error.
/// </summary>
public sealed record ComponentOutboundResponse(
    int StatusCode,
    IReadOnlyList<KeyValuePair<string, byte[]>> Headers,
    ReadOnlyMemory<byte> Body);

public readonly record struct ComponentOutboundResult(ComponentOutboundResponse? Response, string? ErrorCode)
{
    public static ComponentOutboundResult Denied { get; } = new(null, "HTTP-request-denied");

    public static ComponentOutboundResult Error(string errorCode) => new(null, errorCode);

    public static ComponentOutboundResult Ok(ComponentOutboundResponse response) => new(response, null);
}

/// <summary>
/// Sends a component's outbound HTTP request. Runs on the execution thread and must respect
/// <paramref name="cancellationToken"/>, which fires at the request's deadline.
/// </summary>
public interface IComponentOutboundHttp
{
    ComponentOutboundResult Send(ComponentOutboundRequest request, CancellationToken cancellationToken);

    /// <summary>Responses one instance may hold at once (a future response holds a slot until dropped); beyond it the guest gets <c>connection-limit-reached</c>.</summary>
    int MaxCallsPerInstance => int.MaxValue;
}

/// <summary>Refuses every outbound request with <c>HTTP-request-denied</c>, without opening a connection.</summary>
public sealed class DenyAllComponentOutbound : IComponentOutboundHttp
{
    public static DenyAllComponentOutbound Instance { get; } = new();

    public ComponentOutboundResult Send(ComponentOutboundRequest request, CancellationToken cancellationToken) => ComponentOutboundResult.Denied;
}

/// <summary>
/// Sends component requests through the platform's shared <see cref="OutboundHttpClient"/>: the component's
/// allow-list, the address guard, the deadline and the body limits apply, and a refusal reaches the guest as the
/// matching wasi:http <c>error-code</c>.
/// </summary>
public sealed class SharedOutboundComponentClient(OutboundHttpClient client) : IComponentOutboundHttp
{
    /// <summary>The same per-instance budget as WAGI's <c>wasi_experimental_http</c> (<see cref="OutboundOptions.MaxCallsPerInstance"/>).</summary>
    public int MaxCallsPerInstance => client.Options.MaxCallsPerInstance;

    public ComponentOutboundResult Send(ComponentOutboundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!OutboundUrl.TryParse($"{request.Scheme}://{request.Authority}{request.PathWithQuery}", out var url, out var error) || url is null)
        {
            request.Log?.Invoke($"[outbound] refused a request to an invalid URL: {error}");
            return ComponentOutboundResult.Error("HTTP-request-URI-invalid");
        }
        var outbound = new OutboundRequest
        {
            Method = request.Method,
            Url = url,
            Headers = [.. request.Headers.Select(h => KeyValuePair.Create(h.Key, Encoding.Latin1.GetString(h.Value)))],
            Body = request.Body,
        };
        var result = client.Send(outbound, request.Policy, request.DeadlineTimestamp, cancellationToken, request.Log);
        if (result.Response is { } response && result.IsSuccess)
        {
            return ComponentOutboundResult.Ok(new ComponentOutboundResponse(response.StatusCode,
                [.. response.Headers.Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), Encoding.Latin1.GetBytes(h.Value)))], response.Body));
        }
        return ComponentOutboundResult.Error(result.Status switch
        {
            OutboundStatus.DestinationNotAllowed => "HTTP-request-denied",
            OutboundStatus.InvalidRequest => "HTTP-request-URI-invalid",
            OutboundStatus.RequestTooLarge => "HTTP-request-body-size",
            OutboundStatus.ResponseTooLarge => "HTTP-response-body-size",
            OutboundStatus.Timeout => "HTTP-response-timeout",
            OutboundStatus.Cancelled => "connection-terminated",
            _ => "destination-unavailable",
        });
    }
}
