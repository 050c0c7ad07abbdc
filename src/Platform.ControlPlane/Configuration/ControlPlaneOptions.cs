using System.ComponentModel.DataAnnotations;

namespace Platform.ControlPlane.Configuration;

/// <summary>The control plane's own host settings (section <c>Platform:ControlPlane</c>).</summary>
public sealed class ControlPlaneHostOptions
{
    public const string Section = "Platform:ControlPlane";

    /// <summary>Where the API, the dashboard and the OpenAPI document listen.</summary>
    [Required, Url]
    public string Url { get; set; } = "http://127.0.0.1:5080";

    public static ControlPlaneHostOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<ControlPlaneHostOptions>() ?? new();
}

public sealed class AuthOptions
{
    public const string Section = "Platform:Auth";

    /// <summary>Bootstrap admin key; also read from PLATFORM_ADMIN_KEY. Kept in memory as a hash only.</summary>
    [Required(ErrorMessage = "An admin key is required: set PLATFORM_ADMIN_KEY (or Platform__Auth__AdminKey).")]
    [MinLength(16, ErrorMessage = "The admin key must be at least 16 characters long.")]
    public string AdminKey { get; set; } = "";

    /// <summary>Token routers present to read the routing table; also read from PLATFORM_ROUTER_TOKEN.</summary>
    [MinLength(16, ErrorMessage = "The router token must be at least 16 characters long.")]
    public string? RouterToken { get; set; }
}

public sealed class AppsOptions
{
    public const string Section = "Platform:Apps";

    /// <summary>Apps are served at {app}.{Domain}.</summary>
    [Required]
    public string Domain { get; set; } = "apps.localhost";

    /// <summary>Public URL of an app; {app} is replaced by its name.</summary>
    [Required]
    [RegularExpression(@".*\{app\}.*", ErrorMessage = "Platform:Apps:PublicUrlTemplate must contain '{app}'.")]
    public string PublicUrlTemplate { get; set; } = "http://{app}.apps.localhost:8080/";

    /// <summary>Largest module an upload may carry.</summary>
    [Range(1024, 1L << 31)]
    public long MaxModuleBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Uploads read, validated and pushed at once; each holds its module in memory (up to <see cref="MaxModuleBytes"/>).</summary>
    [Range(1, 256)]
    public int MaxConcurrentUploads { get; set; } = 2;

    /// <summary>How long an upload waits for its turn before it is answered 503.</summary>
    [Range(1, 3600)]
    public int UploadQueueSeconds { get; set; } = 120;

    /// <summary>Platform-wide defaults for apps that set no limit of their own.</summary>
    [Range(1, 4096)]
    public int DefaultMemoryLimitMb { get; set; } = 128;

    [Range(1, 900)]
    public int DefaultTimeoutSeconds { get; set; } = 30;

    /// <summary>CPU time one request may use, measured on the thread that runs it (sleeping does not count).</summary>
    [Range(1, 900_000)]
    public int DefaultCpuTimeLimitMs { get; set; } = 10_000;

    public string PublicUrl(string app) => PublicUrlTemplate.Replace("{app}", app, StringComparison.Ordinal);
}
