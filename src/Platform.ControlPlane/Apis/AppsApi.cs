using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Configuration;
using Platform.ControlPlane.Domain;
using Platform.ControlPlane.Services;
using Platform.Data;
using Platform.Runtime;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/apps: create, list, show, change and delete apps.</summary>
public static class AppsApi
{
    public static RouteGroupBuilder MapAppsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/apps").WithTags("Apps").RequireAuthorization();

        api.MapPost("/", CreateApp).WithName("CreateApp").WithSummary("Create an app")
            .WithDescription("The name is a DNS label of 3-63 characters and becomes the app's host name.")
            .ChangesRoutes();
        api.MapGet("/", ListApps).WithName("ListApps").WithSummary("List apps")
            .WithDescription("A tenant key sees its tenant's apps (and only those its app list names); an admin sees all, or one tenant's with ?tenant=NAME.");
        api.MapGet("/{app}", GetApp).WithName("GetApp").WithSummary("Show an app");
        api.MapPatch("/{app}", UpdateApp).WithName("UpdateApp").WithSummary("Change an app's variables, limits or outbound allow-list")
            .WithDescription("Fields left out stay as they are. Variables replace the whole set. Live on routers within a second.")
            .ChangesRoutes();
        api.MapDelete("/{app}", DeleteApp).WithName("DeleteApp").WithSummary("Delete an app; its URL stops answering")
            .RequiresAppOperation(AppOperation.Delete)
            .ChangesRoutes();
        return api;
    }

    public static async Task<Results<Created<AppResponse>, ProblemHttpResult>> CreateApp(
        CreateAppRequest request, ClaimsPrincipal user, PlatformDbContext db, TenantQuotas quotas, IOptions<AppsOptions> options,
        TimeProvider clock, ILogger<AppsApiLogCategory> logger, WasmEngineHost engine, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        if (AppNames.Validate(request.Name) is { } nameError)
        {
            return Problems.Validation(nameError, "name", request.Name);
        }
        if ((AppSettingsValidator.Validate(request.Variables, request.MemoryLimitMb, request.TimeoutSeconds)
                ?? AppSettingsValidator.ValidateShares(request.CpuTimeLimitMs, null)
                ?? AppSettingsValidator.ValidateMemoryFits(request.MemoryLimitMb, engine.MaxMemoryBytes)) is { } settingsError)
        {
            return Problems.Validation(settingsError);
        }
        if (!caller.Allows(AppOperation.Create) || !caller.ScopeIncludes(request.Name))
        {
            return AppAuthorizer.ForbiddenProblem(caller, request.Name, AppOperation.Create);
        }
        var (tenant, tenantProblem) = await TenantsApi.ResolveForCallerAsync(caller, request.Tenant, db, cancellationToken);
        if (tenant is null)
        {
            return tenantProblem!;
        }
        if (TenantQuotas.CheckLimits(tenant, request.MemoryLimitMb, request.TimeoutSeconds, request.CpuTimeLimitMs, null) is { } overLimit)
        {
            return overLimit.ToProblem();
        }
        var now = clock.GetUtcNow();
        var app = new App
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name,
            TenantId = tenant.Id,
            Tenant = tenant,
            CreatedAt = now,
            UpdatedAt = now,
            Variables = request.Variables ?? [],
            MemoryLimitMb = request.MemoryLimitMb,
            TimeoutSeconds = request.TimeoutSeconds,
            CpuTimeLimitMs = request.CpuTimeLimitMs,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await quotas.LockAsync(tenant.Id, cancellationToken);
        if (await quotas.CheckAppCountAsync(tenant, cancellationToken) is { } overCount)
        {
            return overCount.ToProblem();
        }
        db.Apps.Add(app);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Names are host names, unique across tenants; the problem never says whose the name is.
            return Problems.Create(StatusCodes.Status409Conflict, "app-exists", "App exists", $"An app named '{request.Name}' already exists.");
        }
        logger.AppCreated(app.Name);
        return TypedResults.Created($"/api/v1/apps/{app.Name}", app.ToResponse(options.Value, null));
    }

    public static async Task<Results<Ok<List<AppResponse>>, ProblemHttpResult>> ListApps(
        [Microsoft.AspNetCore.Mvc.FromQuery] string? tenant, ClaimsPrincipal user, PlatformDbContext db, IOptions<AppsOptions> options, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        IQueryable<App> query = db.Apps.AsNoTracking().Include(a => a.Tenant);
        if (!caller.IsAdmin || tenant is not null)
        {
            var (only, problem) = await TenantsApi.ResolveForCallerAsync(caller, tenant, db, cancellationToken);
            if (only is null)
            {
                return problem!;
            }
            query = query.Where(a => a.TenantId == only.Id);
        }
        if (!caller.IsAdmin && caller.Apps is { } scoped)
        {
            var names = scoped.ToList();
            query = query.Where(a => names.Contains(a.Name));
        }
        var apps = await query.OrderBy(a => a.Name).ToListAsync(cancellationToken);
        var secrets = await AppSecretStore.NamesAsync(db, [.. apps.Select(a => a.Id)], cancellationToken);
        return TypedResults.Ok(apps.Select(a => a.ToResponse(options.Value, a.DeployedAt, secrets.GetValueOrDefault(a.Id))).ToList());
    }

    public static async Task<Results<Ok<AppResponse>, ProblemHttpResult>> GetApp(string app, PlatformDbContext db, IOptions<AppsOptions> options, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Include(a => a.Tenant).FirstOrDefaultAsync(a => a.Name == app, cancellationToken);
        return found is null
            ? Problems.AppNotFound(app)
            : TypedResults.Ok(found.ToResponse(options.Value, found.DeployedAt, await AppSecretStore.NamesAsync(db, found.Id, cancellationToken)));
    }

    public static async Task<Results<Ok<AppResponse>, ProblemHttpResult>> UpdateApp(
        string app, UpdateAppRequest request, PlatformDbContext db, IOptions<AppsOptions> options,
        TimeProvider clock, ClaimsPrincipal user, WasmEngineHost engine, CancellationToken cancellationToken)
    {
        if ((AppSettingsValidator.Validate(request.Variables, request.MemoryLimitMb, request.TimeoutSeconds)
                ?? AppSettingsValidator.ValidateShares(request.CpuTimeLimitMs, request.MaxConcurrency)
                ?? AppSettingsValidator.ValidateMemoryFits(request.MemoryLimitMb, engine.MaxMemoryBytes)) is { } settingsError)
        {
            return Problems.Validation(settingsError);
        }
        // An app's share of every router is the platform's to give, not the tenant's.
        if (request.MaxConcurrency is not null && !user.HasClaim(AuthSchemes.AdminClaim, "true"))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "admin-only", "Admin only",
                $"maxConcurrency {request.MaxConcurrency} can only be set with an admin key.");
        }
        if (AppSettingsValidator.ValidateAllowedOutboundHosts(request.AllowedOutboundHosts) is { } hostsError)
        {
            return Problems.Validation(hostsError.Detail, "allowedOutboundHosts", hostsError.Entry);
        }
        var found = await db.Apps.Include(a => a.Tenant).FirstOrDefaultAsync(a => a.Name == app, cancellationToken);
        if (found is null)
        {
            return Problems.AppNotFound(app);
        }
        if (TenantQuotas.CheckLimits(found.Tenant!, request.MemoryLimitMb, request.TimeoutSeconds, request.CpuTimeLimitMs, request.MaxConcurrency) is { } overLimit)
        {
            return overLimit.ToProblem();
        }
        if (request.Variables is not null)
        {
            found.Variables = request.Variables;
        }
        if (request.AllowedOutboundHosts is not null)
        {
            found.AllowedOutboundHosts = [.. request.AllowedOutboundHosts.Select(h => h.Trim())];
        }
        found.MemoryLimitMb = request.MemoryLimitMb ?? found.MemoryLimitMb;
        found.TimeoutSeconds = request.TimeoutSeconds ?? found.TimeoutSeconds;
        found.CpuTimeLimitMs = request.CpuTimeLimitMs ?? found.CpuTimeLimitMs;
        found.MaxConcurrency = request.MaxConcurrency ?? found.MaxConcurrency;
        found.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(found.ToResponse(options.Value, found.DeployedAt, await AppSecretStore.NamesAsync(db, found.Id, cancellationToken)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteApp(
        string app, PlatformDbContext db, ILogger<AppsApiLogCategory> logger, CancellationToken cancellationToken)
    {
        var deleted = await db.Apps.Where(a => a.Name == app).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return Problems.AppNotFound(app);
        }
        // Stats are kept by name: a later app of that name (perhaps another tenant's) must not inherit them.
        await db.RequestStats.Where(s => s.AppName == app).ExecuteDeleteAsync(cancellationToken);
        logger.AppDeleted(app);
        return TypedResults.NoContent();
    }
}
