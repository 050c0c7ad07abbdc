using Platform.Contracts;

namespace Platform.Bundles;

/// <summary>
/// The part of a Spin manifest (version 2) this platform runs, normalised as Spin normalises it: inline trigger
/// components are moved into <see cref="Components"/> and every trigger has an id.
/// </summary>
/// <param name="Variables">The app's <c>[variables]</c> declarations (empty when it has none).</param>
public sealed record SpinManifest(SpinApplication Application, IReadOnlyList<SpinHttpTrigger> Triggers, IReadOnlyList<SpinComponent> Components,
    IReadOnlyDictionary<string, SpinVariableDeclaration>? Variables = null)
{
    public IReadOnlyDictionary<string, SpinVariableDeclaration> Variables { get; init; } = Variables ?? new Dictionary<string, SpinVariableDeclaration>();
}

public sealed record SpinApplication(string Name, string? Version, string? Description, IReadOnlyList<string> Authors);

/// <param name="Route">The route as written; null for <c>route = { private = true }</c> (no public route).</param>
/// <param name="Executor">"wagi" or "http" (Spin's default executor: a wasi:http component).</param>
public sealed record SpinHttpTrigger(string Id, string Component, string? Route, string Executor, string? Entrypoint, string? Argv);

/// <param name="Source">Path of the Wasm file, relative to the manifest.</param>
public sealed record SpinComponent(
    string Id,
    string Source,
    string? Description,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<SpinFileMount> Files,
    IReadOnlyList<string> ExcludeFiles,
    IReadOnlyList<string> AllowedOutboundHosts,
    IReadOnlyDictionary<string, string>? Variables = null)
{
    /// <summary>The component's <c>variables</c>: key -> template referring to application variables.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = Variables ?? new Dictionary<string, string>();
}

/// <summary>A <c>files</c> entry: a glob pattern (<see cref="Pattern"/>) or a <c>{ source, destination }</c> placement.</summary>
public sealed record SpinFileMount(string? Pattern, string? Source, string? Destination);

public static class SpinExecutors
{
    public const string Wagi = "wagi";
    public const string Http = "http";
}
