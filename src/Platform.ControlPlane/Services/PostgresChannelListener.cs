using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>
/// Holds one connection LISTENing on a PostgreSQL channel and reconnects with backoff (250 ms doubling to 10 s) when
/// it breaks, so a write through any control-plane replica reaches every replica.
/// </summary>
public abstract class PostgresChannelListener(IOptions<DatabaseOptions> database, string channel) : BackgroundService
{
    /// <summary>One notification's payload.</summary>
    protected abstract void OnNotification(string payload);

    /// <summary>LISTEN took effect (again): whatever was notified while not listening is unknown.</summary>
    protected abstract void OnListening(string channel);

    protected abstract void OnFailed(Exception exception, TimeSpan retryIn);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(database.Value.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                OnListening(channel);
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
                OnFailed(ex, delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
