using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Infrastructure;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/keys: admins make and revoke API keys. A key's secret is shown once, at creation; only its hash is kept.</summary>
public static class KeysApi
{
    public static RouteGroupBuilder MapKeysApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/keys").WithTags("API keys").RequireAuthorization(AuthSchemes.AdminPolicy);
        api.MapPost("/", CreateKey).WithName("CreateKey").WithSummary("Create an API key; the response is the only time the key is shown");
        api.MapGet("/", ListKeys).WithName("ListKeys").WithSummary("List API keys (names and prefixes, never secrets)");
        api.MapDelete("/{name}", RevokeKey).WithName("RevokeKey").WithSummary("Revoke an API key");
        return api;
    }

    public static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateKey(
        CreateKeyRequest request, PlatformDbContext db, TimeProvider clock, ILogger<ApiKey> logger, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100 || request.Name.Any(char.IsControl))
        {
            return Problems.Validation($"Key name '{request.Name}' must be 1-100 printable characters.", "name", request.Name);
        }
        var secret = ApiKeys.NewKey();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name,
            Prefix = ApiKeys.ShownPrefix(secret),
            Hash = ApiKeys.Hash(secret),
            IsAdmin = request.Admin,
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
        logger.ApiKeyCreated(key.Name, key.Prefix);
        return TypedResults.Created($"/api/v1/keys/{Uri.EscapeDataString(key.Name)}", new CreatedKeyResponse(key.Name, secret, key.Prefix, key.IsAdmin, key.CreatedAt));
    }

    public static async Task<Ok<List<KeyResponse>>> ListKeys(PlatformDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.ApiKeys.AsNoTracking().Where(k => k.RevokedAt == null).OrderBy(k => k.Name)
            .Select(k => new KeyResponse(k.Name, k.Prefix, k.IsAdmin, k.CreatedAt, k.LastUsedAt)).ToListAsync(cancellationToken));

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        string name, PlatformDbContext db, ILogger<ApiKey> logger, CancellationToken cancellationToken)
    {
        // The row goes, so the name can be used again; a revoked key can never match a hash afterwards.
        var n = await db.ApiKeys.Where(k => k.Name == name).ExecuteDeleteAsync(cancellationToken);
        if (n == 0)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "key-not-found", "Key not found", $"No active key is named '{name}'.");
        }
        logger.ApiKeyRevoked(name);
        return TypedResults.NoContent();
    }
}
