using Platform.Router.Serving;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class FairQueueTests
{
    // Jobs are only queued and taken here, never run, so they need no executor or module.
    private static ExecutionWorkers.ExecutionJob Job() => new(null!, null!, null!, null!, null, null, CancellationToken.None, 0);

    [Fact]
    public void An_app_with_one_waiting_request_is_served_before_the_rest_of_a_flooding_apps_queue()
    {
        var queue = new FairQueue(queueLength: 100, appQueueLength: 50);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ExecutionRejection.None, queue.TryEnqueue("flood", 10, Job(), out _));
        }
        var quiet = Job();
        Assert.Equal(ExecutionRejection.None, queue.TryEnqueue("quiet", 10, quiet, out _));

        Assert.True(queue.Next(null, -1, out _, out var first, out _));
        Assert.True(queue.Next(null, -1, out var second, out var secondApp, out _));
        Assert.Equal("flood", first.Name);
        Assert.Equal("quiet", secondApp.Name);
        Assert.Same(quiet, second);
    }

    [Fact]
    public void An_app_at_its_share_waits_while_other_apps_are_served()
    {
        var queue = new FairQueue(queueLength: 100, appQueueLength: 50);
        for (var i = 0; i < 5; i++)
        {
            queue.TryEnqueue("capped", 2, Job(), out _);
        }
        Assert.True(queue.Next(null, -1, out _, out var a, out _));
        Assert.True(queue.Next(null, -1, out _, out var b, out _));
        Assert.Equal(("capped", "capped"), (a.Name, b.Name));
        Assert.Equal(2, queue.Running);

        // "capped" runs its 2; the next free worker goes to another app although "capped" has 3 waiting.
        queue.TryEnqueue("other", 2, Job(), out _);
        Assert.True(queue.Next(null, -1, out _, out var c, out _));
        Assert.Equal("other", c.Name);

        // When one of "capped"'s executions ends, its next request gets the worker.
        Assert.True(queue.Next(a, 5, out _, out var d, out _));
        Assert.Equal("capped", d.Name);
        Assert.Equal(2, queue.Queued);
    }

    [Fact]
    public void Past_its_share_and_queue_an_app_is_refused_with_an_estimate_while_others_still_get_in()
    {
        var queue = new FairQueue(queueLength: 100, appQueueLength: 3);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(ExecutionRejection.None, queue.TryEnqueue("busy", 2, Job(), out _));
        }
        Assert.Equal(ExecutionRejection.AppBusy, queue.TryEnqueue("busy", 2, Job(), out var retryAfterMs));
        Assert.InRange(retryAfterMs, 10, 30_000);
        Assert.Equal(ExecutionRejection.None, queue.TryEnqueue("calm", 2, Job(), out _));
    }

    [Fact]
    public void A_full_router_queue_refuses_every_app()
    {
        var queue = new FairQueue(queueLength: 4, appQueueLength: 4);
        for (var i = 0; i < 4; i++)
        {
            queue.TryEnqueue($"app{i}", 1, Job(), out _);
        }
        Assert.Equal(ExecutionRejection.RouterBusy, queue.TryEnqueue("late", 1, Job(), out var retryAfterMs));
        Assert.True(retryAfterMs > 0);
    }

    [Fact]
    public async Task A_request_that_arrives_while_workers_are_idle_is_handed_to_the_one_idle_the_shortest_time()
    {
        var queue = new FairQueue(queueLength: 10, appQueueLength: 10);
        var longIdle = IdleWorker(() => queue.Next(null, -1, out var job, out _, out _) ? job : null);
        await UntilIdleAsync(queue, 1);
        var shortIdle = IdleWorker(() => queue.Next(null, -1, out var job, out _, out _) ? job : null);
        await UntilIdleAsync(queue, 2);

        var request = Job();
        Assert.Equal(ExecutionRejection.None, queue.TryEnqueue("app", 2, request, out _));

        // The most recently idle worker has warm caches; the other keeps sleeping.
        Assert.Same(request, await shortIdle.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(longIdle.IsCompleted);
        Assert.Equal(0, queue.Queued);
        Assert.Equal(1, queue.Running);
        queue.Stop();
        Assert.Null(await longIdle.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task An_idle_worker_is_not_handed_a_request_of_an_app_at_its_share()
    {
        var queue = new FairQueue(queueLength: 10, appQueueLength: 10);
        queue.TryEnqueue("capped", 1, Job(), out _);
        Assert.True(queue.Next(null, -1, out _, out var running, out _));
        var idle = IdleWorker(() => queue.Next(null, -1, out _, out var app, out _) ? app.Name : null);
        await UntilIdleAsync(queue, 1);

        queue.TryEnqueue("capped", 1, Job(), out _);
        await Task.Delay(100);
        Assert.False(idle.IsCompleted);
        Assert.Equal(1, queue.Queued);

        // Another app's request goes to the idle worker at once.
        queue.TryEnqueue("other", 1, Job(), out _);
        Assert.Equal("other", await idle.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("capped", running.Name);
    }

    [Fact]
    public async Task Stopping_hands_back_what_never_ran_and_releases_waiting_workers()
    {
        var queue = new FairQueue(queueLength: 10, appQueueLength: 10);
        var worker = Task.Run(() => queue.Next(null, -1, out _, out _, out _));
        await Task.Delay(50);
        Assert.False(worker.IsCompleted);
        var left = queue.Stop();
        Assert.Empty(left);
        Assert.False(await worker.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(ExecutionRejection.Stopping, queue.TryEnqueue("after", 1, Job(), out _));
    }

    // A thread of its own, as a worker has: a test run's busy thread pool may start a Task.Run late.
    private static Task<T?> IdleWorker<T>(Func<T?> next) where T : class
    {
        var done = new TaskCompletionSource<T?>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() => done.SetResult(next())) { IsBackground = true }.Start();
        return done.Task;
    }

    private static async Task UntilIdleAsync(FairQueue queue, int workers)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (queue.Idle < workers)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{workers} worker(s) never went idle");
            await Task.Delay(5);
        }
    }
}
