using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Platform.Oci;

/// <summary>
/// Client of the OCI distribution API (https://github.com/opencontainers/distribution-spec) over one HttpClient:
/// blobs and manifests, anonymous/basic/bearer-token auth, and digest verification of everything it reads.
/// </summary>
public sealed partial class OciClient : IOciRegistryClient
{
    /// <summary>The distribution spec asks registries to accept manifests of at least 4 MiB; nothing sane is larger.</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    private const int MaxErrorBodyBytes = 64 * 1024;
    private const int MaxTokenResponseBytes = 1024 * 1024;
    private const string NoErrorBody = "(no error body)";

    private readonly HttpClient _http;
    private readonly OciRegistryOptions _options;
    private readonly Uri _baseUri;
    private readonly RegistryAuthState _auth;
    private readonly AuthenticationHeaderValue? _basicCredentials;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates a client for the registry in <paramref name="options"/>; the options are validated here.</summary>
    public OciClient(HttpClient httpClient, OciRegistryOptions options, ILogger<OciClient>? logger = null, TimeProvider? timeProvider = null)
        : this(httpClient, options, new RegistryAuthState(), logger, timeProvider)
    {
    }

    internal OciClient(HttpClient httpClient, OciRegistryOptions options, RegistryAuthState authState, ILogger? logger, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _http = httpClient;
        _options = options;
        _baseUri = new Uri(options.Url.TrimEnd('/') + "/", UriKind.Absolute);
        _auth = authState;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        if (!string.IsNullOrEmpty(options.Username))
        {
            _basicCredentials = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
        }
    }

    /// <inheritdoc />
    public string RegistryHost => _baseUri.Authority;

    /// <summary>The configured repository prefix (may be empty).</summary>
    public string RepositoryPrefix => _options.RepositoryPrefix;

    /// <inheritdoc />
    public string GetRepositoryName(string app)
    {
        OciNames.ValidatePathComponent(app);
        var repository = string.IsNullOrEmpty(_options.RepositoryPrefix) ? app : $"{_options.RepositoryPrefix}/{app}";
        OciNames.ValidateRepository(repository);
        return repository;
    }

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(_baseUri, "v2/")), scope: "", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, "Registry ping", cancellationToken);
        }
    }

    /// <summary>Whether the repository has the blob (HEAD, no download).</summary>
    public Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        OciNames.ValidateDigest(digest);
        return BlobExistsCoreAsync(repository, digest, PullScope(repository), cancellationToken);
    }

    private async Task<bool> BlobExistsCoreAsync(string repository, string digest, string scope, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, BlobUri(repository, digest)), scope, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Checking blob '{digest}' in '{repository}'", cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Uploads a blob unless the repository already has it (checked with HEAD), as one monolithic upload
    /// (POST to open the session, PUT with <c>?digest=</c> to finish it).
    /// </summary>
    public async Task<OciBlobPushResult> PushBlobAsync(string repository, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        var digest = OciDigest.ComputeSha256(content.Span);
        var scope = PushScope(repository);
        if (await BlobExistsCoreAsync(repository, digest, scope, cancellationToken))
        {
            _logger.BlobAlreadyExists(repository, digest);
            return new OciBlobPushResult(digest, content.Length, AlreadyExisted: true);
        }

        Uri uploadUri;
        using (var start = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, new Uri(_baseUri, $"v2/{repository}/blobs/uploads/")) { Content = new ByteArrayContent([]) },
            scope, cancellationToken))
        {
            if (start.StatusCode != HttpStatusCode.Accepted)
            {
                throw await ErrorAsync(start, $"Starting an upload of blob '{digest}' to '{repository}'", cancellationToken);
            }
            var location = start.Headers.Location
                ?? throw new OciRegistryException($"The registry accepted the upload of blob '{digest}' to '{repository}' but sent no Location header.", start.StatusCode);
            uploadUri = BuildUploadCompletionUri(start.RequestMessage?.RequestUri ?? _baseUri, location, digest);
        }

        using var finish = await SendAsync(() =>
        {
            var body = new ReadOnlyMemoryContent(content);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return new HttpRequestMessage(HttpMethod.Put, uploadUri) { Content = body };
        }, scope, cancellationToken);
        if (!finish.IsSuccessStatusCode)
        {
            throw await ErrorAsync(finish, $"Uploading blob '{digest}' ({content.Length} bytes) to '{repository}'", cancellationToken);
        }
        var stored = HeaderDigest(finish);
        if (stored is not null && stored != digest)
        {
            _logger.DigestMismatch(repository, digest, stored);
            throw new OciDigestMismatchException(repository, digest, stored);
        }
        _logger.BlobUploaded(repository, digest, content.Length);
        return new OciBlobPushResult(digest, content.Length, AlreadyExisted: false);
    }

    /// <summary>
    /// Downloads a blob and verifies that it hashes to <paramref name="digest"/>; reading stops at
    /// <paramref name="maxSizeBytes"/> (default <see cref="OciRegistryOptions.MaxBlobSizeBytes"/>).
    /// </summary>
    /// <exception cref="OciDigestMismatchException">The bytes hash to something else.</exception>
    /// <exception cref="OciNotFoundException">The repository has no such blob.</exception>
    /// <exception cref="OciContentTooLargeException">The blob is larger than the limit.</exception>
    public async Task<byte[]> PullBlobAsync(string repository, string digest, long? maxSizeBytes = null, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        OciNames.ValidateDigest(digest);
        var limit = maxSizeBytes ?? _options.MaxBlobSizeBytes;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit, nameof(maxSizeBytes));

        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, BlobUri(repository, digest)),
            PullScope(repository), cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Pulling blob '{digest}' from '{repository}'", cancellationToken);
        }
        using var hasher = OciDigest.CreateHasherFor(digest);
        var bytes = await ReadLimitedAsync(response, limit, hasher, $"Blob '{digest}' in '{repository}'", cancellationToken);
        var actual = OciDigest.Finish(digest, hasher);
        if (actual != digest)
        {
            _logger.DigestMismatch(repository, digest, actual);
            throw new OciDigestMismatchException(repository, digest, actual);
        }
        _logger.BlobPulled(repository, digest, bytes.Length);
        return bytes;
    }

    /// <summary>Serializes and pushes an image manifest under a tag or digest; returns the manifest digest.</summary>
    public Task<string> PushManifestAsync(string repository, string reference, OciManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var bytes = SerializeManifest(manifest);
        return PushManifestAsync(repository, reference, bytes, manifest.MediaType ?? OciMediaTypes.ImageManifest, cancellationToken);
    }

    /// <summary>Pushes manifest bytes exactly as given (their digest is what the registry stores); returns the manifest digest.</summary>
    public async Task<string> PushManifestAsync(string repository, string reference, ReadOnlyMemory<byte> manifestJson, string mediaType, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        OciNames.ValidateReference(reference);
        ArgumentException.ThrowIfNullOrWhiteSpace(mediaType);
        if (manifestJson.Length > MaxManifestBytes)
        {
            throw new ArgumentException($"Manifest for '{repository}:{reference}' is {manifestJson.Length} bytes; registries accept at most {MaxManifestBytes}.", nameof(manifestJson));
        }
        string digest;
        if (OciNames.IsValidDigest(reference))
        {
            digest = OciDigest.ComputeLike(reference, manifestJson.Span);
            if (digest != reference)
            {
                throw new ArgumentException($"Manifest bytes hash to '{digest}', so they cannot be pushed under the digest reference '{reference}'.", nameof(reference));
            }
        }
        else
        {
            digest = OciDigest.ComputeSha256(manifestJson.Span);
        }

        using var response = await SendAsync(() =>
        {
            var body = new ReadOnlyMemoryContent(manifestJson);
            body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, ManifestUri(repository, reference)) { Content = body };
        }, PushScope(repository), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Pushing manifest '{repository}:{reference}'", cancellationToken);
        }
        var stored = HeaderDigest(response);
        if (stored is not null && stored != digest)
        {
            _logger.DigestMismatch(repository, digest, stored);
            throw new OciDigestMismatchException(repository, digest, stored);
        }
        _logger.ManifestPushed(repository, reference, digest);
        return digest;
    }

    /// <inheritdoc />
    /// <exception cref="OciDigestMismatchException">
    /// The reference is a digest (or the registry sent Docker-Content-Digest) and the bytes hash to something else.
    /// </exception>
    public async Task<OciManifestResult> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        OciNames.ValidateReference(reference);
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference),
            PullScope(repository), cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Fetching manifest '{repository}:{reference}'", cancellationToken);
        }
        var bytes = await ReadLimitedAsync(response, MaxManifestBytes, hasher: null, $"Manifest '{repository}:{reference}'", cancellationToken);

        var byDigest = OciNames.IsValidDigest(reference);
        var digest = byDigest ? OciDigest.ComputeLike(reference, bytes) : OciDigest.ComputeSha256(bytes);
        if (byDigest && digest != reference)
        {
            _logger.DigestMismatch(repository, reference, digest);
            throw new OciDigestMismatchException(repository, reference, digest);
        }
        var claimed = HeaderDigest(response);
        if (claimed is not null && OciDigest.ComputeLike(claimed, bytes) != claimed)
        {
            _logger.DigestMismatch(repository, claimed, digest);
            throw new OciDigestMismatchException(repository, claimed, digest);
        }

        var contentType = response.Content.Headers.ContentType?.MediaType;
        OciManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.OciManifest)
                ?? throw new JsonException("the document is null");
        }
        catch (JsonException ex)
        {
            throw new OciRegistryException(
                $"Manifest '{repository}:{reference}' (Content-Type '{contentType}') is not a valid OCI image manifest: {ex.Message}",
                response.StatusCode, innerException: ex);
        }
        var mediaType = manifest.MediaType ?? contentType ?? "";
        if (mediaType != OciMediaTypes.ImageManifest)
        {
            throw new OciRegistryException(
                $"Manifest '{repository}:{reference}' has media type '{mediaType}'; only '{OciMediaTypes.ImageManifest}' is supported.", response.StatusCode);
        }
        _logger.ManifestFetched(repository, reference, digest);
        return new OciManifestResult(manifest, digest, mediaType, bytes);
    }

    /// <inheritdoc />
    public async Task<string?> ResolveTagAsync(string repository, string tag, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        OciNames.ValidateTag(tag);
        using (var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, tag), PullScope(repository), cancellationToken))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw await ErrorAsync(response, $"Resolving tag '{repository}:{tag}'", cancellationToken);
            }
            var digest = HeaderDigest(response);
            if (digest is not null)
            {
                return digest;
            }
        }
        // Docker-Content-Digest is optional on HEAD; the manifest's own hash is authoritative anyway.
        return (await GetManifestAsync(repository, tag, cancellationToken)).Digest;
    }

    /// <summary>
    /// Deletes a manifest by digest (which removes every tag pointing at it). Returns false when it did not exist.
    /// Registries may refuse (distribution answers 405 unless <c>storage.delete.enabled</c>); that throws <see cref="OciRegistryException"/>.
    /// </summary>
    public async Task<bool> DeleteManifestAsync(string repository, string digest, CancellationToken cancellationToken = default)
    {
        OciNames.ValidateRepository(repository);
        OciNames.ValidateDigest(digest);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, ManifestUri(repository, digest)),
            $"repository:{repository}:delete", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Deleting manifest '{repository}@{digest}'", cancellationToken);
        }
        _logger.ManifestDeleted(repository, digest);
        return true;
    }

    internal static byte[] SerializeManifest(OciManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.OciManifest);

    /// <summary>
    /// The URL that completes an upload: the session's Location (relative ones resolve against the POST's URL)
    /// with <c>digest=</c> appended to whatever query (e.g. distribution's <c>_state</c>) it already carries.
    /// </summary>
    internal static Uri BuildUploadCompletionUri(Uri requestUri, Uri location, string digest)
    {
        var absolute = location.IsAbsoluteUri ? location : new Uri(requestUri, location);
        var withoutFragment = absolute.GetLeftPart(UriPartial.Query);
        var separator = absolute.Query.Length == 0 ? "?" : (absolute.Query == "?" ? "" : "&");
        return new Uri(withoutFragment + separator + "digest=" + Uri.EscapeDataString(digest), UriKind.Absolute);
    }

    private static string PullScope(string repository) => $"repository:{repository}:pull";

    private static string PushScope(string repository) => $"repository:{repository}:pull,push";

    private Uri BlobUri(string repository, string digest) => new(_baseUri, $"v2/{repository}/blobs/{digest}");

    private Uri ManifestUri(string repository, string reference) => new(_baseUri, $"v2/{repository}/manifests/{reference}");

    private HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, ManifestUri(repository, reference));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciMediaTypes.ImageManifest));
        return request;
    }

    private static string? HeaderDigest(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Docker-Content-Digest", out var values)
            && values.FirstOrDefault() is { } value
            && OciNames.IsValidDigest(value.Trim())
            ? value.Trim()
            : null;

    private static string Describe(HttpRequestMessage request) =>
        $"{request.Method} {request.RequestUri?.GetLeftPart(UriPartial.Path)}";

    private async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, long limit, IncrementalHash? hasher, string what, CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > limit)
        {
            throw new OciContentTooLargeException($"{what} is {declared} bytes, more than the limit of {limit} bytes.", limit);
        }
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream(declared is > 0 ? (int)declared.Value : 16 * 1024);
            var chunk = new byte[81920];
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    throw new OciContentTooLargeException($"{what} is larger than the limit of {limit} bytes; reading stopped there.", limit);
                }
                hasher?.AppendData(chunk, 0, read);
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var path = response.RequestMessage is { } r ? Describe(r) : what;
            _logger.RegistryUnavailable(response.RequestMessage?.Method.Method ?? "GET", path, ex.Message);
            throw new OciRegistryUnavailableException($"Reading {what} from the registry at '{_baseUri}' failed mid-transfer: {ex.Message}", null, ex);
        }
    }

    private async Task<OciRegistryException> ErrorAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var (code, message) = await ReadRegistryErrorAsync(response, cancellationToken);
        var request = response.RequestMessage;
        _logger.RegistryError(request?.Method.Method ?? "?", request?.RequestUri?.AbsolutePath ?? "?", (int)response.StatusCode, message);
        var text = $"{what} failed: the registry at '{_baseUri}' answered {(int)response.StatusCode} {response.ReasonPhrase} with \"{message}\".";
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => new OciNotFoundException(text, code),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new OciAuthenticationException(text, response.StatusCode, code),
            _ => new OciRegistryException(text, response.StatusCode, code),
        };
    }

    /// <summary>The registry's error JSON as "CODE: message" (or the start of a non-JSON body).</summary>
    private static async Task<(string? Code, string Message)> ReadRegistryErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
            {
                total += read;
            }
            body = Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
        {
            body = "";
        }
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, NoErrorBody);
        }
        try
        {
            var parsed = JsonSerializer.Deserialize(body, OciJsonContext.Default.RegistryErrorResponse);
            if (parsed?.Errors is { Count: > 0 } errors)
            {
                return (errors[0].Code, string.Join("; ", errors.Select(e => $"{e.Code}: {e.Message}")));
            }
        }
        catch (JsonException)
        {
            // Not the distribution error format (e.g. a proxy's HTML page): quote the start of it instead.
        }
        body = body.Trim();
        return (null, body.Length > 300 ? body[..300] + "..." : body);
    }
}
