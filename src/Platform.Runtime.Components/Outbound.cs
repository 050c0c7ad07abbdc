namespace Platform.Runtime.Components;

/// <summary>A request a component sends through <c>wasi:http/outgoing-handler</c>.</summary>
public sealed record ComponentOutboundRequest(
    string Method,
    string Scheme,
    string Authority,
    string PathWithQuery,
    IReadOnlyList<KeyValuePair<string, byte[]>> Headers,
    ReadOnlyMemory<byte> Body,
    string? AppName);

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
}

/// <summary>Refuses every outbound request with <c>HTTP-request-denied</c>, without opening a connection.</summary>
public sealed class DenyAllComponentOutbound : IComponentOutboundHttp
{
    public static DenyAllComponentOutbound Instance { get; } = new();

    public ComponentOutboundResult Send(ComponentOutboundRequest request, CancellationToken cancellationToken) => ComponentOutboundResult.Denied;
}
