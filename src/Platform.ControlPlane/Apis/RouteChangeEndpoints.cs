using Platform.ControlPlane.Services;

namespace Platform.ControlPlane.Apis;

/// <summary>
/// How a routing change wakes routers. The triggers on <c>apps</c> NOTIFY every control-plane replica
/// (<see cref="RouteChangeListener"/>), this one included; that is the path across replicas. An endpoint that changes
/// routes is also marked with <see cref="ChangesRoutes"/>, which wakes this replica as soon as the handler has
/// committed: the routing caches are kept per change generation, so without it the writer's next read through this
/// replica (a router's poll, a client's GET right after a 2xx) could race the notification's round trip and see the
/// table from before its own write.
/// </summary>
public static class RouteChangeEndpoints
{
    public static TBuilder ChangesRoutes<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            if (Succeeded(result))
            {
                context.HttpContext.RequestServices.GetRequiredService<RouteChangeNotifier>().NotifyChanged();
            }
            return result;
        });

    /// <summary>A 2xx: the write committed (a refused request changed nothing; a spurious wake-up only re-reads).</summary>
    private static bool Succeeded(object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }
        return result is IStatusCodeHttpResult { StatusCode: >= 200 and < 300 };
    }
}
