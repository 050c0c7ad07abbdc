namespace Platform.Deploy.Tests.Support;

/// <summary>One container image of the platform and where it comes from.</summary>
public sealed record PlatformImage(string Name, string Dockerfile, string Project, string Assembly, IReadOnlyList<int> ExposedPorts)
{
    public override string ToString() => Name;
}

/// <summary>
/// The names, ports and paths every deployment artifact must agree on, defined once: the Dockerfiles, the
/// compose file and the Kubernetes manifests are all checked against these.
/// </summary>
public static class PlatformLayout
{
    public const string Namespace = "platform";

    public const int ControlPlanePort = 5080;
    public const int RouterPort = 8080;
    public const int RouterManagementPort = 9090;
    public const int PostgresPort = 5432;
    public const int ProxyPort = 8080;

    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";

    /// <summary>Workload, Service and <c>app.kubernetes.io/name</c> label of each platform process.</summary>
    public const string ControlPlaneName = "controlplane";
    public const string RouterName = "router";
    public const string MigrationsName = "migrations";

    public const string RouterCacheDirectory = "/var/cache/platform/router";
    public const string RouterStateDirectory = "/var/lib/platform/router";

    /// <summary>Seconds an in-flight app request may still run after SIGTERM when nothing else is configured.</summary>
    public const int DefaultRequestWallSeconds = 30;

    public static readonly PlatformImage ControlPlane = new(
        "platform/controlplane", "deploy/docker/controlplane.Dockerfile",
        "src/Platform.ControlPlane/Platform.ControlPlane.csproj", "Platform.ControlPlane", [ControlPlanePort]);

    public static readonly PlatformImage Router = new(
        "platform/router", "deploy/docker/router.Dockerfile",
        "src/Platform.Router/Platform.Router.csproj", "Platform.Router", [RouterPort, RouterManagementPort]);

    public static readonly PlatformImage Migrations = new(
        "platform/migrations", "deploy/docker/migrations.Dockerfile",
        "migrations/Platform.Migrations/Platform.Migrations.csproj", "Platform.Migrations", []);

    public static readonly IReadOnlyList<PlatformImage> Images = [ControlPlane, Router, Migrations];

    /// <summary>The repository part of an image reference: registry host and path, without tag or digest.</summary>
    public static string ImageRepository(string reference)
    {
        var at = reference.IndexOf('@');
        if (at >= 0)
        {
            reference = reference[..at];
        }
        var colon = reference.LastIndexOf(':');
        return colon > reference.LastIndexOf('/') ? reference[..colon] : reference;
    }

    /// <summary>The tag of an image reference, or null when it has none.</summary>
    public static string? ImageTag(string reference)
    {
        var at = reference.IndexOf('@');
        if (at >= 0)
        {
            reference = reference[..at];
        }
        var colon = reference.LastIndexOf(':');
        return colon > reference.LastIndexOf('/') ? reference[(colon + 1)..] : null;
    }

    /// <summary>The platform image an image reference names, whatever registry it is pulled from; null for others.</summary>
    public static PlatformImage? ImageFor(string reference)
    {
        var repository = ImageRepository(reference);
        return Images.FirstOrDefault(i => repository == i.Name || repository.EndsWith("/" + i.Name, StringComparison.Ordinal));
    }
}
