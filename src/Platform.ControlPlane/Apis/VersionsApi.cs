using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Platform.ControlPlane.Infrastructure;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/apps/{app}/versions: upload modules, list them, move the active one.</summary>
public static class VersionsApi
{
    public const string WasmContentType = "application/wasm";

    public static RouteGroupBuilder MapVersionsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/apps/{app}/versions").WithTags("Versions").RequireAuthorization();

        api.MapPost("/", UploadVersion).WithName("UploadVersion").WithSummary("Upload a module as a new version")
            .WithDescription("Body: the raw module as application/wasm, or multipart/form-data with a 'module' file part. " +
                             "The module is validated, pushed to the OCI registry, recorded and (unless activate=false) made live.")
            // The body is read by the handler (so a wrong type gets our own 415 that quotes it); documented here.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The module: raw bytes, or a multipart form with a 'module' file part.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [WasmContentType] = new() { Schema = binary },
                        ["multipart/form-data"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Properties = new Dictionary<string, IOpenApiSchema> { ["module"] = binary },
                                Required = new HashSet<string> { "module" },
                            },
                        },
                    },
                };
                return Task.CompletedTask;
            })
            .DisableAntiforgery();
        api.MapGet("/", ListVersions).WithName("ListVersions").WithSummary("List versions, newest first");
        api.MapGet("/{version:int}", GetVersion).WithName("GetVersion").WithSummary("Show one version");
        api.MapPost("/{version:int}/activate", ActivateVersion).WithName("ActivateVersion")
            .WithSummary("Serve this version (roll back or forward); live on routers within a second");
        return api;
    }

    public static async Task<Results<Created<VersionResponse>, ProblemHttpResult>> UploadVersion(
        string app, [FromQuery] bool? activate, HttpRequest request, ClaimsPrincipal user,
        VersionPublisher publisher, IOptions<AppsOptions> options, UploadGate uploads, CancellationToken cancellationToken)
    {
        // A bounded number of uploads in memory at once; the others wait with their bodies still unread.
        if (!await uploads.EnterAsync(cancellationToken))
        {
            request.HttpContext.Response.Headers.RetryAfter = "10";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "uploads-busy", "Too many uploads",
                $"{uploads.MaxConcurrent} uploads are being processed and this one waited {options.Value.UploadQueueSeconds} s for its turn; retry shortly.");
        }
        PublishResult result;
        try
        {
            var max = options.Value.MaxModuleBytes;
            var read = await ReadModuleAsync(request, max, cancellationToken);
            if (read.Problem is not null)
            {
                return read.Problem;
            }
            result = await publisher.PublishAsync(app, read.Module!, activate ?? true, user.Identity?.Name, cancellationToken);
        }
        finally
        {
            uploads.Exit();
        }
        if (result.Problem is not null)
        {
            return result.Problem;
        }
        return TypedResults.Created($"/api/v1/apps/{app}/versions/{result.Version!.Number}", result.Version);
    }

    public static async Task<Results<Ok<List<VersionResponse>>, ProblemHttpResult>> ListVersions(string app, PlatformDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Where(a => a.Name == app).Select(a => new { a.Id, a.ActiveVersionNumber }).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return Problems.AppNotFound(app);
        }
        var versions = await db.AppVersions.AsNoTracking().Where(v => v.AppId == found.Id).OrderByDescending(v => v.Number).ToListAsync(cancellationToken);
        return TypedResults.Ok(versions.Select(v => v.ToResponse(found.ActiveVersionNumber)).ToList());
    }

    public static async Task<Results<Ok<VersionResponse>, ProblemHttpResult>> GetVersion(string app, int version, PlatformDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Where(a => a.Name == app).Select(a => new { a.Id, a.ActiveVersionNumber }).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return Problems.AppNotFound(app);
        }
        var v = await db.AppVersions.AsNoTracking().FirstOrDefaultAsync(x => x.AppId == found.Id && x.Number == version, cancellationToken);
        return v is null ? Problems.VersionNotFound(app, version) : TypedResults.Ok(v.ToResponse(found.ActiveVersionNumber));
    }

    public static async Task<Results<Ok<AppResponse>, ProblemHttpResult>> ActivateVersion(
        string app, int version, PlatformDbContext db, IOptions<AppsOptions> options, RouteChangeNotifier routes,
        TimeProvider clock, ILogger<AppVersion> logger, CancellationToken cancellationToken)
    {
        var found = await db.Apps.FirstOrDefaultAsync(a => a.Name == app, cancellationToken);
        if (found is null)
        {
            return Problems.AppNotFound(app);
        }
        if (!await db.AppVersions.AnyAsync(v => v.AppId == found.Id && v.Number == version, cancellationToken))
        {
            return Problems.VersionNotFound(app, version);
        }
        if (found.ActiveVersionNumber != version)
        {
            var now = clock.GetUtcNow();
            found.ActiveVersionNumber = version;
            found.DeployedAt = now;
            found.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            logger.VersionActivated(app, version);
            routes.NotifyChanged();
        }
        return TypedResults.Ok(found.ToResponse(options.Value, found.DeployedAt));
    }

    private readonly record struct ModuleRead(byte[]? Module, ProblemHttpResult? Problem);

    /// <summary>Reads the module from a raw or multipart body without ever buffering more than the limit.</summary>
    private static async Task<ModuleRead> ReadModuleAsync(HttpRequest request, long max, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadModuleCoreAsync(request, max, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(null, TooLarge(request.ContentLength ?? max + 1, max));
        }
        catch (BadHttpRequestException ex)
        {
            return new(null, Problems.Validation($"The request body could not be read: {ex.Message}"));
        }
    }

    private static async Task<ModuleRead> ReadModuleCoreAsync(HttpRequest request, long max, CancellationToken cancellationToken)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return Unsupported(contentType);
        }
        // Kestrel's default body cap is lower than a module may be; this endpoint enforces its own.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = max + (1024 * 1024);
        }
        if (request.ContentLength > max + (mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) ? 1024 * 1024 : 0))
        {
            return new(null, TooLarge(request.ContentLength.Value, max));
        }

        if (mediaType.MediaType.Equals(WasmContentType, StringComparison.OrdinalIgnoreCase)
            || mediaType.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase))
        {
            if (request.ContentLength is long declared and > 0)
            {
                // Known length: one array of exactly that size, no doubling buffer and no final copy.
                var exact = new byte[declared];
                var filled = 0;
                while (filled < exact.Length)
                {
                    var got = await request.Body.ReadAsync(exact.AsMemory(filled), cancellationToken);
                    if (got == 0)
                    {
                        return new(null, Problems.Validation($"The request body ended after {filled} of the {declared} bytes its Content-Length announced."));
                    }
                    filled += got;
                }
                return new(exact, null);
            }
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + n > max)
                {
                    return new(null, TooLarge(buffer.Length + n, max));
                }
                buffer.Write(chunk, 0, n);
            }
            return buffer.Length == 0 ? new(null, Problems.Validation("The request body is empty; send the module's bytes.")) : new(buffer.ToArray(), null);
        }

        if (mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                // IOException: the body ended inside a part (a truncated upload).
                return new(null, Problems.Validation($"The multipart body could not be read: {ex.Message}"));
            }
            var file = form.Files.GetFile("module") ?? (form.Files.Count == 1 ? form.Files[0] : null);
            if (file is null)
            {
                return new(null, Problems.Validation(
                    $"The multipart body has no 'module' file part (parts: {string.Join(", ", form.Files.Select(f => $"'{f.Name}'").DefaultIfEmpty("none"))})."));
            }
            if (file.Length > max)
            {
                return new(null, TooLarge(file.Length, max));
            }
            if (file.Length == 0)
            {
                return new(null, Problems.Validation($"The 'module' part ('{file.FileName}') is empty."));
            }
            // The form keeps large parts on disk; read the part into one array of its size.
            var bytes = new byte[file.Length];
            await using (var part = file.OpenReadStream())
            {
                await part.ReadExactlyAsync(bytes, cancellationToken);
            }
            return new(bytes, null);
        }
        return Unsupported(contentType);
    }

    private static ModuleRead Unsupported(string? contentType) => new(null, Problems.Create(StatusCodes.Status415UnsupportedMediaType,
        "unsupported-media-type", "Unsupported media type",
        $"Content type '{contentType}' is not accepted: send the module as '{WasmContentType}' or as multipart/form-data with a 'module' part."));

    private static ProblemHttpResult TooLarge(long size, long max) => Problems.Create(StatusCodes.Status413PayloadTooLarge,
        "module-too-large", "Module too large", $"The module is at least {size} bytes; the limit is {max} bytes.");
}
