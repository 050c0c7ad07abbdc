namespace Platform.Router.Serving;

/// <summary>
/// Bounds the request bodies buffered at once. Bodies are read in full before a worker is taken (so slow senders
/// hold no execution slot), which would otherwise let many connections each park an app's largest body in memory.
/// A request reserves its declared length (or the app's limit when it is chunked) before reading.
/// </summary>
internal sealed class BodyBudget(long maxBytes)
{
    private long _used;

    public long MaxBytes => maxBytes;

    /// <summary>What a request must reserve before its body is read: 0 when it has none.</summary>
    public static long ReservationFor(HttpRequest request, long appLimit)
    {
        if (request.ContentLength is long length)
        {
            // A declared length above the app's limit is refused as 413 later without reading it.
            return length > appLimit ? 0 : length;
        }
        return request.Headers.ContainsKey("Transfer-Encoding") ? appLimit : 0;
    }

    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= maxBytes)
        {
            return true;
        }
        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
