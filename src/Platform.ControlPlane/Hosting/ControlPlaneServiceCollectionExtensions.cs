using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Configuration;
using Platform.ControlPlane.Services;
using Platform.Data;
using Platform.Oci;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.Runtime.Security;
using Platform.ServiceDefaults;

namespace Platform.ControlPlane.Hosting;

public static class ControlPlaneServiceCollectionExtensions
{
    /// <summary>
    /// Compresses only what routers read: the routing documents are large and repetitive, while other responses
    /// (log streams above all) must not be buffered by a compressor.
    /// </summary>
    public static WebApplication UseRoutingCompression(this WebApplication app)
    {
        app.UseWhen(ctx => ctx.Request.Path.StartsWithSegments("/internal/v1/routes", StringComparison.Ordinal), b => b.UseResponseCompression());
        return app;
    }

    public static WebApplicationBuilder AddControlPlane(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;

        // Listening addresses are needed before the host is built; bound from the same options class the services see.
        builder.WebHost.UseUrls(ControlPlaneHostOptions.From(config).Url);

        services.AddOptions<ControlPlaneHostOptions>().BindConfiguration(ControlPlaneHostOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AppsOptions>().BindConfiguration(AppsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Platform.Bundles.BundleOptions>().BindConfiguration(Platform.Bundles.BundleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);

        services.AddPlatformData();
        services.AddOciRegistryClient(config.GetSection("Platform:Registry"));
        // The same engine settings as the routers, so what the control plane validates (and precompiles) fits them;
        // it runs no app, so it registers no module cache or executor.
        services.AddWasmValidation();
        // Uploads may be wasi:http components as well as WAGI modules (validated in the compile child too, see Program).
        services.AddComponentRuntime();
        services.PostConfigure<CompileSandboxOptions>(o => o.ChildAssembly ??= typeof(Program).Assembly.Location);

        services.AddExceptionHandler<DatabaseUnavailableExceptionHandler>();
        services.AddSingleton<UploadGate>();
        services.AddSingleton<RouteChangeNotifier>();
        services.AddSingleton<RoutingTableProvider>();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RoutingChangeLog>();
        services.AddHostedService<RoutingChangeLogPruner>();
        // Routers accept gzip and brotli; a snapshot of many apps shrinks several times over (see UseRoutingCompression).
        services.AddResponseCompression(o =>
        {
            o.Providers.Add<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProvider>();
            o.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>();
        });
        services.Configure<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.Configure<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.AddHostedService<RouteChangeListener>();
        // App secrets are encrypted with Data Protection; its key ring lives in PostgreSQL so every replica shares it.
        services.AddDataProtection().SetApplicationName("platform-control-plane").PersistKeysToDbContext<PlatformDbContext>();
        services.AddScoped<AppSecretStore>();
        // Precompiled artifacts are signed with the key routers verify (absent: recorded unsigned, routers compile).
        services.AddOptions<ArtifactSigningOptions>().BindConfiguration(ArtifactSigningOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ArtifactSigner>();
        services.AddScoped<VersionPublisher>();
        services.AddScoped<TenantQuotas>();
        services.AddScoped<AppAuthorizer>();
        services.AddScoped<ReferenceImporter>();
        // Deploy by reference talks to registries other than the platform's own, each with its own OciClient.
        services.AddHttpClient(ReferenceImporter.HttpClientName);
        services.AddOptions<AppLogRetentionOptions>().BindConfiguration(AppLogRetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AppLogNotifier>();
        services.AddScoped<AppLogStore>();
        services.AddHostedService<AppLogListener>();
        services.AddOptions<RequestStatsRetentionOptions>().BindConfiguration(RequestStatsRetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<RequestStatsRetention>();
        services.AddSingleton<AppLogRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<AppLogRetention>());

        services.AddAuthentication(AuthSchemes.ApiKey)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthSchemes.ApiKey, null)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthSchemes.RouterToken, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthSchemes.AdminPolicy, p => p.AddAuthenticationSchemes(AuthSchemes.ApiKey).RequireClaim(AuthSchemes.AdminClaim))
            .AddPolicy(AuthSchemes.RouterPolicy, p => p.AddAuthenticationSchemes(AuthSchemes.RouterToken).RequireRole("router"));

        services.AddHealthChecks()
            .AddDbContextCheck<PlatformDbContext>("postgres", tags: [Extensions.ReadyTag])
            .AddCheck<RegistryHealthCheck>("registry", tags: [Extensions.ReadyTag]);

        services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecurityTransformer>());
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase);
        return builder;
    }
}

internal sealed class RegistryHealthCheck(IOciRegistryClient registry) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await registry.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is OciRegistryException or OciRegistryUnavailableException)
        {
            return HealthCheckResult.Unhealthy($"OCI registry: {ex.Message}");
        }
    }
}
