namespace Platform.Runtime.Components;

/// <summary>One HTTP request as a wasi:http <c>incoming-request</c> sees it.</summary>
public sealed record ComponentRequest
{
    /// <summary>The method as sent (GET, POST, ... or any other token).</summary>
    public required string Method { get; init; }

    /// <summary>"http" or "https" (or another scheme, passed as <c>scheme.other</c>).</summary>
    public string Scheme { get; init; } = "http";

    /// <summary>Host and optional port, as in the Host header.</summary>
    public required string Authority { get; init; }

    /// <summary>Path and query as received, starting with '/'.</summary>
    public required string PathWithQuery { get; init; }

    /// <summary>Request headers in order; the same name may repeat.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The whole request body (buffered up to the app's limit before the component runs).</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The app's variables; the component reads them through wasi:cli/environment.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    /// <summary>The component's Spin variables (<c>fermyon:spin/variables</c>, <c>wasi:config/store</c>); none by default.</summary>
    public ComponentVariables Variables { get; init; } = ComponentVariables.Empty;

    /// <summary>For telemetry and log lines only.</summary>
    public string? AppName { get; init; }

    /// <summary>Where the component may send requests (its allow-list); nowhere by default.</summary>
    public Platform.Runtime.Outbound.OutboundPolicy Outbound { get; init; } = Platform.Runtime.Outbound.OutboundPolicy.DenyAll;
}

/// <summary>How one execution ended.</summary>
public enum ComponentOutcome
{
    /// <summary>The component set a response and returned.</summary>
    Ok,
    /// <summary>The component trapped (or called a function the host only stubs as a trap).</summary>
    Trap,
    /// <summary>The wall-time limit passed (epoch interruption or a host wait reaching the deadline).</summary>
    Timeout,
    /// <summary>The component failed after its memory reached the app's cap, or could not even be instantiated under it.</summary>
    MemoryLimit,
    /// <summary>The handler returned (or exited) without ever calling <c>response-outparam.set</c>.</summary>
    NoResponse,
    /// <summary>The component set the response to an <c>error-code</c> instead of a response.</summary>
    ErrorResponse,
    /// <summary>The component wrote a body larger than the app's response limit.</summary>
    ResponseTooLarge,
    /// <summary>The request body is larger than the app's request limit; nothing ran.</summary>
    RequestTooLarge,
    /// <summary>The caller's cancellation token fired.</summary>
    Cancelled,
    /// <summary>The engine had no instance slot free (pooling allocator full, or without component slots).</summary>
    Overloaded,
    /// <summary>The component used more than the app's CPU-time limit (<see cref="AppLimits.CpuTime"/>).</summary>
    CpuLimit,
}

/// <summary>Where one execution's log lines go: the guest's stdout and stderr, and the platform's own lines about it.</summary>
public readonly record struct ComponentLog(Action<string>? Stdout, Action<string>? Stderr, Action<string>? Platform)
{
    public static ComponentLog None => default;

    /// <summary>Every line to one sink.</summary>
    public static ComponentLog All(Action<string>? line) => line is null ? None : new(line, line, line);
}

/// <summary>The result of one execution: a response for <see cref="ComponentOutcome.Ok"/>, otherwise the reason.</summary>
public sealed record ComponentResult
{
    public required ComponentOutcome Outcome { get; init; }

    public int StatusCode { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>What went wrong (null for Ok); also written to the app log.</summary>
    public string? Error { get; init; }

    /// <summary>The guest's error-code case for <see cref="ComponentOutcome.ErrorResponse"/> (for example "internal-error").</summary>
    public string? ErrorCode { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>Time spent creating the store and instantiating the component.</summary>
    public TimeSpan InstantiationDuration { get; init; }

    public bool IsSuccess => Outcome == ComponentOutcome.Ok;
}
