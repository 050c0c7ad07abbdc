using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Platform.Oci.Tests.Support;

/// <summary>Keeps every formatted log line, so tests can check that secrets never reach the log.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public string All => string.Join('\n', _lines);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception?.Message}");
}
