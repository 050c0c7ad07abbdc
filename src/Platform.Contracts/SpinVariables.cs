using System.Text;

namespace Platform.Contracts;

/// <summary>
/// An application variable as spin.toml's <c>[variables]</c> declares it: a default, or required (no default), and
/// whether its value is a secret (never logged, never shown by the API).
/// </summary>
public sealed record SpinVariableDeclaration(string? Default = null, bool Required = false, bool Secret = false);

/// <summary>
/// Spin's application variables (manifest v2 <c>[variables]</c>, component <c>variables</c> templates), shared by
/// the upload's validation and the router's resolution so both read names and templates the same way. Rules as in
/// Spin's <c>spin-expressions</c> crate: names are lower-case snake case; templates are literal text with
/// <c>{{ name }}</c> expressions naming application variables.
/// </summary>
public static class SpinVariables
{
    /// <summary>Spin's environment provider reads variable <c>api_key</c> from <c>SPIN_VARIABLE_API_KEY</c>; so does this platform (app variables).</summary>
    public const string EnvironmentPrefix = "SPIN_VARIABLE_";

    /// <summary>Longest name or template accepted (far beyond real use; keeps hostile manifests small).</summary>
    public const int MaxNameLength = 128;
    public const int MaxTemplateLength = 4096;

    /// <summary>Null when <paramref name="name"/> is a valid variable name (or component variable key), else why not.</summary>
    public static string? NameError(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "a variable name must not be empty";
        }
        if (name.Length > MaxNameLength)
        {
            return $"a variable name may have at most {MaxNameLength} characters";
        }
        foreach (var c in name)
        {
            if (!(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return $"'{name}' has the character '{c}'; variable names may contain only lower-case letters, digits and underscores";
            }
        }
        if (name[0] is not (>= 'a' and <= 'z'))
        {
            return $"'{name}' must start with a lower-case letter";
        }
        if (name[^1] == '_')
        {
            return $"'{name}' must end with a lower-case letter or digit";
        }
        if (name.Contains("__", StringComparison.Ordinal))
        {
            return $"'{name}' must not contain two underscores in a row";
        }
        return null;
    }

    /// <summary>The app variable (set through the API) Spin's environment convention reads for <paramref name="name"/>.</summary>
    public static string EnvironmentName(string name) => EnvironmentPrefix + name.ToUpperInvariant();

    /// <summary>
    /// The value an application variable takes: the app variable <c>SPIN_VARIABLE_NAME</c>, else the app variable
    /// named exactly <c>name</c>, else the declaration's default; null when none of them gives one (a required
    /// variable left unset).
    /// </summary>
    public static string? ValueOf(string name, SpinVariableDeclaration declaration, IReadOnlyDictionary<string, string>? appVariables)
    {
        if (appVariables is not null)
        {
            if (appVariables.TryGetValue(EnvironmentName(name), out var fromEnvironment))
            {
                return fromEnvironment;
            }
            if (appVariables.TryGetValue(name, out var exact))
            {
                return exact;
            }
        }
        return declaration.Default;
    }

    /// <summary>
    /// Resolves one component's variables: key -> value, or the error a guest gets for it (a required variable
    /// without a value). Templates were validated at upload; one that no longer parses or names an undeclared
    /// variable resolves to an error too, rather than failing the whole app.
    /// </summary>
    public static IReadOnlyDictionary<string, SpinVariableValue> ResolveComponent(
        IReadOnlyDictionary<string, string>? templates,
        IReadOnlyDictionary<string, SpinVariableDeclaration>? declarations,
        IReadOnlyDictionary<string, string>? appVariables)
    {
        var result = new Dictionary<string, SpinVariableValue>(StringComparer.Ordinal);
        if (templates is null || templates.Count == 0)
        {
            return result;
        }
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, text) in templates)
        {
            if (!SpinTemplate.TryParse(text, out var template, out var parseError))
            {
                result[key] = SpinVariableValue.Failed($"the template of '{key}' is invalid: {parseError}");
                continue;
            }
            var sb = new StringBuilder();
            string? error = null;
            var secret = false;
            foreach (var part in template.Parts)
            {
                if (!part.IsVariable)
                {
                    sb.Append(part.Text);
                    continue;
                }
                if (declarations is null || !declarations.TryGetValue(part.Text, out var declaration))
                {
                    error = $"'{key}' refers to the application variable '{part.Text}', which the app does not declare";
                    break;
                }
                secret |= declaration.Secret;
                if (!values.TryGetValue(part.Text, out var value))
                {
                    value = ValueOf(part.Text, declaration, appVariables);
                    values[part.Text] = value;
                }
                if (value is null)
                {
                    error = $"the required variable '{part.Text}' has no value; set the app variable {EnvironmentName(part.Text)} (PATCH /api/v1/apps/{{app}})";
                    break;
                }
                sb.Append(value);
            }
            result[key] = error is null ? new SpinVariableValue(sb.ToString(), null, secret) : SpinVariableValue.Failed(error);
        }
        return result;
    }
}

/// <summary>A component variable's value, or why it has none (<see cref="Error"/>); <see cref="Secret"/> when a secret variable went into it.</summary>
public sealed record SpinVariableValue(string? Value, string? Error, bool Secret = false)
{
    public static SpinVariableValue Failed(string error) => new(null, error);
}

/// <summary>One part of a template: literal text, or (<see cref="IsVariable"/>) the name inside <c>{{ }}</c>, trimmed.</summary>
public readonly record struct SpinTemplatePart(bool IsVariable, string Text);

/// <summary>A component variable's template: literal text with <c>{{ name }}</c> expressions, parsed as Spin does.</summary>
public sealed class SpinTemplate
{
    private SpinTemplate(IReadOnlyList<SpinTemplatePart> parts) => Parts = parts;

    public IReadOnlyList<SpinTemplatePart> Parts { get; }

    /// <summary>The variable names the template refers to, in order, each once.</summary>
    public IEnumerable<string> References => Parts.Where(p => p.IsVariable).Select(p => p.Text).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Parses literal text and <c>{{ expr }}</c> parts: everything up to the next <c>}}</c> is the expression,
    /// whitespace around it is ignored, and it must be a valid variable name; an unmatched <c>{{</c> is an error.
    /// </summary>
    public static bool TryParse(string text, out SpinTemplate template, out string? error)
    {
        template = null!;
        error = null;
        if (text.Length > SpinVariables.MaxTemplateLength)
        {
            error = $"a template may have at most {SpinVariables.MaxTemplateLength} characters";
            return false;
        }
        var parts = new List<SpinTemplatePart>();
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (rest.StartsWith("{{"))
            {
                var close = rest[2..].IndexOf("}}");
                if (close < 0)
                {
                    error = "it has '{{' without a matching '}}'";
                    return false;
                }
                var name = rest.Slice(2, close).Trim().ToString();
                if (SpinVariables.NameError(name) is { } nameError)
                {
                    error = $"the expression '{{{{{rest.Slice(2, close)}}}}}' is not a variable name: {nameError}";
                    return false;
                }
                parts.Add(new SpinTemplatePart(true, name));
                rest = rest[(close + 4)..];
            }
            else
            {
                var next = rest.IndexOf("{{");
                var literal = next < 0 ? rest : rest[..next];
                parts.Add(new SpinTemplatePart(false, literal.ToString()));
                rest = rest[literal.Length..];
            }
        }
        template = new SpinTemplate(parts);
        return true;
    }
}
