using Platform.Deploy.Tests.Support;

namespace Platform.Deploy.Tests.Unit;

/// <summary>The manifest checks on small hand-written manifests: each rule passes good input and rejects bad input.</summary>
[Trait("Category", "Unit")]
public sealed class KubernetesCheckTests
{
    private const string HardenedDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: platform}
        spec:
          template:
            metadata:
              labels: {app.kubernetes.io/name: web}
            spec:
              securityContext:
                runAsNonRoot: true
                seccompProfile: {type: RuntimeDefault}
              containers:
                - name: web
                  image: example/web:1
                  resources:
                    requests: {cpu: 100m, memory: 128Mi}
                    limits: {cpu: "1", memory: 256Mi}
                  securityContext:
                    runAsNonRoot: true
                    readOnlyRootFilesystem: true
                    allowPrivilegeEscalation: false
                    capabilities: {drop: [ALL]}
                    seccompProfile: {type: RuntimeDefault}
        """;

    private static KubernetesManifest Parse(string yaml) => KubernetesManifest.Parse(yaml, "test");

    private static Dictionary<string, object?> Container(KubernetesManifest m) => m.PodGroups()[0].Containers.First();

    [Fact]
    public void A_hardened_container_passes_the_security_and_resource_checks()
    {
        var m = Parse(HardenedDeployment);

        Assert.Empty(KubernetesChecks.PodSecurity(m));
        Assert.Empty(KubernetesChecks.Resources(m));
    }

    [Fact]
    public void A_container_without_a_security_context_is_rejected_for_each_missing_setting()
    {
        var m = Parse(HardenedDeployment);
        Container(m).Remove("securityContext");

        var problems = KubernetesChecks.PodSecurity(m).ToList();

        Assert.Contains(problems, p => p.Contains("securityContext.runAsNonRoot is 'unset'"));
        Assert.Contains(problems, p => p.Contains("readOnlyRootFilesystem is 'unset'"));
        Assert.Contains(problems, p => p.Contains("allowPrivilegeEscalation is 'unset'"));
        Assert.Contains(problems, p => p.Contains("capabilities.drop is []"));
        Assert.Contains(problems, p => p.Contains("seccompProfile.type is 'unset'"));
        Assert.All(problems, p => Assert.Contains("Deployment/web container 'web'", p));
    }

    [Fact]
    public void Added_capabilities_and_a_root_user_are_rejected()
    {
        var m = Parse(HardenedDeployment);
        var sc = Container(m).Map("securityContext")!;
        sc.Map("capabilities")!["add"] = new List<object?> { "NET_ADMIN" };
        sc["runAsUser"] = "0";

        var problems = KubernetesChecks.PodSecurity(m).ToList();

        Assert.Contains(problems, p => p.Contains("capabilities.add is [NET_ADMIN]"));
        Assert.Contains(problems, p => p.Contains("runAsUser is 0"));
    }

    [Fact]
    public void A_request_above_its_limit_and_a_missing_limit_are_rejected()
    {
        var m = Parse(HardenedDeployment);
        var resources = Container(m).Map("resources")!;
        resources.Map("requests")!["memory"] = "1Gi";
        resources.Map("limits")!.Remove("cpu");

        var problems = KubernetesChecks.Resources(m).ToList();

        Assert.Contains(problems, p => p.Contains("memory request '1Gi' is above its limit '256Mi'"));
        Assert.Contains(problems, p => p.Contains("no resources.limits.cpu"));
    }

    [Theory]
    [InlineData("500m", 0.5)]
    [InlineData("2", 2)]
    [InlineData("256Mi", 268435456)]
    [InlineData("1.5Gi", 1610612736)]
    [InlineData("1k", 1000)]
    public void Resource_quantities_are_read_with_their_suffixes(string text, double expected)
    {
        Assert.Equal((decimal)expected, KubernetesChecks.Quantity(text));
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("5 Gi")]
    [InlineData("")]
    public void Malformed_quantities_are_not_numbers(string text)
    {
        Assert.Null(KubernetesChecks.Quantity(text));
    }

    [Theory]
    [InlineData("lifecycle: {preStop: {exec: {command: [sleep, '10']}}}", 10)]
    [InlineData("lifecycle: {preStop: {exec: {command: [/bin/sh, -c, sleep 7]}}}", 7)]
    [InlineData("lifecycle: {preStop: {sleep: {seconds: 12}}}", 12)]
    [InlineData("lifecycle: {preStop: {exec: {command: [nginx, -s, quit]}}}", null)]
    [InlineData("name: none", null)]
    public void PreStop_sleeps_are_read_from_exec_and_sleep_hooks(string container, int? seconds)
    {
        Assert.Equal(seconds, KubernetesChecks.PreStopSleepSeconds(Yaml.LoadMapping(container, "container")));
    }

    private const string TwoTierNetwork = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: front, namespace: platform}
        spec:
          template:
            metadata: {labels: {app: front}}
            spec: {containers: [{name: front, image: x/front:1}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: back, namespace: platform}
        spec:
          template:
            metadata: {labels: {app: back}}
            spec: {containers: [{name: back, image: x/back:1, ports: [{name: api, containerPort: 7000}]}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny, namespace: platform}
        spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: front-out, namespace: platform}
        spec:
          podSelector: {matchLabels: {app: front}}
          policyTypes: [Egress]
          egress: [{to: [{podSelector: {matchLabels: {app: back}}}], ports: [{port: 7000}]}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: back-in, namespace: platform}
        spec:
          podSelector: {matchLabels: {app: back}}
          ingress: [{from: [{podSelector: {matchLabels: {app: front}}}], ports: [{port: api}]}]
        """;

    [Fact]
    public void Traffic_passes_only_where_both_egress_and_ingress_allow_it()
    {
        var m = Parse(TwoTierNetwork);
        var front = m.Workload("Deployment", "front")!;
        var back = m.Workload("Deployment", "back")!;

        Assert.True(NetworkPolicies.Allows(m, front, back, 7000));
        Assert.False(NetworkPolicies.Allows(m, front, back, 7001));
        Assert.False(NetworkPolicies.Allows(m, back, front, 7000));
    }

    [Fact]
    public void Without_the_ingress_rule_the_default_deny_blocks_the_path()
    {
        var m = Parse(TwoTierNetwork);
        var objects = m.Objects.Where(o => o.Name != "back-in").ToList();
        var without = new KubernetesManifest(objects);

        Assert.False(NetworkPolicies.Allows(without, without.Workload("Deployment", "front")!, without.Workload("Deployment", "back")!, 7000));
    }

    [Fact]
    public void A_namespace_selector_peer_reaches_outside_the_namespace()
    {
        var m = Parse(TwoTierNetwork);
        var peer = Yaml.LoadMapping("namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}", "peer");

        var target = NetworkPolicies.Resolve(m, peer, "platform");

        Assert.True(target.Outside);
        Assert.Empty(target.LocalGroups);
    }

    private const string RouterAndJob = """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrations, namespace: platform}
        spec:
          template:
            metadata: {labels: {app.kubernetes.io/name: migrations}}
            spec:
              containers:
                - name: migrations
                  image: platform/migrations:1
                  env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db-credentials, key: password}}}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: router, namespace: platform}
        spec:
          template:
            metadata: {labels: {app.kubernetes.io/name: router}}
            spec:
              automountServiceAccountToken: false
              containers:
                - name: router
                  image: platform/router:1
                  env: [{name: PLATFORM_ROUTER_TOKEN, valueFrom: {secretKeyRef: {name: router-token, key: token}}}]
        """;

    [Fact]
    public void A_router_with_only_its_token_passes_the_database_isolation_check()
    {
        Assert.Empty(KubernetesChecks.RouterHasNoDatabaseAccess(Parse(RouterAndJob)));
    }

    [Fact]
    public void A_router_that_mounts_the_migrations_database_secret_is_rejected()
    {
        var m = Parse(RouterAndJob);
        KubernetesChecks.Router(m)!.PodSpec!["volumes"] = new List<object?> { Yaml.LoadMapping("name: db\nsecret: {secretName: db-credentials}", "volume") };

        var problem = Assert.Single(KubernetesChecks.RouterHasNoDatabaseAccess(m));

        Assert.Contains("Deployment/router can read database Secret 'db-credentials'", problem);
    }

    [Fact]
    public void A_router_with_a_database_setting_or_an_api_token_is_rejected()
    {
        var m = Parse(RouterAndJob);
        var router = KubernetesChecks.Router(m)!;
        ((List<object?>)router.Containers.First()["env"]!).Add(Yaml.LoadMapping("name: Platform__Database__ConnectionString\nvalue: Host=db", "env"));
        router.PodSpec!["automountServiceAccountToken"] = "true";

        var problems = KubernetesChecks.RouterHasNoDatabaseAccess(m).ToList();

        Assert.Contains(problems, p => p.Contains("database setting 'Platform__Database__ConnectionString'"));
        Assert.Contains(problems, p => p.Contains("automountServiceAccountToken is 'true'"));
    }

    [Theory]
    [InlineData("registry.example.com/platform/router:1.2.3", "platform/router")]
    [InlineData("platform/controlplane@sha256:0123", "platform/controlplane")]
    [InlineData("localhost:5000/platform/migrations:dev", "platform/migrations")]
    [InlineData("platform/router", "platform/router")]
    public void Platform_images_are_recognized_from_any_registry(string reference, string expected)
    {
        Assert.Equal(expected, PlatformLayout.ImageFor(reference)?.Name);
    }

    [Theory]
    [InlineData("localhost:5000/other/router:1")]
    [InlineData("platform/routers:1")]
    [InlineData("postgres:17")]
    public void Other_images_are_not_platform_images(string reference)
    {
        Assert.Null(PlatformLayout.ImageFor(reference));
    }
}
