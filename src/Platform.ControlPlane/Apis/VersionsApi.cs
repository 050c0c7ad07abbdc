using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Platform.Bundles;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Configuration;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/apps/{app}/versions: upload modules, list them, move the active one.</summary>
public static class VersionsApi
{
    public const string WasmContentType = "application/wasm";
    public const string TomlContentType = "application/toml";

    /// <summary>Content types a tar or tar.gz bundle may come as (the archive itself is recognised by its bytes).</summary>
    public static readonly string[] BundleContentTypes =
        ["application/gzip", "application/x-gzip", "application/x-tar", "application/tar", "application/x-gtar", "application/tar+gzip", "application/x-compressed-tar"];

    public static RouteGroupBuilder MapVersionsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/apps/{app}/versions").WithTags("Versions").RequireAuthorization();

        api.MapPost("/", UploadVersion).WithName("UploadVersion").WithSummary("Upload a module or a Spin bundle as a new version")
            .WithDescription("Body: the raw module as application/wasm; a Spin-style bundle (tar or tar.gz with spin.toml at its root) as " +
                             "application/gzip or application/x-tar; multipart/form-data with a 'module' or a 'bundle' file part; or JSON " +
                             "{\"ociReference\":\"host/repo:tag\"} to copy a bundle or Wasm artifact from another registry. " +
                             "Everything is validated, pushed to the OCI registry, recorded and (unless activate=false) made live.")
            // The body is read by the handler (so a wrong type gets our own 415 that quotes it); documented here.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The module (raw bytes), a bundle (tar/tar.gz), a multipart form with a 'module' or 'bundle' file part, or an OCI reference.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [WasmContentType] = new() { Schema = binary },
                        ["application/gzip"] = new() { Schema = binary },
                        ["application/x-tar"] = new() { Schema = binary },
                        ["application/json"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Properties = new Dictionary<string, IOpenApiSchema>
                                {
                                    ["ociReference"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "host/repository:tag or host/repository@sha256:..." },
                                },
                                Required = new HashSet<string> { "ociReference" },
                            },
                        },
                        ["multipart/form-data"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Properties = new Dictionary<string, IOpenApiSchema> { ["module"] = binary, ["bundle"] = binary },
                            },
                        },
                    },
                };
                return Task.CompletedTask;
            })
            .DisableAntiforgery()
            .RequiresAppOperation(AppOperation.Deploy)
            .ChangesRoutes();
        api.MapGet("/", ListVersions).WithName("ListVersions").WithSummary("List versions, newest first");
        api.MapGet("/{version:int}", GetVersion).WithName("GetVersion")
            .WithSummary("Show one version: its components, routes, files and digests");
        api.MapGet("/{version:int}/manifest", GetVersionManifest).WithName("GetVersionManifest")
            .WithSummary("The spin.toml a bundle version was uploaded with")
            .Produces<string>(StatusCodes.Status200OK, TomlContentType)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{version:int}/activate", ActivateVersion).WithName("ActivateVersion")
            .WithSummary("Serve this version (roll back or forward); live on routers within a second")
            .RequiresAppOperation(AppOperation.Deploy)
            .ChangesRoutes();
        return api;
    }

    public static async Task<Results<Created<VersionResponse>, ProblemHttpResult>> UploadVersion(
        string app, [FromQuery] bool? activate, HttpRequest request, ClaimsPrincipal user,
        VersionPublisher publisher, ReferenceImporter importer, IOptions<AppsOptions> options, IOptions<BundleOptions> bundleOptions,
        UploadGate uploads, CancellationToken cancellationToken)
    {
        // A bounded number of uploads in memory at once; the others wait with their bodies still unread.
        if (!await uploads.EnterAsync(cancellationToken))
        {
            request.HttpContext.Response.Headers.RetryAfter = "10";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "uploads-busy", "Too many uploads",
                $"{uploads.MaxConcurrent} uploads are being processed and this one waited {options.Value.UploadQueueSeconds} s for its turn; retry shortly.");
        }
        PublishOutcome result;
        try
        {
            var read = await ReadUploadAsync(request, options.Value.MaxModuleBytes, bundleOptions.Value.MaxBundleBytes, cancellationToken);
            await using var bundle = read.Bundle;
            if (read.Problem is not null)
            {
                return read.Problem;
            }
            result = read.Reference is not null
                ? await importer.ImportAsync(app, read.Reference, activate ?? true, user.Identity?.Name, cancellationToken)
                : bundle is not null
                    ? await publisher.PublishBundleAsync(app, bundle, activate ?? true, user.Identity?.Name, cancellationToken)
                    : await publisher.PublishAsync(app, read.Module!, activate ?? true, user.Identity?.Name, cancellationToken);
        }
        finally
        {
            uploads.Exit();
        }
        if (result.Failure is not null)
        {
            return result.Failure.ToProblem();
        }
        var created = result.Version!.ToResponse(result.ActiveVersionNumber);
        return TypedResults.Created($"/api/v1/apps/{app}/versions/{created.Number}", created);
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

    public static async Task<Results<Ok<VersionDetailsResponse>, ProblemHttpResult>> GetVersion(string app, int version, PlatformDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Where(a => a.Name == app).Select(a => new { a.Id, a.ActiveVersionNumber, a.Variables }).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return Problems.AppNotFound(app);
        }
        var v = await db.AppVersions.AsNoTracking().FirstOrDefaultAsync(x => x.AppId == found.Id && x.Number == version, cancellationToken);
        return v is null ? Problems.VersionNotFound(app, version) : TypedResults.Ok(v.ToDetails(app, found.ActiveVersionNumber, found.Variables));
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetVersionManifest(string app, int version, PlatformDbContext db, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Where(a => a.Name == app).Select(a => new { a.Id }).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return Problems.AppNotFound(app);
        }
        var v = await db.AppVersions.AsNoTracking().Where(x => x.AppId == found.Id && x.Number == version)
            .Select(x => new { x.SpinManifest }).FirstOrDefaultAsync(cancellationToken);
        if (v is null)
        {
            return Problems.VersionNotFound(app, version);
        }
        return v.SpinManifest is null
            ? Problems.Create(StatusCodes.Status404NotFound, "no-manifest", "No spin.toml",
                $"Version {version} of app '{app}' was not uploaded as a bundle, so it has no spin.toml.")
            : TypedResults.Text(v.SpinManifest, TomlContentType, System.Text.Encoding.UTF8);
    }

    public static async Task<Results<Ok<AppResponse>, ProblemHttpResult>> ActivateVersion(
        string app, int version, PlatformDbContext db, IOptions<AppsOptions> options,
        TimeProvider clock, ILogger<VersionsApiLogCategory> logger, CancellationToken cancellationToken)
    {
        var found = await db.Apps.Include(a => a.Tenant).FirstOrDefaultAsync(a => a.Name == app, cancellationToken);
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
        }
        return TypedResults.Ok(found.ToResponse(options.Value, found.DeployedAt, await AppSecretStore.NamesAsync(db, found.Id, cancellationToken)));
    }

    private readonly record struct UploadRead(byte[]? Module, Stream? Bundle, string? Reference, ProblemHttpResult? Problem)
    {
        public static implicit operator UploadRead(ProblemHttpResult problem) => new(null, null, null, problem);
    }

    /// <summary>Reads the body (module, bundle or reference) without ever buffering more than the limit; bundles go to a temp file.</summary>
    private static async Task<UploadRead> ReadUploadAsync(HttpRequest request, long maxModule, long maxBundle, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadUploadCoreAsync(request, maxModule, maxBundle, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(request.ContentLength ?? Math.Max(maxModule, maxBundle) + 1, Math.Max(maxModule, maxBundle), "upload");
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.Validation($"The request body could not be read: {ex.Message}");
        }
    }

    private static async Task<UploadRead> ReadUploadCoreAsync(HttpRequest request, long maxModule, long maxBundle, CancellationToken cancellationToken)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return Unsupported(contentType);
        }
        var type = mediaType.MediaType.Value ?? "";
        var isModule = type.Equals(WasmContentType, StringComparison.OrdinalIgnoreCase) || type.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase);
        var isBundle = BundleContentTypes.Contains(type, StringComparer.OrdinalIgnoreCase);
        var isMultipart = type.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var isJson = type.Equals("application/json", StringComparison.OrdinalIgnoreCase);
        var max = isModule ? maxModule : isBundle ? maxBundle : isJson ? 64 * 1024 : Math.Max(maxModule, maxBundle);
        // Kestrel's default body cap is lower than a module may be; this endpoint enforces its own.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = max + (1024 * 1024);
        }
        if (request.ContentLength > max + (isMultipart ? 1024 * 1024 : 0))
        {
            return TooLarge(request.ContentLength.Value, max, isBundle ? "bundle" : isModule ? "module" : "upload");
        }

        if (isModule)
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
                        return Problems.Validation($"The request body ended after {filled} of the {declared} bytes its Content-Length announced.");
                    }
                    filled += got;
                }
                return new UploadRead(exact, null, null, null);
            }
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + n > max)
                {
                    return TooLarge(buffer.Length + n, max, "module");
                }
                buffer.Write(chunk, 0, n);
            }
            return buffer.Length == 0 ? Problems.Validation("The request body is empty; send the module's bytes.") : new UploadRead(buffer.ToArray(), null, null, null);
        }

        if (isBundle)
        {
            var spooled = await SpoolAsync(request.Body, max, cancellationToken);
            if (spooled.Problem is not null)
            {
                return spooled.Problem;
            }
            return new UploadRead(null, spooled.File, null, null);
        }

        if (isJson)
        {
            DeployByReference? body;
            try
            {
                body = await System.Text.Json.JsonSerializer.DeserializeAsync<DeployByReference>(request.Body,
                    new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web), cancellationToken);
            }
            catch (System.Text.Json.JsonException ex)
            {
                return Problems.Validation($"The JSON body could not be read: {ex.Message}");
            }
            if (string.IsNullOrWhiteSpace(body?.OciReference))
            {
                return Problems.Validation("The JSON body needs \"ociReference\": \"host/repository:tag\" (or @sha256:...).", "ociReference", body?.OciReference);
            }
            return new UploadRead(null, null, body.OciReference.Trim(), null);
        }

        if (isMultipart)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = max + (1024 * 1024) }, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                // IOException: the body ended inside a part (a truncated upload).
                return Problems.Validation($"The multipart body could not be read: {ex.Message}");
            }
            var bundleFile = form.Files.GetFile("bundle");
            var file = bundleFile ?? form.Files.GetFile("module") ?? (form.Files.Count == 1 ? form.Files[0] : null);
            if (file is null)
            {
                return Problems.Validation(
                    $"The multipart body has no 'module' or 'bundle' file part (parts: {string.Join(", ", form.Files.Select(f => $"'{f.Name}'").DefaultIfEmpty("none"))}).");
            }
            var asBundle = bundleFile is not null || (file.Name != "module" && LooksLikeArchive(file.FileName));
            if (file.Length == 0)
            {
                return Problems.Validation($"The '{file.Name}' part ('{file.FileName}') is empty.");
            }
            if (asBundle)
            {
                if (file.Length > maxBundle)
                {
                    return TooLarge(file.Length, maxBundle, "bundle");
                }
                // The form reader has already buffered a large part to disk; read it from there rather than copy it again.
                return new UploadRead(null, file.OpenReadStream(), null, null);
            }
            if (file.Length > maxModule)
            {
                return TooLarge(file.Length, maxModule, "module");
            }
            // The form keeps large parts on disk; read the part into one array of its size.
            var bytes = new byte[file.Length];
            await using (var part = file.OpenReadStream())
            {
                await part.ReadExactlyAsync(bytes, cancellationToken);
            }
            return new UploadRead(bytes, null, null, null);
        }
        return Unsupported(contentType);
    }

    private static bool LooksLikeArchive(string? fileName) =>
        fileName is not null && (fileName.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
            || fileName.EndsWith(".tar", StringComparison.OrdinalIgnoreCase));

    /// <summary>Copies a bundle to a temp file (deleted on close) so it is held once, on disk, never twice in memory.</summary>
    private static async Task<(Stream? File, ProblemHttpResult? Problem)> SpoolAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        var file = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            var chunk = new byte[81920];
            long total = 0;
            int n;
            while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                total += n;
                if (total > max)
                {
                    await file.DisposeAsync();
                    return (null, TooLarge(total, max, "bundle"));
                }
                await file.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
            }
            if (total == 0)
            {
                await file.DisposeAsync();
                return (null, Problems.Validation("The request body is empty; send the bundle (tar or tar.gz)."));
            }
            file.Position = 0;
            return (file, null);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private static ProblemHttpResult Unsupported(string? contentType) => Problems.Create(StatusCodes.Status415UnsupportedMediaType,
        "unsupported-media-type", "Unsupported media type",
        $"Content type '{contentType}' is not accepted: send a module as '{WasmContentType}', a bundle as 'application/gzip' or 'application/x-tar', " +
        "multipart/form-data with a 'module' or 'bundle' part, or JSON {\"ociReference\": \"...\"}.");

    private static ProblemHttpResult TooLarge(long size, long max, string what) => Problems.Create(StatusCodes.Status413PayloadTooLarge,
        what == "module" ? "module-too-large" : "bundle-too-large", what == "module" ? "Module too large" : "Upload too large",
        $"The {what} is at least {size} bytes; the limit is {max} bytes.");
}

/// <summary>Deploy by reference: copy an artifact from another registry into the platform's own.</summary>
public sealed record DeployByReference(string? OciReference);
