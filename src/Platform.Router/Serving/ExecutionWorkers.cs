using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Options;
using Platform.Router.Infrastructure;
using Platform.Runtime;
using Platform.Runtime.Components;

namespace Platform.Router.Serving;

/// <summary>Why a request was not given an execution slot.</summary>
public enum ExecutionRejection
{
    None,
    /// <summary>The app already runs its share and its own queue is full.</summary>
    AppBusy,
    /// <summary>The router's queue across all apps is full.</summary>
    RouterBusy,
    /// <summary>The request waited longer than <see cref="RouterOptions.MaxQueueWaitMilliseconds"/> for a slot.</summary>
    QueueTimeout,
    /// <summary>The router is stopping.</summary>
    Stopping,
}

/// <summary>What came of handing a request to the workers: a result, or why it did not run.</summary>
public readonly record struct ExecutionOutcome(WagiResult? Result, ExecutionRejection Rejection, int RetryAfterMilliseconds);

/// <summary>What came of handing a wasi:http component's request to the workers: a result, or why it did not run.</summary>
public readonly record struct ComponentExecutionOutcome(ComponentResult? Result, ExecutionRejection Rejection, int RetryAfterMilliseconds);

/// <summary>
/// Runs Wasm on threads the router owns, never on the thread pool that Kestrel needs for accepting, parsing, reading
/// bodies and answering: a guest that loops or sleeps holds one of these workers and nothing else. Work is taken
/// from a fair queue (<see cref="FairQueue"/>): each app runs at most its share of workers at once, further requests
/// of that app wait in the app's own bounded queue, and free workers serve the apps with waiting work in turn.
/// Whatever does not fit is refused at once with an estimate of when to retry, never queued without bound.
/// </summary>
public sealed class ExecutionWorkers : IDisposable
{
    private readonly FairQueue _queue;
    private readonly Thread[] _threads;
    private readonly long _maxQueueWaitTicks;

    public ExecutionWorkers(IOptions<RouterOptions> options)
    {
        var o = options.Value;
        Workers = o.MaxConcurrency;
        DefaultAppConcurrency = DefaultShareOf(o);
        _queue = new FairQueue(o.QueueLength, Math.Min(o.AppQueueLength, o.QueueLength));
        _maxQueueWaitTicks = (long)(o.MaxQueueWaitMilliseconds / 1000.0 * Stopwatch.Frequency);
        _threads = new Thread[Workers];
        for (var i = 0; i < _threads.Length; i++)
        {
            // Background threads: a guest stuck past shutdown must not keep the process alive.
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"wasm-worker-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Worker threads, the router's budget of concurrent executions.</summary>
    public int Workers { get; }

    /// <summary>An app's share of the workers when its route names none.</summary>
    public int DefaultAppConcurrency { get; }

    /// <summary>Requests waiting for a worker right now, across apps.</summary>
    public int Queued => _queue.Queued;

    /// <summary>Executions running right now.</summary>
    public int Running => _queue.Running;

    /// <summary>The share of workers an app gets: its own setting (capped at the budget) or the default.</summary>
    public int ConcurrencyFor(int? configured) => ShareFor(configured, Workers, DefaultAppConcurrency);

    /// <summary>An app's share when its route names none: <see cref="RouterOptions.DefaultAppShare"/> of the workers, at least one.</summary>
    internal static int DefaultShareOf(RouterOptions o) => Math.Clamp((int)Math.Ceiling(o.MaxConcurrency * o.DefaultAppShare), 1, o.MaxConcurrency);

    /// <summary>The one rule for an app's share, also used when route state is built (before any worker exists).</summary>
    internal static int ShareFor(int? configured, int workers, int defaultShare) => configured is int n and > 0 ? Math.Min(n, workers) : defaultShare;

    /// <summary>
    /// Runs one request on a worker within <paramref name="app"/>'s share. Completes when the module has run, or at
    /// once when there is no room. Exceptions of <see cref="WagiExecutor.Execute"/> (a request that cannot be
    /// expressed to a module) are rethrown here.
    /// </summary>
    public ValueTask<ExecutionOutcome> ExecuteAsync(string app, int concurrency, WagiExecutor executor, CachedModule module, WagiRequest request,
        AppLimits limits, Action<string>? stderrLine, Action<string>? platformLine, CancellationToken cancellationToken) =>
        Enqueue(app, concurrency, new ExecutionJob(executor, module, request, limits, stderrLine, platformLine, cancellationToken, Stopwatch.GetTimestamp()));

    /// <summary>
    /// Runs one wasi:http component request on a worker within <paramref name="app"/>'s share, behind the same fair
    /// queue, caps and refusals as WAGI modules.
    /// </summary>
    public ValueTask<ComponentExecutionOutcome> ExecuteAsync(string app, int concurrency, ComponentHost host, LoadedComponent component,
        ComponentRequest request, AppLimits limits, ComponentLog log, CancellationToken cancellationToken) =>
        Enqueue(app, concurrency, new ComponentJob(host, component, request, limits, log, cancellationToken, Stopwatch.GetTimestamp()));

    private ValueTask<TOutcome> Enqueue<TOutcome>(string app, int concurrency, ExecutionWork<TOutcome> job)
    {
        var rejection = _queue.TryEnqueue(app, concurrency, job, out var retryAfterMs);
        return rejection == ExecutionRejection.None
            ? job.AsValueTask()
            : ValueTask.FromResult(job.Rejected(rejection, retryAfterMs));
    }

    private void Work()
    {
        FairQueue.App? finished = null;
        var finishedMs = -1.0;
        while (_queue.Next(finished, finishedMs, out var job, out var app, out var retryAfterMs))
        {
            finished = app;
            var started = Stopwatch.GetTimestamp();
            if (started - job.EnqueuedAt > _maxQueueWaitTicks)
            {
                // Waited too long (the app's share was busy for a long time): the client would rather hear so now.
                job.Reject(ExecutionRejection.QueueTimeout, retryAfterMs);
                finishedMs = -1;
                continue;
            }
            job.Run();
            finishedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
    }

    public void Dispose()
    {
        foreach (var job in _queue.Stop())
        {
            job.Reject(ExecutionRejection.Stopping, 1000);
        }
    }

    /// <summary>One request waiting for, or running on, a worker; what the fair queue holds whatever the kind of guest.</summary>
    internal abstract class ExecutionWork(long enqueuedAt)
    {
        public long EnqueuedAt { get; } = enqueuedAt;

        /// <summary>Runs the guest on the calling worker and completes the awaiting request handler.</summary>
        public abstract void Run();

        /// <summary>Completes the awaiting handler without running (queue wait too long, router stopping).</summary>
        public abstract void Reject(ExecutionRejection rejection, int retryAfterMs);
    }

    /// <summary>A request for a worker with a typed outcome; completes the awaiting request handler without a Task allocation.</summary>
    internal abstract class ExecutionWork<TOutcome>(long enqueuedAt) : ExecutionWork(enqueuedAt), IValueTaskSource<TOutcome>
    {
        // Continuations run on the thread pool, never on the worker: the response is written by Kestrel's threads.
        private ManualResetValueTaskSourceCore<TOutcome> _core = new() { RunContinuationsAsynchronously = true };

        public ValueTask<TOutcome> AsValueTask() => new(this, _core.Version);

        protected abstract TOutcome Execute();

        public abstract TOutcome Rejected(ExecutionRejection rejection, int retryAfterMs);

        public sealed override void Run()
        {
            try
            {
                _core.SetResult(Execute());
            }
            catch (Exception ex)
            {
                // Reaches the request handler, which turns it into a problem; a worker never dies of it.
                _core.SetException(ex);
            }
        }

        public sealed override void Reject(ExecutionRejection rejection, int retryAfterMs) => _core.SetResult(Rejected(rejection, retryAfterMs));

        public TOutcome GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>A WAGI module's request.</summary>
    internal sealed class ExecutionJob(WagiExecutor executor, CachedModule module, WagiRequest request, AppLimits limits,
        Action<string>? stderrLine, Action<string>? platformLine, CancellationToken cancellationToken, long enqueuedAt) : ExecutionWork<ExecutionOutcome>(enqueuedAt)
    {
        protected override ExecutionOutcome Execute() =>
            new(executor.Execute(module, request, limits, stderrLine, platformLine, cancellationToken), ExecutionRejection.None, 0);

        public override ExecutionOutcome Rejected(ExecutionRejection rejection, int retryAfterMs) => new(null, rejection, retryAfterMs);
    }

    /// <summary>A wasi:http component's request: a fresh store and instance on the worker.</summary>
    internal sealed class ComponentJob(ComponentHost host, LoadedComponent component, ComponentRequest request, AppLimits limits,
        ComponentLog log, CancellationToken cancellationToken, long enqueuedAt) : ExecutionWork<ComponentExecutionOutcome>(enqueuedAt)
    {
        protected override ComponentExecutionOutcome Execute() =>
            new(host.Execute(component, request, limits, log, cancellationToken), ExecutionRejection.None, 0);

        public override ComponentExecutionOutcome Rejected(ExecutionRejection rejection, int retryAfterMs) => new(null, rejection, retryAfterMs);
    }
}
