using System.Globalization;

namespace Platform.Deploy.Tests.Support;

public static partial class KubernetesChecks
{
    /// <summary>
    /// Default deny; routers reach only the control plane, the registry and DNS; PostgreSQL admits only the control
    /// plane and the migrations Job; routers admit app traffic only from the ingress controller; and the paths the
    /// platform needs are open.
    /// </summary>
    public static IEnumerable<string> NetworkPolicyChecks(KubernetesManifest m)
    {
        var problems = new List<string>();
        var policies = m.OfKind("NetworkPolicy").ToList();
        if (!policies.Any(p =>
                p.Root.Map("spec", "podSelector") is { } sel && sel.StringMap("matchLabels").Count == 0 && sel.Items("matchExpressions").Count == 0 &&
                NetworkPolicies.HasType(p, "Ingress") && NetworkPolicies.HasType(p, "Egress") &&
                p.Root.Items("spec", "ingress").Count == 0 && p.Root.Items("spec", "egress").Count == 0))
        {
            problems.Add("no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)");
        }

        var cp = ControlPlane(m);
        var router = Router(m);
        var job = MigrationsJob(m);
        var postgres = m.PostgresGroups();
        var registries = m.RegistryGroups();
        var registryUrl = router is null ? null : m.ResolveEnv(router, MainContainer(router) ?? []).Entries.GetValueOrDefault("Platform__Registry__Url")?.Value;
        var externalRegistryPort = registries.Count == 0 && Uri.TryCreate(registryUrl, UriKind.Absolute, out var registryUri) ? registryUri.Port : (int?)null;

        if (router is not null)
        {
            problems.AddRange(RouterEgress(m, router, cp, registries, externalRegistryPort));
            problems.AddRange(RouterIngress(m, router));
        }
        if (postgres.Count == 0)
        {
            problems.Add("no PostgreSQL in the manifests (a postgres StatefulSet or a CloudNativePG Cluster)");
        }
        foreach (var db in postgres)
        {
            problems.AddRange(PostgresIngress(m, db, [.. new[] { cp, job }.OfType<PodGroup>(), .. postgres]));
        }

        // The paths the platform needs must stay open under the policies.
        void Expect(PodGroup? from, PodGroup? to, int? port, bool allowed)
        {
            if (from is null || to is null || port is null)
            {
                return;
            }
            if (NetworkPolicies.Allows(m, from, to, port.Value) != allowed)
            {
                problems.Add(allowed ? $"NetworkPolicies block {from} -> {to} port {port}" : $"NetworkPolicies allow {from} -> {to} port {port}");
            }
        }
        Expect(router, cp, PlatformLayout.ControlPlanePort, allowed: true);
        // The dashboard's "try it" box: the control plane calls an app through a router.
        Expect(cp, router, PlatformLayout.RouterPort, allowed: true);
        foreach (var db in postgres)
        {
            Expect(cp, db, PlatformLayout.PostgresPort, allowed: true);
            Expect(job, db, PlatformLayout.PostgresPort, allowed: true);
            Expect(router, db, PlatformLayout.PostgresPort, allowed: false);
        }
        foreach (var registry in registries)
        {
            var port = registry.Containers.SelectMany(c => c.Maps("ports")).Select(p => int.TryParse(p.Text("containerPort"), out var n) ? n : (int?)null).FirstOrDefault();
            Expect(cp, registry, port, allowed: true);
            Expect(router, registry, port, allowed: true);
        }
        if (registries.Count == 0 && externalRegistryPort is { } external)
        {
            foreach (var client in new[] { cp, router }.OfType<PodGroup>())
            {
                if (!NetworkPolicies.Rules(m, client, "Egress").Any(r => r.AllowsPort(external, null) && r.Peers?.Any(p => p.ContainsKey("ipBlock")) == true))
                {
                    problems.Add($"{client} has no egress rule to the external registry '{registryUrl}' (ipBlock, port {external})");
                }
            }
        }
        return problems;
    }

    private static IEnumerable<string> RouterEgress(KubernetesManifest m, PodGroup router, PodGroup? cp, IReadOnlyList<PodGroup> registries, int? externalRegistryPort)
    {
        if (!NetworkPolicies.IsIsolated(m, router, "Egress"))
        {
            yield return $"{router}: no NetworkPolicy restricts its egress";
            yield break;
        }
        foreach (var rule in NetworkPolicies.Rules(m, router, "Egress"))
        {
            if (rule.IsDnsOnly)
            {
                continue;
            }
            var ports = rule.Ports.Count == 0 ? "every port" : "port(s) " + string.Join(", ", rule.Ports.Select(p => p.Text("port")));
            if (rule.Peers is null)
            {
                yield return $"{rule.Describe()} lets {router} reach every destination on {ports}";
                continue;
            }
            foreach (var peer in rule.Peers)
            {
                var target = NetworkPolicies.Resolve(m, peer, router.Namespace);
                if (peer.ContainsKey("ipBlock"))
                {
                    var cidr = peer.Text("ipBlock", "cidr");
                    if (externalRegistryPort is null)
                    {
                        yield return $"{rule.Describe()} lets {router} reach {target.Description}, but the registry runs in the cluster";
                    }
                    else if (cidr is "0.0.0.0/0" or "::/0")
                    {
                        yield return $"{rule.Describe()} lets {router} reach the whole internet ({cidr}); name the registry's address range";
                    }
                    else if (rule.Ports.Count == 0 || !rule.Ports.All(p => p.Text("port") == externalRegistryPort.Value.ToString(CultureInfo.InvariantCulture)))
                    {
                        yield return $"{rule.Describe()} lets {router} reach {target.Description} on {ports}, expected only the registry port {externalRegistryPort}";
                    }
                    continue;
                }
                if (target.Outside)
                {
                    yield return $"{rule.Describe()} lets {router} reach {target.Description} outside its namespace";
                }
                foreach (var g in target.LocalGroups.Where(g => !g.Equals(cp) && !registries.Contains(g)))
                {
                    yield return $"{rule.Describe()} lets {router} reach {g} ({target.Description}); routers may reach only the control plane and the registry";
                }
            }
        }
    }

    private static IEnumerable<string> RouterIngress(KubernetesManifest m, PodGroup router)
    {
        if (!NetworkPolicies.IsIsolated(m, router, "Ingress"))
        {
            yield return $"{router}: no NetworkPolicy restricts its ingress";
            yield break;
        }
        var rules = NetworkPolicies.Rules(m, router, "Ingress").Where(r => r.AllowsPort(PlatformLayout.RouterPort, router)).ToList();
        foreach (var rule in rules.Where(r => r.Peers is null))
        {
            yield return $"{rule.Describe()} admits app traffic to {router} from anywhere; expected only the ingress controller";
        }
        if (!rules.Any(r => r.Peers?.Any(p => p.ContainsKey("namespaceSelector") && NetworkPolicies.Resolve(m, p, router.Namespace).Outside) == true))
        {
            yield return $"no NetworkPolicy admits the ingress controller's namespace to {router} port {PlatformLayout.RouterPort}";
        }
    }

    private static IEnumerable<string> PostgresIngress(KubernetesManifest m, PodGroup db, IReadOnlyList<PodGroup> allowed)
    {
        if (!NetworkPolicies.IsIsolated(m, db, "Ingress"))
        {
            yield return $"{db}: no NetworkPolicy restricts connections to PostgreSQL";
            yield break;
        }
        foreach (var rule in NetworkPolicies.Rules(m, db, "Ingress").Where(r => r.AllowsPort(PlatformLayout.PostgresPort, db)))
        {
            if (rule.Peers is null)
            {
                yield return $"{rule.Describe()} admits anyone to PostgreSQL ({db}) port {PlatformLayout.PostgresPort}";
                continue;
            }
            foreach (var peer in rule.Peers)
            {
                var target = NetworkPolicies.Resolve(m, peer, db.Namespace);
                if (target.Outside)
                {
                    yield return $"{rule.Describe()} admits {target.Description} to PostgreSQL ({db}) port {PlatformLayout.PostgresPort}";
                }
                foreach (var g in target.LocalGroups.Where(g => !allowed.Contains(g)))
                {
                    yield return $"{rule.Describe()} admits {g} to PostgreSQL ({db}) port {PlatformLayout.PostgresPort}; only the control plane and the migrations Job may connect";
                }
            }
        }
    }
}
