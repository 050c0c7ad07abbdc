using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Deploy.Tests.Support;

/// <summary>
/// .dockerignore matching as Docker does it: patterns relative to the context root, "**" for any depth, later
/// patterns override earlier ones, "!" re-includes, and excluding a folder excludes everything below it.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude, string Text)> _rules = [];

    public DockerIgnore(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().TrimStart('/').TrimEnd('/');
            if (pattern.StartsWith("./", StringComparison.Ordinal))
            {
                pattern = pattern[2..];
            }
            _rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude, line));
        }
    }

    private static string ToRegex(string glob)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches any number of folders, including none.
                var slash = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                sb.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// The pattern that keeps a repository-relative path out of the build context, or null when it is sent. Each
    /// pattern applies to the path and to its parent folders; the last pattern that applies decides.
    /// </summary>
    public string? ExcludedBy(string path)
    {
        var parts = path.Replace('\\', '/').TrimStart('/').Split('/');
        var prefixes = Enumerable.Range(1, parts.Length).Select(n => string.Join('/', parts[..n])).ToList();
        string? excludedBy = null;
        foreach (var (pattern, exclude, text) in _rules)
        {
            if (prefixes.Any(pattern.IsMatch))
            {
                excludedBy = exclude ? text : null;
            }
        }
        return excludedBy;
    }
}
