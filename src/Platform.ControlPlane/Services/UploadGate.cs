using Microsoft.Extensions.Options;
using Platform.ControlPlane.Configuration;

namespace Platform.ControlPlane.Services;

/// <summary>
/// Bounds how many uploads are read, validated and pushed at once, so that many large uploads arriving together
/// cost a bounded amount of memory: the others wait (their bodies stay in the socket) and, after
/// <see cref="AppsOptions.UploadQueueSeconds"/>, are answered 503 with Retry-After.
/// </summary>
public sealed class UploadGate(IOptions<AppsOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentUploads, options.Value.MaxConcurrentUploads);

    public int MaxConcurrent => options.Value.MaxConcurrentUploads;

    /// <summary>True with a slot held (release with <see cref="Exit"/>); false when none came free in time.</summary>
    public Task<bool> EnterAsync(CancellationToken cancellationToken) =>
        _slots.WaitAsync(TimeSpan.FromSeconds(options.Value.UploadQueueSeconds), cancellationToken);

    public void Exit() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
