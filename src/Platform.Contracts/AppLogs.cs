namespace Platform.Contracts;

/// <summary>App log lines a router collected since its last report; the control plane stores them per app.</summary>
public sealed record AppLogReport(string RouterId, IReadOnlyList<AppLogRecord> Entries);

/// <param name="Time">When the line was written (UTC, millisecond precision).</param>
/// <param name="Version">The app version that served the request.</param>
/// <param name="Component">The bundle component that wrote it; null for a single-module app.</param>
/// <param name="RequestId">The request's trace id (the <c>traceId</c> of problem responses), so a line can be tied to a failure.</param>
/// <param name="Stream">One of <see cref="AppLogStreams"/>.</param>
public sealed record AppLogRecord(DateTimeOffset Time, string App, int Version, string? Component, string RequestId, string Stream, string Line);

/// <summary>Where a log line came from.</summary>
public static class AppLogStreams
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";

    /// <summary>The platform's own words about a request: a trap, a timeout, a denied outbound call, dropped lines.</summary>
    public const string Platform = "platform";

    public static bool IsKnown(string? stream) => stream is Stdout or Stderr or Platform;
}
