using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Platform.Oci;
using Platform.Router.Routing;
using Platform.Router.Serving;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.Runtime.Security;
using Platform.ServiceDefaults;

namespace Platform.Router.Infrastructure;

public static class RouterHostingExtensions
{
    public static WebApplicationBuilder AddRouter(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;
        // Listening addresses are needed before the host is built; bound from the same options class the services see.
        var hostSettings = RouterOptions.From(config);
        builder.WebHost.UseUrls(hostSettings.Url, hostSettings.ManagementUrl);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        // Hosting opens a logging scope (and its async-local state) per request whenever any logger is on at all;
        // nothing here reads scopes, and the request log lines it would write are filtered out anyway.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // A file of bounded size instead of the console (whose redirect would grow without end).
        if (config["Platform:Router:LogFile"] is { Length: > 0 } logFile)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(new RotatingFileLoggerProvider(logFile,
                config.GetValue("Platform:Router:LogFileMaxBytes", 16L * 1024 * 1024), config.GetValue("Platform:Router:LogFileCount", 5)));
        }
        ConfigureTraceSampling(builder);
        // In-flight requests get this long to finish after SIGTERM (Kubernetes' grace period is longer).
        services.AddOptions<HostOptions>().Configure<IOptions<RouterOptions>>((o, router) =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(router.Value.ShutdownSeconds);
            // Kestrel must stop accepting at once, not after the background services (stats flush) have stopped.
            o.ServicesStopConcurrently = true;
        });

        services.AddOptions<RouterOptions>().BindConfiguration(RouterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddOciRegistryClient(config.GetSection("Platform:Registry"));
        // The router's cache folder is its runtime's artifact folder.
        services.AddPlatformRuntime().Configure<IOptions<RouterOptions>>((o, router) => o.CacheDirectory = router.Value.CacheDirectory ?? o.CacheDirectory);
        // wasi:http components on the same engine, cache and outbound client as WAGI modules.
        services.AddComponentRuntime();
        // Apps never reach the platform itself unless their allow-list names the exact address and port.
        services.AddOptions<Platform.Runtime.Outbound.OutboundOptions>()
            .PostConfigure<IOptions<RouterOptions>, IOptions<OciRegistryOptions>>((o, router, registry) =>
            {
                o.ProtectedEndpoints.AddRange([router.Value.Url, router.Value.ManagementUrl, router.Value.ControlPlaneUrl]);
                if (!string.IsNullOrEmpty(registry.Value.Url))
                {
                    o.ProtectedEndpoints.Add(registry.Value.Url);
                }
            });

        services.AddSingleton<RoutingTableStore>();
        // Decompression on: the client then sends Accept-Encoding, and the control plane compresses routing documents.
        services.AddHttpClient<RoutingTableSync>(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.GZip | System.Net.DecompressionMethods.Brotli });
        services.AddHostedService(sp => sp.GetRequiredService<RoutingTableSync>());
        services.AddSingleton<RequestStats>();
        services.AddHttpClient<RequestStatsReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<RequestStatsReporter>());
        services.AddOptions<AppLogOptions>().BindConfiguration(AppLogOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AppLogCollector>();
        services.AddHttpClient<AppLogShipper>();
        services.AddHostedService(sp => sp.GetRequiredService<AppLogShipper>());
        services.AddSingleton<RouterMetrics>();
        // Native code is loaded only when the control plane signed it with this key (absent: every module is compiled here).
        services.AddOptions<ArtifactSigningOptions>().BindConfiguration(ArtifactSigningOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ArtifactSigner>();
        // The disk cache binds each file to its module with a key only this router's secret gives.
        services.AddSingleton(sp => new ArtifactCacheKey(sp.GetRequiredService<IOptions<RouterOptions>>().Value.Token is { Length: > 0 } token
            ? token : throw new OptionsValidationException(RouterOptions.Section, typeof(RouterOptions), ["A router token is required: set PLATFORM_ROUTER_TOKEN."])));
        services.AddSingleton<ModuleLoader>();
        services.AddSingleton<ExecutionWorkers>();
        services.AddSingleton<ComponentFilesLoader>();
        services.AddSingleton<AppRouteResolver>();
        services.AddSingleton<AppTrafficHandler>();
        services.AddSingleton<RouterWarmup>();
        services.AddHostedService(sp => sp.GetRequiredService<RouterWarmup>());
        services.AddSingleton<ModulePrefetcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ModulePrefetcher>());
        services.AddHealthChecks().AddCheck<RouterReadyCheck>("routing-table", tags: [Extensions.ReadyTag]);
        return builder;
    }

    /// <summary>
    /// Traces a share of requests (Platform:Router:TraceSampleRatio) plus every request whose caller sampled it,
    /// instead of recording a span pair for every request. OTEL_TRACES_SAMPLER, when set, is left to the SDK.
    /// </summary>
    private static void ConfigureTraceSampling(WebApplicationBuilder builder)
    {
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_TRACES_SAMPLER"]))
        {
            return;
        }
        builder.Services.ConfigureOpenTelemetryTracerProvider((services, tracing) =>
            tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(services.GetRequiredService<IOptions<RouterOptions>>().Value.TraceSampleRatio))));
    }

    public static WebApplication MapManagementEndpoints(this WebApplication app)
    {
        app.MapDefaultHealthEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics");
        // What this router serves right now; variables are left out (they may hold secrets).
        app.MapGet("/routing", (RoutingTableStore store) => store.Current is { } s
            ? Results.Ok(new
            {
                Revision = s.RevisionText,
                s.Epoch,
                s.Source,
                s.GeneratedAt,
                Routes = s.Table.Routes.Select(r => new
                {
                    r.App, r.Version, r.ModuleDigest, r.Repository, r.PrecompiledDigest, r.PrecompiledFingerprint, r.MemoryLimitBytes, r.TimeoutMilliseconds, r.CpuTimeMilliseconds, r.MaxConcurrency,
                }),
            })
            : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "No routing table yet"));
        // The revision alone: cheap to poll whatever the table's size (the document above lists every app).
        app.MapGet("/routing/revision", (RoutingTableStore store) => store.Current is { } s
            ? Results.Ok(new { Revision = s.RevisionText, s.Epoch, s.Source, s.GeneratedAt, Apps = s.Apps.Count })
            : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "No routing table yet"));
        // Readiness itself turns false through the shared "not-stopping" check of the service defaults.
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Platform.Router");
        app.Lifetime.ApplicationStopping.Register(logger.Draining);
        return app;
    }

    /// <summary>Everything that arrives on the app port is app traffic; the management port keeps its endpoints.</summary>
    public static WebApplication UseAppTraffic(this WebApplication app)
    {
        var managementPort = new Uri(app.Services.GetRequiredService<IOptions<RouterOptions>>().Value.ManagementUrl).Port;
        var handler = app.Services.GetRequiredService<AppTrafficHandler>();
        // App traffic branches off first; endpoint routing (the management endpoints) comes after, so an app request
        // never goes through endpoint matching. Calling UseRouting here keeps the host from adding it in front.
        app.MapWhen(ctx => ctx.Connection.LocalPort != managementPort, branch => branch.Run(handler.InvokeAsync));
        app.UseRouting();
        return app;
    }
}

internal sealed class RouterReadyCheck(RoutingTableStore store, RouterWarmup warmup, ModulePrefetcher prefetcher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            !warmup.Completed ? HealthCheckResult.Unhealthy("warming up the serving path")
            : !store.SavedTableLoaded.IsCompleted ? HealthCheckResult.Unhealthy("loading the saved routing table")
            : store.Current is not { } s ? HealthCheckResult.Unhealthy("no routing table yet (control plane not reached, none saved)")
            : !prefetcher.FirstTableFetched ? HealthCheckResult.Unhealthy("fetching the first routing table's apps ahead")
            : HealthCheckResult.Healthy($"routing table {s.RevisionText} from {s.Source}, {s.Apps.Count} app(s)"));
}
