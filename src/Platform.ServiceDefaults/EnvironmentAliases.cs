using Microsoft.Extensions.Configuration;

namespace Platform.ServiceDefaults;

/// <summary>
/// The documented short environment variables (<c>PLATFORM_ADMIN_KEY</c>, <c>PLATFORM_ROUTER_TOKEN</c>) as aliases of
/// their configuration keys. They are added last, so they win over appsettings and <c>Platform__...</c> variables,
/// and options classes stay the only readers of settings.
/// </summary>
public static class EnvironmentAliases
{
    private static readonly (string Variable, string[] Keys)[] s_aliases =
    [
        ("PLATFORM_ADMIN_KEY", ["Platform:Auth:AdminKey"]),
        // The control plane checks the token, routers present it: one variable serves both.
        ("PLATFORM_ROUTER_TOKEN", ["Platform:Auth:RouterToken", "Platform:Router:Token"]),
        // The control plane signs precompiled artifacts with it, routers verify with it.
        ("PLATFORM_ARTIFACT_SIGNING_KEY", ["Platform:Artifacts:SigningKey"]),
    ];

    public static IConfigurationBuilder AddPlatformEnvironmentAliases(this IConfigurationBuilder configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, keys) in s_aliases)
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                foreach (var key in keys)
                {
                    values[key] = value;
                }
            }
        }
        return values.Count == 0 ? configuration : configuration.AddInMemoryCollection(values);
    }
}
