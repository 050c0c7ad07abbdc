using OpenTelemetry.Metrics;
using Platform.Router.Infrastructure;
using Platform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(metrics: m => m.AddPrometheusExporter());
builder.AddRouter();

var app = builder.Build();
app.MapManagementEndpoints();
app.UseAppTraffic();
app.Run();

/// <summary>Entry point; public so tests can refer to the assembly.</summary>
public partial class Program;
