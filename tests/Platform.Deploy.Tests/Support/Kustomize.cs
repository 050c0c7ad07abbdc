using System.Collections.Concurrent;
using Platform.Testing;

namespace Platform.Deploy.Tests.Support;

/// <summary>Renders the repository's kustomize overlays with the real <c>kubectl kustomize</c>.</summary>
public static class Kustomize
{
    public static readonly IReadOnlyList<string> Overlays = ["dev", "production"];

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> s_rendered = new();

    /// <summary>The rendered YAML of deploy/k8s/overlays/NAME; rendered once per test run.</summary>
    public static Task<string> RenderAsync(string overlay) =>
        s_rendered.GetOrAdd(overlay, o => new Lazy<Task<string>>(() => RunAsync(RepoPaths.Combine("deploy", "k8s", "overlays", o)))).Value;

    public static async Task<KubernetesManifest> ManifestAsync(string overlay) =>
        KubernetesManifest.Parse(await RenderAsync(overlay), $"kubectl kustomize deploy/k8s/overlays/{overlay}");

    /// <summary>Runs kubectl kustomize on a folder; throws with kubectl's own message when it fails.</summary>
    public static async Task<string> RunAsync(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"No kustomization folder '{directory}'.");
        }
        // Written to a file: kubectl prints warnings on stderr, which the captured console output interleaves.
        var output = Path.Combine(Path.GetTempPath(), $"kustomize-{Guid.NewGuid():N}.yaml");
        try
        {
            (int ExitCode, string Output) result;
            try
            {
                result = await ExternalProcess.RunAsync("kubectl", ["kustomize", directory, "--output", output], timeout: TimeSpan.FromMinutes(2));
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new InvalidOperationException("kubectl is not installed (Debian package 'kubectl'; ./deploy/platform.sh test installs it).", ex);
            }
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"kubectl kustomize {directory} exited with {result.ExitCode}:\n{result.Output}");
            }
            return await File.ReadAllTextAsync(output);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
