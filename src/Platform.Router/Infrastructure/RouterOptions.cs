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

    /// <summary>Wasm instances running at once; beyond it requests wait in a short queue.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrency { get; set; } = Math.Max(8, Environment.ProcessorCount * 16);

    /// <summary>Requests that may wait for an instance slot; beyond it: 503 with Retry-After.</summary>
    [Range(0, 100_000)]
    public int QueueLength { get; set; } = 256;

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
