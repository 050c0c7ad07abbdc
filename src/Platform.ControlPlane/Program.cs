using Npgsql;
using OpenTelemetry.Trace;
using Platform.ControlPlane.Apis;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Hosting;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.ServiceDefaults;
using Scalar.AspNetCore;

// The same executable compiles uploads in a child process of its own (CompileSandbox); nothing else starts then.
if (args is [CompileSandbox.ChildSwitch, ..])
{
    Environment.Exit(CompileSandbox.RunChild(args, host => new ComponentValidator(new ComponentHost(host))));
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(tracing: t => t.AddEntityFrameworkCoreInstrumentation().AddNpgsql());
builder.AddControlPlane();

builder.Services.AddTryApi();

var app = builder.Build();
await app.MigrateDatabaseIfConfiguredAsync();

app.UseExceptionHandler();
app.UseRoutingCompression();
app.UseStatusCodePages();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
// After authorization: every /api/v1/apps/{app}/... endpoint goes through the one tenant and scope check.
app.UseAppAccess();

app.MapDefaultHealthEndpoints();
app.MapOpenApi("/openapi/{documentName}.json");
app.MapScalarApiReference("/openapi/reference", o => o.WithOpenApiRoutePattern("/openapi/{documentName}.json"));
app.MapAppsApi();
app.MapVersionsApi();
app.MapStatsApi();
app.MapLogsApi();
app.MapTryApi();
app.MapSecretsApi();
app.MapKeysApi();
app.MapTenantsApi();
app.MapRouterApi();
app.MapFallbackToFile("index.html");

app.Run();

/// <summary>Entry point; public so integration tests can host it with WebApplicationFactory.</summary>
public partial class Program;
