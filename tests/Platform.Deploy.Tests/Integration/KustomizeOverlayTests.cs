using Platform.Deploy.Tests.Support;

namespace Platform.Deploy.Tests.Integration;

/// <summary>
/// Renders each overlay with the real kubectl kustomize and checks the result; then breaks a fresh copy of the
/// render in one place at a time to show the checks reject it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KustomizeOverlayTests
{
    public static TheoryData<string> Overlays => [.. Kustomize.Overlays];

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_overlay_renders_and_passes_every_check(string overlay)
    {
        var manifest = await Kustomize.ManifestAsync(overlay);

        var problems = KubernetesChecks.All(manifest);

        Assert.True(problems.Count == 0, $"deploy/k8s/overlays/{overlay}:\n{string.Join('\n', problems)}");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_overlay_has_the_platform_objects_the_design_names(string overlay)
    {
        var m = await Kustomize.ManifestAsync(overlay);

        foreach (var (kind, name) in new[]
        {
            ("Namespace", "platform"), ("Deployment", "controlplane"), ("Service", "controlplane"), ("PodDisruptionBudget", "controlplane"),
            ("Deployment", "router"), ("Service", "router"), ("HorizontalPodAutoscaler", "router"), ("PodDisruptionBudget", "router"),
            ("Job", "migrations"), ("NetworkPolicy", "default-deny-all"), ("Ingress", "platform-api"), ("Ingress", "platform-apps"),
        })
        {
            Assert.True(m.Find(kind, name) is not null, $"{overlay}: no {kind}/{name}");
        }
        Assert.Contains(m.OfKind("ConfigMap"), c => c.Name.StartsWith("router-settings-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_dev_overlay_runs_PostgreSQL_and_the_registry_inside_the_cluster()
    {
        var m = await Kustomize.ManifestAsync("dev");

        var postgres = Assert.Single(m.PostgresGroups());
        Assert.Equal("StatefulSet", postgres.Owner.Kind);
        Assert.NotEmpty(postgres.Owner.Root.Items("spec", "volumeClaimTemplates"));
        Assert.NotNull(m.Find("Service", "postgres"));
        var registry = Assert.Single(m.RegistryGroups());
        Assert.Equal("Deployment", registry.Owner.Kind);
        Assert.NotNull(m.Find("Service", "registry"));
        Assert.NotNull(m.Find("PersistentVolumeClaim", "registry-data"));
        // The Secrets the workloads read exist, so `kubectl apply -k` works on an empty cluster.
        foreach (var secret in new[] { "platform-db-app", "platform-admin-key", "platform-router-token" })
        {
            Assert.True(m.Find("Secret", secret) is not null, $"no Secret/{secret}");
        }
    }

    [Fact]
    public async Task The_production_overlay_uses_an_external_database_and_registry_and_pinned_images()
    {
        var m = await Kustomize.ManifestAsync("production");

        var postgres = Assert.Single(m.PostgresGroups());
        Assert.True(KubernetesManifest.IsCloudNativePgCluster(postgres.Owner), $"PostgreSQL comes from {postgres}");
        Assert.Empty(m.RegistryGroups());
        Assert.DoesNotContain(m.OfKind("Secret"), s => s.Name is "platform-db-app" or "platform-admin-key" or "platform-router-token");

        var settings = m.OfKind("ConfigMap").Single(c => c.Name.StartsWith("platform-settings-", StringComparison.Ordinal)).Root.StringMap("data");
        Assert.StartsWith("https://", settings["Platform__Registry__Url"]);
        foreach (var g in new[] { KubernetesChecks.ControlPlane(m)!, KubernetesChecks.Router(m)!, KubernetesChecks.MigrationsJob(m)! })
        {
            var image = g.Containers.First().Text("image")!;
            // Pulled from a named registry host, not from Docker Hub by a bare name.
            var host = PlatformLayout.ImageRepository(image).Split('/')[0];
            Assert.True(host.Contains('.') || host.Contains(':'), $"{g} pulls '{image}' without a registry host");
            Assert.DoesNotContain(PlatformLayout.ImageTag(image), new[] { null, "latest", "dev" });
        }
        Assert.All(m.OfKind("Ingress"), i => Assert.NotEmpty(i.Root.Items("spec", "tls")));
    }

    [Fact]
    public async Task Production_runs_more_control_planes_and_routers_than_dev()
    {
        var dev = await Kustomize.ManifestAsync("dev");
        var production = await Kustomize.ManifestAsync("production");

        static int Number(KubernetesManifest m, string kind, string name, params object[] path) => int.Parse(m.Find(kind, name)!.Root.Text(path)!);

        Assert.True(Number(production, "Deployment", "controlplane", "spec", "replicas") > Number(dev, "Deployment", "controlplane", "spec", "replicas"));
        Assert.True(Number(production, "HorizontalPodAutoscaler", "router", "spec", "minReplicas") > Number(dev, "HorizontalPodAutoscaler", "router", "spec", "minReplicas"));
        Assert.True(Number(production, "HorizontalPodAutoscaler", "router", "spec", "maxReplicas") > Number(dev, "HorizontalPodAutoscaler", "router", "spec", "maxReplicas"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task App_traffic_is_hashed_by_host_with_bounded_load_and_the_api_is_not(string overlay)
    {
        var m = await Kustomize.ManifestAsync(overlay);

        var apps = m.Find("Ingress", "platform-apps")!.Root.StringMap("metadata", "annotations");
        Assert.Equal("$host", apps[KubernetesChecks.HashByAnnotation]);
        Assert.Equal("1.5", apps[KubernetesChecks.BalanceFactorAnnotation]);
        // Uploads and dashboards need no affinity: the control plane keeps no state of its own.
        Assert.DoesNotContain(KubernetesChecks.HashByAnnotation, m.Find("Ingress", "platform-api")!.Root.StringMap("metadata", "annotations").Keys);
    }

    private static Dictionary<string, object?> RouterContainer(KubernetesManifest m) => KubernetesChecks.Router(m)!.Containers.First();

    private static Dictionary<string, object?> Root(KubernetesManifest m, string kind, string name) =>
        m.Find(kind, name)?.Root ?? throw new InvalidOperationException($"no {kind}/{name} to break");

    /// <summary>Mutations run on a manifest built over a List, so objects can be taken out.</summary>
    private static void RemoveObject(KubernetesManifest m, string kind, string name) =>
        Assert.Equal(1, ((List<K8sObject>)m.Objects).RemoveAll(o => o.Kind == kind && o.Name == name));

    private static Dictionary<string, object?> Node(string yaml) => Yaml.LoadMapping(yaml, "mutation");

    private static readonly Dictionary<string, (string Overlay, Action<KubernetesManifest> Break, string Expected)> s_mutations = new()
    {
        ["the router reads the database secret"] = ("dev", m => ((List<object?>)RouterContainer(m)["env"]!).Add(Node("name: DB_PASSWORD\nvalueFrom: {secretKeyRef: {name: platform-db-app, key: password}}")),
            "Deployment/router can read database Secret 'platform-db-app'"),
        ["the router mounts the database secret"] = ("production", m => ((List<object?>)KubernetesChecks.Router(m)!.PodSpec!["volumes"]!).Add(Node("name: db\nsecret: {secretName: platform-db-app}")),
            "Deployment/router can read database Secret 'platform-db-app'"),
        ["the router reads the admin key"] = ("dev", m => ((List<object?>)RouterContainer(m)["env"]!).Add(Node("name: PLATFORM_ADMIN_KEY\nvalueFrom: {secretKeyRef: {name: platform-admin-key, key: admin-key}}")),
            "Deployment/router can read the admin key Secret 'platform-admin-key'"),
        ["the router settings carry a connection string"] = ("dev", m => m.OfKind("ConfigMap").Single(c => c.Name.StartsWith("router-settings-", StringComparison.Ordinal)).Root.Map("data")!["Platform__Database__ConnectionString"] = "Host=postgres",
            "database setting 'Platform__Database__ConnectionString'"),
        ["router egress is open to everything"] = ("dev", m => ((List<object?>)Root(m, "NetworkPolicy", "router-egress").Map("spec")!["egress"]!).Add(new Dictionary<string, object?>()),
            "NetworkPolicy/router-egress lets Deployment/router reach every destination on every port"),
        ["routers may reach PostgreSQL"] = ("dev", m => ((List<object?>)Root(m, "NetworkPolicy", "router-egress").Items("spec", "egress")[0].At("to")!).Add(Node("podSelector: {matchLabels: {app.kubernetes.io/name: postgres}}")),
            "lets Deployment/router reach StatefulSet/postgres"),
        ["routers may reach the internet"] = ("production", m => Root(m, "NetworkPolicy", "registry-clients-egress").Maps("spec", "egress").First().Maps("to").First().Map("ipBlock")!["cidr"] = "0.0.0.0/0",
            "lets Deployment/router reach the whole internet (0.0.0.0/0)"),
        ["PostgreSQL admits the routers"] = ("dev", m => ((List<object?>)Root(m, "NetworkPolicy", "postgres-ingress").Items("spec", "ingress")[0].At("from")!).Add(Node("podSelector: {matchLabels: {app.kubernetes.io/name: router}}")),
            "admits Deployment/router to PostgreSQL (StatefulSet/postgres) port 5432"),
        ["PostgreSQL admits another namespace"] = ("production", m => ((List<object?>)Root(m, "NetworkPolicy", "postgres-ingress").Items("spec", "ingress")[0].At("from")!).Add(Node("namespaceSelector: {}")),
            "admits namespaces {} (all) to PostgreSQL (Cluster/platform-db) port 5432"),
        ["the control plane cannot reach PostgreSQL"] = ("production", m => RemoveObject(m, "NetworkPolicy", "database-clients-egress"),
            "NetworkPolicies block Deployment/controlplane -> Cluster/platform-db port 5432"),
        ["there is no default deny"] = ("dev", m => RemoveObject(m, "NetworkPolicy", "default-deny-all"),
            "no default-deny NetworkPolicy"),
        ["app traffic reaches routers from anywhere"] = ("dev", m => Root(m, "NetworkPolicy", "router-ingress").Maps("spec", "ingress").First().Remove("from"),
            "admits app traffic to Deployment/router from anywhere"),
        ["the control plane has no readiness probe"] = ("dev", m => KubernetesChecks.ControlPlane(m)!.Containers.First().Remove("readinessProbe"),
            "Deployment/controlplane container 'controlplane': no readinessProbe"),
        ["the router liveness probe is on the app port"] = ("production", m => RouterContainer(m).Map("livenessProbe", "httpGet")!["port"] = "http",
            "Deployment/router: livenessProbe is httpGet '/healthz' on port 'http', expected '/healthz' on port 9090"),
        ["the router readiness probe checks liveness"] = ("dev", m => RouterContainer(m).Map("readinessProbe", "httpGet")!["path"] = "/healthz",
            "readinessProbe is httpGet '/healthz' on port 'management', expected '/readyz' on port 9090"),
        ["the router root file system is writable"] = ("dev", m => RouterContainer(m).Map("securityContext")!["readOnlyRootFilesystem"] = "false",
            "Deployment/router container 'router': securityContext.readOnlyRootFilesystem is 'false', expected true"),
        ["the migrations keep their capabilities"] = ("production", m => KubernetesChecks.MigrationsJob(m)!.Containers.First().Map("securityContext")!.Remove("capabilities"),
            "Job/migrations container 'migrations': securityContext.capabilities.drop is [], expected to contain ALL"),
        ["the control plane pod may run as root"] = ("dev", m => KubernetesChecks.ControlPlane(m)!.PodSpec!.Map("securityContext")!["runAsNonRoot"] = "false",
            "Deployment/controlplane: pod securityContext.runAsNonRoot is 'false', expected true"),
        ["the dev database has no seccomp profile"] = ("dev", m => m.Workload("StatefulSet", "postgres")!.PodSpec!.Map("securityContext")!.Remove("seccompProfile"),
            "StatefulSet/postgres: pod securityContext.seccompProfile.type is 'unset', expected RuntimeDefault"),
        ["the router has no memory limit"] = ("dev", m => RouterContainer(m).Map("resources", "limits")!.Remove("memory"),
            "Deployment/router container 'router': no resources.limits.memory"),
        ["the autoscaler targets a missing deployment"] = ("dev", m => Root(m, "HorizontalPodAutoscaler", "router").Map("spec", "scaleTargetRef")!["name"] = "routers",
            "HorizontalPodAutoscaler/router scales Deployment/routers, which is not in the manifests"),
        ["the autoscaler has no CPU metric"] = ("production", m => Root(m, "HorizontalPodAutoscaler", "router").Map("spec")!["metrics"] = new List<object?>(),
            "HorizontalPodAutoscaler/router has no CPU resource metric"),
        ["the migrations job runs the router image"] = ("production", m => KubernetesChecks.MigrationsJob(m)!.Containers.First()["image"] = "registry.example.com/platform/router:1.0.0",
            "Job/migrations runs image 'registry.example.com/platform/router:1.0.0', expected platform/migrations"),
        ["the control plane binds to loopback"] = ("dev", m => m.OfKind("ConfigMap").Single(c => c.Name.StartsWith("controlplane-settings-", StringComparison.Ordinal)).Root.Map("data")!["Platform__ControlPlane__Url"] = "http://127.0.0.1:5080",
            "Deployment/controlplane: Platform__ControlPlane__Url is 'http://127.0.0.1:5080', expected http://0.0.0.0:5080"),
        ["the router module cache is on the read-only root"] = ("dev", m => ((List<object?>)RouterContainer(m)["volumeMounts"]!).RemoveAll(v => v.Text("mountPath") == PlatformLayout.RouterCacheDirectory),
            "Platform__Router__CacheDirectory '/var/cache/platform/router' is not on a writable volume"),
        ["the grace period is shorter than the drain"] = ("dev", m => KubernetesChecks.Router(m)!.PodSpec!["terminationGracePeriodSeconds"] = "30",
            "terminationGracePeriodSeconds 30 does not cover the preStop sleep (10 s) plus draining in-flight requests (30 s)"),
        ["the router has no preStop hook"] = ("production", m => RouterContainer(m).Remove("lifecycle"),
            "Deployment/router: no preStop sleep"),
        ["the router budget blocks drains"] = ("dev", m => Root(m, "PodDisruptionBudget", "router").Map("spec")!["maxUnavailable"] = "0",
            "PodDisruptionBudget/router (maxUnavailable '0', minAvailable '') blocks every voluntary eviction"),
        ["the app host does not match the app domain"] = ("production", m => Root(m, "Ingress", "platform-apps").Maps("spec", "rules").First()["host"] = "*.apps.other.example",
            "no Ingress rule for the app host '*.apps.example.com'"),
        ["app traffic is not hashed by host"] = ("production", m => Root(m, "Ingress", "platform-apps").Map("metadata", "annotations")!.Remove(KubernetesChecks.HashByAnnotation),
            "Ingress/platform-apps: nginx.ingress.kubernetes.io/upstream-hash-by is 'unset', expected '$host'"),
        ["app traffic is hashed by path"] = ("dev", m => Root(m, "Ingress", "platform-apps").Map("metadata", "annotations")![KubernetesChecks.HashByAnnotation] = "$request_uri",
            "upstream-hash-by is '$request_uri', expected '$host'"),
        ["host hashing has no bounded load"] = ("dev", m => Root(m, "Ingress", "platform-apps").Map("metadata", "annotations")!.Remove(KubernetesChecks.BalanceFactorAnnotation),
            "upstream-hash-by-balance-factor is 'unset', expected a bounded load factor above 1"),
        ["the load bound lets one router take everything"] = ("production", m => Root(m, "Ingress", "platform-apps").Map("metadata", "annotations")![KubernetesChecks.BalanceFactorAnnotation] = "10",
            "upstream-hash-by-balance-factor is '10'"),
        ["subset hashing overrides the bounded load"] = ("dev", m => Root(m, "Ingress", "platform-apps").Map("metadata", "annotations")!["nginx.ingress.kubernetes.io/upstream-hash-by-subset"] = "true",
            "subset hashing or cookie affinity overrides the bounded-load host hashing"),
        ["the router service selects nothing"] = ("dev", m => Root(m, "Service", "router").Map("spec", "selector")!["app.kubernetes.io/name"] = "routers",
            "Service/router selector does not pick the pods of Deployment/router"),
        ["the router reaches the control plane through a missing service"] = ("dev", m => m.OfKind("ConfigMap").Single(c => c.Name.StartsWith("router-settings-", StringComparison.Ordinal)).Root.Map("data")!["Platform__Router__ControlPlaneUrl"] = "http://control-plane:5080",
            "there is no Service 'control-plane'"),
        ["the router and the control plane disagree on the app domain"] = ("dev", m => m.OfKind("ConfigMap").Single(c => c.Name.StartsWith("router-settings-", StringComparison.Ordinal)).Root.Map("data")!["Platform__Router__AppDomain"] = "apps.example.org",
            "Platform__Router__AppDomain 'apps.example.org' differs from the control plane's Platform__Apps__Domain 'apps.localhost'"),
        ["an object lands in another namespace"] = ("production", m => Root(m, "Service", "router").Map("metadata")!["namespace"] = "default",
            "Service/router is in namespace 'default', expected 'platform'"),
    };

    public static TheoryData<string> Mutations => [.. s_mutations.Keys];

    [Theory]
    [MemberData(nameof(Mutations))]
    public async Task A_broken_render_is_rejected(string mutation)
    {
        var (overlay, breakIt, expected) = s_mutations[mutation];
        // A fresh parse of the cached render, so no other test sees the damage.
        var manifest = KubernetesManifest.Parse(await Kustomize.RenderAsync(overlay), overlay);
        var objects = manifest.Objects.ToList();
        var mutable = new KubernetesManifest(objects);

        breakIt(mutable);
        var problems = KubernetesChecks.All(mutable);

        Assert.True(problems.Any(p => p.Contains(expected, StringComparison.Ordinal)),
            $"expected a problem containing \"{expected}\", got:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public async Task A_kustomization_that_does_not_build_fails_with_kubectls_message()
    {
        var dir = Directory.CreateTempSubdirectory("broken-kustomization-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "kustomization.yaml"), "resources:\n  - missing-deployment.yaml\n");

            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Kustomize.RunAsync(dir.FullName));

            Assert.Contains("missing-deployment.yaml", ex.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
