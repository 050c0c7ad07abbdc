namespace Platform.Router.Serving;

/// <summary>
/// Bounds how many Wasm instances run at once, with a short first-in-first-out queue behind the limit. A free slot
/// is taken without allocating (unlike a rate-limiter lease per request); only queued requests allocate.
/// </summary>
public sealed class RequestGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _queueLength;
    private int _waiting;

    public RequestGate(int permits, int queueLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLength);
        _slots = new SemaphoreSlim(permits, permits);
        _queueLength = queueLength;
    }

    /// <summary>Requests waiting for a slot right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// True once a slot is held (release it with <see cref="Exit"/>); false at once when the queue is full.
    /// Throws <see cref="OperationCanceledException"/> when the caller gives up while queued.
    /// </summary>
    public ValueTask<bool> EnterAsync(CancellationToken cancellationToken) =>
        _slots.Wait(0, CancellationToken.None) ? ValueTask.FromResult(true) : QueueAsync(cancellationToken);

    private async ValueTask<bool> QueueAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _waiting) > _queueLength)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }
        try
        {
            // SemaphoreSlim hands a released slot to the longest-waiting caller, so the queue is served in order.
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    public void Exit() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
