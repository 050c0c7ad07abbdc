using System.ComponentModel.DataAnnotations;

namespace Platform.Oci;

/// <summary>Where the OCI registry is and how to authenticate to it. Bound from <c>Platform:Registry</c>.</summary>
public sealed class OciRegistryOptions : IValidatableObject
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Platform:Registry";

    /// <summary>Base URL of the registry, e.g. <c>http://127.0.0.1:5000</c> or <c>https://ghcr.io</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Url { get; set; } = "";

    /// <summary>User for basic auth or for the token service; empty for anonymous access.</summary>
    public string? Username { get; set; }

    /// <summary>Password or access token that goes with <see cref="Username"/>.</summary>
    public string? Password { get; set; }

    /// <summary>First path component(s) of every app repository: apps live in <c>{prefix}/{app}</c>. Empty means no prefix.</summary>
    [RegularExpression(@"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*)?$",
        ErrorMessage = "RepositoryPrefix must be lowercase path components of the OCI repository grammar, e.g. 'apps' or 'team/apps'.")]
    public string RepositoryPrefix { get; set; } = "apps";

    /// <summary>Timeout of one HTTP request to the registry or its token service.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Largest blob a pull reads before giving up; protects routers from a hostile or broken registry.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxBlobSizeBytes { get; set; } = 256L * 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            yield break; // [Required] already reports it.
        }
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return new ValidationResult($"Url '{Url}' must be an absolute http:// or https:// URL, e.g. 'http://127.0.0.1:5000'.", [nameof(Url)]);
        }
        else if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            // The distribution API lives at /v2/ of the host; credentials belong in Username/Password, never in the URL.
            yield return new ValidationResult($"Url '{RedactUserInfo(uri)}' must be just scheme, host and port (no path, query or user info).", [nameof(Url)]);
        }
        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult("Username and Password must be set together (or both left empty for anonymous access).", [nameof(Username), nameof(Password)]);
        }
    }

    private static string RedactUserInfo(Uri uri) =>
        uri.UserInfo.Length == 0 ? uri.OriginalString : new UriBuilder(uri) { UserName = "***", Password = "" }.Uri.ToString();
}
