using System.Text;
using Platform.Runtime;
using Wasmtime;

namespace Platform.Runtime.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class InstancePoolTests
{
    // Announces on stderr that it runs, then never returns.
    private const string BusyLoop = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "running\0a")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 8))
            (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
            (loop $forever (br $forever))))
        """;

    [Fact]
    public async Task When_every_instance_slot_is_busy_a_request_is_overloaded_and_the_next_one_runs()
    {
        using var host = new WasmEngineHost(new WasmRuntimeOptions { PoolMaxInstances = 1 });
        using var cache = new ModuleCache(host, null, 4);
        using var executor = new WagiExecutor(host);
        var loopBytes = Module.ConvertText(BusyLoop);
        var loop = await cache.GetAsync(RuntimeFixture.DigestOf(loopBytes), _ => Task.FromResult(loopBytes), CancellationToken.None);
        var helloBytes = Platform.Testing.TestApps.Bytes("hello");
        var hello = await cache.GetAsync(RuntimeFixture.DigestOf(helloBytes), _ => Task.FromResult(helloBytes), CancellationToken.None);
        using var running = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();

        var busy = Task.Factory.StartNew(
            () => executor.Execute(loop, new WagiRequest { Method = "GET" }, AppLimits.Default, _ => running.Release(), stop.Token),
            TaskCreationOptions.LongRunning);
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        using var refused = executor.Execute(hello, new WagiRequest { Method = "GET" }, AppLimits.Default, null, CancellationToken.None);
        stop.Cancel();
        using var busyResult = await busy;
        using var afterwards = executor.Execute(hello, new WagiRequest { Method = "GET" }, AppLimits.Default, null, CancellationToken.None);

        Assert.Equal(WagiOutcome.Overloaded, refused.Outcome);
        Assert.Equal(503, refused.StatusCode);
        Assert.Contains("maximum concurrent", refused.Error);
        Assert.Equal(WagiOutcome.Cancelled, busyResult.Outcome);
        Assert.Equal(WagiOutcome.Ok, afterwards.Outcome);
        Assert.StartsWith("Hello from GET", Encoding.UTF8.GetString(afterwards.Body.Span));
    }
}
