using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.ControlPlane.Apis;
using Platform.ControlPlane.Infrastructure;
using Platform.Data;
using Platform.Oci;
using Platform.Runtime;

namespace Platform.ControlPlane.Services;

public readonly record struct PublishResult(VersionResponse? Version, ProblemHttpResult? Problem);

/// <summary>
/// The upload path: validate -> push to the registry -> record the version -> activate. The registry push comes
/// before the database row, so a failed push leaves nothing behind; the row is the commit point.
/// </summary>
public sealed class VersionPublisher(
    PlatformDbContext db,
    IOciRegistryClient registry,
    ModuleValidator validator,
    RouteChangeNotifier routes,
    TimeProvider clock,
    ILogger<VersionPublisher> logger)
{
    private static readonly byte[] s_wasmMagic = [0x00, 0x61, 0x73, 0x6d];

    public async Task<PublishResult> PublishAsync(string appName, byte[] module, bool activate, string? uploadedBy, CancellationToken cancellationToken)
    {
        var app = await db.Apps.FirstOrDefaultAsync(a => a.Name == appName, cancellationToken);
        if (app is null)
        {
            return new(null, Problems.AppNotFound(appName));
        }

        if (module.Length < 8 || !module.AsSpan(0, 4).SequenceEqual(s_wasmMagic))
        {
            var head = Convert.ToHexString(module.AsSpan(0, Math.Min(8, module.Length)));
            logger.UploadRefused(appName, "not a WebAssembly binary");
            return new(null, Problems.Create(StatusCodes.Status400BadRequest, "not-wasm", "Not a WebAssembly module",
                $"The upload does not start with the WebAssembly magic bytes 0061736D (it starts with '{head}', {module.Length} bytes in all)."));
        }
        var validation = validator.Validate(module);
        if (!validation.IsValid)
        {
            logger.UploadRefused(appName, validation.Error!);
            return new(null, Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-module", "Invalid module",
                $"The module was refused by the validator: {validation.Error}"));
        }

        // Uploads to one app are serialised (across control-plane replicas too) by a transaction-scoped advisory
        // lock, so version numbers and registry tags never race; different apps upload in parallel.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({app.Id.ToString()}, 0))", cancellationToken);
        var number = (await db.AppVersions.Where(v => v.AppId == app.Id).MaxAsync(v => (int?)v.Number, cancellationToken) ?? 0) + 1;

        OciPushResult pushed;
        try
        {
            pushed = await registry.PushWasmModuleAsync(appName, number, module, new Dictionary<string, string>
            {
                ["org.opencontainers.image.title"] = $"{appName}.wasm",
                ["org.opencontainers.image.version"] = $"v{number}",
                ["org.opencontainers.image.created"] = clock.GetUtcNow().ToString("O"),
            }, cancellationToken);
        }
        catch (OciRegistryUnavailableException ex)
        {
            logger.RegistryPushFailed(ex, appName);
            return new(null, Problems.Create(StatusCodes.Status503ServiceUnavailable, "registry-unavailable", "Registry unavailable",
                $"The OCI registry could not be reached ({ex.Message}); no version was recorded. Try again."));
        }
        catch (OciRegistryException ex)
        {
            logger.RegistryPushFailed(ex, appName);
            return new(null, Problems.Create(StatusCodes.Status502BadGateway, "registry-error", "Registry refused the push",
                $"The OCI registry refused the module ({ex.Message}); no version was recorded."));
        }

        var now = clock.GetUtcNow();
        var version = new AppVersion
        {
            Id = Guid.CreateVersion7(),
            AppId = app.Id,
            Number = number,
            ModuleDigest = pushed.ModuleDigest,
            ManifestDigest = pushed.ManifestDigest,
            Repository = pushed.Repository,
            OciReference = pushed.Reference,
            SizeBytes = module.Length,
            CreatedAt = now,
            CreatedBy = uploadedBy,
        };
        db.AppVersions.Add(version);
        if (activate)
        {
            app.ActiveVersionNumber = number;
            app.DeployedAt = now;
        }
        app.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        logger.VersionPublished(appName, number, pushed.ModuleDigest, pushed.Reference);
        if (activate)
        {
            logger.VersionActivated(appName, number);
            routes.NotifyChanged();
        }
        return new(version.ToResponse(app.ActiveVersionNumber), null);
    }
}
