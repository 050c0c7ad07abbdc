using System.ComponentModel.DataAnnotations;

namespace Platform.Router.Infrastructure;

public sealed class RouterOptions
{
    public const string Section = "Platform:Router";

    /// <summary>Where app traffic arrives.</summary>
    [Required, Url]
    public string Url { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Health, readiness and metrics; kept off the app port so apps can never shadow them.</summary>
    [Required, Url]
    public string ManagementUrl { get; set; } = "http://127.0.0.1:9090";

    [Required, Url]
    public string ControlPlaneUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The control plane's URL as users reach it, named in problems ("see the app's log: ..."); ControlPlaneUrl when unset.</summary>
    [Url]
    public string? PublicControlPlaneUrl { get; set; }

    /// <summary>Router token for the control plane's internal API; also read from PLATFORM_ROUTER_TOKEN.</summary>
    [Required(ErrorMessage = "A router token is required: set PLATFORM_ROUTER_TOKEN (or Platform__Router__Token).")]
    public string Token { get; set; } = "";

    /// <summary>Apps answer at {app}.{AppDomain}.</summary>
    [Required]
    public string AppDomain { get; set; } = "apps.localhost";

    /// <summary>Precompiled modules; survives restarts. Empty means memory only.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Where the last routing table is kept, so a restarted router serves without the control plane.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// Wasm instances running at once: the number of execution worker threads the router owns (a sleeping guest
    /// holds a worker but no CPU). Beyond it requests wait in a short fair queue.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConcurrency { get; set; } = Math.Max(8, Environment.ProcessorCount * 16);

    /// <summary>
    /// Apps whose modules and files are fetched ahead of their first request when a routing table or a change names
    /// them, at most this many per table or change and only while the module cache is under half its byte budget.
    /// A router of a large pool is sent a fraction of the apps its table holds, so it fetches ahead only a few. 0: off.
    /// </summary>
    [Range(0, 10_000)]
    public int PrefetchApps { get; set; } = 16;

    /// <summary>Requests that may wait for a worker across all apps; beyond it: 503 with Retry-After.</summary>
    [Range(0, 100_000)]
    public int QueueLength { get; set; } = 1024;

    /// <summary>
    /// Share of <see cref="MaxConcurrency"/> one app may run at once unless its route sets its own
    /// (<c>maxConcurrency</c> of the app, set by an admin).
    /// </summary>
    [Range(0.001, 1.0)]
    public double DefaultAppShare { get; set; } = 0.25;

    /// <summary>
    /// Requests one app may have waiting; beyond it: 503 with Retry-After. Below <see cref="QueueLength"/>, so one
    /// app's flood leaves room in the router's queue for the others.
    /// </summary>
    [Range(0, 100_000)]
    public int AppQueueLength { get; set; } = 256;

    /// <summary>
    /// Request bodies buffered at once across all requests (bodies are read in full before a worker is taken);
    /// beyond it: 503 with Retry-After.
    /// </summary>
    [Range(1024 * 1024, 64L * 1024 * 1024 * 1024)]
    public long MaxBufferedBodyBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Longest a request waits for a worker before it is answered 503 instead of run.</summary>
    [Range(1, 600_000)]
    public int MaxQueueWaitMilliseconds { get; set; } = 5_000;

    /// <summary>
    /// File for the router's own log, rotated by size (<see cref="LogFileMaxBytes"/>, <see cref="LogFileCount"/>
    /// kept); when set it replaces the console. Empty: log to the console.
    /// </summary>
    public string? LogFile { get; set; }

    [Range(64 * 1024, 16L * 1024 * 1024 * 1024)]
    public long LogFileMaxBytes { get; set; } = 16L * 1024 * 1024;

    [Range(1, 100)]
    public int LogFileCount { get; set; } = 5;

    /// <summary>App log lines (stderr) each app may put into the router's log per second, with a burst allowance.</summary>
    [Range(0.01, 100_000.0)]
    public double AppLogLinesPerSecond { get; set; } = 20;

    [Range(1, 1_000_000)]
    public int AppLogBurst { get; set; } = 200;

    /// <summary>Longer app log lines are cut to this many characters in the router's log.</summary>
    [Range(80, 1_000_000)]
    public int AppLogMaxLineChars { get; set; } = 2048;

    /// <summary>Seconds a long-poll for routing changes is held by the control plane.</summary>
    [Range(1, 60)]
    public int LongPollSeconds { get; set; } = 30;

    /// <summary>How often request figures go to the control plane (for the dashboard).</summary>
    [Range(1, 3600)]
    public int StatsIntervalSeconds { get; set; } = 10;

    /// <summary>Identifies this router in reports; the host name by default.</summary>
    public string RouterId { get; set; } = Environment.MachineName;

    /// <summary>Seconds in-flight requests get to finish after SIGTERM (Kubernetes' grace period is longer).</summary>
    [Range(1, 3600)]
    public int ShutdownSeconds { get; set; } = 25;

    /// <summary>
    /// Load the precompiled artifact the control plane pushed beside a module when it was made for this router's
    /// engine, instead of compiling the module. Off: every module is compiled here.
    /// </summary>
    public bool UsePrecompiledArtifacts { get; set; } = true;

    /// <summary>
    /// Share of requests without a sampled parent that are traced (a request span and its Wasm execution span).
    /// Requests whose traceparent says "sampled" are always traced. Recording every request costs the hot path
    /// allocations and CPU for spans that are mostly never exported; OTEL_TRACES_SAMPLER, when set, wins.
    /// </summary>
    [Range(0.0, 1.0)]
    public double TraceSampleRatio { get; set; } = 0.01;

    /// <summary>Binds the section outside dependency injection, for the settings needed before the host is built.</summary>
    public static RouterOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<RouterOptions>() ?? new();
}
