using Platform.Data;
using Platform.Runtime;

namespace Platform.ControlPlane.Services;

/// <summary>
/// What publishing (or importing) a version came to: the recorded version, or why nothing was recorded. The API
/// layer turns a failure into its problem response (<c>Apis/OutcomeProblems</c>); services never build HTTP results.
/// </summary>
public readonly record struct PublishOutcome(AppVersion? Version, int? ActiveVersionNumber, PublishFailure? Failure)
{
    public static PublishOutcome Published(AppVersion version, int? activeVersionNumber) => new(version, activeVersionNumber, null);

    public static implicit operator PublishOutcome(PublishFailure failure) => new(null, null, failure);
}

/// <summary>Why an upload or import recorded nothing, with the facts its problem response quotes.</summary>
public abstract record PublishFailure
{
    private PublishFailure()
    {
    }

    public sealed record AppNotFound(string App) : PublishFailure;

    public sealed record QuotaExceeded(QuotaViolation Violation) : PublishFailure;

    /// <summary>The archive or its spin.toml was refused (the bundle reader says with which status and kind).</summary>
    public sealed record BundleRefused(int Status, string Kind, string Title, string Detail) : PublishFailure;

    public sealed record InvalidAllowedOutboundHosts(string ComponentId, string? Entry, string Detail) : PublishFailure;

    /// <summary>A trigger's executor and its module's format disagree (<paramref name="IsComponent"/>: what the module is).</summary>
    public sealed record ComponentKindMismatch(string ComponentId, string Source, bool IsComponent) : PublishFailure;

    public sealed record UnsupportedComponentFiles(string ComponentId, int FileCount, string FirstFile) : PublishFailure;

    /// <param name="What">Which module, as the detail names it ("The upload", "The module 'x' of component 'y'").</param>
    /// <param name="Head">Its first bytes in hex.</param>
    public sealed record NotWasm(string What, string Head, int Length) : PublishFailure;

    public sealed record InvalidModule(string What, string Error) : PublishFailure;

    public sealed record ModuleTooExpensive(string What, string Error, CompileFigures Figures,
        int CpuLimitSeconds, long MemoryLimitBytes, int WallLimitSeconds) : PublishFailure;

    /// <param name="Unreachable">The registry could not be reached (rather than refusing the push).</param>
    public sealed record RegistryFailed(bool Unreachable, string Message) : PublishFailure;

    public sealed record InvalidReference(string Reference, string Error) : PublishFailure;

    public sealed record ReferenceNotWasm(string Reference, string ConfigMediaType, IReadOnlyList<string> LayerMediaTypes) : PublishFailure;

    public sealed record ReferenceNotFound(string Reference, string Message) : PublishFailure;

    public sealed record ReferenceTooLarge(string Reference, string Message) : PublishFailure;

    public sealed record ReferenceUnavailable(string Reference, string Message) : PublishFailure;
}
