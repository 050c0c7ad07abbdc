using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Platform.Bench;

// Run by deploy/bench/run.sh, which starts the stack and passes its addresses as BENCH_* variables.
BenchSettings settings;
try
{
    settings = BenchSettings.FromEnvironment();
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var ct = cancel.Token;
Directory.CreateDirectory(settings.OutputDirectory);
Wrk.Prepare(settings.OutputDirectory);

var startedAt = DateTimeOffset.UtcNow;
var clock = Stopwatch.StartNew();
var loadStart = Wrk.LoadAverage();
using var api = new PlatformApi(settings.ControlPlaneUrl, settings.AdminKey);
using var router = new RouterClient(settings.RouterUrl, settings.ManagementUrl);
var routers = new Routers(settings);

ThroughputSection? throughput = null;
ColdStartSection? cold = null;
DeploySection? deploy = null;
ManyAppsSection? many = null;
ScaleSection? scale = null;
ComponentSection? component = null;
if (settings.Sections.Contains("throughput"))
{
    Console.WriteLine("Throughput (wrk):");
    throughput = await Throughput.RunAsync(settings, api, router, ct);
}
if (settings.Sections.Contains("coldstart"))
{
    Console.WriteLine("Cold start (fresh routers):");
    cold = await ColdStart.RunAsync(settings, api, router, routers, ct);
}
if (settings.Sections.Contains("deploy"))
{
    Console.WriteLine("Deploy-to-live:");
    deploy = await DeployToLive.RunAsync(settings, api, router, ct);
}
if (settings.Sections.Contains("apps"))
{
    Console.WriteLine($"{settings.ManyApps} apps on one router:");
    many = await ManyApps.RunAsync(settings, api, routers, ct);
}

if (settings.Sections.Contains("component"))
{
    Console.WriteLine("JS component (Spin JS SDK app built with j2w) vs jco serve:");
    component = await Component.RunAsync(settings, api, router, routers, ct);
}

if (settings.Sections.Contains("scale"))
{
    Console.WriteLine($"Scale ({string.Join(", ", settings.ScaleApps)} apps seeded into PostgreSQL, {settings.ScaleRouters} routers):");
    scale = await Scale.RunAsync(settings, api, routers, ct);
}

var report = new BenchReport(startedAt, clock.Elapsed.TotalSeconds, Machine(loadStart), Commit(), new BenchSettingsSummary(settings.DurationSeconds,
        settings.WarmupSeconds, settings.Connections, settings.ColdStartRepeats, settings.Deploys, settings.ManyApps),
    throughput, cold, deploy, many, [.. Report.Targets(throughput, cold, deploy, many), .. Report.ScaleTargets(scale), .. Report.ComponentTargets(component)], scale, component);

var json = Path.Combine(settings.OutputDirectory, "results.json");
var markdown = Path.Combine(settings.OutputDirectory, "results.md");
await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), ct);
var text = Report.Markdown(report);
await File.WriteAllTextAsync(markdown, text, ct);
Console.WriteLine();
Console.WriteLine(text);
Console.WriteLine($"Written: {json}, {markdown}");
return 0;

static MachineInfo Machine(double loadStart)
{
    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
    var os = File.Exists("/etc/os-release")
        ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? RuntimeInformation.OSDescription
        : RuntimeInformation.OSDescription;
    return new MachineInfo(cpu, Environment.ProcessorCount, long.Parse(memory, CultureInfo.InvariantCulture) * 1024, os, kernel,
        RuntimeInformation.FrameworkDescription.Replace(".NET ", "", StringComparison.Ordinal), loadStart, Wrk.LoadAverage());
}

static string Commit() => Environment.GetEnvironmentVariable("BENCH_COMMIT") is { Length: > 0 } c ? c : "unknown";
