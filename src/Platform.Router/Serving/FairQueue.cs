namespace Platform.Router.Serving;

/// <summary>
/// The execution workers' queue: one bounded FIFO per app and a round-robin ring of the apps that have waiting work
/// and a free share. A worker that frees up serves the next app in the ring, so an app with a thousand waiting
/// requests gets one turn like an app with one: its flood queues behind its own share, not in front of others.
/// </summary>
/// <remarks>
/// One lock guards everything; it is held for a few dictionary and queue operations per request. Idle workers wait
/// each on its own signal, most recently idle first: a request that arrives while a worker is idle is handed to
/// that worker under the lock, so the woken thread starts running it without taking the lock again, and the few
/// workers that stay busy keep their caches warm while the rest sleep. (Waiting on the lock's monitor instead woke
/// the longest-idle worker, which then queued for the lock: a third of the router's CPU went to that at 64
/// connections.)
/// </remarks>
internal sealed class FairQueue(int queueLength, int appQueueLength)
{
    private const double SmoothingFactor = 0.2;
    private const int MinRetryAfterMs = 10;
    private const int MaxRetryAfterMs = 30_000;
    // Apps idle with nothing queued are forgotten once there are more than this many, so a long-lived router does
    // not keep an entry for every app it ever served.
    private const int MaxIdleApps = 4096;

    private readonly object _lock = new();
    private readonly Dictionary<string, App> _apps = new(StringComparer.Ordinal);
    private readonly Queue<App> _ready = new();
    private int _queued;
    private int _running;
    private readonly Stack<Waiter> _idle = new();
    [ThreadStatic]
    private static Waiter? t_waiter;
    private double _averageMs = 1;
    private bool _stopping;

    public int Queued => Volatile.Read(ref _queued);

    public int Running => Volatile.Read(ref _running);

    /// <summary>Workers waiting for a job right now.</summary>
    public int Idle
    {
        get
        {
            lock (_lock)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>An idle worker: what it is handed and the signal it sleeps on.</summary>
    private sealed class Waiter
    {
        // A short spin before sleeping: under load the next request comes within microseconds, and a futex sleep and
        // wake per request cost more than the Wasm (measured at 64 connections: 31-34k req/s with 20 spins, 22-24k
        // without; 60 spins measured no better).
        public readonly ManualResetEventSlim Signal = new(false, spinCount: 20);
        public ExecutionWorkers.ExecutionWork? Job;
        public App? App;
        public int RetryAfterMs;
    }

    /// <summary>Per-app state, only touched under the lock.</summary>
    internal sealed class App(string name)
    {
        public string Name { get; } = name;
        public Queue<ExecutionWorkers.ExecutionWork> Pending { get; } = new();
        public int Running;
        public int Concurrency = 1;
        public bool InRing;
        public double AverageMs = 1;
    }

    /// <summary>Queues <paramref name="job"/> for <paramref name="name"/>, or says why not and when to retry.</summary>
    public ExecutionRejection TryEnqueue(string name, int concurrency, ExecutionWorkers.ExecutionWork job, out int retryAfterMs)
    {
        Waiter? woken = null;
        List<Waiter>? more = null;
        lock (_lock)
        {
            retryAfterMs = 0;
            if (_stopping)
            {
                retryAfterMs = 1000;
                return ExecutionRejection.Stopping;
            }
            if (!_apps.TryGetValue(name, out var app))
            {
                if (_apps.Count >= MaxIdleApps)
                {
                    ForgetIdleApps();
                }
                app = new App(name);
                _apps.Add(name, app);
            }
            app.Concurrency = concurrency;
            if (app.Running + app.Pending.Count >= concurrency + appQueueLength)
            {
                retryAfterMs = RetryAfter(app.AverageMs, app.Pending.Count, concurrency);
                return ExecutionRejection.AppBusy;
            }
            // Only what cannot start at once counts against the router's queue.
            if (_queued - _idle.Count >= queueLength)
            {
                retryAfterMs = RetryAfter(_averageMs, _queued, Math.Max(1, _running));
                return ExecutionRejection.RouterBusy;
            }
            app.Pending.Enqueue(job);
            _queued++;
            if (!app.InRing && app.Running < app.Concurrency)
            {
                app.InRing = true;
                _ready.Enqueue(app);
            }
            // Usually the job just queued; also what a raised share made runnable.
            while (_idle.Count > 0 && TryTake(out var next, out var nextApp, out var nextRetryAfterMs))
            {
                var waiter = _idle.Pop();
                (waiter.Job, waiter.App, waiter.RetryAfterMs) = (next, nextApp, nextRetryAfterMs);
                if (woken is null)
                {
                    woken = waiter;
                }
                else
                {
                    (more ??= []).Add(waiter);
                }
            }
        }
        // Woken outside the lock: the wake is a system call, and a thread preempted while holding the lock stalls
        // every request behind it for a scheduler time slice.
        woken?.Signal.Set();
        if (more is not null)
        {
            foreach (var waiter in more)
            {
                waiter.Signal.Set();
            }
        }
        return ExecutionRejection.None;
    }

    /// <summary>
    /// Called by a worker: records the end of its last job (for <paramref name="finished"/>, which ran for
    /// <paramref name="finishedMs"/>, or -1 when it did not run) and waits for the next one. False when stopping.
    /// </summary>
    public bool Next(App? finished, double finishedMs, out ExecutionWorkers.ExecutionWork job, out App app, out int retryAfterMs)
    {
        Waiter self;
        lock (_lock)
        {
            if (finished is not null)
            {
                finished.Running--;
                _running--;
                if (finishedMs >= 0)
                {
                    finished.AverageMs += SmoothingFactor * (finishedMs - finished.AverageMs);
                    _averageMs += SmoothingFactor * (finishedMs - _averageMs);
                }
                if (!finished.InRing && finished.Pending.Count > 0 && finished.Running < finished.Concurrency)
                {
                    finished.InRing = true;
                    _ready.Enqueue(finished);
                }
            }
            if (_stopping)
            {
                job = null!;
                app = null!;
                retryAfterMs = 0;
                return false;
            }
            if (TryTake(out job, out app, out retryAfterMs))
            {
                return true;
            }
            self = t_waiter ??= new Waiter();
            _idle.Push(self);
        }

        // Outside the lock: whoever hands this worker a job (or stops the queue) fills it in before the signal.
        self.Signal.Wait();
        self.Signal.Reset();
        (var handed, var handedApp, retryAfterMs) = (self.Job, self.App, self.RetryAfterMs);
        (self.Job, self.App) = (null, null);
        job = handed!;
        app = handedApp!;
        return handed is not null;
    }

    /// <summary>Takes the next runnable job in ring order; under the lock.</summary>
    private bool TryTake(out ExecutionWorkers.ExecutionWork job, out App app, out int retryAfterMs)
    {
        while (_ready.TryDequeue(out var candidate))
        {
            candidate.InRing = false;
            if (candidate.Pending.Count == 0 || candidate.Running >= candidate.Concurrency)
            {
                continue;
            }
            job = candidate.Pending.Dequeue();
            _queued--;
            candidate.Running++;
            _running++;
            if (candidate.Pending.Count > 0 && candidate.Running < candidate.Concurrency)
            {
                // Back of the ring: the other apps with waiting work go first.
                candidate.InRing = true;
                _ready.Enqueue(candidate);
            }
            app = candidate;
            retryAfterMs = RetryAfter(candidate.AverageMs, candidate.Pending.Count, candidate.Concurrency);
            return true;
        }
        job = null!;
        app = null!;
        retryAfterMs = 0;
        return false;
    }

    /// <summary>Stops the workers and hands back the jobs that never ran, for the caller to answer.</summary>
    public List<ExecutionWorkers.ExecutionWork> Stop()
    {
        lock (_lock)
        {
            _stopping = true;
            while (_idle.TryPop(out var waiter))
            {
                waiter.Signal.Set(); // with no job: the worker ends
            }
            var left = new List<ExecutionWorkers.ExecutionWork>();
            foreach (var app in _apps.Values)
            {
                left.AddRange(app.Pending);
                app.Pending.Clear();
            }
            _queued = 0;
            return left;
        }
    }

    private void ForgetIdleApps()
    {
        foreach (var (name, app) in _apps)
        {
            if (app.Running == 0 && app.Pending.Count == 0 && !app.InRing)
            {
                _apps.Remove(name);
            }
        }
    }

    // About when a slot frees up for a newcomer: the waiting work ahead of it spread over the share that runs it.
    private static int RetryAfter(double averageMs, int waiting, int concurrency) =>
        (int)Math.Clamp(averageMs * (waiting / (double)Math.Max(1, concurrency) + 1), MinRetryAfterMs, MaxRetryAfterMs);
}
