using Platform.Router.Serving;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class RequestGateTests
{
    [Fact]
    public async Task Requests_beyond_the_permits_wait_and_are_let_in_first_come_first_served()
    {
        using var gate = new RequestGate(permits: 2, queueLength: 4);
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        Assert.True(await gate.EnterAsync(CancellationToken.None));

        var first = gate.EnterAsync(CancellationToken.None).AsTask();
        var second = gate.EnterAsync(CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);
        Assert.Equal(2, gate.Waiting);

        gate.Exit();
        Assert.True(await first);
        Assert.False(second.IsCompleted);
        gate.Exit();
        Assert.True(await second);
        Assert.Equal(0, gate.Waiting);
    }

    [Fact]
    public async Task With_the_queue_full_a_request_is_refused_at_once()
    {
        using var gate = new RequestGate(permits: 1, queueLength: 1);
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        var queued = gate.EnterAsync(CancellationToken.None).AsTask();

        var refused = gate.EnterAsync(CancellationToken.None);

        Assert.True(refused.IsCompleted);
        Assert.False(await refused);
        gate.Exit();
        Assert.True(await queued);
    }

    [Fact]
    public async Task A_queued_request_whose_client_gives_up_leaves_the_queue()
    {
        using var gate = new RequestGate(permits: 1, queueLength: 1);
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        using var gone = new CancellationTokenSource();
        var abandoned = gate.EnterAsync(gone.Token).AsTask();

        gone.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(0, gate.Waiting);
        // Its queue place is free again, and the slot was never taken by it.
        var next = gate.EnterAsync(CancellationToken.None).AsTask();
        gate.Exit();
        Assert.True(await next);
    }

    [Fact]
    public async Task Without_a_queue_a_full_gate_refuses_at_once()
    {
        using var gate = new RequestGate(permits: 1, queueLength: 0);
        Assert.True(await gate.EnterAsync(CancellationToken.None));

        var refused = gate.EnterAsync(CancellationToken.None);

        Assert.True(refused.IsCompletedSuccessfully);
        Assert.False(await refused);
    }
}
