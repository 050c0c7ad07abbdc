using Microsoft.Extensions.DependencyInjection;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class PeriodicDatabaseJobTests
{
    [Fact]
    public async Task A_pass_that_finds_the_database_away_is_logged_and_the_next_tick_runs_again_each_in_a_fresh_scope_until_the_host_stops()
    {
        var clock = new ManualClock();
        await using var services = new ServiceCollection()
            // Never connects: the job under test only counts the contexts it is given.
            .AddScoped(_ => new PlatformDbContext(DataServiceCollectionExtensions.CreateOptions("Host=127.0.0.1;Database=unused")))
            .BuildServiceProvider();
        var job = new FlakyJob(services.GetRequiredService<IServiceScopeFactory>(), clock);
        await job.StartAsync(CancellationToken.None);
        // ExecuteAsync runs in the background: a tick before its timer exists would be lost.
        await clock.TimerCreated.WaitAsync(TimeSpan.FromSeconds(10));

        clock.Tick();
        Assert.True(await job.Passes.WaitAsync(TimeSpan.FromSeconds(10)), "no first pass");
        clock.Tick();
        Assert.True(await job.Passes.WaitAsync(TimeSpan.FromSeconds(10)), "no second pass after the failed one");
        await job.StopAsync(CancellationToken.None);

        Assert.IsType<TimeoutException>(Assert.Single(job.Failures));
        Assert.Equal(2, Assert.Single(job.Results));
        Assert.Equal(2, job.Contexts.Distinct().Count());
        Assert.True(job.ExecuteTask!.IsCompletedSuccessfully);
    }

    private sealed class FlakyJob(IServiceScopeFactory scopes, TimeProvider clock) : PeriodicDatabaseJob<int>(scopes, clock)
    {
        public SemaphoreSlim Passes { get; } = new(0);
        public List<Exception> Failures { get; } = [];
        public List<int> Results { get; } = [];
        public List<PlatformDbContext> Contexts { get; } = [];

        protected override TimeSpan Interval => TimeSpan.FromMinutes(1);

        protected override Task<int> RunAsync(PlatformDbContext db, CancellationToken cancellationToken)
        {
            Contexts.Add(db);
            return Contexts.Count == 1 ? throw new TimeoutException("the database is away") : Task.FromResult(Contexts.Count);
        }

        protected override void OnCompleted(int result)
        {
            Results.Add(result);
            Passes.Release();
        }

        protected override void OnFailed(Exception exception)
        {
            Failures.Add(exception);
            Passes.Release();
        }
    }

    /// <summary>A clock whose timers fire only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly List<ManualTimer> _timers = [];
        private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task TimerCreated => _created.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(callback, state);
            lock (_timers)
            {
                _timers.Add(timer);
            }
            _created.TrySetResult();
            return timer;
        }

        public void Tick()
        {
            ManualTimer[] timers;
            lock (_timers)
            {
                timers = [.. _timers];
            }
            foreach (var timer in timers)
            {
                timer.Fire();
            }
        }

        private sealed class ManualTimer(TimerCallback callback, object? state) : ITimer
        {
            public void Fire() => callback(state);

            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
