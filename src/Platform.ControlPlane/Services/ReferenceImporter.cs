using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Bundles;
using Platform.Data;
using Platform.Oci;

namespace Platform.ControlPlane.Services;

/// <summary>
/// Deploy by reference: pulls a Spin app artifact (config <see cref="BundleLayout.SpinConfigMediaType"/>) or a
/// single-Wasm artifact from another registry, verifies every blob by digest, and hands it to the publisher, which
/// validates it and pushes it into the platform's own repository. After that the outside registry is never needed.
/// </summary>
public sealed partial class ReferenceImporter(
    PlatformDbContext db,
    VersionPublisher publisher,
    IHttpClientFactory httpClients,
    IOptions<BundleOptions> options,
    ILoggerFactory loggers,
    ILogger<ReferenceImporter> logger)
{
    public const string HttpClientName = "Platform.Oci.Reference";

    private static readonly string[] s_wasmLayerTypes = [OciMediaTypes.WasmLayer, BundleLayout.WasmLayerMediaType];

    public async Task<PublishOutcome> ImportAsync(string appName, string reference, bool activate, string? uploadedBy, CancellationToken cancellationToken)
    {
        var app = await db.Apps.FirstOrDefaultAsync(a => a.Name == appName, cancellationToken);
        if (app is null)
        {
            return new PublishFailure.AppNotFound(appName);
        }
        if (!TryParse(reference, out var host, out var repository, out var tagOrDigest, out var error))
        {
            return new PublishFailure.InvalidReference(reference, error);
        }
        var plain = options.Value.PlainHttpRegistries.Any(h => string.Equals(h, host, StringComparison.OrdinalIgnoreCase)
            || string.Equals(h, host.Split(':')[0], StringComparison.OrdinalIgnoreCase) && !host.StartsWith('['));
        var client = new OciClient(httpClients.CreateClient(HttpClientName),
            new OciRegistryOptions { Url = $"{(plain ? "http" : "https")}://{host}", RepositoryPrefix = "" },
            loggers.CreateLogger<OciClient>());
        logger.Importing(appName, reference);
        try
        {
            var manifest = await client.GetManifestAsync(repository, tagOrDigest, cancellationToken);
            var limit = options.Value.MaxUnpackedBytes;
            if (manifest.Manifest.Config.MediaType == BundleLayout.SpinConfigMediaType)
            {
                var config = await client.PullBlobAsync(repository, manifest.Manifest.Config.Digest, options.Value.MaxManifestBytes * 4L, cancellationToken);
                var locked = LockedAppReader.Read(config);
                var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                long total = 0;
                foreach (var digest in locked.Components.SelectMany(c => c.Files.Select(f => f.Digest).Prepend(c.ModuleDigest)).Distinct(StringComparer.Ordinal))
                {
                    if (!OciNames.IsValidDigest(digest))
                    {
                        throw BundleException.Invalid("invalid-artifact", "Invalid Spin artifact", $"The locked app refers to '{digest}', which is not a digest.");
                    }
                    var blob = await client.PullBlobAsync(repository, digest, Math.Max(1, limit - total), cancellationToken);
                    total += blob.Length;
                    blobs[digest] = blob;
                }
                var text = "";
                if (manifest.Manifest.Layers.FirstOrDefault(l => l.MediaType == BundleLayout.ManifestLayerMediaType) is { } toml)
                {
                    text = System.Text.Encoding.UTF8.GetString(await client.PullBlobAsync(repository, toml.Digest, options.Value.MaxManifestBytes, cancellationToken));
                }
                return await publisher.PublishResolvedAsync(app, ResolvedBundle.FromLocked(locked, blobs, text), activate, uploadedBy, cancellationToken);
            }
            var wasm = manifest.Manifest.Layers.Where(l => s_wasmLayerTypes.Contains(l.MediaType)).ToList();
            if (wasm.Count != 1)
            {
                return new PublishFailure.ReferenceNotWasm(reference, manifest.Manifest.Config.MediaType, [.. manifest.Manifest.Layers.Select(l => l.MediaType)]);
            }
            var module = await client.PullBlobAsync(repository, wasm[0].Digest, limit, cancellationToken);
            return await publisher.PublishAsync(appName, module, activate, uploadedBy, cancellationToken);
        }
        catch (BundleException ex)
        {
            logger.UploadRefused(appName, ex.Message);
            return VersionPublisher.BundleFailure(ex);
        }
        catch (OciNotFoundException ex)
        {
            return new PublishFailure.ReferenceNotFound(reference, ex.Message);
        }
        catch (OciContentTooLargeException ex)
        {
            return new PublishFailure.ReferenceTooLarge(reference, ex.Message);
        }
        catch (Exception ex) when (ex is OciRegistryException or OciRegistryUnavailableException or HttpRequestException)
        {
            logger.ImportFailed(ex, appName, reference);
            return new PublishFailure.ReferenceUnavailable(reference, ex.Message);
        }
    }

    /// <summary><c>host[:port]/repository(:tag|@digest)</c>; the tag defaults to <c>latest</c>, as docker and spin do.</summary>
    internal static bool TryParse(string reference, out string host, out string repository, out string tagOrDigest, out string error)
    {
        host = repository = tagOrDigest = "";
        var slash = reference.IndexOf('/');
        if (slash <= 0)
        {
            error = "it needs a registry host, e.g. 'registry.example.com/team/app:v1'";
            return false;
        }
        host = reference[..slash];
        if (!host.Contains('.') && !host.Contains(':') && host != "localhost")
        {
            error = $"'{host}' is not a registry host (a host needs a '.' or a port, or is 'localhost')";
            return false;
        }
        var rest = reference[(slash + 1)..];
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            repository = rest[..at];
            tagOrDigest = rest[(at + 1)..];
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            repository = colon < 0 ? rest : rest[..colon];
            tagOrDigest = colon < 0 ? "latest" : rest[(colon + 1)..];
        }
        if (!OciNames.IsValidRepository(repository))
        {
            error = $"'{repository}' is not a repository name";
            return false;
        }
        if (!OciNames.IsValidReference(tagOrDigest))
        {
            error = $"'{tagOrDigest}' is neither a tag nor a sha256 digest";
            return false;
        }
        error = "";
        return true;
    }

}
