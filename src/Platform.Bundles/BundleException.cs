namespace Platform.Bundles;

/// <summary>
/// A bundle that cannot be deployed: <see cref="Kind"/> is the problem type's last segment, the message names the
/// offending value. Thrown while reading and resolving; the publisher turns it into a problem response.
/// </summary>
public sealed class BundleException(int status, string kind, string title, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Kind { get; } = kind;
    public string Title { get; } = title;

    public static BundleException Invalid(string kind, string title, string message) => new(422, kind, title, message);

    public static BundleException Unsupported(string key, string message) =>
        new(422, "unsupported-manifest-key", "Unsupported manifest key", message + $" (key '{key}')");
}
