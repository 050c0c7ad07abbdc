using Platform.Bundles;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class SpinManifestParserTests
{
    // The shape of Spin's own examples (wagi-http-rust / static-fileserver): WAGI executor, files, environment.
    private const string SpinSample = """
        spin_manifest_version = 2

        [application]
        name = "spin-wagi-http"
        version = "1.0.0"
        authors = ["Fermyon Engineering <engineering@fermyon.com>"]
        description = "An application that includes a WAGI component"

        [[trigger.http]]
        route = "/hello"
        component = "hello"
        executor = { type = "wagi" }

        [[trigger.http]]
        route = "/goodbye"
        component = "goodbye"
        executor = { type = "wagi", argv = "${SCRIPT_NAME} ${ARGS} extra", entrypoint = "goodbye" }

        [[trigger.http]]
        route = "/static/..."
        component = "fileserver"
        executor = { type = "wagi" }

        [component.hello]
        source = "wagi-http-cpp/main.wasm"
        environment = { GREETING = "hello", PLACE = "world" }
        allowed_outbound_hosts = ["https://example.com", "http://localhost:3000"]
        [component.hello.build]
        command = "make build"
        workdir = "wagi-http-cpp"

        [component.goodbye]
        source = "http-rust/target/wasm32-wasip1/release/goodbye.wasm"

        [component.fileserver]
        source = "modules/spin_static_fs.wasm"
        files = [{ source = "assets", destination = "/" }, "images/**/*.png"]
        exclude_files = ["assets/secret.txt"]

        [component.fileserver.tool.some-plugin]
        lint = true
        """;

    [Fact]
    public void A_spin_sample_with_wagi_executors_files_and_environment_parses_as_spin_reads_it()
    {
        var manifest = SpinManifestParser.Parse(SpinSample);

        Assert.Equal("spin-wagi-http", manifest.Application.Name);
        Assert.Equal("1.0.0", manifest.Application.Version);
        Assert.Equal(["hello", "goodbye", "fileserver"], manifest.Components.Select(c => c.Id));
        Assert.Equal(["hello-http-trigger", "goodbye-http-trigger", "fileserver-http-trigger"], manifest.Triggers.Select(t => t.Id));
        Assert.All(manifest.Triggers, t => Assert.Equal(SpinExecutors.Wagi, t.Executor));
        var goodbye = manifest.Triggers[1];
        Assert.Equal("goodbye", goodbye.Entrypoint);
        Assert.Equal("${SCRIPT_NAME} ${ARGS} extra", goodbye.Argv);
        Assert.Null(manifest.Triggers[0].Entrypoint);
        var hello = manifest.Components[0];
        Assert.Equal("hello", hello.Environment["GREETING"]);
        Assert.Equal(["https://example.com", "http://localhost:3000"], hello.AllowedOutboundHosts);
        var files = manifest.Components[2];
        Assert.Equal(new SpinFileMount(null, "assets", "/"), files.Files[0]);
        Assert.Equal(new SpinFileMount("images/**/*.png", null, null), files.Files[1]);
        Assert.Equal(["assets/secret.txt"], files.ExcludeFiles);
    }

    [Fact]
    public void An_inline_component_is_named_as_spin_names_it_and_a_private_route_has_no_public_route()
    {
        var manifest = SpinManifestParser.Parse("""
            spin_manifest_version = 2
            [application]
            name = "inline"
            [[trigger.http]]
            route = "/..."
            component = { source = "a.wasm" }
            executor = { type = "wagi" }
            [[trigger.http]]
            route = { private = true }
            component = { source = "b.wasm" }
            executor = { type = "wagi" }
            """);
        Assert.Equal(["http-trigger1", "http-trigger2"], manifest.Triggers.Select(t => t.Id));
        Assert.Equal(["http-trigger1-component", "http-trigger2-component"], manifest.Components.Select(c => c.Id));
        Assert.Equal("a.wasm", manifest.Components[0].Source);
        Assert.Null(manifest.Triggers[1].Route);
    }

    [Fact]
    public void A_spin_2_http_base_prefixes_every_route_and_base_slash_changes_nothing()
    {
        // The shape third-party WAGI apps write (e.g. a generated fermyon-router manifest).
        const string manifest = """
            spin_manifest_version = 2
            [application]
            name = "router"
            version = "0.0.1"
            authors = ["Someone"]
            [application.trigger.http]
            base = "BASE"
            [[trigger.http]]
            id = "trigger-fermyon-router"
            component = "router"
            route = "/..."
            executor = { type = "wagi" }
            [component.router]
            source = "bin/router.wasm"
            """;
        var root = SpinManifestParser.Parse(manifest.Replace("BASE", "/"));
        Assert.Equal("/...", Assert.Single(root.Triggers).Route);
        Assert.Equal("trigger-fermyon-router", root.Triggers[0].Id);
        Assert.Equal("/app/...", Assert.Single(SpinManifestParser.Parse(manifest.Replace("BASE", "/app/")).Triggers).Route);
        var ex = Assert.Throws<BundleException>(() => SpinManifestParser.Parse(manifest.Replace("base = \"BASE\"", "other = 1")));
        Assert.Contains("'application.trigger.http.other'", ex.Message);
    }

    [Fact]
    public void A_trigger_without_an_executor_is_a_wasi_http_component()
    {
        var manifest = SpinManifestParser.Parse("""
            spin_manifest_version = 2
            [application]
            name = "http"
            [[trigger.http]]
            route = "/..."
            component = "web"
            [component.web]
            source = "web.wasm"
            """);
        Assert.Equal(SpinExecutors.Http, Assert.Single(manifest.Triggers).Executor);
    }

    [Theory]
    [InlineData("[component.web]\nsource = \"web.wasm\"\nkey_value_stores = [\"default\"]", "component.web.key_value_stores")]
    [InlineData("[component.web]\nsource = \"web.wasm\"\nsqlite_databases = [\"default\"]", "component.web.sqlite_databases")]
    [InlineData("[component.web]\nsource = \"web.wasm\"\nai_models = [\"llama2-chat\"]", "component.web.ai_models")]
    [InlineData("[component.web]\nsource = { url = \"https://example.com/web.wasm\", digest = \"sha256:00\" }", "component.web.source.url")]
    [InlineData("[component.web]\nsource = \"web.wasm\"\nnot_a_spin_key = 1", "component.web.not_a_spin_key")]
    [InlineData("[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"web\"\n[component.web]\nsource = \"web.wasm\"", "trigger.redis")]
    public void What_this_platform_does_not_offer_is_refused_naming_the_key(string toml, string key)
    {
        var ex = Assert.Throws<BundleException>(() => SpinManifestParser.Parse($"spin_manifest_version = 2\n[application]\nname = \"x\"\n{toml}\n"));
        Assert.Equal(422, ex.Status);
        Assert.Contains($"'{key}'", ex.Message);
    }

    [Fact]
    public void Malformed_toml_is_refused_with_its_line_and_column()
    {
        var ex = Assert.Throws<BundleException>(() => SpinManifestParser.Parse("spin_manifest_version = 2\n[application]\nname = \"x\n"));
        Assert.Equal("invalid-manifest", ex.Kind);
        Assert.Matches(@"line 3, column \d+", ex.Message);
    }

    [Fact]
    public void A_version_1_manifest_is_refused_clearly()
    {
        var ex = Assert.Throws<BundleException>(() => SpinManifestParser.Parse("spin_manifest_version = \"1\"\nname = \"old\"\ntrigger = { type = \"http\", base = \"/\" }\n"));
        Assert.Equal("unsupported-manifest-version", ex.Kind);
        Assert.Contains("version 1", ex.Message);
    }

    [Fact]
    public void A_trigger_naming_an_unknown_component_is_refused_naming_it()
    {
        var ex = Assert.Throws<BundleException>(() => SpinManifestParser.Parse(
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"ghost\"\nexecutor = { type = \"wagi\" }\n[component.web]\nsource = \"w.wasm\"\n"));
        Assert.Equal("unknown-component", ex.Kind);
        Assert.Contains("'ghost'", ex.Message);
    }

    [Theory]
    [InlineData("static/*.txt", "static/a.txt", true)]
    [InlineData("static/*.txt", "static/sub/a.txt", false)]
    [InlineData("static/**/*", "static/sub/deep/a.txt", true)]
    [InlineData("**/*.png", "a.png", true)]
    [InlineData("img/?.png", "img/ab.png", false)]
    [InlineData("img/[ab].png", "img/b.png", true)]
    public void File_globs_follow_spins_star_and_double_star_rules(string pattern, string path, bool matches) =>
        Assert.Equal(matches, ResolvedBundle.Glob(pattern).IsMatch(path));
}
