using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ControlPlane.Infrastructure;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>
/// LISTENs on the PostgreSQL channel a trigger on the apps table notifies, so a change made through any
/// control-plane replica wakes the long-polls held by every replica.
/// </summary>
public sealed class RouteChangeListener(IOptions<DatabaseOptions> database, RouteChangeNotifier notifier, ILogger<RouteChangeListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(database.Value.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, _) => notifier.NotifyChanged();
                await using (var listen = new NpgsqlCommand($"LISTEN {PlatformDbContext.RoutesChangedChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                logger.ListeningForRouteChanges(PlatformDbContext.RoutesChangedChannel);
                // Changes made while we were not listening are unknown: treat the reconnect itself as a change.
                notifier.NotifyChanged();
                delay = TimeSpan.FromMilliseconds(250);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or IOException or TimeoutException)
            {
                logger.RouteListenerFailed(ex, delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
