using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Oci;
using Platform.Router.Infrastructure;
using Platform.Runtime;
using Wasmtime;

namespace Platform.Router.Serving;

/// <summary>
/// Before the router reports ready, runs the serving path once on a built-in module: loading a precompiled
/// artifact, a WAGI request through the handler and the executor, a wasi:http component through the component host,
/// a request through Kestrel, and a registry ping.
/// A new router's first real request then costs what any request costs plus its module's load, instead of the
/// tens of milliseconds of just-in-time compilation of all that code.
/// </summary>
/// <remarks>
/// Nothing of it touches app state: the module lives in a private memory-only cache, the synthetic request is not
/// counted in metrics or request figures, and the Kestrel request goes to a host that is no app.
/// </remarks>
public sealed partial class RouterWarmup(
    AppTrafficHandler handler,
    WasmEngineHost engine,
    IOciRegistryClient registry,
    IOptions<RouterOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<RouterWarmup> logger,
    Platform.Runtime.Components.ComponentHost components,
    Platform.Runtime.Components.ComponentCodeLoader componentLoader) : BackgroundService
{
    // A WASI command touching what a CGI program does on every request: argv, environment, stdio state, stdin, stdout.
    private const string WarmupModule = """
        (module
          (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "Content-Type: text/plain\n\nwarm\n")
          (func (export "_start")
            (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
            (drop (call $environ_sizes_get (i32.const 8) (i32.const 12)))
            (drop (call $args_get (i32.const 2048) (i32.const 8192)))
            (drop (call $environ_get (i32.const 3072) (i32.const 16384)))
            (drop (call $fd_fdstat_get (i32.const 1) (i32.const 32)))
            (i32.store (i32.const 64) (i32.const 40000))
            (i32.store (i32.const 68) (i32.const 1024))
            (drop (call $fd_read (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 72)))
            (i32.store (i32.const 80) (i32.const 1024))
            (i32.store (i32.const 84) (i32.const 31))
            (drop (call $fd_write (i32.const 1) (i32.const 80) (i32.const 1) (i32.const 88)))))
        """;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True once the warm-up ran (or failed, which is logged and does not keep the router from serving).</summary>
    public bool Completed => _done.Task.IsCompleted;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await WarmUpRuntimeAndHandlerAsync(stoppingToken);
            await WarmUpComponentsAsync(stoppingToken);
            await WarmUpKestrelAsync(stoppingToken);
            await WarmUpRegistryAsync(stoppingToken);
            logger.WarmedUp(stopwatch.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            // Only speed is at stake: the router serves correctly without it.
            logger.WarmupFailed(ex);
        }
        finally
        {
            _done.TrySetResult();
        }
    }

    private async Task WarmUpRuntimeAndHandlerAsync(CancellationToken cancellationToken)
    {
        using var compiled = Module.FromText(engine.Engine, "warm-up", WarmupModule);
        var wasm = Encoding.UTF8.GetBytes(WarmupModule);
        var digest = OciDigest.ComputeSha256(wasm);
        var artifact = compiled.Serialize();
        using var cache = new ModuleCache(engine, cacheDirectory: null, maxCachedModules: 1) { RecordTelemetry = false };
        using var executor = new WagiExecutor(engine) { RecordTelemetry = false };
        // The same load path as an app whose precompiled artifact comes from the registry (verified by the pull); the
        // fetch is local and its digest is computed from the very bytes.
        var module = await cache.GetAsync(digest, _ => throw new InvalidOperationException("the warm-up module is never compiled from Wasm bytes"),
            new PrecompiledArtifact(OciDigest.ComputeSha256(artifact), engine.Fingerprint, _ => Task.FromResult(artifact), FetchVerifiesDigest: true),
            cancellationToken);

        var route = new RouteEntry("warm-up", 1, digest, "platform/warm-up", "warm-up", 16L * 1024 * 1024, 5000, new Dictionary<string, string> { ["WARM"] = "1" });
        for (var i = 0; i < 3; i++)
        {
            var context = new DefaultHttpContext();
            context.Request.Method = i == 1 ? HttpMethods.Post : HttpMethods.Get;
            context.Request.Scheme = "http";
            context.Request.Host = new HostString($"warm-up.{options.Value.AppDomain}", 80);
            context.Request.Path = "/warm-up";
            context.Request.QueryString = new QueryString("?a=1&b=2");
            context.Request.Headers.UserAgent = "platform-warm-up";
            context.Request.Headers.Accept = "*/*";
            if (i == 1)
            {
                var body = "warm"u8.ToArray();
                context.Request.ContentLength = body.Length;
                context.Request.ContentType = "text/plain";
                context.Request.Body = new MemoryStream(body);
            }
            context.Response.Body = Stream.Null;
            var status = await handler.WarmUpAsync(context, route, executor, module, cancellationToken);
            if (status != StatusCodes.Status200OK)
            {
                throw new InvalidOperationException($"the warm-up request answered {status}");
            }
        }
    }

    /// <summary>A request through Kestrel to a host that is no app: the handler's entry, the 404 problem, the response path.</summary>
    private async Task WarmUpKestrelAsync(CancellationToken cancellationToken)
    {
        await WaitForStartAsync(cancellationToken);
        var appUrl = new Uri(options.Value.Url);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appUrl, "/warm-up"));
        request.Headers.Host = $"warm-up.invalid:{appUrl.Port}";
        using var response = await http.SendAsync(request, cancellationToken);
    }

    private async Task WarmUpRegistryAsync(CancellationToken stoppingToken)
    {
        // Bounded: a router serves cached modules without the registry, so an unreachable one must not hold readiness back.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            // Compiles the registry client's request path and opens the pooled connection the first pull will use.
            await registry.PingAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OciRegistryException or OciRegistryUnavailableException or OperationCanceledException)
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                logger.RegistryNotReached(ex.Message);
            }
        }
    }

    private async Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(cancellationToken);
    }
}
