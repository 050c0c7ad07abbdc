using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Contracts;
using Platform.Router.Infrastructure;
using Platform.Router.Serving;
using Platform.Runtime;
using Platform.Runtime.Outbound;

namespace Platform.Router.Routing;

/// <summary>
/// What serving a request needs from its route beyond the table entry and its components: built with the route's
/// <see cref="AppRouting"/> when a routing table is applied, and carried over with it while changes leave the route
/// alone, so a request only reads it.
/// </summary>
public sealed class RouteState
{
    private static readonly Action<string> s_discard = static _ => { };

    private RouteState(AppLimits limits, int concurrency, string version, bool isSingleModule, Action<string> logLine)
    {
        Limits = limits;
        Concurrency = concurrency;
        Version = version;
        IsSingleModule = isSingleModule;
        LogLine = logLine;
    }

    /// <summary>
    /// The request's limits (the entry's memory, wall and CPU time, the router's body caps), validated when built; a
    /// route that cannot be served has the caps only, for reading the body it answers.
    /// </summary>
    public AppLimits Limits { get; }

    /// <summary>The app's share of the execution workers.</summary>
    public int Concurrency { get; }

    /// <summary>The entry's version number as text (telemetry, CGI).</summary>
    public string Version { get; }

    /// <summary>
    /// A single uploaded module (the control plane lists it as one component named after the app): its log entries
    /// carry no component, which only bundles have.
    /// </summary>
    public bool IsSingleModule { get; }

    /// <summary>
    /// Where the route's app lines go in the router's own log: rate-limited and cut per route, so one app's stderr
    /// cannot flood it (the lines are kept in full, within the collector's caps, by the logs API).
    /// </summary>
    public Action<string> LogLine { get; }

    internal static RouteState Servable(RouteEntry route, AppLimits limits, int concurrency, Action<string> logLine) =>
        new(limits, concurrency, route.Version.ToString(CultureInfo.InvariantCulture),
            route.Components is null || (route.Components.Count == 1 && route.Components[0].Id == route.App && route.Components[0].Files is not { Count: > 0 }),
            logLine);

    /// <summary>A route that is never run (its entry has an error): what reading its body takes, nothing more.</summary>
    internal static RouteState Unservable(RouteEntry route, long maxRequestBodyBytes, long maxResponseBytes) =>
        new(new AppLimits { MaxRequestBodyBytes = maxRequestBodyBytes, MaxResponseBytes = maxResponseBytes }, 1,
            route.Version.ToString(CultureInfo.InvariantCulture), route.Components is null, s_discard);
}

/// <summary>
/// What building route state takes from the router itself: the execution workers' budget (each app's share), the
/// app-log limiter's rate and the log app lines and policy warnings go to. One per router, given to every snapshot.
/// </summary>
public sealed class RouteStateFactory
{
    private readonly RouterOptions _options;
    private readonly ILogger _appLog;
    private readonly int _defaultShare;

    /// <param name="appLog">The router's log for app lines ("Platform.Router.Apps").</param>
    public RouteStateFactory(RouterOptions options, ILogger appLog)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(appLog);
        _options = options;
        _appLog = appLog;
        _defaultShare = ExecutionWorkers.DefaultShareOf(options);
    }

    /// <summary>Default options and no log: tables built outside a router host (tests, tools).</summary>
    public static RouteStateFactory Default { get; } = new(new RouterOptions(), NullLogger.Instance);

    /// <summary>The category of the router's log app lines go to.</summary>
    public const string AppLogCategory = "Platform.Router.Apps";

    /// <summary>The share of workers an app gets: its own setting (capped at the budget) or the default.</summary>
    public int ConcurrencyFor(int? configured) => ExecutionWorkers.ShareFor(configured, _options.MaxConcurrency, _defaultShare);

    /// <param name="limits">The request's limits, validated.</param>
    internal RouteState Build(RouteEntry route, AppLimits limits)
    {
        var app = route.App;
        var version = route.Version;
        var logger = _appLog;
        var limiter = new AppLogLimiter(_options.AppLogLinesPerSecond, _options.AppLogBurst, _options.AppLogMaxLineChars,
            line => logger.AppLog(app, version, line));
        return RouteState.Servable(route, limits, ConcurrencyFor(route.MaxConcurrency), limiter.Write);
    }

    /// <summary>An allow-list parsed once per table; one that does not parse allows nothing (and says so in the router's log).</summary>
    internal OutboundPolicy OutboundPolicyOf(RouteEntry route, IReadOnlyList<string>? hosts)
    {
        try
        {
            return OutboundPolicy.Create(hosts, route.App);
        }
        catch (FormatException ex)
        {
            // The control plane validates lists; one that still fails here must not open anything.
            _appLog.AppLog(route.App, route.Version, "[platform] outbound HTTP disabled: " + ex.Message);
            return new OutboundPolicy(AllowedHosts.None, route.App);
        }
    }
}
