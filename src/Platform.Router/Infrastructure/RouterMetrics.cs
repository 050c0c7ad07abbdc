using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;

namespace Platform.Router.Infrastructure;

/// <summary>Router metrics (exported at /metrics on the management port). Wasmtime-side figures come from the runtime's own meter.</summary>
public sealed class RouterMetrics
{
    public const string MeterName = "Platform.Router";

    // Boxed once: a status tag boxed per request would be an allocation on the hot path.
    private static readonly object[] s_statuses = Enumerable.Range(0, 600).Select(static s => (object)s).ToArray();

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public RouterMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("platform.router.requests", "{request}", "App requests by app and status code");
        _duration = meter.CreateHistogram<double>("platform.router.request.duration", "ms", "App request duration, routing to last byte",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000] });
    }

    public void RequestServed(string app, int status, double milliseconds)
    {
        var boxed = (uint)status < (uint)s_statuses.Length ? s_statuses[status] : status;
        _requests.Add(1, new KeyValuePair<string, object?>("app", app), new KeyValuePair<string, object?>("status", boxed));
        _duration.Record(milliseconds, new KeyValuePair<string, object?>("app", app));
    }
}
