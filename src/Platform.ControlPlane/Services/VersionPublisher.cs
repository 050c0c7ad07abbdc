using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Bundles;
using Platform.Contracts;
using Platform.ControlPlane.Configuration;
using Platform.Data;
using Platform.Oci;
using Platform.Runtime;

namespace Platform.ControlPlane.Services;

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
    TenantQuotas quotas,
    IOptions<BundleOptions> bundleOptions,
    TimeProvider clock,
    ILogger<VersionPublisher> logger,
    Platform.Runtime.Security.ArtifactSigner signer)
{
    /// <summary>A single module: one component named after the app on <c>/...</c>.</summary>
    public async Task<PublishOutcome> PublishAsync(string appName, byte[] module, bool activate, string? uploadedBy, CancellationToken cancellationToken)
    {
        var app = await db.Apps.FirstOrDefaultAsync(a => a.Name == appName, cancellationToken);
        if (app is null)
        {
            return new PublishFailure.AppNotFound(appName);
        }
        // Before compiling: an upload over the tenant's storage quota costs nothing (checked again at the commit).
        if (await quotas.CheckStorageAsync(app.TenantId, module.Length, cancellationToken) is { } overQuota)
        {
            logger.UploadRefused(appName, overQuota.Detail);
            return new PublishFailure.QuotaExceeded(overQuota);
        }
        var (refused, precompiled) = await CheckModuleAsync(appName, module, "The upload", cancellationToken);
        if (refused is not null)
        {
            return refused;
        }
        // The bytes say which: a component (wasi:http, served through its incoming-handler) or a WAGI command module.
        var kind = WasmBinary.IsComponent(module) ? ComponentKinds.Http : ComponentKinds.Wagi;

        await using var transaction = await BeginUploadAsync(app, cancellationToken);
        var number = await NextNumberAsync(app, cancellationToken);
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
        catch (Exception ex) when (ex is OciRegistryUnavailableException or OciRegistryException)
        {
            return RegistryFailure(ex, appName);
        }

        var artifact = precompiled is null ? null
            : await PushPrecompiledAsync(appName, pushed.Repository, pushed.Manifest, pushed.ModuleDigest, precompiled, $"{appName}.cwasm", cancellationToken);

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
            CreatedAt = clock.GetUtcNow(),
            CreatedBy = uploadedBy,
            PrecompiledReference = artifact?.Reference,
            PrecompiledDigest = artifact?.Digest,
            PrecompiledFingerprint = artifact is null ? null : engine.Fingerprint,
            ModuleKind = kind,
            PrecompiledSignature = SignArtifact(pushed.ModuleDigest, artifact?.Digest),
        };
        return await CommitAsync(app, version, activate, transaction, cancellationToken);
    }

    /// <summary>A Spin-style bundle: a tar or tar.gz with spin.toml at its root (read once, from a stream).</summary>
    public async Task<PublishOutcome> PublishBundleAsync(string appName, Stream archive, bool activate, string? uploadedBy, CancellationToken cancellationToken)
    {
        var app = await db.Apps.FirstOrDefaultAsync(a => a.Name == appName, cancellationToken);
        if (app is null)
        {
            return new PublishFailure.AppNotFound(appName);
        }
        ResolvedBundle bundle;
        try
        {
            var files = BundleArchive.Read(archive, bundleOptions.Value);
            bundle = ResolvedBundle.Resolve(files, SpinManifestParser.Parse(files.ManifestText));
        }
        catch (BundleException ex)
        {
            logger.UploadRefused(appName, ex.Message);
            return BundleFailure(ex);
        }
        return await PublishResolvedAsync(app, bundle, activate, uploadedBy, cancellationToken);
    }

    /// <summary>Stores a resolved bundle as one OCI artifact (Spin's layout) and records it.</summary>
    public async Task<PublishOutcome> PublishResolvedAsync(App app, ResolvedBundle bundle, bool activate, string? uploadedBy, CancellationToken cancellationToken)
    {
        var appName = app.Name;
        if (await quotas.CheckStorageAsync(app.TenantId, bundle.TotalBytes, cancellationToken) is { } overQuota)
        {
            logger.UploadRefused(appName, overQuota.Detail);
            return new PublishFailure.QuotaExceeded(overQuota);
        }
        foreach (var component in bundle.Components)
        {
            // The same parser the routers enforce with, so an entry that would never match is refused now.
            if (AppSettingsValidator.ValidateAllowedOutboundHosts(component.AllowedOutboundHosts) is { } hostError)
            {
                logger.UploadRefused(appName, hostError.Detail);
                return new PublishFailure.InvalidAllowedOutboundHosts(component.Id, hostError.Entry, hostError.Detail);
            }
        }
        var precompiled = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var component in bundle.Components)
        {
            if (precompiled.ContainsKey(component.ModuleDigest))
            {
                continue;
            }
            if (KindFailure(component) is { } kindFailure)
            {
                logger.UploadRefused(appName, $"component '{component.Id}' ('{component.Source}'): {kindFailure.GetType().Name}");
                return kindFailure;
            }
            var (refused, artifactBytes) = await CheckModuleAsync(appName, component.Module.ToArray(), $"The module '{component.Source}' of component '{component.Id}'", cancellationToken);
            if (refused is not null)
            {
                return refused;
            }
            precompiled[component.ModuleDigest] = artifactBytes;
        }

        await using var transaction = await BeginUploadAsync(app, cancellationToken);
        var number = await NextNumberAsync(app, cancellationToken);
        var repository = registry.GetRepositoryName(appName);
        OciArtifactPushResult pushed;
        try
        {
            pushed = await registry.PushArtifactAsync(repository, $"v{number}",
                BundleLayout.ToArtifact(bundle, appName, number, clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)),
                cancellationToken);
        }
        catch (Exception ex) when (ex is OciRegistryUnavailableException or OciRegistryException)
        {
            return RegistryFailure(ex, appName);
        }

        var subject = pushed.Manifest;
        var artifacts = new Dictionary<string, (string Reference, string Digest)?>(StringComparer.Ordinal);
        foreach (var (digest, bytes) in precompiled)
        {
            artifacts[digest] = bytes is null ? null : await PushPrecompiledAsync(appName, repository, subject, digest, bytes,
                $"{bundle.Components.First(c => c.ModuleDigest == digest).Id}.cwasm", cancellationToken);
        }

        var primary = bundle.Primary;
        var stored = new VersionBundle
        {
            Name = bundle.Manifest.Application.Name,
            AppVersion = bundle.Manifest.Application.Version,
            Description = bundle.Manifest.Application.Description,
            Routes = [.. bundle.Routes.Select(r => new BundleRoute(r.Route, r.Component))],
            Variables = bundle.Manifest.Variables.Count == 0 ? null
                : bundle.Manifest.Variables.ToDictionary(v => v.Key, v => new BundleVariable(v.Value.Default, v.Value.Required, v.Value.Secret), StringComparer.Ordinal),
            Components = [.. bundle.Components.Select(c => new BundleComponent
            {
                Id = c.Id,
                Source = c.Source,
                ModuleDigest = c.ModuleDigest,
                ModuleSize = c.Module.Length,
                Kind = c.Kind,
                Entrypoint = c.Entrypoint,
                Argv = c.Argv,
                Environment = new Dictionary<string, string>(c.Environment),
                AllowedOutboundHosts = [.. c.AllowedOutboundHosts],
                Files = [.. c.Files.Select(f => new BundleFile(f.GuestPath, f.Digest, f.Content.Length))],
                Variables = c.Variables.Count == 0 ? null : new Dictionary<string, string>(c.Variables, StringComparer.Ordinal),
                PrecompiledDigest = artifacts[c.ModuleDigest]?.Digest,
                PrecompiledReference = artifacts[c.ModuleDigest]?.Reference,
                PrecompiledFingerprint = artifacts[c.ModuleDigest] is null ? null : engine.Fingerprint,
                PrecompiledSignature = SignArtifact(c.ModuleDigest, artifacts[c.ModuleDigest]?.Digest),
            })],
        };
        var primaryArtifact = artifacts[primary.ModuleDigest];
        var version = new AppVersion
        {
            Id = Guid.CreateVersion7(),
            AppId = app.Id,
            Number = number,
            ModuleDigest = primary.ModuleDigest,
            ManifestDigest = pushed.ManifestDigest,
            Repository = repository,
            OciReference = pushed.Reference,
            SizeBytes = bundle.TotalBytes,
            CreatedAt = clock.GetUtcNow(),
            CreatedBy = uploadedBy,
            PrecompiledReference = primaryArtifact?.Reference,
            PrecompiledDigest = primaryArtifact?.Digest,
            PrecompiledFingerprint = primaryArtifact is null ? null : engine.Fingerprint,
            PrecompiledSignature = SignArtifact(primary.ModuleDigest, primaryArtifact?.Digest),
            Bundle = stored,
            SpinManifest = bundle.ManifestText.Length == 0 ? null : bundle.ManifestText,
        };
        return await CommitAsync(app, version, activate, transaction, cancellationToken);
    }

    public static PublishFailure BundleFailure(BundleException ex) => new PublishFailure.BundleRefused(ex.Status, ex.Kind, ex.Title, ex.Message);

    /// <summary>
    /// A trigger's executor and the module's format must agree: Spin runs a trigger without a WAGI executor as a
    /// wasi:http component, and a WAGI executor needs a core module. Components get no files (the host gives them no
    /// preopened directories), so files on one are refused rather than silently missing.
    /// </summary>
    private static PublishFailure? KindFailure(ResolvedComponent component)
    {
        var span = component.Module.Span;
        if (!WasmBinary.HasHeader(span))
        {
            return null; // CheckModuleAsync says "not WebAssembly"
        }
        var isComponent = WasmBinary.IsComponent(span);
        if (component.Kind == ComponentKinds.Http && !isComponent)
        {
            return new PublishFailure.ComponentKindMismatch(component.Id, component.Source, IsComponent: false);
        }
        if (component.Kind == ComponentKinds.Wagi && isComponent)
        {
            return new PublishFailure.ComponentKindMismatch(component.Id, component.Source, IsComponent: true);
        }
        if (isComponent && component.Files.Count > 0)
        {
            return new PublishFailure.UnsupportedComponentFiles(component.Id, component.Files.Count, component.Files[0].GuestPath);
        }
        return null;
    }

    /// <summary>Magic bytes and the validator (which compiles; that compilation becomes the precompiled artifact).</summary>
    private async Task<(PublishFailure? Failure, byte[]? Precompiled)> CheckModuleAsync(string appName, byte[] module, string what, CancellationToken cancellationToken)
    {
        if (!WasmBinary.HasHeader(module))
        {
            logger.UploadRefused(appName, "not a WebAssembly binary");
            return (new PublishFailure.NotWasm(what, WasmBinary.HeadHex(module), module.Length), null);
        }
        // In a child process with CPU, memory and wall-clock limits, killed if the client goes away; the same
        // compilation becomes the precompiled artifact.
        var compiled = await compiler.ValidateAndPrecompileAsync(module, cancellationToken);
        var validation = compiled.Validation;
        if (!validation.IsValid)
        {
            logger.UploadRefused(appName, validation.Error!);
            return (compiled.TooExpensive
                ? (PublishFailure)new PublishFailure.ModuleTooExpensive(what, validation.Error!, compiled.Figures!,
                    compiler.Options.CpuSeconds, compiler.Options.MemoryBytes, compiler.Options.WallSeconds)
                : new PublishFailure.InvalidModule(what, validation.Error!), null);
        }
        return (null, compiled.Precompiled);
    }

    /// <summary>
    /// Uploads to one app are serialised (across control-plane replicas too) by a transaction-scoped advisory lock,
    /// so version numbers and registry tags never race; different apps upload in parallel.
    /// </summary>
    private async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginUploadAsync(App app, CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({app.Id.ToString()}, 0))", cancellationToken);
        return transaction;
    }

    private async Task<int> NextNumberAsync(App app, CancellationToken cancellationToken) =>
        (await db.AppVersions.Where(v => v.AppId == app.Id).MaxAsync(v => (int?)v.Number, cancellationToken) ?? 0) + 1;

    /// <summary>The row is the commit point: the registry already holds everything it refers to.</summary>
    private async Task<PublishOutcome> CommitAsync(App app, AppVersion version, bool activate,
        Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction, CancellationToken cancellationToken)
    {
        // Under the tenant's lock, so parallel uploads to several of its apps cannot together pass its storage quota.
        await quotas.LockAsync(app.TenantId, cancellationToken);
        if (await quotas.CheckStorageAsync(app.TenantId, version.SizeBytes, cancellationToken) is { } overQuota)
        {
            logger.UploadRefused(app.Name, overQuota.Detail);
            return new PublishFailure.QuotaExceeded(overQuota);
        }
        db.AppVersions.Add(version);
        if (activate)
        {
            app.ActiveVersionNumber = version.Number;
            app.DeployedAt = version.CreatedAt;
        }
        app.UpdatedAt = version.CreatedAt;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        logger.VersionPublished(app.Name, version.Number, version.ModuleDigest, version.OciReference);
        if (activate)
        {
            logger.VersionActivated(app.Name, version.Number);
        }
        return PublishOutcome.Published(version, app.ActiveVersionNumber);
    }

    private PublishFailure RegistryFailure(Exception ex, string appName)
    {
        logger.RegistryPushFailed(ex, appName);
        return new PublishFailure.RegistryFailed(ex is OciRegistryUnavailableException, ex.Message);
    }

    /// <summary>
    /// The signature routers check before mapping the artifact as native code: made here, where the artifact was
    /// compiled from the validated module, over (module digest, artifact digest, engine fingerprint). Null without an
    /// artifact or without a signing key (routers then compile the module).
    /// </summary>
    private string? SignArtifact(string moduleDigest, string? artifactDigest) =>
        artifactDigest is null ? null : signer.Sign(moduleDigest, artifactDigest, engine.Fingerprint);

    /// <summary>Pushes a precompiled module as a referrer of the version's manifest; null (logged) when that fails.</summary>
    private async Task<(string Reference, string Digest)?> PushPrecompiledAsync(string appName, string repository, OciDescriptor subject,
        string moduleDigest, byte[] precompiled, string title, CancellationToken cancellationToken)
    {
        try
        {
            var pushed = await registry.PushArtifactAsync(repository, PrecompiledArtifactFormat.TagFor(moduleDigest, engine.Fingerprint), new OciArtifact
            {
                ArtifactType = PrecompiledArtifactFormat.ArtifactType,
                Layers = [new OciBlob(PrecompiledArtifactFormat.LayerMediaType, precompiled, new Dictionary<string, string> { [OciAnnotations.Title] = title })],
                Subject = subject,
                // No timestamp: the same module for the same engine gives the same manifest, so a re-push changes nothing.
                Annotations = new Dictionary<string, string>
                {
                    [PrecompiledArtifactFormat.FingerprintAnnotation] = engine.Fingerprint,
                    [PrecompiledArtifactFormat.EngineAnnotation] = engine.FingerprintDescription,
                    [PrecompiledArtifactFormat.ModuleDigestAnnotation] = moduleDigest,
                },
            }, cancellationToken);
            var layer = pushed.Layers[0].Digest;
            logger.PrecompiledPushed(appName, moduleDigest, engine.Fingerprint, precompiled.Length, pushed.Reference);
            return (pushed.Reference, layer);
        }
        catch (Exception ex) when (ex is OciRegistryException or OciRegistryUnavailableException or HttpRequestException or ArgumentException)
        {
            logger.PrecompiledPushFailed(ex, appName, moduleDigest);
            return null;
        }
    }

}
