using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Options;
using Platform.Router.Infrastructure;
using Platform.Runtime;

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
        DefaultAppConcurrency = Math.Clamp((int)Math.Ceiling(o.MaxConcurrency * o.DefaultAppShare), 1, o.MaxConcurrency);
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
    public int ConcurrencyFor(int? configured) => configured is int n and > 0 ? Math.Min(n, Workers) : DefaultAppConcurrency;

    /// <summary>
    /// Runs one request on a worker within <paramref name="app"/>'s share. Completes when the module has run, or at
    /// once when there is no room. Exceptions of <see cref="WagiExecutor.Execute"/> (a request that cannot be
    /// expressed to a module) are rethrown here.
    /// </summary>
    public ValueTask<ExecutionOutcome> ExecuteAsync(string app, int concurrency, WagiExecutor executor, CachedModule module, WagiRequest request,
        AppLimits limits, Action<string>? stderrLine, Action<string>? platformLine, CancellationToken cancellationToken)
    {
        var job = new ExecutionJob(executor, module, request, limits, stderrLine, platformLine, cancellationToken, Stopwatch.GetTimestamp());
        var rejection = _queue.TryEnqueue(app, concurrency, job, out var retryAfterMs);
        return rejection == ExecutionRejection.None
            ? job.AsValueTask()
            : ValueTask.FromResult(new ExecutionOutcome(null, rejection, retryAfterMs));
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
                job.Complete(new ExecutionOutcome(null, ExecutionRejection.QueueTimeout, retryAfterMs));
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
            job.Complete(new ExecutionOutcome(null, ExecutionRejection.Stopping, 1000));
        }
    }

    /// <summary>One request for a worker; completes the awaiting request handler without a Task allocation.</summary>
    internal sealed class ExecutionJob(WagiExecutor executor, CachedModule module, WagiRequest request, AppLimits limits,
        Action<string>? stderrLine, Action<string>? platformLine, CancellationToken cancellationToken, long enqueuedAt) : IValueTaskSource<ExecutionOutcome>
    {
        // Continuations run on the thread pool, never on the worker: the response is written by Kestrel's threads.
        private ManualResetValueTaskSourceCore<ExecutionOutcome> _core = new() { RunContinuationsAsynchronously = true };

        public long EnqueuedAt { get; } = enqueuedAt;

        public ValueTask<ExecutionOutcome> AsValueTask() => new(this, _core.Version);

        public void Run()
        {
            try
            {
                _core.SetResult(new ExecutionOutcome(executor.Execute(module, request, limits, stderrLine, platformLine, cancellationToken), ExecutionRejection.None, 0));
            }
            catch (Exception ex)
            {
                // Reaches the request handler, which turns it into a problem; a worker never dies of it.
                _core.SetException(ex);
            }
        }

        public void Complete(ExecutionOutcome outcome) => _core.SetResult(outcome);

        public ExecutionOutcome GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
