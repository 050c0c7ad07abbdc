using System.Text.RegularExpressions;

namespace Platform.ControlPlane.Domain;

/// <summary>App names become the first label of a host name, so they follow DNS label rules (RFC 1123), lower case only.</summary>
public static partial class AppNames
{
    public const int MinLength = 3;
    public const int MaxLength = 63;

    // Names that would confuse people or collide with platform hosts.
    private static readonly HashSet<string> s_reserved = new(StringComparer.Ordinal) { "www", "api", "admin", "dashboard", "internal", "localhost" };

    [GeneratedRegex(@"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Label();

    /// <summary>Returns null when <paramref name="name"/> is a valid app name, else a sentence saying why not.</summary>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "An app name is required.";
        }
        if (name.Length < MinLength || name.Length > MaxLength)
        {
            return $"App name '{name}' must be {MinLength} to {MaxLength} characters long (it has {name.Length}).";
        }
        if (!Label().IsMatch(name))
        {
            return $"App name '{name}' must be a DNS label: lower-case letters a-z, digits and '-', starting and ending with a letter or digit.";
        }
        if (name.Contains("--", StringComparison.Ordinal) && name.Length > 3 && name[2] == '-' && name[3] == '-')
        {
            // "xn--" and similar: reserved for IDNA-encoded labels.
            return $"App name '{name}' must not have '--' in its third and fourth characters (reserved for encoded host names).";
        }
        if (s_reserved.Contains(name))
        {
            return $"App name '{name}' is reserved.";
        }
        return null;
    }
}
