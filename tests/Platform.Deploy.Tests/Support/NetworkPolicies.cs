namespace Platform.Deploy.Tests.Support;

/// <summary>One ingress or egress rule of a NetworkPolicy. Peers null means any peer; no ports means any port.</summary>
public sealed record PolicyRule(K8sObject Policy, IReadOnlyList<Dictionary<string, object?>>? Peers, IReadOnlyList<Dictionary<string, object?>> Ports)
{
    public string Describe() => $"NetworkPolicy/{Policy.Name}";

    /// <summary>True when the rule admits TCP/UDP traffic to the port (named ports resolve on the target pods).</summary>
    public bool AllowsPort(int port, PodGroup? target, string protocol = "TCP")
    {
        if (Ports.Count == 0)
        {
            return true;
        }
        foreach (var p in Ports)
        {
            if ((p.Text("protocol") ?? "TCP") != protocol)
            {
                continue;
            }
            var value = p.Text("port");
            if (value is null)
            {
                return true; // a protocol without a port: every port of it
            }
            var first = int.TryParse(value, out var n) ? n : target?.ResolvePort(value);
            if (first is null)
            {
                continue;
            }
            var last = int.TryParse(p.Text("endPort"), out var end) ? end : first.Value;
            if (port >= first && port <= last)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when every port the rule names is DNS (53).</summary>
    public bool IsDnsOnly => Ports.Count > 0 && Ports.All(p => p.Text("port") == "53");
}

/// <summary>What a NetworkPolicy peer stands for, as far as the manifests can tell.</summary>
public sealed record PeerTarget(IReadOnlyList<PodGroup> LocalGroups, bool Outside, string Description);

/// <summary>Evaluates NetworkPolicies the way the API defines them: additive allow rules over isolated pods.</summary>
public static class NetworkPolicies
{
    public static bool Selects(K8sObject policy, PodGroup group) =>
        policy.Kind == "NetworkPolicy" && policy.Namespace == group.Namespace &&
        LabelSelectors.Matches(policy.Root.Map("spec", "podSelector") ?? [], group.Labels);

    /// <summary>Policy types as the API defaults them: Ingress always, Egress when egress rules are present.</summary>
    public static bool HasType(K8sObject policy, string type)
    {
        var declared = policy.Root.Items("spec", "policyTypes").OfType<string>().ToList();
        if (declared.Count > 0)
        {
            return declared.Contains(type);
        }
        return type == "Ingress" || policy.Root.Has("spec", "egress");
    }

    /// <summary>True when some policy selects the pods for that direction, so only allowed traffic passes.</summary>
    public static bool IsIsolated(KubernetesManifest manifest, PodGroup group, string direction) =>
        manifest.OfKind("NetworkPolicy").Any(p => Selects(p, group) && HasType(p, direction));

    public static IReadOnlyList<PolicyRule> Rules(KubernetesManifest manifest, PodGroup group, string direction)
    {
        var section = direction == "Ingress" ? "ingress" : "egress";
        var peerKey = direction == "Ingress" ? "from" : "to";
        var rules = new List<PolicyRule>();
        foreach (var policy in manifest.OfKind("NetworkPolicy").Where(p => Selects(p, group) && HasType(p, direction)))
        {
            foreach (var rule in policy.Root.Maps("spec", section))
            {
                var peers = rule.At(peerKey) is List<object?> list && list.Count > 0 ? list.OfType<Dictionary<string, object?>>().ToList() : null;
                rules.Add(new PolicyRule(policy, peers, rule.Maps("ports").ToList()));
            }
        }
        return rules;
    }

    public static PeerTarget Resolve(KubernetesManifest manifest, Dictionary<string, object?> peer, string policyNamespace)
    {
        if (peer.Map("ipBlock") is { } ipBlock)
        {
            return new PeerTarget([], true, $"ipBlock {ipBlock.Text("cidr")}");
        }
        var podSelector = peer.Map("podSelector");
        var namespaceSelector = peer.Map("namespaceSelector");
        var inOwnNamespace = true;
        var outside = false;
        if (namespaceSelector is not null)
        {
            var ownLabels = new Dictionary<string, string>(manifest.Find("Namespace", policyNamespace)?.Root.StringMap("metadata", "labels") ?? new Dictionary<string, string>())
            {
                ["kubernetes.io/metadata.name"] = policyNamespace,
            };
            inOwnNamespace = LabelSelectors.Matches(namespaceSelector, ownLabels);
            // Only a selector pinned to this namespace's name cannot pick another namespace.
            outside = namespaceSelector.StringMap("matchLabels").GetValueOrDefault("kubernetes.io/metadata.name") != policyNamespace;
        }
        var local = inOwnNamespace
            ? manifest.PodGroups().Where(g => g.Namespace == policyNamespace && LabelSelectors.Matches(podSelector ?? [], g.Labels)).ToList()
            : [];
        var description = namespaceSelector is null
            ? $"pods {Describe(podSelector)}"
            : $"namespaces {Describe(namespaceSelector)}" + (podSelector is null ? "" : $", pods {Describe(podSelector)}");
        return new PeerTarget(local, outside, description);
    }

    private static string Describe(Dictionary<string, object?>? selector)
    {
        if (selector is null || (selector.StringMap("matchLabels").Count == 0 && selector.Items("matchExpressions").Count == 0))
        {
            return "{} (all)";
        }
        var parts = selector.StringMap("matchLabels").Select(kv => $"{kv.Key}={kv.Value}")
            .Concat(selector.Maps("matchExpressions").Select(e => $"{e.Text("key")} {e.Text("operator")} [{string.Join(",", e.Items("values").OfType<string>())}]"));
        return string.Join(", ", parts);
    }

    /// <summary>True when traffic from one group of pods reaches another on the port under every policy.</summary>
    public static bool Allows(KubernetesManifest manifest, PodGroup from, PodGroup to, int port) =>
        DirectionAllows(manifest, from, to, port, "Egress", to) && DirectionAllows(manifest, to, from, port, "Ingress", to);

    private static bool DirectionAllows(KubernetesManifest manifest, PodGroup subject, PodGroup peer, int port, string direction, PodGroup portOwner)
    {
        if (!IsIsolated(manifest, subject, direction))
        {
            return true;
        }
        return Rules(manifest, subject, direction).Any(r =>
            r.AllowsPort(port, portOwner) &&
            (r.Peers is null || r.Peers.Any(p => Resolve(manifest, p, subject.Namespace).LocalGroups.Contains(peer))));
    }
}
