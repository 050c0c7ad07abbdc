using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ControlPlane.Configuration;
using Platform.ControlPlane.Services;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/apps/{app}/secrets: write-only app secrets (names are listed, values never returned).</summary>
public static class SecretsApi
{
    public static RouteGroupBuilder MapSecretsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/apps/{app}/secrets").WithTags("Secrets").RequireAuthorization();
        api.MapGet("/", ListSecrets).WithName("ListSecrets").WithSummary("List an app's secret names (never values)");
        api.MapPut("/{name}", SetSecret).WithName("SetSecret").WithSummary("Set a secret (write-only)")
            .WithDescription("Body {\"value\":\"...\"}. The module gets it as an environment variable; a secret wins over a variable of the same name. " +
                             "201 when created, 204 when replaced; live on routers within a second. The value is never returned.")
            .ChangesRoutes();
        api.MapDelete("/{name}", DeleteSecret).WithName("DeleteSecret").WithSummary("Remove a secret").ChangesRoutes();
        return api;
    }

    public static async Task<Results<Ok<SecretListResponse>, ProblemHttpResult>> ListSecrets(string app, AppSecretStore secrets, CancellationToken cancellationToken)
    {
        var list = await secrets.ListAsync(app, cancellationToken);
        return list is null
            ? Problems.AppNotFound(app)
            : TypedResults.Ok(new SecretListResponse([.. list.Select(s => new SecretResponse(s.Name, s.CreatedAt, s.UpdatedAt))]));
    }

    public static async Task<Results<Created<SecretResponse>, NoContent, ProblemHttpResult>> SetSecret(
        string app, string name, SetSecretRequest? request, AppSecretStore secrets, TimeProvider clock, CancellationToken cancellationToken)
    {
        // Problems quote the name, never the value.
        if (AppSettingsValidator.ValidateSecret(name, request?.Value) is { } error)
        {
            return Problems.Validation(error, "name", name);
        }
        var change = await secrets.SetAsync(app, name, request!.Value!, cancellationToken);
        return change switch
        {
            SecretChange.AppNotFound => Problems.AppNotFound(app),
            SecretChange.TooMany => Problems.Create(StatusCodes.Status409Conflict, "too-many-secrets", "Too many secrets",
                $"App '{app}' has {AppSettingsValidator.MaxSecrets} secrets already; remove one before adding '{name}'."),
            SecretChange.Created => TypedResults.Created($"/api/v1/apps/{app}/secrets/{name}", new SecretResponse(name, clock.GetUtcNow(), clock.GetUtcNow())),
            _ => TypedResults.NoContent(),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSecret(string app, string name, AppSecretStore secrets, CancellationToken cancellationToken)
    {
        return await secrets.RemoveAsync(app, name, cancellationToken) switch
        {
            SecretChange.AppNotFound => Problems.AppNotFound(app),
            SecretChange.SecretNotFound => Problems.Create(StatusCodes.Status404NotFound, "secret-not-found", "Secret not found",
                $"App '{app}' has no secret named '{name}'."),
            _ => TypedResults.NoContent(),
        };
    }
}
