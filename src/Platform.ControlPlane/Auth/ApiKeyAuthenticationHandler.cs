using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.ControlPlane.Configuration;
using Platform.ControlPlane.Domain;
using Platform.Data;
using Platform.ServiceDefaults;

namespace Platform.ControlPlane.Auth;

public static class AuthSchemes
{
    /// <summary>People and scripts: `Authorization: Bearer wpk_...`.</summary>
    public const string ApiKey = "ApiKey";

    /// <summary>Routers reading the routing table: `Authorization: Bearer <router token>`.</summary>
    public const string RouterToken = "RouterToken";

    public const string AdminPolicy = "Admin";
    public const string RouterPolicy = "Router";
    public const string AdminClaim = "platform:admin";
}

/// <summary>
/// Checks bearer keys against the bootstrap admin key (held as a hash in memory) and the hashed keys in PostgreSQL;
/// also serves the router-token scheme. Failures answer with problem+json, never echoing the key.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<AuthOptions> authOptions,
    IServiceScopeFactory scopes,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private static readonly TimeSpan s_lastUsedResolution = TimeSpan.FromMinutes(1);
    private readonly string _adminKeyHash = ApiKeys.Hash(authOptions.Value.AdminKey);
    private readonly string? _routerTokenHash = authOptions.Value.RouterToken is { Length: > 0 } t ? ApiKeys.Hash(t) : null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return Fail("the Authorization header is not 'Bearer <key>'");
        }
        var hash = ApiKeys.Hash(header[7..].Trim());

        if (Scheme.Name == AuthSchemes.RouterToken)
        {
            return _routerTokenHash is not null && ApiKeys.HashesEqual(hash, _routerTokenHash)
                ? Success("router", admin: false, router: true)
                : Fail("the router token is wrong or not configured");
        }

        if (ApiKeys.HashesEqual(hash, _adminKeyHash))
        {
            return Success("admin", admin: true, router: false);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var key = await db.ApiKeys.AsNoTracking().Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.Name, k.IsAdmin, k.LastUsedAt, k.TenantId, Tenant = (string?)k.Tenant!.Name, k.AppNames, k.Access })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (key is null)
        {
            return Fail("the API key is unknown or revoked");
        }
        var now = TimeProvider.GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt > s_lastUsedResolution)
        {
            await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);
        }
        // A non-admin key always has a tenant (the migration moved older ones to the default tenant); if one somehow
        // has none it sees nothing rather than everything.
        return Success(key.Name, key.IsAdmin, router: false,
            key.IsAdmin ? [] : Caller.ClaimsFor(key.TenantId ?? Guid.Empty, key.Tenant, key.AppNames, key.Access));
    }

    private AuthenticateResult Success(string name, bool admin, bool router, IEnumerable<Claim>? scope = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(scope ?? []);
        if (admin)
        {
            claims.Add(new Claim(AuthSchemes.AdminClaim, "true"));
        }
        if (router)
        {
            claims.Add(new Claim(ClaimTypes.Role, "router"));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    private AuthenticateResult Fail(string reason)
    {
        Logger.AuthenticationFailed(reason);
        return AuthenticateResult.Fail(reason);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = result.Failure is { } f
            ? $"Authentication failed: {f.Message}."
            : "This call needs 'Authorization: Bearer <API key>'.";
        await WriteProblem(StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized", detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return WriteProblem(StatusCodes.Status403Forbidden, "forbidden", "Forbidden", $"Key '{Context.User.Identity?.Name}' is {Caller.From(Context.User).ScopeDescription}; this call needs an admin key.");
    }

    private async Task WriteProblem(int status, string kind, string title, string detail) =>
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Type = ProblemTypes.For(kind), Title = title, Detail = detail },
        });
}
