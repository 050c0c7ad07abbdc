using Platform.Contracts;
using Platform.Router.Routing;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppRoutingTests
{
    private static ComponentEntry Component(string id, string kind = "wagi", Dictionary<string, string>? env = null, IReadOnlyList<FileEntry>? files = null) =>
        new(id, "sha256:" + new string('a', 64), kind, null, null, env ?? [], [], files ?? []);

    private static RouteEntry Entry(IReadOnlyList<ComponentEntry>? components, IReadOnlyList<HttpRouteEntry>? routes, Dictionary<string, string>? variables = null,
        long memory = 64L * 1024 * 1024) =>
        new("app", 3, "sha256:" + new string('b', 64), "apps/app", "r/apps/app:v3", memory, 5000, variables ?? [], Components: components, HttpRoutes: routes);

    private static AppRouting Build(RouteEntry entry) => AppRouting.Build(entry, 1024, 1024);

    [Fact]
    public void A_table_entry_without_components_is_one_component_on_the_catch_all()
    {
        var routing = Build(Entry(null, null, new() { ["A"] = "1" }));

        Assert.Null(routing.Error);
        var route = Assert.Single(routing.Routes);
        Assert.Equal("/...", route.Pattern.Route);
        Assert.Equal("sha256:" + new string('b', 64), route.Component.ModuleDigest);
        Assert.Equal([new("A", "1")], route.Component.Variables);
        Assert.Empty(route.Component.Files);
    }

    [Fact]
    public void Secrets_come_after_the_components_environment_and_the_apps_variables_so_they_win_on_a_clash()
    {
        var entry = Entry([Component("a", env: new() { ["DB"] = "component", ["ONLY_COMPONENT"] = "c" })], [new("/...", "a")],
            new() { ["DB"] = "variable", ["MODE"] = "prod" }) with { Secrets = new Dictionary<string, string> { ["DB"] = "secret" } };

        var variables = Assert.Single(Build(entry).Routes).Component.Variables;

        Assert.Equal(["component", "variable", "secret"], variables.Where(v => v.Key == "DB").Select(v => v.Value));
        Assert.Equal("secret", variables.Last(v => v.Key == "DB").Value);
        Assert.Contains(new KeyValuePair<string, string>("MODE", "prod"), variables);
        Assert.Contains(new KeyValuePair<string, string>("ONLY_COMPONENT", "c"), variables);
    }

    [Fact]
    public void A_single_module_entry_gets_its_secrets_after_its_variables()
    {
        var entry = Entry(null, null, new() { ["A"] = "1", ["K"] = "variable" }) with { Secrets = new Dictionary<string, string> { ["K"] = "secret" } };

        Assert.Equal([new("A", "1"), new("K", "variable"), new("K", "secret")], Assert.Single(Build(entry).Routes).Component.Variables);
    }

    [Fact]
    public void Routes_are_ordered_most_specific_first_with_exact_before_the_wildcard_of_its_prefix()
    {
        var routing = Build(Entry([Component("a"), Component("b"), Component("c")],
            [new("/...", "a"), new("/api/...", "b"), new("/api/exact", "c"), new("/api/exact/...", "a")]));

        Assert.Null(routing.Error);
        Assert.Equal(["/api/exact", "/api/exact/...", "/api/...", "/..."], routing.Routes.Select(r => r.Pattern.Route));
        Assert.Equal("c", routing.Routes[0].Component.Id);
    }

    [Fact]
    public void A_component_gets_its_own_environment_then_the_apps_variables()
    {
        var routing = Build(Entry([Component("a", env: new() { ["X"] = "component", ["ONLY_A"] = "1" }), Component("b")],
            [new("/a/...", "a"), new("/b/...", "b")], new() { ["X"] = "app" }));

        var a = routing.Components.Single(c => c.Id == "a");
        var b = routing.Components.Single(c => c.Id == "b");
        Assert.Equal([new("X", "component"), new("ONLY_A", "1"), new("X", "app")], a.Variables);
        Assert.Equal([new("X", "app")], b.Variables);
    }

    [Theory]
    [InlineData("/a/...", "missing", "names the component 'missing'")]
    [InlineData("no-slash", "a", "must start with '/'")]
    public void A_route_that_cannot_be_served_keeps_an_error_quoting_it(string route, string component, string expected)
    {
        var routing = Build(Entry([Component("a")], [new(route, component)]));

        Assert.Contains(expected, routing.Error);
        Assert.Empty(routing.Routes);
    }

    [Fact]
    public void Duplicate_routes_components_http_kinds_bad_files_and_limits_are_errors()
    {
        Assert.Contains("'/a/' is given twice", Build(Entry([Component("a")], [new("/a", "a"), new("/a/", "a")])).Error);
        Assert.Contains("'a' is empty or given twice", Build(Entry([Component("a"), Component("a")], [new("/a", "a")])).Error);
        Assert.Contains("kind 'wasip3'", Build(Entry([Component("a", kind: "wasip3")], [new("/a", "a")])).Error);
        Assert.Contains("wasi:http component with files", Build(Entry([Component("a", kind: "http", files: [new("/x.txt", "sha256:" + new string('c', 64), 1)])], [new("/a", "a")])).Error);
        Assert.Contains("'/x/../etc'", Build(Entry([Component("a", files: [new("/x/../etc", "sha256:" + new string('c', 64), 1)])], [new("/a", "a")])).Error);
        Assert.Contains("no HTTP routes", Build(Entry([Component("a")], [])).Error);
        Assert.Contains("MemoryBytes", Build(Entry(null, null, memory: 10)).Error);
    }

    [Fact]
    public void Outbound_allow_lists_are_parsed_when_the_table_is_applied_a_components_own_or_the_apps_for_an_entry_without_components()
    {
        var bundle = Build(Entry([Component("a") with { AllowedOutboundHosts = ["https://a.example"] }, Component("b")], [new("/a", "a"), new("/b", "b")])
            with { AllowedOutboundHosts = ["https://app.example"] });
        var single = Build(Entry(null, null) with { AllowedOutboundHosts = ["https://app.example"] });

        Assert.Equal("https://a.example", bundle.Components.Single(c => c.Id == "a").Outbound.Hosts.ToString());
        Assert.True(bundle.Components.Single(c => c.Id == "b").Outbound.Hosts.IsEmpty);
        Assert.Equal("https://app.example", Assert.Single(single.Components).Outbound.Hosts.ToString());
        Assert.Equal("app", Assert.Single(single.Components).Outbound.App);
    }

    [Fact]
    public void Components_with_the_same_files_share_one_files_key_and_others_do_not()
    {
        FileEntry[] files = [new("/a.txt", "sha256:" + new string('c', 64), 1), new("/b.txt", "sha256:" + new string('d', 64), 1)];
        var routing = Build(Entry([Component("a", files: files), Component("b", files: [.. files.Reverse()]), Component("c", files: files[..1])],
            [new("/a", "a"), new("/b", "b"), new("/c", "c")]));

        var keys = routing.Components.ToDictionary(c => c.Id, c => c.FilesKey);
        Assert.Equal(keys["a"], keys["b"]);
        Assert.NotEqual(keys["a"], keys["c"]);
    }

    [Fact]
    public void Spin_variables_are_resolved_when_the_table_is_applied_from_app_variables_then_defaults()
    {
        var web = Component("web", "http") with
        {
            VariableTemplates = new Dictionary<string, string> { ["message"] = "{{ greeting }}, world", ["token"] = "Bearer {{ api_token }}" },
            AppVariableDeclarations = new Dictionary<string, SpinVariableDeclaration> { ["greeting"] = new("hello"), ["api_token"] = new(null, true, true) },
        };
        var plain = Component("plain", "http");

        var before = Build(Entry([web, plain], [new("/...", "web"), new("/plain", "plain")]));
        var after = Build(Entry([web, plain], [new("/...", "web"), new("/plain", "plain")], new() { ["SPIN_VARIABLE_API_TOKEN"] = "t0k", ["greeting"] = "hi" }));

        Assert.Null(before.Error);
        var variables = before.Components.Single(c => c.Id == "web").SpinVariables;
        Assert.True(variables.TryGet("message", out var message));
        Assert.Equal("hello, world", message.Value);
        Assert.True(variables.TryGet("token", out var unset));
        Assert.Null(unset.Value);
        Assert.Contains("SPIN_VARIABLE_API_TOKEN", unset.Error);
        Assert.Equal(0, before.Components.Single(c => c.Id == "plain").SpinVariables.Count);
        var resolved = after.Components.Single(c => c.Id == "web").SpinVariables;
        Assert.True(resolved.TryGet("message", out var hi));
        Assert.Equal("hi, world", hi.Value);
        Assert.True(resolved.TryGet("token", out var token));
        Assert.Equal("Bearer t0k", token.Value);
    }
}
