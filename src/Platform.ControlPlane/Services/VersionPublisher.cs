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
/// How a precompiled module is stored beside its Wasm module: an OCI artifact in the same repository whose
/// <c>subject</c> is the module's manifest (an OCI 1.1 referrer), tagged by module digest and engine fingerprint so
/// registries without the referrers API find it too, with one layer holding the Wasmtime-serialized module.
/// </summary>
public static class PrecompiledArtifacts
{
    public const string ArtifactType = "application/vnd.platform.wasmtime.precompiled.v1";
    public const string LayerMediaType = "application/vnd.platform.wasmtime.cwasm";
    public const string FingerprintAnnotation = "local.platform.wasmtime.fingerprint";
    public const string EngineAnnotation = "local.platform.wasmtime.engine";
    public const string ModuleDigestAnnotation = "local.platform.module.digest";

    /// <summary><c>sha256-&lt;hex&gt;.cwasm-&lt;fingerprint&gt;</c>: one artifact per module and engine (94 characters, within the 128 a tag allows).</summary>
    public static string TagFor(string moduleDigest, string fingerprint) =>
        $"{moduleDigest.Replace(':', '-')}.cwasm-{fingerprint}";
}

/// <summary>
/// The upload path: validate (and compile) -> push to the registry -> push the precompiled module beside it ->
/// record the version -> activate. The registry push comes before the database row, so a failed push leaves nothing
/// behind; the row is the commit point. The precompiled artifact is optional: if it cannot be made or pushed the
/// version is recorded without it and routers compile the module themselves.
/// </summary>
public sealed partial class VersionPublisher(
    PlatformDbContext db,
    IOciRegistryClient registry,
    CompileSandbox compiler,
    WasmEngineHost engine,
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
        // The validator compiles the module anyway; the same compilation becomes the precompiled artifact.
        // In a child process with CPU, memory and wall-clock limits; killed if the client goes away.
        var compiled = await compiler.ValidateAndPrecompileAsync(module, cancellationToken);
        var (validation, precompiled) = (compiled.Validation, compiled.Precompiled);
        if (!validation.IsValid)
        {
            logger.UploadRefused(appName, validation.Error!);
            return new(null, compiled.TooExpensive
                ? Problems.Create(StatusCodes.Status422UnprocessableEntity, "module-too-expensive", "Module too expensive to compile", validation.Error!,
                    new Dictionary<string, object?>
                    {
                        ["cpuSeconds"] = Math.Round(compiled.Figures!.CpuSeconds, 2),
                        ["peakMemoryBytes"] = compiled.Figures.PeakMemoryBytes,
                        ["wallSeconds"] = Math.Round(compiled.Figures.WallSeconds, 2),
                        ["cpuLimitSeconds"] = compiler.Options.CpuSeconds,
                        ["memoryLimitBytes"] = compiler.Options.MemoryBytes,
                        ["wallLimitSeconds"] = compiler.Options.WallSeconds,
                    })
                : Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-module", "Invalid module",
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

        var artifact = precompiled is null ? null : await PushPrecompiledAsync(appName, pushed, precompiled, cancellationToken);

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
            PrecompiledReference = artifact?.Reference,
            PrecompiledDigest = artifact?.Digest,
            PrecompiledFingerprint = artifact is null ? null : engine.Fingerprint,
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

    /// <summary>Pushes the precompiled module as a referrer of the module's manifest; null (logged) when that fails.</summary>
    private async Task<(string Reference, string Digest)?> PushPrecompiledAsync(string appName, OciPushResult module, byte[] precompiled,
        CancellationToken cancellationToken)
    {
        try
        {
            // The subject descriptor needs the module manifest's size, which the push result does not carry.
            var manifest = await registry.GetManifestAsync(module.Repository, module.ManifestDigest, cancellationToken);
            var pushed = await registry.PushArtifactAsync(module.Repository, PrecompiledArtifacts.TagFor(module.ModuleDigest, engine.Fingerprint), new OciArtifact
            {
                ArtifactType = PrecompiledArtifacts.ArtifactType,
                Layers = [new OciBlob(PrecompiledArtifacts.LayerMediaType, precompiled, new Dictionary<string, string> { [OciAnnotations.Title] = $"{appName}.cwasm" })],
                Subject = new OciDescriptor { MediaType = manifest.MediaType, Digest = manifest.Digest, Size = manifest.Content.Length },
                // No timestamp: the same module for the same engine gives the same manifest, so a re-push changes nothing.
                Annotations = new Dictionary<string, string>
                {
                    [PrecompiledArtifacts.FingerprintAnnotation] = engine.Fingerprint,
                    [PrecompiledArtifacts.EngineAnnotation] = engine.FingerprintDescription,
                    [PrecompiledArtifacts.ModuleDigestAnnotation] = module.ModuleDigest,
                },
            }, cancellationToken);
            var layer = pushed.Layers[0].Digest;
            LogPrecompiledPushed(logger, appName, module.ModuleDigest, engine.Fingerprint, precompiled.Length, pushed.Reference);
            return (pushed.Reference, layer);
        }
        catch (Exception ex) when (ex is OciRegistryException or OciRegistryUnavailableException or HttpRequestException or ArgumentException)
        {
            LogPrecompiledPushFailed(logger, ex, appName, module.ModuleDigest);
            return null;
        }
    }

    [LoggerMessage(EventId = 1050, Level = LogLevel.Information,
        Message = "App '{App}': precompiled module {ModuleDigest} for engine {Fingerprint} ({Bytes} bytes) pushed as {Reference}")]
    private static partial void LogPrecompiledPushed(ILogger logger, string app, string moduleDigest, string fingerprint, int bytes, string reference);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Warning,
        Message = "App '{App}': the precompiled module for {ModuleDigest} could not be pushed; the version is recorded without it and routers compile it")]
    private static partial void LogPrecompiledPushFailed(ILogger logger, Exception ex, string app, string moduleDigest);
}
