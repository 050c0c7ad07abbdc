using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Services;
using Platform.Data;
using Platform.Oci;
using Platform.Runtime;
using Platform.ServiceDefaults;

namespace Platform.ControlPlane.Infrastructure;

public static class ControlPlaneServiceCollectionExtensions
{
    public static WebApplicationBuilder AddControlPlane(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;

        // The documented environment variables win over appsettings.
        if (Environment.GetEnvironmentVariable("PLATFORM_ADMIN_KEY") is { Length: > 0 } adminKey)
        {
            config["Platform:Auth:AdminKey"] = adminKey;
        }
        if (Environment.GetEnvironmentVariable("PLATFORM_ROUTER_TOKEN") is { Length: > 0 } routerToken)
        {
            config["Platform:Auth:RouterToken"] = routerToken;
        }
        builder.WebHost.UseUrls(config["Platform:ControlPlane:Url"] ?? "http://127.0.0.1:5080");

        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AppsOptions>().BindConfiguration(AppsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);

        services.AddPlatformData();
        services.AddOciRegistryClient(config.GetSection("Platform:Registry"));
        // The same engine settings as the routers, so what the control plane validates (and precompiles) fits them.
        services.AddPlatformRuntime();
        services.PostConfigure<CompileSandboxOptions>(o => o.ChildAssembly ??= typeof(Program).Assembly.Location);

        services.AddExceptionHandler<DatabaseUnavailableExceptionHandler>();
        services.AddSingleton<UploadGate>();
        services.AddSingleton<RouteChangeNotifier>();
        services.AddSingleton<RoutingTableProvider>();
        services.AddHostedService<RouteChangeListener>();
        services.AddScoped<VersionPublisher>();

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
