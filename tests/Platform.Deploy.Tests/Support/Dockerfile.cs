using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.Deploy.Tests.Support;

/// <summary>One Dockerfile instruction, continuation lines joined, with its 1-based line number.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments, int Line)
{
    public override string ToString() => $"line {Line}: {Keyword} {Arguments}";
}

/// <summary>A build stage: its FROM image and name, and its instructions after FROM.</summary>
public sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);
}

/// <summary>A parsed Dockerfile: enough structure for the checks, not a full BuildKit front end.</summary>
public sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Final => Stages[^1];

    public static Dockerfile Parse(string text, string source)
    {
        var instructions = new List<DockerInstruction>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var start = i + 1;
            var joined = line;
            while (joined.EndsWith('\\') && i + 1 < lines.Length)
            {
                joined = joined[..^1];
                // Comment and blank lines inside a continuation are dropped, as BuildKit does.
                var next = lines[++i].Trim();
                while ((next.Length == 0 || next.StartsWith('#')) && i + 1 < lines.Length)
                {
                    next = lines[++i].Trim();
                }
                joined += " " + next;
            }
            var space = joined.IndexOfAny([' ', '\t']);
            var keyword = (space < 0 ? joined : joined[..space]).ToUpperInvariant();
            instructions.Add(new DockerInstruction(keyword, space < 0 ? "" : joined[(space + 1)..].Trim(), start));
        }

        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        string? image = null, name = null;
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                if (current is not null)
                {
                    stages.Add(new DockerStage(image!, name, current));
                }
                var words = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                if (words.Count == 0)
                {
                    throw new InvalidDataException($"{source} {instruction}: FROM without an image.");
                }
                image = words[0];
                name = words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                current = [];
            }
            else if (current is null)
            {
                if (instruction.Keyword != "ARG")
                {
                    throw new InvalidDataException($"{source} {instruction}: only ARG may come before the first FROM.");
                }
            }
            else
            {
                current.Add(instruction);
            }
        }
        if (current is null)
        {
            throw new InvalidDataException($"{source} has no FROM instruction.");
        }
        stages.Add(new DockerStage(image!, name, current));
        return new Dockerfile(stages);
    }

    /// <summary>The words of an exec-form (JSON array) instruction, or null for shell form.</summary>
    public static IReadOnlyList<string>? ExecForm(string arguments)
    {
        if (!arguments.StartsWith('['))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<List<string>>(arguments);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>ENV pairs of a stage (KEY=VALUE form; an empty value clears the variable).</summary>
    public static IReadOnlyDictionary<string, string> Env(DockerStage stage)
    {
        var env = new Dictionary<string, string>();
        foreach (var instruction in stage.All("ENV"))
        {
            foreach (Match m in EnvPair().Matches(instruction.Arguments))
            {
                env[m.Groups["k"].Value] = m.Groups["v"].Value.Trim('"');
            }
        }
        return env;
    }

    [GeneratedRegex(@"(?<k>[A-Za-z_][A-Za-z0-9_]*)=(?<v>""[^""]*""|[^\s]*)")]
    private static partial Regex EnvPair();
}
