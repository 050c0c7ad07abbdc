using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.ServiceDefaults;

namespace Platform.ControlPlane.Apis;

/// <summary>RFC 9457 problem responses with a stable type URI per kind of error, so clients can branch on it.</summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string kind, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Type = ProblemTypes.For(kind),
            Title = title,
            Detail = detail,
            Extensions = extensions ?? new Dictionary<string, object?>(),
        });

    public static ProblemHttpResult AppNotFound(string app) =>
        Create(StatusCodes.Status404NotFound, "app-not-found", "App not found", $"No app is named '{app}'.");

    public static ProblemHttpResult VersionNotFound(string app, int version) =>
        Create(StatusCodes.Status404NotFound, "version-not-found", "Version not found", $"App '{app}' has no version {version}.");

    public static ProblemHttpResult Validation(string detail, string? field = null, object? value = null) =>
        Create(StatusCodes.Status400BadRequest, "invalid-request", "Invalid request", detail,
            field is null ? null : new Dictionary<string, object?> { ["field"] = field, ["value"] = value });
}
