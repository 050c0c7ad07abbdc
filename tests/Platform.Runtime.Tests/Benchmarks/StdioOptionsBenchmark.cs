using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Platform.Runtime;
using Platform.Testing;
using Wasmtime;
using Xunit.Abstractions;

namespace Platform.Runtime.Tests.Benchmarks;

/// <summary>
/// Measures the ways of giving a request to a WASI module (docs/runtime-performance.md) and checks that every way
/// produces the same response. By default it runs a few iterations as a correctness test; for figures run
/// <c>PLATFORM_BENCH_ITERATIONS=5000 dotnet test -c Release tests/Platform.Runtime.Tests --filter Category=Benchmark
/// --logger "console;verbosity=detailed"</c>. No timing is asserted.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class StdioOptionsBenchmark(ITestOutputHelper output)
{
    private static readonly byte[] s_body = Encoding.UTF8.GetBytes("the request body");
    private const string Expected = "Hello from POST /bench?x=1\nthe request body";

    private static WagiRequest Request() => new()
    {
        Method = "POST",
        PathInfo = "/bench",
        RawPathInfo = "/bench",
        QueryString = "x=1",
        ScriptName = "/",
        ServerName = "hello.apps.localhost",
        ServerPort = 8080,
        ContentType = "text/plain",
        RemoteAddress = "127.0.0.1",
        Headers = [new("Host", "hello.apps.localhost:8080"), new("User-Agent", "wrk"), new("Accept", "*/*")],
        Body = s_body,
        FullUrl = "http://hello.apps.localhost:8080/bench?x=1",
    };

    [Fact]
    public async Task Every_stdio_option_returns_the_same_response_and_reports_its_cost()
    {
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("PLATFORM_BENCH_ITERATIONS"), CultureInfo.InvariantCulture, out var n) ? n : 30;
        var bytes = TestApps.Bytes("hello");
        var rows = new List<string>();
        foreach (var pooling in new[] { true, false })
        {
            using var host = new WasmEngineHost(new WasmRuntimeOptions { UsePoolingAllocator = pooling });
            using var cache = new ModuleCache(host, null, 4);
            var cached = await cache.GetAsync(RuntimeFixture_DigestOf(bytes), _ => Task.FromResult(bytes), CancellationToken.None);
            using var executor = new WagiExecutor(host);
            using var wasiLinker = new Linker(host.Engine);
            wasiLinker.DefineWasi();
            using var empty = Module.FromText(host.Engine, "empty", "(module (memory (export \"memory\") 1) (func (export \"_start\")))");
            using var emptyLinker = new Linker(host.Engine);
            var request = Request();
            var environment = WagiEnvironment.Build(request);
            var allocator = pooling ? "pooling" : "on-demand";

            var options = new (string Name, Func<string> Run)[]
            {
                ("Wasmtime WASI: stdin temp file + stdout callback (public API)", () => WasmtimeWasiWithTempFile(host, wasiLinker, cached.Module, environment)),
                ("Wasmtime WASI: wasi_config via P/Invoke, stdin bytes, unmanaged stdout callback", () => WasmtimeWasiNative(host, wasiLinker, cached.Module, environment)),
                ("Platform WASI host functions: WagiExecutor.Execute (chosen)", () =>
                {
                    using var result = executor.Execute(cached, request, AppLimits.Default, null, CancellationToken.None);
                    return Encoding.UTF8.GetString(result.Body.Span);
                }),
            };
            foreach (var (name, run) in options)
            {
                Assert.Equal(Expected, run());
                rows.Add(Measure($"{name} [{allocator}]", iterations, () => run()));
            }
            rows.Add(Measure($"Empty module: Store + instantiate + _start, no WASI [{allocator}]", iterations, () =>
            {
                using var store = new Store(host.Engine);
                store.SetEpochDeadline(100);
                emptyLinker.Instantiate(store, empty).GetAction("_start")!();
            }));
            rows.Add(Measure($"Empty module, plus the epoch deadline callback WagiExecutor sets [{allocator}]", iterations, () =>
            {
                using var store = new Store(host.Engine);
                store.SetEpochDeadline(100);
                store.SetEpochDeadlineCallback(static _ => 1);
                emptyLinker.Instantiate(store, empty).GetAction("_start")!();
            }));
        }

        var table = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"iterations per option: {iterations}; {Environment.ProcessorCount} cores; {RuntimeInformation.FrameworkDescription}; Wasmtime {WasmEngineHost.WasmtimeVersion}")
            .AppendLine("| option | mean µs | median µs | p99 µs |")
            .AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            table.AppendLine(row);
        }
        output.WriteLine(table.ToString());
        var report = Environment.GetEnvironmentVariable("PLATFORM_BENCH_REPORT");
        if (!string.IsNullOrEmpty(report))
        {
            File.WriteAllText(report, table.ToString());
        }
    }

    private static string RuntimeFixture_DigestOf(byte[] bytes) => Integration.RuntimeFixture.DigestOf(bytes);

    private static string Measure(string name, int iterations, Action action)
    {
        for (var i = 0; i < Math.Max(5, iterations / 5); i++)
        {
            action();
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var samples = new double[iterations];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        var mean = total.Elapsed.TotalMicroseconds / iterations;
        Array.Sort(samples);
        var median = samples[iterations / 2];
        var p99 = samples[Math.Min(iterations - 1, (int)(iterations * 0.99))];
        return string.Create(CultureInfo.InvariantCulture, $"| {name} | {mean:F1} | {median:F1} | {p99:F1} |");
    }

    private static string ParseBody(ReadOnlySpan<byte> stdout)
    {
        Assert.True(CgiResponseParser.TryParse(stdout, out var response, out var error), error);
        return Encoding.UTF8.GetString(stdout[response.BodyOffset..]);
    }

    // Option A: the .NET wrapper's public WASI API. It can only take stdin from a file.
    private static string WasmtimeWasiWithTempFile(WasmEngineHost host, Linker linker, Module module, WagiEnvironment environment)
    {
        var stdinPath = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(stdinPath, s_body);
            var stdout = new MemoryStream();
            using var store = new Store(host.Engine);
            store.SetWasiConfiguration(new WasiConfiguration()
                .WithArgs(environment.Arguments)
                .WithEnvironmentVariables(environment.Variables.Select(v => (v.Key, v.Value)))
                .WithStandardInput(stdinPath)
                .WithStandardOutputCallback(data => stdout.Write(data))
                .WithStandardErrorCallback(_ => { }));
            store.SetEpochDeadline(host.TicksFor(TimeSpan.FromSeconds(30)));
            linker.Instantiate(store, module).GetAction("_start")!();
            return ParseBody(stdout.ToArray());
        }
        finally
        {
            File.Delete(stdinPath);
        }
    }

    // Option B: Wasmtime's WASI configured through the C API the native library exports, which the wrapper hides.
    private static string WasmtimeWasiNative(WasmEngineHost host, Linker linker, Module module, WagiEnvironment environment)
    {
        var stdout = new MemoryStream();
        using var store = new Store(host.Engine);
        NativeWasi.Configure(store, environment, s_body, stdout);
        store.SetEpochDeadline(host.TicksFor(TimeSpan.FromSeconds(30)));
        linker.Instantiate(store, module).GetAction("_start")!();
        return ParseBody(stdout.ToArray());
    }

    private static unsafe class NativeWasi
    {
        private const string Library = "wasmtime";

        [StructLayout(LayoutKind.Sequential)]
        private struct ByteVec
        {
            public nuint Size;
            public byte* Data;
        }

        [DllImport(Library)] private static extern IntPtr wasi_config_new();
        [DllImport(Library)] private static extern byte wasi_config_set_argv(IntPtr config, nuint argc, byte** argv);
        [DllImport(Library)] private static extern byte wasi_config_set_env(IntPtr config, nuint count, byte** names, byte** values);
        [DllImport(Library)] private static extern void wasi_config_set_stdin_bytes(IntPtr config, ByteVec* bytes);
        [DllImport(Library)] private static extern void wasi_config_set_stdout_custom(IntPtr config, delegate* unmanaged<IntPtr, byte*, nuint, nint> callback, IntPtr data, delegate* unmanaged<IntPtr, void> finalizer);
        [DllImport(Library)] private static extern void wasi_config_set_stderr_custom(IntPtr config, delegate* unmanaged<IntPtr, byte*, nuint, nint> callback, IntPtr data, delegate* unmanaged<IntPtr, void> finalizer);
        [DllImport(Library)] private static extern IntPtr wasmtime_context_set_wasi(IntPtr context, IntPtr config);
        [DllImport(Library)] private static extern void wasm_byte_vec_new(ByteVec* vector, nuint size, byte* data);

        // The wrapper keeps the native context handle private; the benchmark reaches it the only way there is.
        [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "contextHandle")]
        private static extern ref IntPtr ContextHandle(Store store);

        [UnmanagedCallersOnly]
        private static nint Write(IntPtr data, byte* buffer, nuint length)
        {
            ((MemoryStream)GCHandle.FromIntPtr(data).Target!).Write(new ReadOnlySpan<byte>(buffer, (int)length));
            return (nint)length;
        }

        [UnmanagedCallersOnly]
        private static nint Discard(IntPtr data, byte* buffer, nuint length) => (nint)length;

        [UnmanagedCallersOnly]
        private static void Free(IntPtr data)
        {
            if (data != IntPtr.Zero)
            {
                GCHandle.FromIntPtr(data).Free();
            }
        }

        public static void Configure(Store store, WagiEnvironment environment, byte[] stdin, MemoryStream stdout)
        {
            var config = wasi_config_new();
            var allocated = new List<IntPtr>();
            try
            {
                var argv = stackalloc byte*[environment.Arguments.Count];
                for (var i = 0; i < environment.Arguments.Count; i++)
                {
                    argv[i] = Utf8(environment.Arguments[i], allocated);
                }
                wasi_config_set_argv(config, (nuint)environment.Arguments.Count, argv);
                var count = environment.Variables.Count;
                var names = stackalloc byte*[count];
                var values = stackalloc byte*[count];
                for (var i = 0; i < count; i++)
                {
                    names[i] = Utf8(environment.Variables[i].Key, allocated);
                    values[i] = Utf8(environment.Variables[i].Value, allocated);
                }
                wasi_config_set_env(config, (nuint)count, names, values);
            }
            finally
            {
                foreach (var p in allocated)
                {
                    NativeMemory.Free((void*)p);
                }
            }
            ByteVec vector;
            fixed (byte* data = stdin)
            {
                wasm_byte_vec_new(&vector, (nuint)stdin.Length, data);
            }
            wasi_config_set_stdin_bytes(config, &vector);
            wasi_config_set_stdout_custom(config, &Write, GCHandle.ToIntPtr(GCHandle.Alloc(stdout)), &Free);
            wasi_config_set_stderr_custom(config, &Discard, IntPtr.Zero, &Free);
            var error = wasmtime_context_set_wasi(ContextHandle(store), config);
            Assert.Equal(IntPtr.Zero, error);
        }

        private static byte* Utf8(string value, List<IntPtr> allocated)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            var pointer = (byte*)NativeMemory.Alloc((nuint)length + 1);
            allocated.Add((IntPtr)pointer);
            Encoding.UTF8.GetBytes(value, new Span<byte>(pointer, length));
            pointer[length] = 0;
            return pointer;
        }
    }
}
