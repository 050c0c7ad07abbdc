using System.Runtime.CompilerServices;
using Platform.Runtime;

namespace Platform.Router.Serving;

/// <summary>
/// Modules that import wasi_experimental_http can wait on an upstream for as long as their wall-time limit, inside
/// a synchronous host call. Run on a Kestrel (thread-pool) thread, 64 such waits starve the pool and every other
/// app's latency with it (measured: a bystander's p99 went from 20 ms to 9.7 s). So they run on a thread of their
/// own; modules that cannot call out keep the fast inline path.
/// </summary>
internal static class OutboundExecution
{
    private static readonly ConditionalWeakTable<CachedModule, object> s_mayBlock = new();
    private static readonly object s_yes = true;
    private static readonly object s_no = false;

    /// <summary>Whether the module imports the outbound HTTP ABI (computed once per loaded module).</summary>
    public static bool MayBlock(CachedModule module) =>
        (bool)s_mayBlock.GetValue(module, static m =>
            m.Module.Imports.Any(i => i.ModuleName == "wasi_experimental_http") ? s_yes : s_no);

    public static Task<WagiResult> RunOnOwnThreadAsync(WagiExecutor executor, CachedModule module, WagiRequest request, AppLimits limits,
        Action<string>? stderrLine, Action<string>? platformLine, CancellationToken cancellationToken) =>
        // LongRunning gives the execution a dedicated thread instead of a pool one; the request waits asynchronously.
        Task.Factory.StartNew(() => executor.Execute(module, request, limits, stderrLine, platformLine, cancellationToken),
            CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
}
