using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Domain;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>
/// /api/v1/keys: API keys. Admins make, see and revoke any key; a full-access tenant key makes and revokes keys of its
/// own tenant no wider than itself, and every tenant key lists those. A key's secret is shown once; only its hash is kept.
/// </summary>
public static class KeysApi
{
    public const int MaxScopedApps = 100;

    public static RouteGroupBuilder MapKeysApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/keys").WithTags("API keys").RequireAuthorization();
        api.MapPost("/", CreateKey).WithName("CreateKey").WithSummary("Create an API key; the response is the only time the key is shown")
            .WithDescription("{\"name\":\"ci\",\"tenant\":\"acme\",\"apps\":[\"web\"],\"access\":\"deploy-only\"}: tenant (default: the caller's, " +
                             "\"default\" for admins), apps (only these apps of the tenant) and access (full, deploy-only, read-only) are optional; " +
                             "{\"name\":\"ops\",\"admin\":true} makes an admin key (admins only). A tenant key can only make keys no wider than itself.");
        api.MapGet("/", ListKeys).WithName("ListKeys").WithSummary("List API keys (names, prefixes, tenant and scope; never secrets)");
        api.MapDelete("/{name}", RevokeKey).WithName("RevokeKey").WithSummary("Revoke an API key");
        return api;
    }

    public static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateKey(
        CreateKeyRequest request, ClaimsPrincipal user, PlatformDbContext db, TimeProvider clock, ILogger<KeysApiLogCategory> logger, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100 || request.Name.Any(char.IsControl))
        {
            return Problems.Validation($"Key name '{request.Name}' must be 1-100 printable characters.", "name", request.Name);
        }
        var access = KeyAccess.Full;
        if (request.Access is not null && !KeyAccessNames.TryParse(request.Access, out access))
        {
            return Problems.Validation($"access '{request.Access}' is not one of {KeyAccessNames.Full}, {KeyAccessNames.DeployOnly}, {KeyAccessNames.ReadOnly}.", "access", request.Access);
        }
        if (request.Apps is { } listed)
        {
            if (listed.Count is 0 or > MaxScopedApps)
            {
                return Problems.Validation($"apps lists {listed.Count} app(s); give 1-{MaxScopedApps}, or leave it out for every app of the tenant.", "apps", listed.Count);
            }
            if (listed.FirstOrDefault(a => AppNames.Validate(a) is not null) is { } badApp)
            {
                return Problems.Validation($"apps: {AppNames.Validate(badApp)}", "apps", badApp);
            }
        }
        if (!caller.IsAdmin && caller.Access != KeyAccess.Full)
        {
            return Forbidden(caller, "make keys");
        }

        Tenant? tenant = null;
        if (request.Admin)
        {
            if (!caller.IsAdmin)
            {
                return Forbidden(caller, "make admin keys");
            }
            if (request.Tenant is not null || request.Apps is not null || access != KeyAccess.Full)
            {
                return Problems.Validation("An admin key sees every tenant: it takes no tenant, apps or access.", "admin", true);
            }
        }
        else
        {
            var (resolved, problem) = await TenantsApi.ResolveForCallerAsync(caller, request.Tenant, db, cancellationToken);
            if (resolved is null)
            {
                return problem!;
            }
            tenant = resolved;
        }
        // A tenant key with an app list hands it on unless it names a narrower one.
        var apps = request.Apps?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()
            ?? (caller.IsAdmin || caller.Apps is null ? null : [.. caller.Apps.Order(StringComparer.Ordinal)]);
        if (!caller.Covers(tenant?.Id, request.Admin, apps, access))
        {
            var outside = apps?.Where(a => !caller.ScopeIncludes(a)).ToList() ?? [];
            return Forbidden(caller, outside.Count > 0 ? $"make a key for app(s) {string.Join(", ", outside)}" : $"make a {access.ToName()} key");
        }

        var secret = ApiKeys.NewKey();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name,
            Prefix = ApiKeys.ShownPrefix(secret),
            Hash = ApiKeys.Hash(secret),
            IsAdmin = request.Admin,
            TenantId = tenant?.Id,
            AppNames = apps,
            Access = access.ToName(),
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiKeys.Add(key);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return Problems.Create(StatusCodes.Status409Conflict, "key-exists", "Key exists", $"A key named '{request.Name}' already exists.");
        }
        logger.ApiKeyCreated(key.Name, key.Prefix, request.Admin ? "admin" : $"tenant {tenant!.Name}, {key.Access}{(apps is null ? "" : ", apps " + string.Join(",", apps))}");
        return TypedResults.Created($"/api/v1/keys/{Uri.EscapeDataString(key.Name)}",
            new CreatedKeyResponse(key.Name, secret, key.Prefix, key.IsAdmin, key.CreatedAt, tenant?.Name, apps, key.Access));
    }

    /// <summary>Admins see every key (or one tenant's with ?tenant=); a tenant key sees the keys of its tenant it covers.</summary>
    public static async Task<Results<Ok<List<KeyResponse>>, ProblemHttpResult>> ListKeys(
        [Microsoft.AspNetCore.Mvc.FromQuery] string? tenant, ClaimsPrincipal user, PlatformDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var query = db.ApiKeys.AsNoTracking().Where(k => k.RevokedAt == null);
        if (!caller.IsAdmin || tenant is not null)
        {
            var (only, problem) = await TenantsApi.ResolveForCallerAsync(caller, tenant, db, cancellationToken);
            if (only is null)
            {
                return problem!;
            }
            query = query.Where(k => k.TenantId == only.Id);
        }
        var keys = await query.OrderBy(k => k.Name)
            .Select(k => new { k.Name, k.Prefix, k.IsAdmin, k.CreatedAt, k.LastUsedAt, k.TenantId, Tenant = (string?)k.Tenant!.Name, k.AppNames, k.Access })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(keys
            .Where(k => caller.Covers(k.TenantId, k.IsAdmin, k.AppNames, KeyAccessNames.ParseStored(k.Access)))
            .Select(k => new KeyResponse(k.Name, k.Prefix, k.IsAdmin, k.CreatedAt, k.LastUsedAt, k.Tenant, k.AppNames, k.Access))
            .ToList());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        string name, ClaimsPrincipal user, PlatformDbContext db, ILogger<KeysApiLogCategory> logger, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        if (!caller.IsAdmin && caller.Access != KeyAccess.Full)
        {
            return Forbidden(caller, "revoke keys");
        }
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Name == name, cancellationToken);
        // A key this caller may not see is answered like one that does not exist.
        if (key is null || !caller.Covers(key.TenantId, key.IsAdmin, key.AppNames, KeyAccessNames.ParseStored(key.Access)))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "key-not-found", "Key not found", $"No active key is named '{name}'.");
        }
        // The row goes, so the name can be used again; a revoked key can never match a hash afterwards.
        db.ApiKeys.Remove(key);
        await db.SaveChangesAsync(cancellationToken);
        logger.ApiKeyRevoked(name);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Forbidden(Caller caller, string what) =>
        Problems.Create(StatusCodes.Status403Forbidden, "key-scope", "Not allowed for this key",
            $"Key '{caller.KeyName}' is {caller.ScopeDescription}; it may not {what}.",
            new Dictionary<string, object?> { ["access"] = caller.Access.ToName() });
}
