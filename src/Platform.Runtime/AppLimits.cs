namespace Platform.Runtime;

/// <summary>Per-app resource limits applied to every request (defaults from DESIGN.md).</summary>
public sealed record AppLimits
{
    // Set when Validate passed, so limits checked once (when a routing table is applied) cost a field read per request;
    // every init clears it, so a copy made with `with` is checked again.
    private ValidatedMark _validated;

    public static AppLimits Default { get; } = new();

    /// <summary>Largest linear memory one instance may grow to (Store.SetLimits).</summary>
    public long MemoryBytes { get; init { field = value; _validated = default; } } = 128L * 1024 * 1024;

    /// <summary>Wall time one request may run before it is stopped (epoch interruption).</summary>
    public TimeSpan WallTime { get; init { field = value; _validated = default; } } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// CPU time one request may use, measured on the thread that runs it (sleeping and waiting do not count); null
    /// means only the wall-time limit applies.
    /// </summary>
    public TimeSpan? CpuTime { get; init { field = value; _validated = default; } }

    /// <summary>Largest request body handed to the module's stdin.</summary>
    public long MaxRequestBodyBytes { get; init { field = value; _validated = default; } } = 10L * 1024 * 1024;

    /// <summary>Largest stdout (CGI headers and body) a module may write.</summary>
    public long MaxResponseBytes { get; init { field = value; _validated = default; } } = 10L * 1024 * 1024;

    /// <summary>Throws when a limit is out of range, quoting it; limits that passed once return at once.</summary>
    public void Validate()
    {
        if (_validated.Passed)
        {
            return;
        }
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
        _validated = new ValidatedMark(true);
    }

    /// <summary>Whether <see cref="Validate"/> passed; not part of the limits' value (any two marks are equal).</summary>
    private readonly struct ValidatedMark(bool passed) : IEquatable<ValidatedMark>
    {
        public bool Passed { get; } = passed;

        public bool Equals(ValidatedMark other) => true;

        public override bool Equals(object? obj) => obj is ValidatedMark;

        public override int GetHashCode() => 0;
    }
}
