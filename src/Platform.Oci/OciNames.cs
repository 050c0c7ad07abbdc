using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Platform.Oci;

/// <summary>
/// Validation of repository names, tags, digests and references per the OCI distribution spec grammar,
/// so bad input fails here with a message that quotes it instead of as an opaque 400 from the registry.
/// </summary>
public static partial class OciNames
{
    /// <summary>Many registries limit host plus name to 255 characters; the name alone can be no longer.</summary>
    public const int MaxRepositoryLength = 255;

    /// <summary>Longest tag the grammar allows.</summary>
    public const int MaxTagLength = 128;

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryRegex();

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PathComponentRegex();

    [GeneratedRegex(@"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagRegex();

    // Only the algorithms this client can verify: a digest it cannot check is as bad as none.
    [GeneratedRegex(@"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestRegex();

    public static bool IsValidRepository(string? repository) =>
        repository is not null && repository.Length <= MaxRepositoryLength && RepositoryRegex().IsMatch(repository);

    /// <summary>One path component of a repository name (no slash), e.g. an app name.</summary>
    public static bool IsValidPathComponent(string? component) =>
        component is not null && component.Length <= MaxRepositoryLength && PathComponentRegex().IsMatch(component);

    public static bool IsValidTag(string? tag) => tag is not null && TagRegex().IsMatch(tag);

    public static bool IsValidDigest(string? digest) => digest is not null && DigestRegex().IsMatch(digest);

    /// <summary>A manifest reference is either a tag or a digest.</summary>
    public static bool IsValidReference(string? reference) => IsValidTag(reference) || IsValidDigest(reference);

    public static void ValidateRepository(string repository, [CallerArgumentExpression(nameof(repository))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(repository, paramName);
        if (!IsValidRepository(repository))
        {
            throw new ArgumentException(
                $"Repository name '{repository}' is not valid: use at most {MaxRepositoryLength} characters of lowercase path components " +
                "([a-z0-9] separated by '.', '_', '__' or '-') joined by '/', e.g. 'apps/hello'.", paramName);
        }
    }

    public static void ValidatePathComponent(string component, [CallerArgumentExpression(nameof(component))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(component, paramName);
        if (!IsValidPathComponent(component))
        {
            throw new ArgumentException(
                $"'{component}' is not a valid repository path component: use lowercase [a-z0-9] separated by '.', '_', '__' or '-', without '/'.", paramName);
        }
    }

    public static void ValidateTag(string tag, [CallerArgumentExpression(nameof(tag))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(tag, paramName);
        if (!IsValidTag(tag))
        {
            throw new ArgumentException(
                $"Tag '{tag}' is not valid: use 1-{MaxTagLength} characters of [a-zA-Z0-9._-], not starting with '.' or '-'.", paramName);
        }
    }

    public static void ValidateDigest(string digest, [CallerArgumentExpression(nameof(digest))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(digest, paramName);
        if (!IsValidDigest(digest))
        {
            throw new ArgumentException(
                $"Digest '{digest}' is not valid: expected 'sha256:' followed by 64 lowercase hex characters (or 'sha512:' and 128).", paramName);
        }
    }

    public static void ValidateReference(string reference, [CallerArgumentExpression(nameof(reference))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(reference, paramName);
        if (!IsValidReference(reference))
        {
            throw new ArgumentException(
                $"Manifest reference '{reference}' is neither a valid tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}) nor a valid digest ('sha256:<64 hex>').", paramName);
        }
    }
}
