using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Wasmtime;

namespace Platform.Runtime;

/// <summary>
/// Owns the process's single Wasmtime <see cref="Wasmtime.Engine"/> (epoch interruption on, optional pooling
/// allocator), the thread that advances its epoch, and the fingerprint that keys precompiled artifacts.
/// </summary>
public sealed partial class WasmEngineHost : IDisposable
{
    private const uint MaxCoreInstancesPerComponent = 50;
    private const uint MaxMemoriesPerComponent = 10;
    private const uint MaxTablesPerComponent = 50;

    private readonly Thread _ticker;
    private readonly ManualResetEventSlim _stop = new(false);
    private readonly ILogger _logger;
    private int _disposed;

    public WasmEngineHost(IOptions<WasmRuntimeOptions> options, ILogger<WasmEngineHost>? logger = null)
        : this(options.Value, logger)
    {
    }

    public WasmEngineHost(WasmRuntimeOptions options, ILogger<WasmEngineHost>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;

        // Every setting made here goes into the fingerprint below, so an artifact compiled under
        // other settings is never offered to this engine.
        var settings = new List<string>
        {
            "wasmtime=" + WasmtimeVersion,
            "os=" + RuntimeInformation.OSDescription.Split(' ')[0].ToLowerInvariant(),
            "arch=" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            "cpu=" + CpuFeatures(),
            "compiler=cranelift",
            "opt=speed",
            "epoch=1",
            "fuel=0",
        };
        var config = new Config()
            .WithCompilerStrategy(CompilerStrategy.Cranelift)
            .WithOptimizationLevel(OptimizationLevel.Speed)
            .WithEpochInterruption(true)
            .WithFuelConsumption(false);
        if (options.UsePoolingAllocator)
        {
            // Keeping a slot's first MiB resident makes reusing it a memset instead of fresh page faults.
            var pool = new PoolingAllocationConfig()
                .WithTotalComponentInstances((uint)options.PoolMaxInstances)
                // wasi:http components (Platform.Runtime.Components) hold several core instances each; a Spin JS
                // app has a handful, with one memory and a few tables.
                .WithMaxCoreInstancesPerComponent(MaxCoreInstancesPerComponent)
                .WithMaxMemoriesPerComponent(MaxMemoriesPerComponent)
                .WithMaxTablesPerComponent(MaxTablesPerComponent)
                .WithMaxCoreInstances((uint)options.PoolMaxInstances)
                .WithMaxMemories((uint)options.PoolMaxInstances)
                .WithMaxTables((uint)options.PoolMaxInstances)
                .WithMaxMemoriesPerModule(1)
                .WithMaxTablesPerModule(1)
                .WithMaxTableElements(100_000)
                .WithMaxMemorySize((nuint)options.PoolMaxMemoryBytes)
                .WithLinearMemoryKeepResidentBytes(1024 * 1024)
                .WithTableKeepResidentBytes(64 * 1024)
                .WithMaxUnusedWarmSlots(100);
            config.WithPoolingAllocationStrategy(pool);
            settings.Add($"pooling=1;instances={options.PoolMaxInstances};maxmemory={options.PoolMaxMemoryBytes};tables=100000;"
                + $"components={options.PoolMaxInstances}x{MaxCoreInstancesPerComponent}/{MaxMemoriesPerComponent}/{MaxTablesPerComponent}");
        }
        else
        {
            settings.Add("pooling=0");
        }

        FingerprintDescription = string.Join(';', settings);
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(FingerprintDescription)))[..16];
        Engine = new Engine(config);
        MaxMemoryBytes = options.UsePoolingAllocator ? options.PoolMaxMemoryBytes : long.MaxValue;

        _ticker = new Thread(Tick) { IsBackground = true, Name = "wasm-epoch-ticker" };
        _ticker.Start();
        LogEngineStarted(_logger, FingerprintDescription, Fingerprint);
    }

    public WasmRuntimeOptions Options { get; }

    public Engine Engine { get; }

    /// <summary>
    /// Short hash of the Wasmtime version and every engine setting; precompiled artifacts only load into an engine
    /// with the same fingerprint, so it names the disk cache folder.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>The readable settings the fingerprint was computed from.</summary>
    public string FingerprintDescription { get; }

    /// <summary>Largest linear memory the engine can give an instance (the pool slot size when pooling).</summary>
    public long MaxMemoryBytes { get; }

    /// <summary>Version of the Wasmtime .NET package and the native library shipped with it.</summary>
    public static string WasmtimeVersion { get; } =
        typeof(Engine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Engine).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>Number of ticks to wait for <paramref name="wallTime"/> (at least one).</summary>
    internal ulong TicksFor(TimeSpan wallTime) =>
        (ulong)Math.Max(1, Math.Ceiling(wallTime.TotalMilliseconds / Options.EpochTickInterval.TotalMilliseconds));

    private void Tick()
    {
        // A dedicated thread, not a timer: a thread pool saturated by running modules must not delay the ticks
        // that stop them.
        var interval = Options.EpochTickInterval;
        while (!_stop.Wait(interval))
        {
            Engine.IncrementEpoch();
        }
    }

    // Cranelift compiles for the host's CPU features; an artifact from a machine with more features cannot load here.
    private static string CpuFeatures()
    {
        var flags = new List<string>();
        if (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86)
        {
            if (Sse41.IsSupported) flags.Add("sse41");
            if (Sse42.IsSupported) flags.Add("sse42");
            if (Popcnt.IsSupported) flags.Add("popcnt");
            if (Avx.IsSupported) flags.Add("avx");
            if (Avx2.IsSupported) flags.Add("avx2");
            if (Bmi1.IsSupported) flags.Add("bmi1");
            if (Bmi2.IsSupported) flags.Add("bmi2");
            if (Lzcnt.IsSupported) flags.Add("lzcnt");
            if (Fma.IsSupported) flags.Add("fma");
            if (Avx512F.IsSupported) flags.Add("avx512f");
        }
        else if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            if (AdvSimd.IsSupported) flags.Add("neon");
            if (Crc32.IsSupported) flags.Add("crc");
            if (Dp.IsSupported) flags.Add("dotprod");
        }
        return flags.Count == 0 ? "base" : string.Join('+', flags);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stop.Set();
        _ticker.Join();
        _stop.Dispose();
        Engine.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Wasmtime engine started ({Settings}); fingerprint {Fingerprint}")]
    private static partial void LogEngineStarted(ILogger logger, string settings, string fingerprint);
}
