using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Deploy.Tests.Support;

/// <summary>Rules for docker-compose.yml, its env example and the reverse proxy configuration.</summary>
public static partial class ComposeChecks
{
    public const string Proxy = "proxy";
    public static readonly IReadOnlyList<string> Routers = ["router1", "router2"];
    public static readonly IReadOnlyList<string> RequiredServices = ["postgres", "registry", PlatformLayout.MigrationsName, PlatformLayout.ControlPlaneName, .. Routers, Proxy];

    /// <param name="compose">docker-compose.yml, loaded with merge keys applied.</param>
    /// <param name="envExample">The text of deploy/compose/platform.env.example.</param>
    /// <param name="readFile">Reads a file the compose file mounts (path relative to the repository root), null when missing.</param>
    public static IReadOnlyList<string> All(Dictionary<string, object?> compose, string envExample, Func<string, string?> readFile)
    {
        var problems = new List<string>();
        var services = compose.Map("services") ?? [];
        foreach (var name in RequiredServices.Where(n => !services.ContainsKey(n)))
        {
            problems.Add($"service '{name}' is missing (services: {string.Join(", ", services.Keys)})");
        }
        if (problems.Count > 0)
        {
            return problems;
        }

        problems.AddRange(HealthChecks(services));
        problems.AddRange(RegistryLockedDown(services));
        problems.AddRange(Ports(services));
        problems.AddRange(Images(services));
        problems.AddRange(StartOrder(services));
        problems.AddRange(RoutersHaveNoDatabaseAccess(services));
        problems.AddRange(Settings(services));
        problems.AddRange(Volumes(compose, services));
        problems.AddRange(Variables(compose, envExample));
        problems.AddRange(ProxyConfig(services, readFile));
        foreach (var name in (string[])[PlatformLayout.ControlPlaneName, PlatformLayout.MigrationsName, .. Routers])
        {
            if (!services.IsTrue(name, "read_only"))
            {
                problems.Add($"service '{name}' does not set read_only: true");
            }
        }
        return problems;
    }

    /// <summary>A service's environment as a map, from either the mapping or the KEY=VALUE list form.</summary>
    public static IReadOnlyDictionary<string, string?> Environment(Dictionary<string, object?> service)
    {
        var env = new Dictionary<string, string?>();
        switch (service.At("environment"))
        {
            case Dictionary<string, object?> map:
                foreach (var (k, v) in map)
                {
                    env[k] = v as string;
                }
                break;
            case List<object?> list:
                foreach (var item in list.OfType<string>())
                {
                    var eq = item.IndexOf('=');
                    env[eq < 0 ? item : item[..eq]] = eq < 0 ? null : item[(eq + 1)..];
                }
                break;
        }
        return env;
    }

    [GeneratedRegex(@"\$\{[^}]*\}")]
    private static partial Regex Interpolation();

    /// <summary>The image repository of a service, with ${...} tag variables set aside.</summary>
    public static string ImageRepository(Dictionary<string, object?> service) =>
        PlatformLayout.ImageRepository(Interpolation().Replace(service.Text("image") ?? "", "tag"));

    /// <summary>(host port, container port) of each published port, short or long syntax.</summary>
    public static IReadOnlyList<(string Host, string Container)> PublishedPorts(Dictionary<string, object?> service)
    {
        var ports = new List<(string, string)>();
        foreach (var item in service.Items("ports"))
        {
            if (item is Dictionary<string, object?> longForm)
            {
                ports.Add((longForm.Text("published") ?? "", longForm.Text("target") ?? ""));
            }
            else if (item is string shortForm)
            {
                // "${ADDR:-127.0.0.1}:8080:8080/tcp": variables may hold colons, so blank them out first.
                var parts = Interpolation().Replace(shortForm, "x").Split('/')[0].Split(':');
                ports.Add((parts.Length >= 2 ? parts[^2] : "", parts[^1]));
            }
        }
        return ports;
    }

    /// <summary>The registry authenticates every call and allows no delete (issue 14: no anonymous writes, no credential deletes).</summary>
    private static IEnumerable<string> RegistryLockedDown(Dictionary<string, object?> services)
    {
        var env = Environment(services.Map("registry")!);
        if (env.GetValueOrDefault("REGISTRY_AUTH") is not ("htpasswd" or "token") || string.IsNullOrEmpty(env.GetValueOrDefault($"REGISTRY_AUTH_{env["REGISTRY_AUTH"]!.ToUpperInvariant()}_REALM")))
        {
            yield return $"service 'registry': REGISTRY_AUTH is '{env.GetValueOrDefault("REGISTRY_AUTH") ?? "unset"}', expected htpasswd or token with a realm";
        }
        if (env.GetValueOrDefault("REGISTRY_STORAGE_DELETE_ENABLED") is not "false")
        {
            yield return $"service 'registry': REGISTRY_STORAGE_DELETE_ENABLED is '{env.GetValueOrDefault("REGISTRY_STORAGE_DELETE_ENABLED") ?? "unset"}', expected \"false\"";
        }
    }

    private static IEnumerable<string> HealthChecks(Dictionary<string, object?> services)
    {
        // One-shot services (restart "no", waited for with service_completed_successfully) have nothing to probe.
        foreach (var (name, _) in services.Where(s => s.Key != PlatformLayout.MigrationsName && services.Text(s.Key, "restart") != "no"))
        {
            var test = services.At(name, "healthcheck", "test");
            var words = test is List<object?> list ? list.OfType<string>().ToList() : test is string s ? [s] : [];
            if (words.Count == 0 || words[0] == "NONE" || services.IsTrue(name, "healthcheck", "disable"))
            {
                yield return $"service '{name}' has no health check";
            }
        }
        foreach (var (name, port) in new[] { (PlatformLayout.ControlPlaneName, PlatformLayout.ControlPlanePort), (Routers[0], PlatformLayout.RouterManagementPort), (Routers[1], PlatformLayout.RouterManagementPort) })
        {
            var words = services.Items(name, "healthcheck", "test").OfType<string>().ToList();
            if (!words.SequenceEqual(["CMD", "healthcheck", port.ToString(System.Globalization.CultureInfo.InvariantCulture), PlatformLayout.ReadinessPath]))
            {
                yield return $"service '{name}' health check is [{string.Join(", ", words)}], expected [CMD, healthcheck, {port}, {PlatformLayout.ReadinessPath}]";
            }
        }
    }

    private static IEnumerable<string> Ports(Dictionary<string, object?> services)
    {
        var expected = new Dictionary<string, int> { [Proxy] = PlatformLayout.ProxyPort, [PlatformLayout.ControlPlaneName] = PlatformLayout.ControlPlanePort };
        foreach (var (name, _) in services)
        {
            var published = PublishedPorts(services.Map(name)!);
            if (expected.TryGetValue(name, out var port))
            {
                var text = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (!published.Contains((text, text)))
                {
                    yield return $"service '{name}' publishes [{string.Join(", ", published.Select(p => $"{p.Host}:{p.Container}"))}], expected {port}:{port}";
                }
            }
            else if (published.Count > 0)
            {
                yield return $"service '{name}' publishes [{string.Join(", ", published.Select(p => $"{p.Host}:{p.Container}"))}]; only the proxy ({PlatformLayout.ProxyPort}) and the control plane ({PlatformLayout.ControlPlanePort}) may";
            }
        }
    }

    private static IEnumerable<string> Images(Dictionary<string, object?> services)
    {
        var expected = new List<(string Service, PlatformImage Image)>
        {
            (PlatformLayout.ControlPlaneName, PlatformLayout.ControlPlane),
            (PlatformLayout.MigrationsName, PlatformLayout.Migrations),
        };
        expected.AddRange(Routers.Select(r => (r, PlatformLayout.Router)));
        foreach (var (name, image) in expected)
        {
            if (ImageRepository(services.Map(name)!) != image.Name)
            {
                yield return $"service '{name}' image is '{services.Text(name, "image")}', expected {image.Name}";
            }
            var dockerfile = services.Text(name, "build", "dockerfile");
            if (dockerfile != image.Dockerfile || (services.Text(name, "build", "context") ?? ".") != ".")
            {
                yield return $"service '{name}' builds '{dockerfile}' in context '{services.Text(name, "build", "context")}', expected {image.Dockerfile} in '.'";
            }
            else if (!File.Exists(RepoPaths.Combine(dockerfile)))
            {
                yield return $"service '{name}' builds '{dockerfile}', which does not exist";
            }
        }
    }

    private static string? DependsOn(Dictionary<string, object?> services, string service, string on) =>
        services.At(service, "depends_on") switch
        {
            Dictionary<string, object?> map when map.ContainsKey(on) => map.Text(on, "condition") ?? "service_started",
            List<object?> list when list.Contains(on) => "service_started",
            _ => null,
        };

    private static IEnumerable<string> StartOrder(Dictionary<string, object?> services)
    {
        var checks = new (string Service, string On, string Condition)[]
        {
            (PlatformLayout.MigrationsName, "postgres", "service_healthy"),
            (PlatformLayout.ControlPlaneName, PlatformLayout.MigrationsName, "service_completed_successfully"),
            (Routers[0], PlatformLayout.ControlPlaneName, "service_healthy"),
            (Routers[1], PlatformLayout.ControlPlaneName, "service_healthy"),
        };
        foreach (var (service, on, condition) in checks)
        {
            var actual = DependsOn(services, service, on);
            if (actual != condition)
            {
                yield return $"service '{service}' depends on '{on}' with '{actual ?? "nothing"}', expected {condition}";
            }
        }
        var restart = services.Text(PlatformLayout.MigrationsName, "restart");
        if (restart is "always" or "unless-stopped")
        {
            yield return $"service '{PlatformLayout.MigrationsName}' has restart '{restart}'; a one-shot job would run again and again";
        }
    }

    [GeneratedRegex(@"(?i)(database|connectionstring|^PG|postgres|^DB_)")]
    private static partial Regex DatabaseSettingName();

    private static IEnumerable<string> RoutersHaveNoDatabaseAccess(Dictionary<string, object?> services)
    {
        foreach (var name in Routers)
        {
            var service = services.Map(name)!;
            foreach (var (key, value) in Environment(service))
            {
                if (DatabaseSettingName().IsMatch(key))
                {
                    yield return $"service '{name}' has database setting '{key}'";
                }
                else if (value is not null && (value.Contains("Password=", StringComparison.OrdinalIgnoreCase) || value.Contains("POSTGRES_PASSWORD", StringComparison.Ordinal)))
                {
                    yield return $"service '{name}': '{key}' carries database credentials";
                }
            }
            if (service.At("env_file") is not null)
            {
                yield return $"service '{name}' reads env_file '{string.Join(", ", service.Items("env_file").OfType<string>().DefaultIfEmpty(service.Text("env_file") ?? ""))}', which may hold database credentials";
            }
            foreach (var volume in service.Items("volumes").OfType<string>().Where(v => v.StartsWith("postgres", StringComparison.Ordinal)))
            {
                yield return $"service '{name}' mounts '{volume}'";
            }
        }
    }

    [GeneratedRegex(@"^https?://(0\.0\.0\.0|\[::\]|\*|\+):(?<port>[0-9]+)/?$")]
    private static partial Regex AnyInterfaceUrl();

    private static IEnumerable<string> Settings(Dictionary<string, object?> services)
    {
        var cp = Environment(services.Map(PlatformLayout.ControlPlaneName)!);
        IEnumerable<string> ExpectBind(string service, IReadOnlyDictionary<string, string?> env, string key, int port)
        {
            var value = env.GetValueOrDefault(key);
            var match = value is null ? Match.Empty : AnyInterfaceUrl().Match(value);
            if (!match.Success || match.Groups["port"].Value != port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                yield return $"service '{service}': {key} is '{value ?? "unset"}', expected http://0.0.0.0:{port}";
            }
        }
        foreach (var p in ExpectBind(PlatformLayout.ControlPlaneName, cp, "Platform__ControlPlane__Url", PlatformLayout.ControlPlanePort))
        {
            yield return p;
        }
        foreach (var key in new[] { "PLATFORM_ADMIN_KEY", "PLATFORM_ROUTER_TOKEN", "PLATFORM_ARTIFACT_SIGNING_KEY", "Platform__Database__ConnectionString" })
        {
            if (cp.GetValueOrDefault(key) is not { } v || !v.Contains("${", StringComparison.Ordinal))
            {
                yield return $"service '{PlatformLayout.ControlPlaneName}': {key} must come from the env file (${{...}}), found '{cp.GetValueOrDefault(key) ?? "nothing"}'";
            }
        }
        foreach (var name in Routers)
        {
            var env = Environment(services.Map(name)!);
            foreach (var p in ExpectBind(name, env, "Platform__Router__Url", PlatformLayout.RouterPort)
                .Concat(ExpectBind(name, env, "Platform__Router__ManagementUrl", PlatformLayout.RouterManagementPort)))
            {
                yield return p;
            }
            var cpUrl = env.GetValueOrDefault("Platform__Router__ControlPlaneUrl");
            if (cpUrl != $"http://{PlatformLayout.ControlPlaneName}:{PlatformLayout.ControlPlanePort}")
            {
                yield return $"service '{name}': Platform__Router__ControlPlaneUrl is '{cpUrl ?? "unset"}', expected http://{PlatformLayout.ControlPlaneName}:{PlatformLayout.ControlPlanePort}";
            }
            if (env.GetValueOrDefault("PLATFORM_ROUTER_TOKEN") != cp.GetValueOrDefault("PLATFORM_ROUTER_TOKEN"))
            {
                yield return $"service '{name}': PLATFORM_ROUTER_TOKEN '{env.GetValueOrDefault("PLATFORM_ROUTER_TOKEN")}' differs from the control plane's";
            }
            if (env.GetValueOrDefault("PLATFORM_ARTIFACT_SIGNING_KEY") != cp.GetValueOrDefault("PLATFORM_ARTIFACT_SIGNING_KEY"))
            {
                yield return $"service '{name}': PLATFORM_ARTIFACT_SIGNING_KEY '{env.GetValueOrDefault("PLATFORM_ARTIFACT_SIGNING_KEY")}' differs from the control plane's";
            }
            if (env.GetValueOrDefault("Platform__Router__AppDomain") != cp.GetValueOrDefault("Platform__Apps__Domain"))
            {
                yield return $"service '{name}': Platform__Router__AppDomain '{env.GetValueOrDefault("Platform__Router__AppDomain")}' differs from the control plane's Platform__Apps__Domain '{cp.GetValueOrDefault("Platform__Apps__Domain")}'";
            }
            if (env.GetValueOrDefault("Platform__Registry__Url") != cp.GetValueOrDefault("Platform__Registry__Url"))
            {
                yield return $"service '{name}': Platform__Registry__Url '{env.GetValueOrDefault("Platform__Registry__Url")}' differs from the control plane's";
            }
            // Routers pull with credentials of their own, never the control plane's (which may push).
            if (env.GetValueOrDefault("Platform__Registry__Username") is not { Length: > 0 } user || user == cp.GetValueOrDefault("Platform__Registry__Username")
                || env.GetValueOrDefault("Platform__Registry__Password") is not { Length: > 0 } password || password == cp.GetValueOrDefault("Platform__Registry__Password"))
            {
                yield return $"service '{name}': registry credentials must be set and differ from the control plane's";
            }
            var cache = env.GetValueOrDefault("Platform__Router__CacheDirectory") ?? PlatformLayout.RouterCacheDirectory;
            if (!services.Items(name, "volumes").OfType<string>().Any(v => v.Split(':') is [var source, var target, ..] && target == cache && !source.StartsWith('.') && !source.StartsWith('/')))
            {
                yield return $"service '{name}': the module cache '{cache}' is not on a named volume";
            }
        }
    }

    private static IEnumerable<string> Volumes(Dictionary<string, object?> compose, Dictionary<string, object?> services)
    {
        var declared = compose.Map("volumes")?.Keys.ToHashSet() ?? [];
        var used = new Dictionary<string, string>();
        foreach (var (name, _) in services)
        {
            foreach (var volume in services.Items(name, "volumes"))
            {
                var source = volume switch
                {
                    string s => s.Split(':')[0],
                    Dictionary<string, object?> m when m.Text("type") == "volume" => m.Text("source") ?? "",
                    _ => "",
                };
                // A read-only mount of a volume another service writes (the registry reading its htpasswd) is no sharing.
                var readOnly = volume is string mount && mount.Split(':') is [_, _, var mode] && mode.Split(',').Contains("ro");
                if (source.Length == 0 || source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('$'))
                {
                    continue;
                }
                if (!declared.Contains(source))
                {
                    yield return $"service '{name}' uses volume '{source}', which is not declared under top-level volumes";
                }
                if (readOnly)
                {
                    continue;
                }
                if (used.TryGetValue(source, out var other) && other != name)
                {
                    yield return $"services '{other}' and '{name}' share volume '{source}'";
                }
                used[source] = name;
            }
        }
        foreach (var (service, path) in new[] { ("postgres", "/var/lib/postgresql/data"), ("registry", "/var/lib/registry") })
        {
            if (!services.Items(service, "volumes").OfType<string>().Any(v => v.Split(':') is [var source, var target, ..] && target == path && declared.Contains(source)))
            {
                yield return $"service '{service}' keeps '{path}' on no named volume; its data would be lost with the container";
            }
        }
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<op>:?[-?+])?(?<rest>[^}]*)\}")]
    private static partial Regex Variable();

    private static IEnumerable<string> Variables(Dictionary<string, object?> compose, string envExample)
    {
        var documented = envExample.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#') && l.Contains('='))
            .Select(l => l[..l.IndexOf('=')]).ToHashSet();
        var used = new List<Match>();
        void Collect(object? node)
        {
            switch (node)
            {
                case string s:
                    used.AddRange(Variable().Matches(s));
                    break;
                case Dictionary<string, object?> map:
                    foreach (var v in map.Values)
                    {
                        Collect(v);
                    }
                    break;
                case List<object?> list:
                    foreach (var v in list)
                    {
                        Collect(v);
                    }
                    break;
            }
        }
        Collect(compose);
        foreach (var name in used.Select(m => m.Groups["name"].Value).Distinct().Where(n => !documented.Contains(n)))
        {
            yield return $"docker-compose.yml uses ${{{name}}}, which deploy/compose/platform.env.example does not document";
        }
        foreach (var secret in new[] { "POSTGRES_PASSWORD", "PLATFORM_ADMIN_KEY", "PLATFORM_ROUTER_TOKEN", "PLATFORM_ARTIFACT_SIGNING_KEY" })
        {
            var uses = used.Where(m => m.Groups["name"].Value == secret).ToList();
            if (uses.Count == 0 || uses.Any(m => m.Groups["op"].Value != ":?"))
            {
                yield return $"${{{secret}}} must always be written ${{{secret}:?message}}, so compose refuses to start without it";
            }
            if (!envExample.Split('\n').Any(l => l.Trim() == secret + "="))
            {
                yield return $"platform.env.example must leave {secret} empty, so nobody runs with a published example secret";
            }
        }
    }

    private static IEnumerable<string> ProxyConfig(Dictionary<string, object?> services, Func<string, string?> readFile)
    {
        var mounts = services.Items(Proxy, "volumes").OfType<string>().Select(v => v.Split(':')).Where(p => p.Length >= 2 && p[0].StartsWith("./", StringComparison.Ordinal)).ToList();
        if (mounts.Count == 0)
        {
            yield return $"service '{Proxy}' mounts no configuration file from the repository";
            yield break;
        }
        var config = string.Join('\n', mounts.Select(m => readFile(m[0][2..]) ?? ""));
        if (mounts.Any(m => readFile(m[0][2..]) is null))
        {
            yield return $"service '{Proxy}' mounts '{string.Join(", ", mounts.Select(m => m[0]))}', which does not exist";
            yield break;
        }
        var domain = Environment(services.Map(Routers[0])!).GetValueOrDefault("Platform__Router__AppDomain") ?? "apps.localhost";
        if (!config.Contains("*." + domain, StringComparison.Ordinal))
        {
            yield return $"the proxy configuration does not accept '*.{domain}'";
        }
        foreach (var router in Routers)
        {
            if (!config.Contains($"{router}:{PlatformLayout.RouterPort}", StringComparison.Ordinal))
            {
                yield return $"the proxy configuration does not send traffic to '{router}:{PlatformLayout.RouterPort}'";
            }
        }
        if (!config.Contains($":{PlatformLayout.ProxyPort}", StringComparison.Ordinal))
        {
            yield return $"the proxy configuration does not listen on port {PlatformLayout.ProxyPort}";
        }
        foreach (var problem in ProxyHashing(config))
        {
            yield return problem;
        }
    }

    /// <summary>
    /// The block that proxies to the routers must pick a router by hashing the Host header (Caddy's
    /// <c>lb_policy header Host</c>, rendezvous hashing), so each app's module is loaded on one router, not all.
    /// </summary>
    private static IEnumerable<string> ProxyHashing(string config)
    {
        var start = config.IndexOf("reverse_proxy " + Routers[0], StringComparison.Ordinal);
        if (start < 0)
        {
            yield return "the proxy configuration has no reverse_proxy to the routers";
            yield break;
        }
        var open = config.IndexOf('{', start);
        var depth = 0;
        var end = open;
        for (; open >= 0 && end < config.Length; end++)
        {
            depth += config[end] == '{' ? 1 : config[end] == '}' ? -1 : 0;
            if (depth == 0)
            {
                break;
            }
        }
        var block = open < 0 ? "" : config[open..end];
        var policies = block.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("lb_policy", StringComparison.Ordinal))
            .Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (policies.Count != 1 || policies[0] is not [_, "header", var field, ..] || !field.Equals("Host", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"the proxy picks routers by '{string.Join(" | ", policies.Select(p => string.Join(' ', p.Skip(1))))}', expected 'lb_policy header Host' (consistent hashing by app host)";
        }
    }
}
