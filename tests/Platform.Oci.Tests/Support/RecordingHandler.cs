using System.Collections.Concurrent;
using System.Net;

namespace Platform.Oci.Tests.Support;

/// <summary>
/// Instrumentation between the client and the real registry: records every exchange (method, path, status,
/// whether and how it was authorized) and can rewrite responses (to corrupt bytes in flight or relativize Location).
/// </summary>
internal sealed class RecordingHandler : DelegatingHandler
{
    private readonly ConcurrentQueue<Exchange> _exchanges = new();

    public RecordingHandler() : base(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
    }

    public Func<HttpRequestMessage, HttpResponseMessage, Task>? Rewrite { get; set; }

    public IReadOnlyList<Exchange> Exchanges => [.. _exchanges];

    public void Clear() => _exchanges.Clear();

    public int Count(HttpMethod method, string pathContains) =>
        Exchanges.Count(e => e.Method == method && e.Path.Contains(pathContains, StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var authScheme = request.Headers.Authorization?.Scheme;
        var response = await base.SendAsync(request, cancellationToken);
        _exchanges.Enqueue(new Exchange(request.Method, request.RequestUri!.AbsolutePath, request.RequestUri.Query, response.StatusCode, authScheme));
        if (Rewrite is not null)
        {
            await Rewrite(request, response);
        }
        return response;
    }

    public sealed record Exchange(HttpMethod Method, string Path, string Query, HttpStatusCode Status, string? AuthScheme);
}

/// <summary>A TimeProvider the test moves by hand, to expire cached tokens without waiting.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
