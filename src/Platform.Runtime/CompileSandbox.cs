using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Platform.Runtime;

/// <summary>Limits of upload compiles (configuration section <c>Platform:Compile</c>).</summary>
public sealed class CompileSandboxOptions
{
    public const string SectionName = "Platform:Compile";

    /// <summary>
    /// Compile in a child process under the limits below. Off: compile in-process without limits (only for hosts
    /// that cannot start a child, never for untrusted uploads).
    /// </summary>
    public bool UseChildProcess { get; set; } = true;

    /// <summary>Compiles running at once; further uploads wait their turn (cancelled when their client goes away).</summary>
    [Range(1, 64)]
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>
    /// CPU time one compile may use, all its threads together (Cranelift compiles functions in parallel). A 12 MB
    /// Spin JS component takes 8-13 s of wall time here.
    /// </summary>
    [Range(1, 3600)]
    public int CpuSeconds { get; set; } = 60;

    /// <summary>Wall-clock time one compile may take, the wait for the process included.</summary>
    [Range(1, 3600)]
    public int WallSeconds { get; set; } = 90;

    /// <summary>Resident memory the compiling process may reach.</summary>
    [Range(64L * 1024 * 1024, 64L * 1024 * 1024 * 1024)]
    public long MemoryBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>How often the child's CPU time and memory are read.</summary>
    [Range(typeof(TimeSpan), "00:00:00.005", "00:00:05")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// The .NET assembly whose entry point hands <c>--compile-module</c> to <see cref="CompileSandbox.RunChild"/>
    /// (the control plane's own); the host sets it.
    /// </summary>
    public string? ChildAssembly { get; set; }
}

/// <summary>What one upload's compile cost, for the uploader and the log.</summary>
public sealed record CompileFigures(double CpuSeconds, long PeakMemoryBytes, double WallSeconds);

/// <summary>Validation result, the precompiled artifact (null when invalid or not serializable) and what it cost.</summary>
public sealed record CompileOutcome(ModuleValidationResult Validation, byte[]? Precompiled, CompileFigures? Figures, bool TooExpensive = false);

/// <summary>
/// Validates and compiles uploads in a child process, so an upload crafted to be expensive (thousands of locals,
/// deep nesting: seconds of CPU per kilobyte) costs a bounded share of the control plane: at most
/// <see cref="CompileSandboxOptions.MaxConcurrent"/> at once, each with CPU-time, memory and wall-clock limits,
/// killed when its client goes away. The child runs at a lower scheduling priority than the API.
/// </summary>
public sealed partial class CompileSandbox : IDisposable
{
    public const string ChildSwitch = "--compile-module";

    private readonly ModuleValidator _validator;
    private readonly WasmEngineHost _host;
    private readonly CompileSandboxOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;

    public CompileSandbox(ModuleValidator validator, WasmEngineHost host, IOptions<CompileSandboxOptions> options, ILogger<CompileSandbox>? logger = null)
    {
        _validator = validator;
        _host = host;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _slots = new SemaphoreSlim(_options.MaxConcurrent, _options.MaxConcurrent);
    }

    public CompileSandboxOptions Options => _options;

    /// <summary>
    /// Validates <paramref name="module"/> and compiles it for this engine. Throws <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires (the child is killed at once).
    /// </summary>
    public async Task<CompileOutcome> ValidateAndPrecompileAsync(ReadOnlyMemory<byte> module, CancellationToken cancellationToken)
    {
        // What needs no compiling is answered here, without a process.
        if (ModuleValidator.CheckHeader(module.Span) is { } header)
        {
            return new(header, null, null);
        }
        await _slots.WaitAsync(cancellationToken);
        try
        {
            if (!_options.UseChildProcess)
            {
                var started = Stopwatch.GetTimestamp();
                var validation = _validator.ValidateAndPrecompile(module.Span, out var precompiled);
                return new(validation, precompiled, new CompileFigures(0, 0, Stopwatch.GetElapsedTime(started).TotalSeconds));
            }
            return await CompileInChildAsync(module, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<CompileOutcome> CompileInChildAsync(ReadOnlyMemory<byte> module, CancellationToken cancellationToken)
    {
        var assembly = _options.ChildAssembly ?? throw new InvalidOperationException("CompileSandboxOptions.ChildAssembly is not set.");
        var stem = Path.Combine(Path.GetTempPath(), "platform-compile-" + Guid.NewGuid().ToString("N"));
        var input = stem + ".wasm";
        var output = stem + ".cwasm";
        try
        {
            await File.WriteAllBytesAsync(input, module, cancellationToken);
            var runtime = _host.Options;
            var start = new ProcessStartInfo(DotnetHost())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = false,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                assembly, ChildSwitch, input, output,
                runtime.UsePoolingAllocator ? "1" : "0",
                runtime.PoolMaxInstances.ToString(CultureInfo.InvariantCulture),
                runtime.PoolMaxMemoryBytes.ToString(CultureInfo.InvariantCulture),
            })
            {
                start.ArgumentList.Add(arg);
            }
            // The child needs no server GC heaps or tiered-up JIT for one compile.
            start.Environment["DOTNET_gcServer"] = "0";
            start.Environment["DOTNET_TieredPGO"] = "0";

            var started = Stopwatch.GetTimestamp();
            using var process = Process.Start(start) ?? throw new InvalidOperationException("The compile process did not start.");
            TryLowerPriority(process);
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

            var cpu = TimeSpan.Zero;
            long peak = 0;
            string? exceeded = null;
            try
            {
                while (!process.HasExited)
                {
                    using (var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                    {
                        tick.CancelAfter(_options.PollInterval);
                        try
                        {
                            await process.WaitForExitAsync(tick.Token);
                        }
                        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                        }
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!Sample(process, ref cpu, ref peak))
                    {
                        break;
                    }
                    var wall = Stopwatch.GetElapsedTime(started);
                    exceeded = cpu.TotalSeconds > _options.CpuSeconds ? $"it used more than the CPU-time limit of {_options.CpuSeconds} s"
                        : peak > _options.MemoryBytes ? $"it needed more than the memory limit of {_options.MemoryBytes / (1024 * 1024)} MiB"
                        : wall.TotalSeconds > _options.WallSeconds ? $"it took longer than the wall-clock limit of {_options.WallSeconds} s"
                        : null;
                    if (exceeded is not null)
                    {
                        break;
                    }
                }
            }
            finally
            {
                if (!process.HasExited)
                {
                    // Client gone, limit reached or the host stopping: the compile ends here.
                    Kill(process);
                }
            }

            var figures = new CompileFigures(cpu.TotalSeconds, peak, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (exceeded is not null)
            {
                LogTooExpensive(_logger, module.Length, exceeded, figures.CpuSeconds, figures.PeakMemoryBytes, figures.WallSeconds);
                return new(ModuleValidationResult.Invalid(
                    $"Module too expensive to compile: {exceeded} (stopped after {figures.CpuSeconds:0.0} s of CPU, {figures.PeakMemoryBytes / (1024 * 1024)} MiB, " +
                    $"{figures.WallSeconds:0.0} s; limits {_options.CpuSeconds} s of CPU, {_options.MemoryBytes / (1024 * 1024)} MiB, {_options.WallSeconds} s)."),
                    null, figures, TooExpensive: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            var report = await stdout;
            var errors = await stderr;
            ChildReport? parsed = null;
            try
            {
                parsed = JsonSerializer.Deserialize(report.Trim(), ChildReportContext.Default.ChildReport);
            }
            catch (JsonException)
            {
            }
            if (process.ExitCode != 0 || parsed is null)
            {
                // A crash of the compiler on a hostile module is the module's problem, not a 500.
                LogChildFailed(_logger, process.ExitCode, errors.Length > 2000 ? errors[..2000] : errors);
                return new(ModuleValidationResult.Invalid($"The module could not be compiled (the compiler stopped with exit code {process.ExitCode})."), null, figures);
            }
            if (!parsed.Valid)
            {
                return new(ModuleValidationResult.Invalid(parsed.Error ?? "The module is invalid."), null, figures);
            }
            // An artifact for another engine would be refused by every router; better none.
            var artifact = parsed.Fingerprint == _host.Fingerprint && File.Exists(output) ? await File.ReadAllBytesAsync(output, CancellationToken.None) : null;
            LogCompiled(_logger, module.Length, figures.CpuSeconds, figures.PeakMemoryBytes, figures.WallSeconds);
            return new(ModuleValidationResult.Valid, artifact, figures);
        }
        finally
        {
            TryDelete(input);
            TryDelete(output);
        }
    }

    /// <summary>Reads the child's CPU time and resident memory; false once it has gone.</summary>
    private static bool Sample(Process process, ref TimeSpan cpu, ref long peak)
    {
        try
        {
            process.Refresh();
            if (process.HasExited)
            {
                return false;
            }
            cpu = process.TotalProcessorTime;
            peak = Math.Max(peak, process.WorkingSet64);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            return false;
        }
    }

    private static void TryLowerPriority(Process process)
    {
        try
        {
            process.PriorityClass = ProcessPriorityClass.BelowNormal;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or PlatformNotSupportedException)
        {
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The <c>dotnet</c> host running this process (tests run under it too), or the one on PATH.</summary>
    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return current;
        }
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    /// <summary>
    /// The child's entry: <c>--compile-module IN OUT POOLING MAXINSTANCES MAXMEMORY</c>. Validates and compiles IN
    /// with an engine of those settings, writes the serialized module to OUT and a one-line JSON report to stdout.
    /// </summary>
    public static int RunChild(string[] args)
    {
        if (args.Length != 6 || args[0] != ChildSwitch)
        {
            Console.Error.WriteLine($"usage: {ChildSwitch} IN OUT POOLING MAXINSTANCES MAXMEMORY");
            return 2;
        }
        var options = new WasmRuntimeOptions
        {
            UsePoolingAllocator = args[3] == "1",
            PoolMaxInstances = int.Parse(args[4], CultureInfo.InvariantCulture),
            PoolMaxMemoryBytes = long.Parse(args[5], CultureInfo.InvariantCulture),
        };
        using var host = new WasmEngineHost(options);
        var validator = new ModuleValidator(host);
        var bytes = File.ReadAllBytes(args[1]);
        var result = validator.ValidateAndPrecompile(bytes, out var precompiled);
        if (result.IsValid && precompiled is not null)
        {
            File.WriteAllBytes(args[2], precompiled);
        }
        Console.Out.WriteLine(JsonSerializer.Serialize(new ChildReport(result.IsValid, result.Error, host.Fingerprint), ChildReportContext.Default.ChildReport));
        return 0;
    }

    public void Dispose() => _slots.Dispose();

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Upload of {Bytes} bytes refused: too expensive to compile, {Reason} ({Cpu:0.0} s CPU, {Memory} bytes, {Wall:0.0} s)")]
    private static partial void LogTooExpensive(ILogger logger, int bytes, string reason, double cpu, long memory, double wall);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "The compile process exited with code {ExitCode}: {Errors}")]
    private static partial void LogChildFailed(ILogger logger, int exitCode, string errors);

    [LoggerMessage(EventId = 32, Level = LogLevel.Debug, Message = "Compiled an upload of {Bytes} bytes in a child: {Cpu:0.00} s CPU, {Memory} bytes peak, {Wall:0.00} s")]
    private static partial void LogCompiled(ILogger logger, int bytes, double cpu, long memory, double wall);
}

internal sealed record ChildReport(bool Valid, string? Error, string Fingerprint);

[System.Text.Json.Serialization.JsonSerializable(typeof(ChildReport))]
internal sealed partial class ChildReportContext : System.Text.Json.Serialization.JsonSerializerContext;
