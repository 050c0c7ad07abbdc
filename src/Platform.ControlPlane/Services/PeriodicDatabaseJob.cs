using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>
/// A pass over the database on a timer (<see cref="TimeProvider"/>-driven, so tests can move time): each pass gets a
/// fresh DI scope and so its own DbContext, a pass that fails because the database is away is logged and tried again
/// at the next tick, and the loop ends when the host stops. The retention jobs are its subclasses.
/// </summary>
/// <typeparam name="TResult">What one pass reports (rows deleted).</typeparam>
public abstract class PeriodicDatabaseJob<TResult>(IServiceScopeFactory scopes, TimeProvider clock) : BackgroundService
{
    protected TimeProvider Clock => clock;

    /// <summary>Time between passes; read once, when the job starts.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>One pass, with the database of a fresh scope.</summary>
    protected abstract Task<TResult> RunAsync(PlatformDbContext db, CancellationToken cancellationToken);

    /// <summary>A pass ended; log what it did, if anything.</summary>
    protected virtual void OnCompleted(TResult result)
    {
    }

    /// <summary>A pass failed (database unavailable); the next tick tries again.</summary>
    protected abstract void OnFailed(Exception exception);

    /// <summary>One pass now, as the timer runs it (tests call this).</summary>
    public async Task<TResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await RunAsync(scope.ServiceProvider.GetRequiredService<PlatformDbContext>(), cancellationToken);
    }

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    OnCompleted(await RunOnceAsync(stoppingToken));
                }
                catch (Exception ex) when (IsDatabaseUnavailable(ex) || ex is OperationCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    OnFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // What a database that is down, restarting or out of connections throws (EF wraps some in DbUpdateException or
    // InvalidOperationException, e.g. after its retries).
    private static bool IsDatabaseUnavailable(Exception ex) =>
        ex is NpgsqlException or DbUpdateException or InvalidOperationException or TimeoutException;
}
