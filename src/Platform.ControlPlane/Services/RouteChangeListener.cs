using Microsoft.Extensions.Options;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>
/// LISTENs on the PostgreSQL channel the triggers on the apps and tenants tables notify, so a change made through
/// any control-plane replica wakes the long-polls held by every replica (the writing one is woken at once as well:
/// <see cref="Platform.ControlPlane.Apis.RouteChangeEndpoints"/>).
/// </summary>
public sealed class RouteChangeListener(IOptions<DatabaseOptions> database, RouteChangeNotifier notifier, ILogger<RouteChangeListener> logger)
    : PostgresChannelListener(database, PlatformDbContext.RoutesChangedChannel)
{
    protected override void OnNotification(string payload) => notifier.NotifyChanged();

    protected override void OnListening(string channel)
    {
        logger.ListeningForRouteChanges(channel);
        // Changes made while we were not listening are unknown: treat the reconnect itself as a change.
        notifier.NotifyChanged();
    }

    protected override void OnFailed(Exception exception, TimeSpan retryIn) => logger.RouteListenerFailed(exception, retryIn);
}
