using Platform.Deploy.Tests.Support;

namespace Platform.Deploy.Tests.Unit;

/// <summary>docker-compose.yml, parsed as YAML and checked; then broken on purpose to show each check bites.</summary>
[Trait("Category", "Unit")]
public sealed class ComposeFileTests
{
    [Fact]
    public void The_compose_file_passes_every_check()
    {
        var problems = RepoFiles.CheckCompose(RepoFiles.Compose());

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_compose_file_runs_every_platform_service_and_two_routers()
    {
        var services = RepoFiles.Compose().Map("services")!;

        Assert.Superset(ComposeChecks.RequiredServices.ToHashSet(), services.Keys.ToHashSet());
        Assert.All(ComposeChecks.Routers, r => Assert.Equal("platform/router", ComposeChecks.ImageRepository(services.Map(r)!)));
    }

    private static readonly Dictionary<string, (Action<Dictionary<string, object?>> Break, string Expected)> s_mutations = new()
    {
        ["a router gets the database connection string"] = (c =>
            c.Map("services", "router2", "environment")!["Platform__Database__ConnectionString"] = "Host=postgres;Password=${POSTGRES_PASSWORD:?x}",
            "service 'router2' has database setting 'Platform__Database__ConnectionString'"),
        ["a router reads an env file"] = (c => c.Map("services", "router1")!["env_file"] = "deploy/compose/platform.env",
            "service 'router1' reads env_file 'deploy/compose/platform.env'"),
        ["the control plane waits only for the migrations to start"] = (c =>
            c.Map("services", "controlplane", "depends_on", "migrations")!["condition"] = "service_started",
            "service 'controlplane' depends on 'migrations' with 'service_started', expected service_completed_successfully"),
        ["the migrations do not wait for a healthy database"] = (c => c.Map("services", "migrations")!.Remove("depends_on"),
            "service 'migrations' depends on 'postgres' with 'nothing', expected service_healthy"),
        ["the proxy publishes another port"] = (c => c.Map("services", "proxy")!["ports"] = new List<object?> { "80:8080" },
            "service 'proxy' publishes [80:8080], expected 8080:8080"),
        ["postgres is published on the host"] = (c => c.Map("services", "postgres")!["ports"] = new List<object?> { "5432:5432" },
            "service 'postgres' publishes [5432:5432]"),
        ["the registry is anonymous"] = (c => c.Map("services", "registry", "environment")!.Remove("REGISTRY_AUTH"),
            "service 'registry': REGISTRY_AUTH is 'unset', expected htpasswd or token"),
        ["the registry allows delete"] = (c => c.Map("services", "registry", "environment")!["REGISTRY_STORAGE_DELETE_ENABLED"] = "true",
            "service 'registry': REGISTRY_STORAGE_DELETE_ENABLED is 'true', expected \"false\""),
        ["a router pulls with the control plane's credentials"] = (c => c.Map("services", "router1", "environment")!["Platform__Registry__Username"] = "controlplane",
            "service 'router1': registry credentials must be set and differ from the control plane's"),
        ["postgres has no health check"] = (c => c.Map("services", "postgres")!.Remove("healthcheck"),
            "service 'postgres' has no health check"),
        ["a router health check probes the app port"] = (c => c.Map("services", "router1", "healthcheck")!["test"] = new List<object?> { "CMD", "healthcheck", "8080", "/readyz" },
            "service 'router1' health check is [CMD, healthcheck, 8080, /readyz]"),
        ["the admin key is written into the file"] = (c => c.Map("services", "controlplane", "environment")!["PLATFORM_ADMIN_KEY"] = "hunter2hunter2hunter2",
            "PLATFORM_ADMIN_KEY must come from the env file"),
        ["a variable is not in the env example"] = (c => c.Map("services", "registry", "environment")!["REGISTRY_HTTP_SECRET"] = "${REGISTRY_SECRET}",
            "uses ${REGISTRY_SECRET}, which deploy/compose/platform.env.example does not document"),
        ["the database password may be empty"] = (c => c.Map("services", "postgres", "environment")!["POSTGRES_PASSWORD"] = "${POSTGRES_PASSWORD:-}",
            "${POSTGRES_PASSWORD} must always be written ${POSTGRES_PASSWORD:?message}"),
        ["the routers share one cache volume"] = (c => c.Map("services", "router2")!["volumes"] = new List<object?> { "router1-cache:/var/cache/platform/router", "router2-state:/var/lib/platform/router" },
            "services 'router1' and 'router2' share volume 'router1-cache'"),
        ["postgres data is not on a volume"] = (c => c.Map("services", "postgres")!.Remove("volumes"),
            "service 'postgres' keeps '/var/lib/postgresql/data' on no named volume"),
        ["a volume is not declared"] = (c => c.Map("volumes")!.Remove("registry-data"),
            "service 'registry' uses volume 'registry-data', which is not declared"),
        ["the router binds to loopback"] = (c => c.Map("services", "router1", "environment")!["Platform__Router__ManagementUrl"] = "http://127.0.0.1:9090",
            "service 'router1': Platform__Router__ManagementUrl is 'http://127.0.0.1:9090', expected http://0.0.0.0:9090"),
        ["the proxy config is not mounted"] = (c => c.Map("services", "proxy")!["volumes"] = new List<object?> { "./deploy/compose/missing.conf:/etc/caddy/Caddyfile:ro" },
            "service 'proxy' mounts './deploy/compose/missing.conf', which does not exist"),
        ["the control plane may write its root file system"] = (c => c.Map("services", "controlplane")!["read_only"] = "false",
            "service 'controlplane' does not set read_only: true"),
        ["the router image is built from the wrong Dockerfile"] = (c => c.Map("services", "router1", "build")!["dockerfile"] = "deploy/docker/controlplane.Dockerfile",
            "service 'router1' builds 'deploy/docker/controlplane.Dockerfile'"),
    };

    public static TheoryData<string> Mutations => [.. s_mutations.Keys];

    [Theory]
    [MemberData(nameof(Mutations))]
    public void A_broken_compose_file_is_rejected(string mutation)
    {
        var compose = RepoFiles.Compose();
        var (breakIt, expected) = s_mutations[mutation];

        breakIt(compose);
        var problems = RepoFiles.CheckCompose(compose);

        Assert.True(problems.Any(p => p.Contains(expected, StringComparison.Ordinal)),
            $"expected a problem containing \"{expected}\", got:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void A_compose_file_without_a_router_is_rejected_by_name()
    {
        var compose = RepoFiles.Compose();
        compose.Map("services")!.Remove("router2");

        Assert.Contains("service 'router2' is missing", RepoFiles.CheckCompose(compose)[0]);
    }

    [Theory]
    [InlineData("8080:8080", "8080", "8080")]
    [InlineData("${PLATFORM_PUBLISH_ADDRESS:-127.0.0.1}:5080:5080", "5080", "5080")]
    [InlineData("127.0.0.1:80:8080/tcp", "80", "8080")]
    [InlineData("9090", "", "9090")]
    public void Published_ports_are_read_from_the_short_syntax(string port, string host, string container)
    {
        var service = new Dictionary<string, object?> { ["ports"] = new List<object?> { port } };

        Assert.Equal((host, container), Assert.Single(ComposeChecks.PublishedPorts(service)));
    }

    [Fact]
    public void Published_ports_are_read_from_the_long_syntax()
    {
        var service = Yaml.LoadMapping("ports: [{target: 8080, published: \"8081\"}]", "service");

        Assert.Equal(("8081", "8080"), Assert.Single(ComposeChecks.PublishedPorts(service)));
    }

    [Fact]
    public void The_env_example_leaves_every_secret_empty_and_documents_copying_it()
    {
        var example = RepoFiles.Read(RepoFiles.EnvExample);

        Assert.Contains("POSTGRES_PASSWORD=\n", example);
        Assert.Contains("PLATFORM_ADMIN_KEY=\n", example);
        Assert.Contains("PLATFORM_ROUTER_TOKEN=\n", example);
        Assert.Contains("--env-file deploy/compose/platform.env", example);
        Assert.Contains("platform.env", RepoFiles.Read("deploy/compose/.gitignore"));
    }
}
