using System.Text.RegularExpressions;

namespace Platform.ControlPlane.Configuration;

/// <summary>Checks the settings a user may give an app: environment variables and limits.</summary>
public static partial class AppSettingsValidator
{
    public const int MaxVariables = 64;
    public const int MaxVariableValueLength = 4096;
    public const int MaxMemoryLimitMb = 4096;
    public const int MaxTimeoutSeconds = 900;

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex VariableName();

    public const int MaxCpuTimeLimitMs = 900_000;
    public const int MaxConcurrency = 10_000;

    /// <summary>The fair-share settings: CPU time per request and concurrent requests per router.</summary>
    public static string? ValidateShares(int? cpuTimeLimitMs, int? maxConcurrency) =>
        cpuTimeLimitMs is < 1 or > MaxCpuTimeLimitMs ? $"cpuTimeLimitMs {cpuTimeLimitMs} is out of range 1-{MaxCpuTimeLimitMs}."
        : maxConcurrency is < 1 or > MaxConcurrency ? $"maxConcurrency {maxConcurrency} is out of range 1-{MaxConcurrency}."
        : null;

    /// <summary>
    /// A memory limit the runtime cannot give (the pooling allocator's slot size) is refused rather than silently
    /// capped, quoting the maximum.
    /// </summary>
    public static string? ValidateMemoryFits(int? memoryLimitMb, long engineMaxMemoryBytes)
    {
        var maxMb = engineMaxMemoryBytes / (1024 * 1024);
        return memoryLimitMb > maxMb
            ? $"memoryLimitMb {memoryLimitMb} is more than the runtime can give an instance; the maximum is {maxMb} (Platform:Runtime:PoolMaxMemoryBytes)."
            : null;
    }

    public const int MaxSecrets = 64;

    /// <summary>A secret's name follows the variable rules; its value is checked but never quoted.</summary>
    public static string? ValidateSecret(string name, string? value) =>
        !VariableName().IsMatch(name)
            ? $"Secret name '{name}' is invalid: use letters, digits and '_', not starting with a digit, at most 128 characters."
            : value is null
                ? $"Secret '{name}' needs a body {{\"value\": \"...\"}}."
                : value.Length > MaxVariableValueLength || value.Contains('\0')
                    ? $"The value of secret '{name}' is longer than {MaxVariableValueLength} characters or has a NUL character."
                    : null;

    public static string? Validate(IReadOnlyDictionary<string, string>? variables, int? memoryLimitMb, int? timeoutSeconds)
    {
        if (variables is not null)
        {
            if (variables.Count > MaxVariables)
            {
                return $"An app may have at most {MaxVariables} variables; {variables.Count} were given.";
            }
            foreach (var (name, value) in variables)
            {
                if (!VariableName().IsMatch(name))
                {
                    return $"Variable name '{name}' is invalid: use letters, digits and '_', not starting with a digit, at most 128 characters.";
                }
                if (value is null)
                {
                    return $"Variable '{name}' has no value.";
                }
                if (value.Length > MaxVariableValueLength || value.Contains('\0'))
                {
                    return $"Variable '{name}' has a value longer than {MaxVariableValueLength} characters or with a NUL character.";
                }
            }
        }
        if (memoryLimitMb is < 1 or > MaxMemoryLimitMb)
        {
            return $"memoryLimitMb {memoryLimitMb} is out of range 1-{MaxMemoryLimitMb}.";
        }
        if (timeoutSeconds is < 1 or > MaxTimeoutSeconds)
        {
            return $"timeoutSeconds {timeoutSeconds} is out of range 1-{MaxTimeoutSeconds}.";
        }
        return null;
    }

    public const int MaxAllowedOutboundHosts = 64;

    /// <summary>Null when every entry parses in Spin's allowed_outbound_hosts syntax; else the problem, quoting the entry.</summary>
    public static (string Detail, string? Entry)? ValidateAllowedOutboundHosts(IReadOnlyList<string>? hosts)
    {
        if (hosts is null)
        {
            return null;
        }
        if (hosts.Count > MaxAllowedOutboundHosts)
        {
            return ($"An app may list at most {MaxAllowedOutboundHosts} allowed outbound hosts; {hosts.Count} were given.", null);
        }
        foreach (var host in hosts)
        {
            if (!Platform.Runtime.Outbound.AllowedHostEntry.TryParse(host, out _, out var error))
            {
                return (error!, host);
            }
        }
        return null;
    }
}
