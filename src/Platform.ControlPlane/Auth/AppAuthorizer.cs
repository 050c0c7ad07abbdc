using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.EntityFrameworkCore;
using Platform.ControlPlane.Apis;
using Platform.Data;

namespace Platform.ControlPlane.Auth;

public enum AppAccessOutcome
{
    Allowed,

    /// <summary>No such app, or one the key must not know about (another tenant's, or outside its app list).</summary>
    NotFound,

    /// <summary>The key sees the app but its access level does not allow the operation.</summary>
    Forbidden,
}

public readonly record struct AppAccessDecision(AppAccessOutcome Outcome, Guid AppId, Guid TenantId);

/// <summary>
/// The one place that decides whether a key may touch an app. Another tenant's app is indistinguishable from an app
/// that does not exist, so app names never leak across tenants.
/// </summary>
public sealed class AppAuthorizer(PlatformDbContext db)
{
    public async Task<AppAccessDecision> AuthorizeAsync(Caller caller, string app, AppOperation operation, CancellationToken cancellationToken)
    {
        // Out of the key's app list: answered before reading anything, like a missing app.
        if (!caller.ScopeIncludes(app))
        {
            return new(AppAccessOutcome.NotFound, Guid.Empty, Guid.Empty);
        }
        var row = await db.Apps.AsNoTracking().Where(a => a.Name == app)
            .Select(a => new { a.Id, a.TenantId }).FirstOrDefaultAsync(cancellationToken);
        return Decide(caller, app, row?.Id, row?.TenantId, operation);
    }

    /// <summary>The rule itself, on what was read: pure, so it is unit-tested on its own.</summary>
    public static AppAccessDecision Decide(Caller caller, string app, Guid? appId, Guid? appTenantId, AppOperation operation)
    {
        if (appId is not { } id || appTenantId is not { } tenant || !caller.ScopeIncludes(app) || (!caller.IsAdmin && caller.TenantId != tenant))
        {
            return new(AppAccessOutcome.NotFound, Guid.Empty, Guid.Empty);
        }
        return caller.Allows(operation) ? new(AppAccessOutcome.Allowed, id, tenant) : new(AppAccessOutcome.Forbidden, id, tenant);
    }

    /// <summary>The 403 for a key that sees the app but may not do this to it; names the key's scope, not other tenants.</summary>
    public static ProblemHttpResult ForbiddenProblem(Caller caller, string app, AppOperation operation) =>
        Problems.Create(StatusCodes.Status403Forbidden, "key-scope", "Not allowed for this key",
            $"Key '{caller.KeyName}' is {caller.ScopeDescription}; it may not {Describe(operation)} app '{app}'.",
            new Dictionary<string, object?> { ["access"] = caller.Access.ToName(), ["operation"] = operation.ToString().ToLowerInvariant() });

    private static string Describe(AppOperation operation) => operation switch
    {
        AppOperation.Read => "read",
        AppOperation.Deploy => "deploy to or roll back",
        AppOperation.Configure => "change the settings of",
        AppOperation.Create => "create",
        _ => "delete",
    };
}

/// <summary>Marks what an app endpoint does, for <see cref="AppAccessMiddleware"/>; without it the HTTP method decides.</summary>
public sealed record AppOperationMetadata(AppOperation Operation);

public static class AppAccessExtensions
{
    public static TBuilder RequiresAppOperation<TBuilder>(this TBuilder builder, AppOperation operation) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AppOperationMetadata(operation));

    public static IApplicationBuilder UseAppAccess(this IApplicationBuilder app) => app.UseMiddleware<AppAccessMiddleware>();
}

/// <summary>
/// Runs <see cref="AppAuthorizer"/> for every endpoint under <c>/api/v1/apps/{app}</c> (any pattern there with an <c>app</c> parameter), whoever maps it, before its
/// handler: a new app endpoint is covered without doing anything. GET and HEAD count as reads and any other method as
/// a change of settings unless the endpoint says what it does (<see cref="AppOperationMetadata"/>).
/// </summary>
public sealed class AppAccessMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, AppAuthorizer authorizer)
    {
        if (context.GetEndpoint() is RouteEndpoint endpoint
            && IsAppEndpoint(endpoint.RoutePattern)
            && context.Request.RouteValues["app"] is string app
            && context.User.Identity?.IsAuthenticated == true)
        {
            var operation = endpoint.Metadata.GetMetadata<AppOperationMetadata>()?.Operation
                ?? (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ? AppOperation.Read : AppOperation.Configure);
            var caller = Caller.From(context.User);
            var decision = await authorizer.AuthorizeAsync(caller, app, operation, context.RequestAborted);
            switch (decision.Outcome)
            {
                case AppAccessOutcome.NotFound:
                    await Problems.AppNotFound(app).ExecuteAsync(context);
                    return;
                case AppAccessOutcome.Forbidden:
                    await AppAuthorizer.ForbiddenProblem(caller, app, operation).ExecuteAsync(context);
                    return;
            }
        }
        await next(context);
    }

    internal static bool IsAppEndpoint(RoutePattern pattern) =>
        pattern.GetParameter("app") is not null
        && pattern.RawText is { } raw && raw.StartsWith("/api/v1/apps/", StringComparison.OrdinalIgnoreCase);
}
