using System.Security.Claims;

namespace Platform.ControlPlane.Auth;

/// <summary>
/// What a key may do to the apps it sees. Ordered: each level allows everything the ones below it do.
/// <list type="bullet">
/// <item><c>read-only</c>: read apps, versions, manifests, stats and logs, and call the app through "try it".</item>
/// <item><c>deploy-only</c>: that, plus upload versions and activate one (roll back or forward).</item>
/// <item><c>full</c>: that, plus create and delete apps, change variables, limits and allow-lists, and manage keys of its tenant.</item>
/// </list>
/// </summary>
public enum KeyAccess
{
    ReadOnly = 0,
    DeployOnly = 1,
    Full = 2,
}

public static class KeyAccessNames
{
    public const string ReadOnly = "read-only";
    public const string DeployOnly = "deploy-only";
    public const string Full = "full";

    public static string ToName(this KeyAccess access) => access switch
    {
        KeyAccess.ReadOnly => ReadOnly,
        KeyAccess.DeployOnly => DeployOnly,
        _ => Full,
    };

    public static bool TryParse(string? name, out KeyAccess access)
    {
        switch (name)
        {
            case Full:
                access = KeyAccess.Full;
                return true;
            case DeployOnly:
                access = KeyAccess.DeployOnly;
                return true;
            case ReadOnly:
                access = KeyAccess.ReadOnly;
                return true;
            default:
                access = KeyAccess.ReadOnly;
                return false;
        }
    }

    /// <summary>Stored values are written by this class only; anything else is treated as the narrowest level.</summary>
    public static KeyAccess ParseStored(string? name) => TryParse(name, out var access) ? access : KeyAccess.ReadOnly;
}

/// <summary>What an operation on one app needs. Reads are open to every level; see <see cref="KeyAccess"/>.</summary>
public enum AppOperation
{
    Read,
    Deploy,
    Configure,
    Delete,

    /// <summary>Create an app in the key's tenant (under a name its app list names, if it has one).</summary>
    Create,
}

/// <summary>
/// The key behind a request, as the authentication handler put it into claims: admin (every tenant, no scope) or a
/// tenant key with an access level and optionally a list of the only apps it may see.
/// </summary>
public sealed record Caller(string KeyName, bool IsAdmin, Guid? TenantId, string? TenantName, IReadOnlySet<string>? Apps, KeyAccess Access)
{
    public const string TenantIdClaim = "platform:tenant-id";
    public const string TenantClaim = "platform:tenant";
    public const string AccessClaim = "platform:access";
    public const string AppClaim = "platform:app";

    /// <summary>Set when the key lists its apps, so an empty list is told apart from "every app".</summary>
    public const string ScopedClaim = "platform:scoped";

    public static Caller From(ClaimsPrincipal user)
    {
        var admin = user.HasClaim(AuthSchemes.AdminClaim, "true");
        Guid? tenantId = Guid.TryParse(user.FindFirstValue(TenantIdClaim), out var id) ? id : null;
        var apps = user.HasClaim(ScopedClaim, "true")
            ? user.FindAll(AppClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal)
            : null;
        // An admin claim is full access; a non-admin principal without an access claim gets the narrowest.
        var access = admin ? KeyAccess.Full : KeyAccessNames.ParseStored(user.FindFirstValue(AccessClaim));
        return new Caller(user.Identity?.Name ?? "", admin, tenantId, user.FindFirstValue(TenantClaim), apps, access);
    }

    public static IEnumerable<Claim> ClaimsFor(Guid? tenantId, string? tenantName, IReadOnlyList<string>? apps, string access)
    {
        if (tenantId is { } id)
        {
            yield return new Claim(TenantIdClaim, id.ToString());
        }
        if (tenantName is not null)
        {
            yield return new Claim(TenantClaim, tenantName);
        }
        yield return new Claim(AccessClaim, access);
        if (apps is not null)
        {
            yield return new Claim(ScopedClaim, "true");
            foreach (var app in apps)
            {
                yield return new Claim(AppClaim, app);
            }
        }
    }

    /// <summary>Whether the key's app list (if any) names the app. Says nothing about the app's tenant.</summary>
    public bool ScopeIncludes(string app) => IsAdmin || Apps is null || Apps.Contains(app);

    public bool Allows(AppOperation operation) => IsAdmin || operation switch
    {
        AppOperation.Read => true,
        AppOperation.Deploy => Access >= KeyAccess.DeployOnly,
        _ => Access >= KeyAccess.Full,
    };

    /// <summary>
    /// Whether this key may make, see or revoke a key with the given scope: admins any; a tenant key only keys of its
    /// own tenant whose access is no wider and whose apps are among its own (no escalation).
    /// </summary>
    public bool Covers(Guid? tenantId, bool admin, IReadOnlyCollection<string>? apps, KeyAccess access)
    {
        if (IsAdmin)
        {
            return true;
        }
        if (admin || tenantId is null || tenantId != TenantId || access > Access)
        {
            return false;
        }
        return Apps is null || (apps is not null && apps.All(Apps.Contains));
    }

    public string ScopeDescription => IsAdmin
        ? "an admin key"
        : $"a {Access.ToName()} key of tenant '{TenantName}'" + (Apps is null ? "" : $" limited to app(s) {string.Join(", ", Apps.Order(StringComparer.Ordinal))}");
}
