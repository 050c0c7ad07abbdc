namespace Platform.Runtime;

/// <summary>Per-app resource limits applied to every request (defaults from DESIGN.md).</summary>
public sealed record AppLimits
{
    public static AppLimits Default { get; } = new();

    /// <summary>Largest linear memory one instance may grow to (Store.SetLimits).</summary>
    public long MemoryBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Wall time one request may run before it is stopped (epoch interruption).</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// CPU time one request may use, measured on the thread that runs it (sleeping and waiting do not count); null
    /// means only the wall-time limit applies.
    /// </summary>
    public TimeSpan? CpuTime { get; init; }

    /// <summary>Largest request body handed to the module's stdin.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10L * 1024 * 1024;

    /// <summary>Largest stdout (CGI headers and body) a module may write.</summary>
    public long MaxResponseBytes { get; init; } = 10L * 1024 * 1024;

    /// <summary>Throws when a limit is out of range, quoting it.</summary>
    public void Validate()
    {
        if (MemoryBytes < 64 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), MemoryBytes, "MemoryBytes must be at least one Wasm page (65536).");
        }
        if (WallTime <= TimeSpan.Zero || WallTime > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(WallTime), WallTime, "WallTime must be above zero and at most one hour.");
        }
        if (CpuTime is { } cpu && (cpu <= TimeSpan.Zero || cpu > TimeSpan.FromHours(1)))
        {
            throw new ArgumentOutOfRangeException(nameof(CpuTime), cpu, "CpuTime must be above zero and at most one hour.");
        }
        if (MaxRequestBodyBytes < 0 || MaxRequestBodyBytes > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, $"MaxRequestBodyBytes must be between 0 and {int.MaxValue}.");
        }
        if (MaxResponseBytes < 0 || MaxResponseBytes > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxResponseBytes), MaxResponseBytes, $"MaxResponseBytes must be between 0 and {int.MaxValue}.");
        }
    }
}
