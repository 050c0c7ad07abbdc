using System.Text.RegularExpressions;

namespace Platform.Deploy.Tests.Support;

/// <summary>One rendered Kubernetes object, kept as its plain YAML tree so tests can alter it.</summary>
public sealed class K8sObject(Dictionary<string, object?> root)
{
    public Dictionary<string, object?> Root { get; } = root;
    public string ApiVersion => Root.Text("apiVersion") ?? "";
    public string Kind => Root.Text("kind") ?? "";
    public string Name => Root.Text("metadata", "name") ?? "";
    public string Namespace => Root.Text("metadata", "namespace") ?? "";
    public override string ToString() => $"{Kind}/{Name}";
}

/// <summary>
/// The pods one object creates (a workload's pod template, or a CloudNativePG cluster's instances).
/// Two groups are the same when they come from the same object.
/// </summary>
public sealed class PodGroup(K8sObject owner, IReadOnlyDictionary<string, string> labels, Dictionary<string, object?>? podSpec) : IEquatable<PodGroup>
{
    public K8sObject Owner { get; } = owner;
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;
    public Dictionary<string, object?>? PodSpec { get; } = podSpec;
    public string Namespace => Owner.Namespace;

    public bool Equals(PodGroup? other) => other is not null && ReferenceEquals(Owner, other.Owner);
    public override bool Equals(object? obj) => Equals(obj as PodGroup);
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Owner);

    public IEnumerable<Dictionary<string, object?>> Containers => PodSpec.Maps("containers");

    public IEnumerable<Dictionary<string, object?>> AllContainers => PodSpec.Maps("initContainers").Concat(Containers);

    /// <summary>A numeric port, or a named container port resolved to its number; null when neither.</summary>
    public int? ResolvePort(string? port)
    {
        if (port is null)
        {
            return null;
        }
        if (int.TryParse(port, out var number))
        {
            return number;
        }
        return AllContainers.SelectMany(c => c.Maps("ports"))
            .Where(p => p.Text("name") == port)
            .Select(p => int.TryParse(p.Text("containerPort"), out var n) ? n : (int?)null)
            .FirstOrDefault();
    }

    public override string ToString() => Owner.ToString();
}

/// <summary>One environment variable of a container after resolving ConfigMaps and $(VAR) references.</summary>
public sealed record EnvEntry(string Name, string? Value, string? SecretName, string? SecretKey, string Source);

/// <summary>A rendered kustomization (or any set of manifests), with the look-ups the checks need.</summary>
public sealed class KubernetesManifest(IReadOnlyList<K8sObject> objects)
{
    private static readonly HashSet<string> s_workloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];

    public IReadOnlyList<K8sObject> Objects { get; } = objects;

    public static KubernetesManifest Parse(string yaml, string source)
    {
        var objects = new List<K8sObject>();
        foreach (var (document, index) in Yaml.LoadAll(yaml, source).Select((d, i) => (d, i)))
        {
            if (document is null)
            {
                continue;
            }
            if (document is not Dictionary<string, object?> map || map.Text("kind") is null || map.Text("metadata", "name") is null)
            {
                throw new InvalidDataException($"{source}: document {index + 1} is not a Kubernetes object with kind and metadata.name.");
            }
            objects.Add(new K8sObject(map));
        }
        return new KubernetesManifest(objects);
    }

    public IEnumerable<K8sObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public K8sObject? Find(string kind, string name) => Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);

    /// <summary>Every group of pods the manifests would create.</summary>
    public IReadOnlyList<PodGroup> PodGroups()
    {
        var groups = new List<PodGroup>();
        foreach (var o in Objects)
        {
            if (s_workloadKinds.Contains(o.Kind))
            {
                groups.Add(new PodGroup(o, o.Root.StringMap("spec", "template", "metadata", "labels"), o.Root.Map("spec", "template", "spec")));
            }
            else if (o.Kind == "CronJob")
            {
                groups.Add(new PodGroup(o, o.Root.StringMap("spec", "jobTemplate", "spec", "template", "metadata", "labels"),
                    o.Root.Map("spec", "jobTemplate", "spec", "template", "spec")));
            }
            else if (IsCloudNativePgCluster(o))
            {
                // The operator labels every instance pod with the cluster's name.
                groups.Add(new PodGroup(o, new Dictionary<string, string> { ["cnpg.io/cluster"] = o.Name, ["cnpg.io/podRole"] = "instance" }, null));
            }
        }
        return groups;
    }

    public PodGroup? Workload(string kind, string name) => PodGroups().FirstOrDefault(g => g.Owner.Kind == kind && g.Owner.Name == name);

    public static bool IsCloudNativePgCluster(K8sObject o) => o.Kind == "Cluster" && o.ApiVersion.StartsWith("postgresql.cnpg.io/", StringComparison.Ordinal);

    /// <summary>PostgreSQL pods: a CloudNativePG cluster, or a workload running a postgres image.</summary>
    public IReadOnlyList<PodGroup> PostgresGroups() =>
        PodGroups().Where(g => IsCloudNativePgCluster(g.Owner) || g.Containers.Any(c => ImageBaseName(c.Text("image")) is "postgres" or "postgresql")).ToList();

    /// <summary>In-cluster OCI registry pods (the distribution image).</summary>
    public IReadOnlyList<PodGroup> RegistryGroups() =>
        PodGroups().Where(g => g.Containers.Any(c => ImageBaseName(c.Text("image")) is "registry" or "distribution")).ToList();

    private static string? ImageBaseName(string? image) => image is null ? null : PlatformLayout.ImageRepository(image).Split('/')[^1];

    /// <summary>Pods a Service (or any equality selector) picks in its namespace.</summary>
    public IReadOnlyList<PodGroup> SelectedBy(IReadOnlyDictionary<string, string> selector, string @namespace) =>
        selector.Count == 0 ? [] : PodGroups().Where(g => g.Namespace == @namespace && selector.All(kv => g.Labels.TryGetValue(kv.Key, out var v) && v == kv.Value)).ToList();

    /// <summary>The container port a Service port leads to, as a number; null when it cannot be resolved.</summary>
    public int? ServiceTargetPort(K8sObject service, string? portNameOrNumber, PodGroup target)
    {
        var port = service.Root.Maps("spec", "ports").FirstOrDefault(p =>
            (portNameOrNumber is null && service.Root.Items("spec", "ports").Count == 1) || p.Text("name") == portNameOrNumber || p.Text("port") == portNameOrNumber);
        if (port is null)
        {
            return null;
        }
        return target.ResolvePort(port.Text("targetPort") ?? port.Text("port"));
    }

    public IReadOnlyDictionary<string, string>? ConfigMapData(string name, string @namespace) =>
        Objects.FirstOrDefault(o => o.Kind == "ConfigMap" && o.Name == name && o.Namespace == @namespace)?.Root.StringMap("data");

    private static readonly Regex s_varReference = new(@"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", RegexOptions.CultureInvariant);

    /// <summary>
    /// A container's environment as the kubelet builds it: envFrom first, then env in order, with $(VAR)
    /// references expanded from what came before. Problems lists references to ConfigMaps the render lacks.
    /// </summary>
    public (IReadOnlyDictionary<string, EnvEntry> Entries, IReadOnlyList<string> Problems) ResolveEnv(PodGroup group, Dictionary<string, object?> container)
    {
        var entries = new Dictionary<string, EnvEntry>();
        var problems = new List<string>();
        var where = $"{group} container '{container.Text("name")}'";
        foreach (var source in container.Maps("envFrom"))
        {
            var prefix = source.Text("prefix") ?? "";
            if (source.Text("configMapRef", "name") is { } configMap)
            {
                var data = ConfigMapData(configMap, group.Namespace);
                if (data is null)
                {
                    if (!source.IsTrue("configMapRef", "optional"))
                    {
                        problems.Add($"{where} reads ConfigMap '{configMap}', which is not in the manifests");
                    }
                    continue;
                }
                foreach (var (k, v) in data)
                {
                    entries[prefix + k] = new EnvEntry(prefix + k, v, null, null, $"ConfigMap {configMap}");
                }
            }
            if (source.Text("secretRef", "name") is { } secret)
            {
                var secretObject = Objects.FirstOrDefault(o => o.Kind == "Secret" && o.Name == secret && o.Namespace == group.Namespace);
                var keys = (secretObject?.Root.Map("data")?.Keys ?? Enumerable.Empty<string>()).Concat(secretObject?.Root.Map("stringData")?.Keys ?? Enumerable.Empty<string>());
                foreach (var k in keys)
                {
                    entries[prefix + k] = new EnvEntry(prefix + k, null, secret, k, $"Secret {secret}");
                }
            }
        }
        foreach (var env in container.Maps("env"))
        {
            var name = env.Text("name") ?? "";
            if (env.Text("value") is { } value)
            {
                var expanded = s_varReference.Replace(value, m =>
                    entries.TryGetValue(m.Groups[1].Value, out var e) && e.Value is not null ? e.Value : m.Value);
                entries[name] = new EnvEntry(name, expanded, null, null, "env");
            }
            else if (env.Map("valueFrom", "secretKeyRef") is { } secretRef)
            {
                entries[name] = new EnvEntry(name, null, secretRef.Text("name"), secretRef.Text("key"), $"Secret {secretRef.Text("name")}");
            }
            else if (env.Map("valueFrom", "configMapKeyRef") is { } configMapRef)
            {
                var configMap = configMapRef.Text("name") ?? "";
                var data = ConfigMapData(configMap, group.Namespace);
                if (data is null && !configMapRef.IsTrue("optional"))
                {
                    problems.Add($"{where} reads ConfigMap '{configMap}', which is not in the manifests");
                }
                entries[name] = new EnvEntry(name, data?.GetValueOrDefault(configMapRef.Text("key") ?? ""), null, null, $"ConfigMap {configMap}");
            }
            else
            {
                entries[name] = new EnvEntry(name, null, null, null, "field");
            }
        }
        return (entries, problems);
    }

    /// <summary>Every Secret the pods of a group can read: env, envFrom, volumes and projected volumes.</summary>
    public static IReadOnlySet<string> SecretReferences(PodGroup group)
    {
        var names = new HashSet<string>();
        foreach (var c in group.AllContainers)
        {
            names.UnionWith(c.Maps("env").Select(e => e.Text("valueFrom", "secretKeyRef", "name")).OfType<string>());
            names.UnionWith(c.Maps("envFrom").Select(e => e.Text("secretRef", "name")).OfType<string>());
        }
        foreach (var v in group.PodSpec.Maps("volumes"))
        {
            if (v.Text("secret", "secretName") is { } secret)
            {
                names.Add(secret);
            }
            names.UnionWith(v.Maps("projected", "sources").Select(s => s.Text("secret", "name")).OfType<string>());
        }
        return names;
    }
}

/// <summary>Kubernetes label selectors (matchLabels and matchExpressions).</summary>
public static class LabelSelectors
{
    /// <summary>True when the selector picks the labels; an empty selector picks everything.</summary>
    public static bool Matches(Dictionary<string, object?> selector, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in selector.StringMap("matchLabels"))
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        foreach (var expression in selector.Maps("matchExpressions"))
        {
            var key = expression.Text("key") ?? "";
            var values = expression.Items("values").OfType<string>().ToHashSet();
            var has = labels.TryGetValue(key, out var actual);
            var ok = expression.Text("operator") switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                var op => throw new InvalidDataException($"Unknown label selector operator '{op}' for key '{key}'."),
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
