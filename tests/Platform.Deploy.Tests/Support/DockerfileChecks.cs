using System.Text.RegularExpressions;
using System.Xml.Linq;
using Platform.Testing;

namespace Platform.Deploy.Tests.Support;

/// <summary>Rules for deploy/docker/*.Dockerfile and the repository's .dockerignore.</summary>
public static partial class DockerfileChecks
{
    public const string SdkImage = "mcr.microsoft.com/dotnet/sdk:10.0";
    public const string AspNetImage = "mcr.microsoft.com/dotnet/aspnet:10.0";
    public const string RuntimeImage = "mcr.microsoft.com/dotnet/runtime:10.0";

    /// <summary>Violations of one image's Dockerfile text (the file's path is only used in messages).</summary>
    public static IReadOnlyList<string> Check(PlatformImage image, string text, DockerIgnore ignore)
    {
        var problems = new List<string>();
        var where = image.Dockerfile;
        Dockerfile file;
        try
        {
            file = Dockerfile.Parse(text, where);
        }
        catch (InvalidDataException ex)
        {
            return [ex.Message];
        }

        // Build: the SDK image, restore from the project files alone, then sources, then publish.
        var build = file.Stages.LastOrDefault(s => s.All("RUN").Any(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal)));
        if (build is null)
        {
            problems.Add($"{where}: no stage runs 'dotnet publish'");
        }
        else
        {
            if (build.Image != SdkImage)
            {
                problems.Add($"{where}: the build stage starts FROM '{build.Image}', expected {SdkImage}");
            }
            var publish = build.All("RUN").First(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
            if (!publish.Arguments.Contains($"dotnet publish {image.Project}", StringComparison.Ordinal))
            {
                problems.Add($"{where} {publish}: expected 'dotnet publish {image.Project}'");
            }
            if (!Regex.IsMatch(publish.Arguments, @"(-c|--configuration)\s+Release\b"))
            {
                problems.Add($"{where} {publish}: expected '-c Release'");
            }
            var restore = build.All("RUN").FirstOrDefault(r => r.Arguments.Contains($"dotnet restore {image.Project}", StringComparison.Ordinal));
            var copySources = build.All("COPY").FirstOrDefault(c => !c.Arguments.Contains("--from", StringComparison.Ordinal) && Regex.IsMatch(c.Arguments, @"^\.\s+\.?/?$|^\.\s+\S+$"));
            if (restore is null)
            {
                problems.Add($"{where}: the build stage never runs 'dotnet restore {image.Project}' on its own");
            }
            else if (copySources is null || copySources.Line < restore.Line)
            {
                problems.Add($"{where}: 'dotnet restore' ({restore}) must run before the sources are copied ({copySources?.ToString() ?? "no COPY . ."}), so the restore layer survives source edits");
            }
            else if (!RestoreInputsCopied(file, build, restore))
            {
                problems.Add($"{where}: before {restore}, copy Directory.Packages.props, Directory.Build.props and the project files (central package versions decide what restore fetches)");
            }
            if (!publish.Arguments.Contains("--no-restore", StringComparison.Ordinal))
            {
                problems.Add($"{where} {publish}: expected '--no-restore' (restore already ran in its own layer)");
            }
        }

        // Runtime: the ASP.NET image (or plain runtime when nothing needs ASP.NET Core), non-root, the right ports.
        var final = file.Final;
        var needsAspNet = NeedsAspNetCore(RepoPaths.Combine(image.Project));
        if (final.Image != AspNetImage && !(final.Image == RuntimeImage && !needsAspNet))
        {
            problems.Add($"{where}: the final stage is FROM '{final.Image}', expected {AspNetImage}" + (needsAspNet ? " (the project uses ASP.NET Core)" : $" or {RuntimeImage}"));
        }
        var user = final.All("USER").LastOrDefault()?.Arguments;
        if (user is null)
        {
            problems.Add($"{where}: the final stage has no USER, so the container runs as root");
        }
        else if (user is "root" or "0" or "0:0" || user.StartsWith("root:", StringComparison.Ordinal) || user.StartsWith("0:", StringComparison.Ordinal))
        {
            problems.Add($"{where}: USER '{user}' is root");
        }
        else if (user is not ("$APP_UID" or "${APP_UID}" or "app" or "1654") && !int.TryParse(user, out _))
        {
            problems.Add($"{where}: USER '{user}' is not the image's unprivileged user ($APP_UID, 1654)");
        }
        var exposed = final.All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.TryParse(p.Split('/')[0], out var n) ? n : -1).Order().ToList();
        if (!exposed.SequenceEqual(image.ExposedPorts.Order()))
        {
            problems.Add($"{where}: EXPOSE [{string.Join(", ", exposed)}], expected [{string.Join(", ", image.ExposedPorts.Order())}]");
        }
        var entrypoint = final.All("ENTRYPOINT").LastOrDefault();
        var words = entrypoint is null ? null : Dockerfile.ExecForm(entrypoint.Arguments);
        var assembly = AssemblyName(RepoPaths.Combine(image.Project)) ?? image.Assembly;
        if (words is not ["dotnet", var dll] || dll != assembly + ".dll")
        {
            problems.Add($"{where}: ENTRYPOINT is '{entrypoint?.Arguments ?? "missing"}', expected [\"dotnet\", \"{assembly}.dll\"] (exec form, so SIGTERM reaches the process)");
        }

        // Files copied from the build context must exist and must not be kept out by .dockerignore.
        foreach (var copy in file.Stages.SelectMany(s => s.All("COPY").Concat(s.All("ADD"))).Where(c => !c.Arguments.Contains("--from", StringComparison.Ordinal)))
        {
            var parts = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (var sourcePath in parts.Take(parts.Count - 1).Where(p => p != "." && !p.Contains('*')))
            {
                if (!File.Exists(RepoPaths.Combine(sourcePath)) && !Directory.Exists(RepoPaths.Combine(sourcePath)))
                {
                    problems.Add($"{where} {copy}: '{sourcePath}' does not exist in the repository");
                }
                else if (ignore.ExcludedBy(sourcePath) is { } pattern)
                {
                    problems.Add($"{where} {copy}: '{sourcePath}' is excluded from the build context by .dockerignore pattern '{pattern}'");
                }
            }
        }

        var env = Dockerfile.Env(final);
        if (image == PlatformLayout.Router)
        {
            problems.AddRange(RouterRuntime(where, final, env));
        }
        if (image == PlatformLayout.ControlPlane)
        {
            problems.AddRange(ExpectEnv(where, env, "Platform__ControlPlane__Url", $"http://0.0.0.0:{PlatformLayout.ControlPlanePort}"));
        }
        return problems;
    }

    private static IEnumerable<string> RouterRuntime(string where, DockerStage final, IReadOnlyDictionary<string, string> env)
    {
        foreach (var problem in ExpectEnv(where, env, "Platform__Router__Url", $"http://0.0.0.0:{PlatformLayout.RouterPort}")
            .Concat(ExpectEnv(where, env, "Platform__Router__ManagementUrl", $"http://0.0.0.0:{PlatformLayout.RouterManagementPort}"))
            .Concat(ExpectEnv(where, env, "Platform__Router__CacheDirectory", PlatformLayout.RouterCacheDirectory))
            .Concat(ExpectEnv(where, env, "Platform__Router__StateDirectory", PlatformLayout.RouterStateDirectory)))
        {
            yield return problem;
        }
        var volumes = final.All("VOLUME").SelectMany(v => Dockerfile.ExecForm(v.Arguments) ?? v.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        foreach (var folder in new[] { PlatformLayout.RouterCacheDirectory, PlatformLayout.RouterStateDirectory })
        {
            if (!volumes.Contains(folder))
            {
                yield return $"{where}: VOLUME [{string.Join(", ", volumes)}] does not include '{folder}'";
            }
            // The folder must exist and belong to the app user before USER, or a fresh volume is root-owned.
            var user = final.All("USER").LastOrDefault()?.Line ?? int.MaxValue;
            if (!final.All("RUN").Any(r => r.Line < user && r.Arguments.Contains("chown", StringComparison.Ordinal) && r.Arguments.Contains(folder, StringComparison.Ordinal)))
            {
                yield return $"{where}: '{folder}' is not created and given to the app user (chown) before USER";
            }
        }
    }

    private static IEnumerable<string> ExpectEnv(string where, IReadOnlyDictionary<string, string> env, string key, string expected)
    {
        var actual = env.GetValueOrDefault(key);
        if (actual != expected)
        {
            yield return $"{where}: ENV {key} is '{actual ?? "unset"}', expected '{expected}'";
        }
    }

    /// <summary>
    /// True when the build stage's restore sees the project files and central package settings: copied directly,
    /// or from an earlier stage that keeps exactly those files.
    /// </summary>
    private static bool RestoreInputsCopied(Dockerfile file, DockerStage build, DockerInstruction restore)
    {
        var copies = build.All("COPY").Where(c => c.Line < restore.Line).ToList();
        if (copies.Any(c => c.Arguments.Contains("Directory.Packages.props", StringComparison.Ordinal)) &&
            copies.Any(c => c.Arguments.Contains(".csproj", StringComparison.Ordinal)))
        {
            return true;
        }
        foreach (var copy in copies)
        {
            var from = Regex.Match(copy.Arguments, @"--from=(\S+)");
            var stage = from.Success ? file.Stages.FirstOrDefault(s => s.Name == from.Groups[1].Value) : null;
            if (stage is not null && stage.All("RUN").Any(r =>
                    r.Arguments.Contains("*.csproj", StringComparison.Ordinal) &&
                    r.Arguments.Contains("Directory.Packages.props", StringComparison.Ordinal) &&
                    r.Arguments.Contains("Directory.Build.props", StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when the project or anything it references needs the ASP.NET Core shared framework.</summary>
    public static bool NeedsAspNetCore(string projectPath, HashSet<string>? seen = null)
    {
        seen ??= [];
        var full = Path.GetFullPath(projectPath);
        if (!seen.Add(full) || !File.Exists(full))
        {
            return false;
        }
        var doc = XDocument.Load(full);
        if ((string?)doc.Root?.Attribute("Sdk") == "Microsoft.NET.Sdk.Web" ||
            doc.Descendants("FrameworkReference").Any(f => (string?)f.Attribute("Include") == "Microsoft.AspNetCore.App"))
        {
            return true;
        }
        return doc.Descendants("ProjectReference")
            .Select(r => (string?)r.Attribute("Include"))
            .OfType<string>()
            .Any(r => NeedsAspNetCore(Path.Combine(Path.GetDirectoryName(full)!, r.Replace('\\', '/')), seen));
    }

    private static string? AssemblyName(string projectPath) =>
        File.Exists(projectPath) ? XDocument.Load(projectPath).Descendants("AssemblyName").Select(e => e.Value).FirstOrDefault() : null;

    /// <summary>What .dockerignore must keep out of (and let into) the build context.</summary>
    public static IReadOnlyList<string> CheckIgnore(DockerIgnore ignore)
    {
        var problems = new List<string>();
        foreach (var path in new[] { "src/Platform.Router/bin/Release/x.dll", "src/Platform.Router/obj/project.assets.json", ".git/config", ".env", "deploy/compose/platform.env", "web/node_modules/x/index.js" })
        {
            if (ignore.ExcludedBy(path) is null)
            {
                problems.Add($".dockerignore lets '{path}' into the build context");
            }
        }
        var needed = PlatformLayout.Images.SelectMany(i => new[] { i.Project, Path.GetDirectoryName(i.Project)!.Replace('\\', '/') + "/Program.cs" })
            .Concat(["Directory.Packages.props", "Directory.Build.props", "global.json", "web/src/index.html", "web/build.mjs", "deploy/docker/healthcheck.sh"]);
        foreach (var path in needed)
        {
            if (ignore.ExcludedBy(path) is { } pattern)
            {
                problems.Add($".dockerignore pattern '{pattern}' keeps '{path}' out of the build context");
            }
        }
        return problems;
    }

}
