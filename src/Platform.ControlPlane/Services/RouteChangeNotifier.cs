namespace Platform.ControlPlane.Services;

/// <summary>
/// Wakes routing-table long-polls. Each change completes the current task and installs a fresh one, so a waiter
/// that captured the task before reading the table can never miss a change that happens after it read.
/// </summary>
public sealed class RouteChangeNotifier
{
    private TaskCompletionSource _changed = NewSource();
    private long _generation;

    /// <summary>Increases with every change; the routing-table cache is valid for one generation.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Completes at the next change.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    public void NotifyChanged()
    {
        Interlocked.Increment(ref _generation);
        var previous = Interlocked.Exchange(ref _changed, NewSource());
        previous.TrySetResult();
    }

    // Continuations run off the notifying thread: long-poll handlers must not run inline inside NotifyChanged.
    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
