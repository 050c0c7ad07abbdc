using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Deploy.Tests.Support;

/// <summary>
/// The rules every rendered overlay must follow. Each check returns human-readable violations that quote the
/// offending object and value; an empty list means the manifests pass.
/// </summary>
public static partial class KubernetesChecks
{
    public static IReadOnlyList<string> All(KubernetesManifest m) =>
    [
        .. Namespaces(m), .. PodSecurity(m), .. Resources(m), .. Probes(m), .. Images(m), .. Settings(m), .. Services(m),
        .. RouterHasNoDatabaseAccess(m), .. GracefulShutdown(m), .. Autoscaling(m), .. DisruptionBudgets(m),
        .. NetworkPolicyChecks(m), .. Ingresses(m), .. MigrationJob(m),
    ];

    private static readonly HashSet<string> s_clusterScopedKinds =
        ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass", "IngressClass", "PersistentVolume"];

    public static PodGroup? ControlPlane(KubernetesManifest m) => m.Workload("Deployment", PlatformLayout.ControlPlaneName);
    public static PodGroup? Router(KubernetesManifest m) => m.Workload("Deployment", PlatformLayout.RouterName);
    public static PodGroup? MigrationsJob(KubernetesManifest m) => m.Workload("Job", PlatformLayout.MigrationsName);

    private static Dictionary<string, object?>? MainContainer(PodGroup group) =>
        group.Containers.FirstOrDefault(c => c.Text("name") == group.Owner.Name) ?? group.Containers.FirstOrDefault();

    public static IEnumerable<string> Namespaces(KubernetesManifest m)
    {
        if (m.Find("Namespace", PlatformLayout.Namespace) is null)
        {
            yield return $"no Namespace '{PlatformLayout.Namespace}' in the manifests";
        }
        foreach (var o in m.Objects.Where(o => !s_clusterScopedKinds.Contains(o.Kind) && o.Namespace != PlatformLayout.Namespace))
        {
            yield return $"{o} is in namespace '{o.Namespace}', expected '{PlatformLayout.Namespace}'";
        }
    }

    public static IEnumerable<string> PodSecurity(KubernetesManifest m)
    {
        foreach (var g in m.PodGroups().Where(g => g.PodSpec is not null))
        {
            var pod = g.PodSpec.Map("securityContext");
            if (!pod.IsTrue("runAsNonRoot"))
            {
                yield return $"{g}: pod securityContext.runAsNonRoot is '{pod.Text("runAsNonRoot") ?? "unset"}', expected true";
            }
            if (pod.Text("seccompProfile", "type") != "RuntimeDefault")
            {
                yield return $"{g}: pod securityContext.seccompProfile.type is '{pod.Text("seccompProfile", "type") ?? "unset"}', expected RuntimeDefault";
            }
            if (pod.Text("runAsUser") == "0")
            {
                yield return $"{g}: pod securityContext.runAsUser is 0 (root)";
            }
            foreach (var c in g.AllContainers)
            {
                var where = $"{g} container '{c.Text("name")}'";
                var sc = c.Map("securityContext");
                if (!sc.IsTrue("runAsNonRoot"))
                {
                    yield return $"{where}: securityContext.runAsNonRoot is '{sc.Text("runAsNonRoot") ?? "unset"}', expected true";
                }
                if (sc.Text("runAsUser") == "0")
                {
                    yield return $"{where}: securityContext.runAsUser is 0 (root)";
                }
                if (!sc.IsTrue("readOnlyRootFilesystem"))
                {
                    yield return $"{where}: securityContext.readOnlyRootFilesystem is '{sc.Text("readOnlyRootFilesystem") ?? "unset"}', expected true";
                }
                if (!sc.IsFalse("allowPrivilegeEscalation"))
                {
                    yield return $"{where}: securityContext.allowPrivilegeEscalation is '{sc.Text("allowPrivilegeEscalation") ?? "unset"}', expected false";
                }
                if (sc.IsTrue("privileged"))
                {
                    yield return $"{where}: securityContext.privileged is true";
                }
                var drop = sc.Items("capabilities", "drop").OfType<string>().ToList();
                if (!drop.Contains("ALL"))
                {
                    yield return $"{where}: securityContext.capabilities.drop is [{string.Join(", ", drop)}], expected to contain ALL";
                }
                var add = sc.Items("capabilities", "add").OfType<string>().ToList();
                if (add.Count > 0)
                {
                    yield return $"{where}: securityContext.capabilities.add is [{string.Join(", ", add)}], expected none";
                }
                if (sc.Text("seccompProfile", "type") != "RuntimeDefault")
                {
                    yield return $"{where}: securityContext.seccompProfile.type is '{sc.Text("seccompProfile", "type") ?? "unset"}', expected RuntimeDefault";
                }
            }
        }
    }

    public static IEnumerable<string> Resources(KubernetesManifest m)
    {
        foreach (var g in m.PodGroups().Where(g => g.PodSpec is not null))
        {
            foreach (var c in g.AllContainers)
            {
                var where = $"{g} container '{c.Text("name")}'";
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    var request = c.Text("resources", "requests", resource);
                    var limit = c.Text("resources", "limits", resource);
                    if (request is null)
                    {
                        yield return $"{where}: no resources.requests.{resource}";
                    }
                    if (limit is null)
                    {
                        yield return $"{where}: no resources.limits.{resource}";
                    }
                    if (request is not null && limit is not null)
                    {
                        var (r, l) = (Quantity(request), Quantity(limit));
                        if (r is null || l is null)
                        {
                            yield return $"{where}: {resource} request '{request}' or limit '{limit}' is not a Kubernetes quantity";
                        }
                        else if (r > l)
                        {
                            yield return $"{where}: {resource} request '{request}' is above its limit '{limit}'";
                        }
                    }
                }
            }
        }
    }

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)(?<s>m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$")]
    private static partial Regex QuantityPattern();

    /// <summary>A Kubernetes resource quantity ("500m", "2Gi", "1") as a number; null when malformed.</summary>
    public static decimal? Quantity(string text)
    {
        var match = QuantityPattern().Match(text);
        if (!match.Success)
        {
            return null;
        }
        var n = decimal.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        return n * match.Groups["s"].Value switch
        {
            "" => 1m,
            "m" => 0.001m,
            "k" => 1e3m,
            "M" => 1e6m,
            "G" => 1e9m,
            "T" => 1e12m,
            "P" => 1e15m,
            "E" => 1e18m,
            "Ki" => 1024m,
            "Mi" => 1024m * 1024,
            "Gi" => 1024m * 1024 * 1024,
            "Ti" => 1024m * 1024 * 1024 * 1024,
            "Pi" => 1024m * 1024 * 1024 * 1024 * 1024,
            _ => 1024m * 1024 * 1024 * 1024 * 1024 * 1024,
        };
    }

    public static IEnumerable<string> Probes(KubernetesManifest m)
    {
        foreach (var g in m.PodGroups().Where(g => g.Owner.Kind is "Deployment" or "StatefulSet"))
        {
            foreach (var c in g.Containers)
            {
                foreach (var probe in new[] { "livenessProbe", "readinessProbe" })
                {
                    var p = c.Map(probe);
                    if (p is null || !(p.ContainsKey("httpGet") || p.ContainsKey("tcpSocket") || p.ContainsKey("exec") || p.ContainsKey("grpc")))
                    {
                        yield return $"{g} container '{c.Text("name")}': no {probe}";
                    }
                }
            }
        }
        foreach (var message in ExpectHealthProbes(ControlPlane(m), PlatformLayout.ControlPlanePort))
        {
            yield return message;
        }
        foreach (var message in ExpectHealthProbes(Router(m), PlatformLayout.RouterManagementPort))
        {
            yield return message;
        }
    }

    private static IEnumerable<string> ExpectHealthProbes(PodGroup? g, int port)
    {
        if (g is null || MainContainer(g) is not { } c)
        {
            yield break; // Images() reports the missing workload
        }
        foreach (var (probe, path) in new[] { ("livenessProbe", PlatformLayout.LivenessPath), ("readinessProbe", PlatformLayout.ReadinessPath) })
        {
            var actualPath = c.Text(probe, "httpGet", "path");
            var actualPort = c.Text(probe, "httpGet", "port");
            if (actualPath != path || g.ResolvePort(actualPort) != port)
            {
                yield return $"{g}: {probe} is httpGet '{actualPath ?? "none"}' on port '{actualPort ?? "none"}', expected '{path}' on port {port}";
            }
        }
    }

    public static IEnumerable<string> Images(KubernetesManifest m)
    {
        var expected = new (PodGroup? Group, string What, PlatformImage Image)[]
        {
            (ControlPlane(m), $"Deployment/{PlatformLayout.ControlPlaneName}", PlatformLayout.ControlPlane),
            (Router(m), $"Deployment/{PlatformLayout.RouterName}", PlatformLayout.Router),
            (MigrationsJob(m), $"Job/{PlatformLayout.MigrationsName}", PlatformLayout.Migrations),
        };
        foreach (var (group, what, image) in expected)
        {
            if (group is null)
            {
                yield return $"no {what} in the manifests";
                continue;
            }
            var actual = MainContainer(group)?.Text("image") ?? "";
            if (PlatformLayout.ImageFor(actual) != image)
            {
                yield return $"{what} runs image '{actual}', expected {image.Name} (built by {image.Dockerfile})";
            }
        }
        foreach (var g in m.PodGroups())
        {
            foreach (var c in g.AllContainers)
            {
                var reference = c.Text("image") ?? "";
                var repository = PlatformLayout.ImageRepository(reference);
                if (reference.Length == 0)
                {
                    yield return $"{g} container '{c.Text("name")}' has no image";
                    continue;
                }
                if (PlatformLayout.ImageTag(reference) is null && !reference.Contains('@'))
                {
                    yield return $"{g} container '{c.Text("name")}': image '{reference}' has no tag or digest";
                }
                var platformImage = PlatformLayout.ImageFor(reference);
                if (platformImage is null && Regex.IsMatch(repository, @"(^|/)platform/[^/]+$"))
                {
                    yield return $"{g} container '{c.Text("name")}': image '{reference}' is no platform image (known: {string.Join(", ", PlatformLayout.Images)})";
                }
                if (platformImage is not null && !File.Exists(RepoPaths.Combine(platformImage.Dockerfile)))
                {
                    yield return $"{g}: image '{reference}' has no Dockerfile at {platformImage.Dockerfile}";
                }
            }
        }
    }

    [GeneratedRegex(@"^https?://(?<host>0\.0\.0\.0|\[::\]|\*|\+):(?<port>[0-9]+)/?$")]
    private static partial Regex AnyInterfaceUrl();

    private static IEnumerable<string> ExpectBindUrl(PodGroup g, IReadOnlyDictionary<string, EnvEntry> env, string key, int port)
    {
        var value = env.GetValueOrDefault(key)?.Value;
        var match = value is null ? Match.Empty : AnyInterfaceUrl().Match(value);
        if (!match.Success || match.Groups["port"].Value != port.ToString(CultureInfo.InvariantCulture))
        {
            yield return $"{g}: {key} is '{value ?? "unset"}', expected http://0.0.0.0:{port} (all interfaces, port {port})";
        }
        if (!g.Containers.SelectMany(c => c.Maps("ports")).Any(p => p.Text("containerPort") == port.ToString(CultureInfo.InvariantCulture)))
        {
            yield return $"{g}: no containerPort {port} declared for {key}";
        }
    }

    private static IReadOnlyDictionary<string, EnvEntry> Env(KubernetesManifest m, PodGroup g, List<string> problems)
    {
        if (MainContainer(g) is not { } c)
        {
            problems.Add($"{g} has no containers");
            return new Dictionary<string, EnvEntry>();
        }
        var (entries, found) = m.ResolveEnv(g, c);
        problems.AddRange(found);
        return entries;
    }

    private static bool IsUnder(string path, string mountPath) =>
        path.TrimEnd('/') == mountPath.TrimEnd('/') || path.StartsWith(mountPath.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static bool HasWritableMount(PodGroup g, string path) =>
        MainContainer(g) is { } c && c.Maps("volumeMounts").Any(v => v.Text("mountPath") is { } mp && IsUnder(path, mp) && !v.IsTrue("readOnly"));

    public static IEnumerable<string> Settings(KubernetesManifest m)
    {
        var problems = new List<string>();
        var cp = ControlPlane(m);
        var router = Router(m);
        var job = MigrationsJob(m);
        IReadOnlyDictionary<string, EnvEntry> cpEnv = new Dictionary<string, EnvEntry>(), routerEnv = new Dictionary<string, EnvEntry>();
        if (cp is not null)
        {
            cpEnv = Env(m, cp, problems);
            problems.AddRange(ExpectBindUrl(cp, cpEnv, "Platform__ControlPlane__Url", PlatformLayout.ControlPlanePort));
            foreach (var key in new[] { "Platform__Database__ConnectionString", "Platform__Registry__Url", "Platform__Apps__Domain" })
            {
                if (!cpEnv.ContainsKey(key))
                {
                    problems.Add($"{cp}: {key} is not set");
                }
            }
            foreach (var key in new[] { "PLATFORM_ADMIN_KEY", "PLATFORM_ROUTER_TOKEN", "PLATFORM_ARTIFACT_SIGNING_KEY" })
            {
                if (cpEnv.GetValueOrDefault(key) is not { SecretName: not null })
                {
                    problems.Add($"{cp}: {key} must come from a Secret, found {cpEnv.GetValueOrDefault(key)?.Source ?? "nothing"}");
                }
            }
        }
        if (router is not null)
        {
            routerEnv = Env(m, router, problems);
            problems.AddRange(ExpectBindUrl(router, routerEnv, "Platform__Router__Url", PlatformLayout.RouterPort));
            problems.AddRange(ExpectBindUrl(router, routerEnv, "Platform__Router__ManagementUrl", PlatformLayout.RouterManagementPort));
            problems.AddRange(ExpectServiceUrl(m, router, routerEnv, "Platform__Router__ControlPlaneUrl", cp, PlatformLayout.ControlPlanePort));
            var token = routerEnv.GetValueOrDefault("PLATFORM_ROUTER_TOKEN");
            var cpToken = cpEnv.GetValueOrDefault("PLATFORM_ROUTER_TOKEN");
            if (token is not { SecretName: not null })
            {
                problems.Add($"{router}: PLATFORM_ROUTER_TOKEN must come from a Secret, found {token?.Source ?? "nothing"}");
            }
            else if (cpToken is { SecretName: not null } && (cpToken.SecretName, cpToken.SecretKey) != (token.SecretName, token.SecretKey))
            {
                problems.Add($"{router}: router token from Secret '{token.SecretName}' key '{token.SecretKey}', but the control plane reads Secret '{cpToken.SecretName}' key '{cpToken.SecretKey}'");
            }
            // Routers verify precompiled artifacts with the very key the control plane signs them with.
            var signing = routerEnv.GetValueOrDefault("PLATFORM_ARTIFACT_SIGNING_KEY");
            var cpSigning = cpEnv.GetValueOrDefault("PLATFORM_ARTIFACT_SIGNING_KEY");
            if (signing is not { SecretName: not null })
            {
                problems.Add($"{router}: PLATFORM_ARTIFACT_SIGNING_KEY must come from a Secret, found {signing?.Source ?? "nothing"}");
            }
            else if (cpSigning is { SecretName: not null } && (cpSigning.SecretName, cpSigning.SecretKey) != (signing.SecretName, signing.SecretKey))
            {
                problems.Add($"{router}: artifact signing key from Secret '{signing.SecretName}' key '{signing.SecretKey}', but the control plane reads Secret '{cpSigning.SecretName}' key '{cpSigning.SecretKey}'");
            }
            foreach (var (key, expected) in new[] { ("Platform__Router__CacheDirectory", PlatformLayout.RouterCacheDirectory), ("Platform__Router__StateDirectory", PlatformLayout.RouterStateDirectory) })
            {
                var value = routerEnv.GetValueOrDefault(key)?.Value;
                if (value is null)
                {
                    problems.Add($"{router}: {key} is not set");
                }
                else if (!HasWritableMount(router, value))
                {
                    problems.Add($"{router}: {key} '{value}' is not on a writable volume (the root file system is read-only)");
                }
                else if (value != expected)
                {
                    problems.Add($"{router}: {key} is '{value}', but the router image declares its volume at '{expected}'");
                }
            }
            var domain = routerEnv.GetValueOrDefault("Platform__Router__AppDomain")?.Value;
            var cpDomain = cpEnv.GetValueOrDefault("Platform__Apps__Domain")?.Value;
            if (domain is null)
            {
                problems.Add($"{router}: Platform__Router__AppDomain is not set");
            }
            else if (cp is not null && domain != cpDomain)
            {
                problems.Add($"{router}: Platform__Router__AppDomain '{domain}' differs from the control plane's Platform__Apps__Domain '{cpDomain}'");
            }
            var registry = routerEnv.GetValueOrDefault("Platform__Registry__Url")?.Value;
            if (registry is null || (cp is not null && registry != cpEnv.GetValueOrDefault("Platform__Registry__Url")?.Value))
            {
                problems.Add($"{router}: Platform__Registry__Url '{registry ?? "unset"}' differs from the control plane's '{cpEnv.GetValueOrDefault("Platform__Registry__Url")?.Value}'");
            }
        }
        foreach (var g in new[] { cp, router, job }.OfType<PodGroup>())
        {
            if (!HasWritableMount(g, "/tmp"))
            {
                problems.Add($"{g}: no writable volume at /tmp (needed with a read-only root file system)");
            }
        }
        return problems;
    }

    /// <summary>A URL whose host is a Service of the manifests, leading to the expected pods and port.</summary>
    private static IEnumerable<string> ExpectServiceUrl(KubernetesManifest m, PodGroup g, IReadOnlyDictionary<string, EnvEntry> env, string key, PodGroup? target, int targetPort)
    {
        var value = env.GetValueOrDefault(key)?.Value;
        if (value is null || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            yield return $"{g}: {key} is '{value ?? "unset"}', expected a URL";
            yield break;
        }
        var serviceName = uri.Host.Split('.')[0];
        var service = m.Find("Service", serviceName);
        if (service is null || target is null)
        {
            yield return $"{g}: {key} '{value}' names host '{uri.Host}', but there is no Service '{serviceName}'";
            yield break;
        }
        var selected = m.SelectedBy(service.Root.StringMap("spec", "selector"), service.Namespace);
        if (!selected.Contains(target) || m.ServiceTargetPort(service, uri.Port.ToString(CultureInfo.InvariantCulture), target) != targetPort)
        {
            yield return $"{g}: {key} '{value}' does not lead to {target} port {targetPort} through {service}";
        }
    }

    public static IEnumerable<string> Services(KubernetesManifest m)
    {
        foreach (var (name, group, port) in new[] { (PlatformLayout.ControlPlaneName, ControlPlane(m), PlatformLayout.ControlPlanePort), (PlatformLayout.RouterName, Router(m), PlatformLayout.RouterPort) })
        {
            var service = m.Find("Service", name);
            if (service is null)
            {
                yield return $"no Service '{name}'";
                continue;
            }
            if (group is null)
            {
                continue;
            }
            if (!m.SelectedBy(service.Root.StringMap("spec", "selector"), service.Namespace).Contains(group))
            {
                yield return $"{service} selector does not pick the pods of {group}";
            }
            else if (!service.Root.Maps("spec", "ports").Any(p => group.ResolvePort(p.Text("targetPort") ?? p.Text("port")) == port))
            {
                yield return $"{service} has no port leading to container port {port}";
            }
        }
        foreach (var service in m.OfKind("Service").Where(s => s.Root.StringMap("spec", "selector").Count > 0))
        {
            if (m.SelectedBy(service.Root.StringMap("spec", "selector"), service.Namespace).Count == 0)
            {
                yield return $"{service} selects no pods (selector {string.Join(", ", service.Root.StringMap("spec", "selector").Select(kv => $"{kv.Key}={kv.Value}"))})";
            }
        }
    }

    [GeneratedRegex(@"(?i)(database|connectionstring|^PG|postgres|^DB_)")]
    private static partial Regex DatabaseSettingName();

    public static IEnumerable<string> RouterHasNoDatabaseAccess(KubernetesManifest m)
    {
        var router = Router(m);
        if (router is null)
        {
            yield break;
        }
        // Whatever the migrations Job and PostgreSQL itself read is database credentials.
        var databaseSecrets = new HashSet<string>();
        foreach (var g in new[] { MigrationsJob(m) }.OfType<PodGroup>().Concat(m.PostgresGroups()))
        {
            databaseSecrets.UnionWith(KubernetesManifest.SecretReferences(g));
        }
        if (databaseSecrets.Count == 0)
        {
            yield return "cannot tell the database Secret: neither the migrations Job nor a PostgreSQL workload reads one";
        }
        var routerSecrets = KubernetesManifest.SecretReferences(router);
        foreach (var secret in routerSecrets.Intersect(databaseSecrets))
        {
            yield return $"{router} can read database Secret '{secret}'";
        }
        var adminKeySecret = ControlPlane(m) is { } cp ? m.ResolveEnv(cp, MainContainer(cp) ?? []).Entries.GetValueOrDefault("PLATFORM_ADMIN_KEY")?.SecretName : null;
        if (adminKeySecret is not null && routerSecrets.Contains(adminKeySecret))
        {
            yield return $"{router} can read the admin key Secret '{adminKeySecret}'";
        }
        foreach (var c in router.AllContainers)
        {
            foreach (var entry in m.ResolveEnv(router, c).Entries.Values)
            {
                if (DatabaseSettingName().IsMatch(entry.Name))
                {
                    yield return $"{router} container '{c.Text("name")}' has database setting '{entry.Name}' (from {entry.Source})";
                }
                else if (entry.Value is { } v && (v.Contains("Password=", StringComparison.OrdinalIgnoreCase) || v.StartsWith("postgres", StringComparison.OrdinalIgnoreCase)))
                {
                    yield return $"{router} container '{c.Text("name")}': '{entry.Name}' (from {entry.Source}) looks like a database connection string";
                }
            }
        }
        if (!router.PodSpec.IsFalse("automountServiceAccountToken"))
        {
            yield return $"{router}: automountServiceAccountToken is '{router.PodSpec.Text("automountServiceAccountToken") ?? "unset"}', expected false (routers run untrusted code)";
        }
    }

    [GeneratedRegex(@"^(?:/bin/|/usr/bin/)?sleep\s+(?<s>[0-9]+)$")]
    private static partial Regex SleepCommand();

    /// <summary>Seconds a container's preStop hook waits, or null when it has no sleeping preStop hook.</summary>
    public static int? PreStopSleepSeconds(Dictionary<string, object?> container)
    {
        if (int.TryParse(container.Text("lifecycle", "preStop", "sleep", "seconds"), out var seconds))
        {
            return seconds;
        }
        var command = container.Items("lifecycle", "preStop", "exec", "command").OfType<string>().ToList();
        var line = command is ["sh" or "/bin/sh", "-c", var script] ? script : string.Join(' ', command);
        var match = SleepCommand().Match(line.Trim());
        return match.Success ? int.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture) : null;
    }

    public static IEnumerable<string> GracefulShutdown(KubernetesManifest m)
    {
        var router = Router(m);
        if (router is null || MainContainer(router) is not { } c)
        {
            yield break;
        }
        var sleep = PreStopSleepSeconds(c);
        if (sleep is null or <= 0)
        {
            yield return $"{router}: no preStop sleep, so endpoints still send requests while the router shuts down";
            yield break;
        }
        var grace = int.TryParse(router.PodSpec.Text("terminationGracePeriodSeconds"), out var g) ? g : 30;
        var shutdownText = m.ResolveEnv(router, c).Entries.GetValueOrDefault("Platform__Router__ShutdownSeconds")?.Value;
        var shutdown = int.TryParse(shutdownText, out var s) ? s : PlatformLayout.DefaultRequestWallSeconds;
        if (grace <= sleep + shutdown)
        {
            yield return $"{router}: terminationGracePeriodSeconds {grace} does not cover the preStop sleep ({sleep} s) plus draining in-flight requests ({shutdown} s)";
        }
    }

    public static IEnumerable<string> Autoscaling(KubernetesManifest m)
    {
        foreach (var hpa in m.OfKind("HorizontalPodAutoscaler"))
        {
            var kind = hpa.Root.Text("spec", "scaleTargetRef", "kind") ?? "";
            var name = hpa.Root.Text("spec", "scaleTargetRef", "name") ?? "";
            if (m.Find(kind, name) is null)
            {
                yield return $"{hpa} scales {kind}/{name}, which is not in the manifests";
            }
        }
        var routerHpas = m.OfKind("HorizontalPodAutoscaler")
            .Where(h => h.Root.Text("spec", "scaleTargetRef", "kind") == "Deployment" && h.Root.Text("spec", "scaleTargetRef", "name") == PlatformLayout.RouterName)
            .ToList();
        if (routerHpas.Count != 1)
        {
            yield return $"expected one HorizontalPodAutoscaler for Deployment/{PlatformLayout.RouterName}, found {routerHpas.Count}";
            yield break;
        }
        var h = routerHpas[0];
        if (h.ApiVersion != "autoscaling/v2")
        {
            yield return $"{h} uses apiVersion '{h.ApiVersion}', expected autoscaling/v2";
        }
        if (!h.Root.Maps("spec", "metrics").Any(x => x.Text("type") == "Resource" && x.Text("resource", "name") == "cpu"))
        {
            yield return $"{h} has no CPU resource metric";
        }
        var min = int.TryParse(h.Root.Text("spec", "minReplicas"), out var mn) ? mn : 1;
        var max = int.TryParse(h.Root.Text("spec", "maxReplicas"), out var mx) ? mx : 0;
        if (min < 2)
        {
            yield return $"{h} minReplicas is {min}; at least 2 routers keep apps up while one is replaced";
        }
        if (max <= min)
        {
            yield return $"{h} maxReplicas {max} leaves no room above minReplicas {min}";
        }
        if (Router(m)?.Owner.Root.Has("spec", "replicas") == true)
        {
            yield return $"Deployment/{PlatformLayout.RouterName} sets spec.replicas '{Router(m)!.Owner.Root.Text("spec", "replicas")}'; every apply would reset the autoscaler's count";
        }
    }

    public static IEnumerable<string> DisruptionBudgets(KubernetesManifest m)
    {
        foreach (var g in new[] { ControlPlane(m), Router(m) }.OfType<PodGroup>())
        {
            var budgets = m.OfKind("PodDisruptionBudget")
                .Where(p => p.Namespace == g.Namespace && p.Root.Map("spec", "selector") is { } sel && LabelSelectors.Matches(sel, g.Labels))
                .ToList();
            if (budgets.Count == 0)
            {
                yield return $"no PodDisruptionBudget selects the pods of {g}";
                continue;
            }
            foreach (var pdb in budgets)
            {
                var maxUnavailable = pdb.Root.Text("spec", "maxUnavailable");
                var minAvailable = pdb.Root.Text("spec", "minAvailable");
                var replicas = g.Owner.Root.Text("spec", "replicas");
                if (maxUnavailable is "0" or "0%" || minAvailable == "100%" || (minAvailable is not null && minAvailable == replicas))
                {
                    yield return $"{pdb} (maxUnavailable '{maxUnavailable}', minAvailable '{minAvailable}') blocks every voluntary eviction, so nodes cannot be drained";
                }
            }
        }
    }

    public static IEnumerable<string> Ingresses(KubernetesManifest m)
    {
        var router = Router(m);
        var cp = ControlPlane(m);
        var domain = router is null ? null : m.ResolveEnv(router, MainContainer(router) ?? []).Entries.GetValueOrDefault("Platform__Router__AppDomain")?.Value;
        var rules = m.OfKind("Ingress").SelectMany(i => i.Root.Maps("spec", "rules").Select(r => (Ingress: i, Rule: r))).ToList();
        bool Leads(K8sObject ingress, Dictionary<string, object?> rule, PodGroup? target, int port) =>
            target is not null && rule.Maps("http", "paths").Any(p =>
                m.Find("Service", p.Text("backend", "service", "name") ?? "") is { } svc &&
                m.SelectedBy(svc.Root.StringMap("spec", "selector"), svc.Namespace).Contains(target) &&
                m.ServiceTargetPort(svc, p.Text("backend", "service", "port", "name") ?? p.Text("backend", "service", "port", "number"), target) == port);
        var wildcard = "*." + domain;
        if (!rules.Any(r => r.Rule.Text("host") == wildcard && Leads(r.Ingress, r.Rule, router, PlatformLayout.RouterPort)))
        {
            yield return $"no Ingress rule for the app host '{wildcard}' leading to the router's port {PlatformLayout.RouterPort} (hosts: {string.Join(", ", rules.Select(r => r.Rule.Text("host")))})";
        }
        if (!rules.Any(r => r.Rule.Text("host") is { } host && !host.StartsWith('*') && Leads(r.Ingress, r.Rule, cp, PlatformLayout.ControlPlanePort)))
        {
            yield return $"no Ingress rule for the API host leading to the control plane's port {PlatformLayout.ControlPlanePort}";
        }
        foreach (var ingress in rules.Where(r => r.Rule.Text("host") == wildcard && Leads(r.Ingress, r.Rule, router, PlatformLayout.RouterPort)).Select(r => r.Ingress).Distinct())
        {
            foreach (var problem in HostHashing(ingress))
            {
                yield return problem;
            }
        }
    }

    public const string HashByAnnotation = "nginx.ingress.kubernetes.io/upstream-hash-by";
    public const string BalanceFactorAnnotation = "nginx.ingress.kubernetes.io/upstream-hash-by-balance-factor";

    /// <summary>
    /// App traffic must be hashed by host with bounded load, so an app's module is loaded on a few routers and a hot
    /// app still spreads (ingress-nginx's chashboundedloads: upstream-hash-by plus a balance factor above 1).
    /// </summary>
    private static IEnumerable<string> HostHashing(K8sObject ingress)
    {
        var annotations = ingress.Root.StringMap("metadata", "annotations");
        var hashBy = annotations.GetValueOrDefault(HashByAnnotation);
        if (hashBy is null || !System.Text.RegularExpressions.Regex.IsMatch(hashBy, @"^\$(host|\{host\})$"))
        {
            yield return $"{ingress}: {HashByAnnotation} is '{hashBy ?? "unset"}', expected '$host' (consistent hashing by app host)";
        }
        var factor = annotations.GetValueOrDefault(BalanceFactorAnnotation);
        if (!double.TryParse(factor, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f) || f <= 1 || f > 3)
        {
            yield return $"{ingress}: {BalanceFactorAnnotation} is '{factor ?? "unset"}', expected a bounded load factor above 1 and at most 3";
        }
        if (annotations.ContainsKey("nginx.ingress.kubernetes.io/upstream-hash-by-subset") || annotations.ContainsKey("nginx.ingress.kubernetes.io/affinity"))
        {
            yield return $"{ingress}: subset hashing or cookie affinity overrides the bounded-load host hashing";
        }
    }

    public static IEnumerable<string> MigrationJob(KubernetesManifest m)
    {
        var job = MigrationsJob(m);
        if (job is null)
        {
            yield break; // Images() reports it
        }
        var restart = job.PodSpec.Text("restartPolicy");
        if (restart is not ("Never" or "OnFailure"))
        {
            yield return $"{job}: restartPolicy is '{restart ?? "unset"}', expected Never or OnFailure";
        }
        if (job.Owner.Root.Text("spec", "backoffLimit") is null)
        {
            yield return $"{job}: no backoffLimit (retries while PostgreSQL starts must be bounded)";
        }
        var env = m.ResolveEnv(job, MainContainer(job) ?? []).Entries;
        if (!env.ContainsKey("Platform__Database__ConnectionString"))
        {
            yield return $"{job}: Platform__Database__ConnectionString is not set";
        }
    }
}
