using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Cli.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class CliTests(CliStack stack) : IClassFixture<CliStack>
{
    private PlatformCli NewCli() => new(Path.Combine(stack.Stack.Root, "home-" + Guid.NewGuid().ToString("N")[..8]));

    private async Task<PlatformCli> LoggedInCliAsync()
    {
        var cli = NewCli();
        var login = await cli.RunAsync("login", "--url", stack.ControlPlane.Url, "--key", PlatformProcesses.AdminKey);
        Assert.True(login.ExitCode == 0, login.ToString());
        return cli;
    }

    private static void AssertOneLineError(PlatformCli.Result result, string expected)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Login_saves_the_url_and_key_readable_only_by_the_owner()
    {
        var cli = await LoggedInCliAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.ConfigFile));
        using var saved = JsonDocument.Parse(await File.ReadAllTextAsync(cli.ConfigFile));
        Assert.Equal(stack.ControlPlane.Url, saved.RootElement.GetProperty("url").GetString());
        Assert.Equal(PlatformProcesses.AdminKey, saved.RootElement.GetProperty("key").GetString());

        var apps = await cli.RunAsync("apps", "--json");
        Assert.True(apps.ExitCode == 0, apps.ToString());
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(apps.Stdout).RootElement.ValueKind);
    }

    [Fact]
    public async Task A_wrong_key_gives_a_one_line_error_and_exit_code_1_and_saves_nothing()
    {
        var cli = NewCli();
        var login = await cli.RunAsync("login", "--url", stack.ControlPlane.Url, "--key", "wpk_not-a-real-key-0123456789");
        AssertOneLineError(login, "(HTTP 401)");
        Assert.False(File.Exists(cli.ConfigFile));

        cli.Environment["PLATFORM_URL"] = stack.ControlPlane.Url;
        cli.Environment["PLATFORM_KEY"] = "wpk_not-a-real-key-0123456789";
        AssertOneLineError(await cli.RunAsync("apps"), "(HTTP 401)");
        AssertOneLineError(await cli.RunAsync("deploy", TestApps.PathOf("hello")), "(HTTP 401)");

        var nobody = NewCli();
        AssertOneLineError(await nobody.RunAsync("apps"), "platform login");
    }

    [Fact]
    public async Task Deploy_a_wasm_creates_the_app_waits_until_it_is_served_and_a_second_deploy_and_a_rollback_switch_versions()
    {
        var cli = await LoggedInCliAsync();
        var app = TestApps.UniqueName("cli");

        var first = await cli.RunAsync("deploy", "--app", app, TestApps.PathOf("hello"));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"Deployed {app} version 1", first.Stdout);
        Assert.Matches(@"digest\s+sha256:[0-9a-f]{64}", first.Stdout);
        Assert.Contains($"http://{app}.apps.localhost:{stack.Router.AppPort}/", first.Stdout);
        // The CLI waited for the router: the app answers at once.
        using (var hello = await stack.Router.SendAsync(app, "/hi"))
        {
            Assert.Equal(HttpStatusCode.OK, hello.StatusCode);
            Assert.Contains("/hi", await hello.Content.ReadAsStringAsync());
        }

        var second = await cli.RunAsync("deploy", "--app", app, "--json", TestApps.PathOf("greeting-v2"));
        Assert.True(second.ExitCode == 0, second.ToString());
        using (var doc = JsonDocument.Parse(second.Stdout[second.Stdout.IndexOf('{')..]))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("version").GetInt32());
            Assert.True(doc.RootElement.GetProperty("served").GetBoolean());
        }
        await WaitForBodyAsync(app, "greeting v2");

        var apps = await cli.RunAsync("apps", "--json");
        var listed = JsonDocument.Parse(apps.Stdout).RootElement.EnumerateArray().Single(a => a.GetProperty("name").GetString() == app);
        Assert.Equal(2, listed.GetProperty("activeVersion").GetInt32());
        var table = await cli.RunAsync("apps");
        Assert.Contains(app, table.Stdout);

        var versions = await cli.RunAsync("versions", app, "--json");
        var list = JsonDocument.Parse(versions.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal([2, 1], list.Select(v => v.GetProperty("number").GetInt32()));
        Assert.True(list[0].GetProperty("active").GetBoolean());

        var rollback = await cli.RunAsync("rollback", app);
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        Assert.Contains("now serves version 1", rollback.Stdout);
        await WaitForBodyAsync(app, "GET");

        var forward = await cli.RunAsync("rollback", app, "2");
        Assert.True(forward.ExitCode == 0, forward.ToString());
        await WaitForBodyAsync(app, "greeting v2");

        AssertOneLineError(await cli.RunAsync("rollback", app, "9"), "has no version 9");
        AssertOneLineError(await cli.RunAsync("versions", TestApps.UniqueName("nope")), "No app is named");
    }

    private async Task WaitForBodyAsync(string app, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await stack.Router.SendAsync(app, "/");
            last = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode && last.Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"'{app}' never answered with '{expected}'; last: {last}");
    }

    [Fact]
    public async Task Logs_prints_the_tail_and_follow_prints_a_new_line_as_it_arrives()
    {
        var cli = await LoggedInCliAsync();
        var app = TestApps.UniqueName("clilogs");
        var deploy = await cli.RunAsync("deploy", "--app", app, TestApps.PathOf("logger"));
        Assert.True(deploy.ExitCode == 0, deploy.ToString());

        using var follower = cli.Start("logs", app, "--follow", "--json", "--tail", "1");
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var reading = Task.Run(async () =>
        {
            while (await follower.StandardOutput.ReadLineAsync() is { } line)
            {
                seen.Enqueue(line);
            }
        });
        try
        {
            var token = Guid.NewGuid().ToString("N");
            var started = Stopwatch.StartNew();
            // The follower needs a moment to connect; keep sending until it shows a line.
            string? match = null;
            while (match is null && started.Elapsed < TimeSpan.FromSeconds(20))
            {
                (await stack.Router.SendAsync(app, "/?" + token)).Dispose();
                await Task.Delay(300);
                match = seen.FirstOrDefault(l => l.Contains("token=" + token, StringComparison.Ordinal));
            }
            Assert.True(match is not null, $"no line with the token; follower printed:\n{string.Join('\n', seen)}\nstderr: {(follower.HasExited ? await follower.StandardError.ReadToEndAsync() : "")}");
            using var entry = JsonDocument.Parse(match);
            Assert.Equal("stderr", entry.RootElement.GetProperty("stream").GetString());
            Assert.Equal(1, entry.RootElement.GetProperty("version").GetInt32());

            var tail = await cli.RunAsync("logs", app, "--tail", "3", "--since", "10m");
            Assert.True(tail.ExitCode == 0, tail.ToString());
            Assert.Contains("token=" + token, tail.Stdout);
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z v1 stderr\s+token=", tail.Stdout.Split('\n').Last(l => l.Length > 0));
            Assert.InRange(tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, 1, 3);

            AssertOneLineError(await cli.RunAsync("logs", app, "--since", "yesterday"), "'yesterday'");
        }
        finally
        {
            follower.Kill();
            await follower.WaitForExitAsync();
        }
        await reading;
    }

    [Fact]
    public async Task Vars_set_and_unset_change_the_apps_variables()
    {
        var cli = await LoggedInCliAsync();
        var app = TestApps.UniqueName("clivars");
        Assert.Equal(0, (await cli.RunAsync("deploy", "--app", app, "--no-wait", TestApps.PathOf("hello"))).ExitCode);

        var set = await cli.RunAsync("vars", app, "set", "GREETING=hi there", "MODE=a=b");
        Assert.True(set.ExitCode == 0, set.ToString());
        var shown = JsonDocument.Parse((await cli.RunAsync("vars", app, "--json")).Stdout).RootElement;
        Assert.Equal("hi there", shown.GetProperty("GREETING").GetString());
        Assert.Equal("a=b", shown.GetProperty("MODE").GetString());

        Assert.Equal(0, (await cli.RunAsync("vars", app, "unset", "MODE")).ExitCode);
        shown = JsonDocument.Parse((await cli.RunAsync("vars", app, "--json")).Stdout).RootElement;
        Assert.False(shown.TryGetProperty("MODE", out _));
        AssertOneLineError(await cli.RunAsync("vars", app, "unset", "MODE"), "no variable 'MODE'");
        AssertOneLineError(await cli.RunAsync("vars", app, "set", "NOEQUALS"), "'NOEQUALS'");
    }

    [Fact]
    public async Task Secrets_set_from_an_option_or_stdin_list_only_names_and_unset_removes_them()
    {
        var cli = await LoggedInCliAsync();
        var app = TestApps.UniqueName("clisecrets");
        Assert.Equal(0, (await cli.RunAsync("deploy", "--app", app, "--no-wait", TestApps.PathOf("hello"))).ExitCode);
        var fromOption = "opt-" + Guid.NewGuid().ToString("N");
        var fromStdin = "stdin-" + Guid.NewGuid().ToString("N");

        var set = await cli.RunAsync("secrets", app, "set", "DB_PASSWORD", "--value", fromOption);
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("created", set.Stdout);
        var piped = await cli.RunWithInputAsync(fromStdin + "\n", "secrets", app, "set", "API_KEY");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        var replaced = await cli.RunWithInputAsync("again\n", "secrets", app, "set", "API_KEY");
        Assert.Contains("replaced", replaced.Stdout);

        var listed = await cli.RunAsync("secrets", app, "list", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var names = JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Equal(["API_KEY", "DB_PASSWORD"], names);
        foreach (var output in new[] { set, piped, replaced, listed, await cli.RunAsync("secrets", app, "list") })
        {
            Assert.DoesNotContain(fromOption, output.Stdout + output.Stderr);
            Assert.DoesNotContain(fromStdin, output.Stdout + output.Stderr);
        }

        Assert.Equal(0, (await cli.RunAsync("secrets", app, "unset", "API_KEY")).ExitCode);
        Assert.DoesNotContain("API_KEY", (await cli.RunAsync("secrets", app, "list", "--json")).Stdout);
        AssertOneLineError(await cli.RunAsync("secrets", app, "unset", "API_KEY"), "no secret named 'API_KEY'");
        AssertOneLineError(await cli.RunAsync("secrets", app, "set", "1BAD", "--value", fromOption), "'1BAD'");
    }

    [Fact]
    public async Task Keys_create_list_and_revoke_and_a_revoked_key_stops_working()
    {
        var cli = await LoggedInCliAsync();
        var name = TestApps.UniqueName("ci");
        var created = await cli.RunAsync("keys", "create", name);
        Assert.True(created.ExitCode == 0, created.ToString());
        var secret = created.Stdout.Trim();
        Assert.False(string.IsNullOrEmpty(secret));

        var list = await cli.RunAsync("keys", "list", "--json");
        var listed = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Single(k => k.GetProperty("name").GetString() == name);
        Assert.False(listed.GetProperty("admin").GetBoolean());
        Assert.DoesNotContain(secret, list.Stdout);

        var user = NewCli();
        user.Environment["PLATFORM_URL"] = stack.ControlPlane.Url;
        user.Environment["PLATFORM_KEY"] = secret;
        Assert.Equal(0, (await user.RunAsync("apps")).ExitCode);
        AssertOneLineError(await user.RunAsync("keys", "create", TestApps.UniqueName("admin"), "--admin"), "(HTTP 403)");

        Assert.Equal(0, (await cli.RunAsync("keys", "revoke", name)).ExitCode);
        AssertOneLineError(await user.RunAsync("apps"), "(HTTP 401)");
    }

    [Fact]
    public async Task Tenants_and_scoped_keys_are_made_listed_and_deleted_and_a_tenant_key_sees_only_its_apps()
    {
        var cli = await LoggedInCliAsync();
        var tenant = TestApps.UniqueName("acme");
        var created = await cli.RunAsync("tenants", "create", tenant, "--max-apps", "2", "--max-timeout-seconds", "10");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("apps=2", created.Stdout);
        AssertOneLineError(await cli.RunAsync("tenants", "create", tenant), "(HTTP 409)");
        AssertOneLineError(await cli.RunAsync("tenants", "create", "Bad_Name"), "'Bad_Name'");
        var tenants = JsonDocument.Parse((await cli.RunAsync("tenants", "list", "--json")).Stdout).RootElement;
        var listedTenant = tenants.EnumerateArray().Single(t => t.GetProperty("name").GetString() == tenant);
        Assert.Equal(2, listedTenant.GetProperty("quotas").GetProperty("maxApps").GetInt32());

        // An app in the default tenant (made by the admin) and one key of the new tenant per scope.
        var defaultApp = TestApps.UniqueName("default-app");
        Assert.Equal(0, (await cli.RunAsync("deploy", "--app", defaultApp, "--no-wait", TestApps.PathOf("hello"))).ExitCode);
        var keyName = TestApps.UniqueName("ci");
        var key = await cli.RunAsync("keys", "create", keyName, "--tenant", tenant);
        Assert.True(key.ExitCode == 0, key.ToString());
        Assert.Contains($"tenant {tenant}, full", key.Stderr);
        var tenantCli = NewCli();
        tenantCli.Environment["PLATFORM_URL"] = stack.ControlPlane.Url;
        tenantCli.Environment["PLATFORM_KEY"] = key.Stdout.Trim();

        var app = TestApps.UniqueName("acme-app");
        var deployed = await tenantCli.RunAsync("deploy", "--app", app, "--no-wait", TestApps.PathOf("hello"));
        Assert.True(deployed.ExitCode == 0, deployed.ToString());
        var seen = JsonDocument.Parse((await tenantCli.RunAsync("apps", "--json")).Stdout).RootElement;
        Assert.Equal([app], seen.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        AssertOneLineError(await tenantCli.RunAsync("versions", defaultApp), $"No app is named '{defaultApp}'");
        var adminView = await cli.RunAsync("apps", "--tenant", tenant);
        Assert.Contains(app, adminView.Stdout);
        Assert.DoesNotContain(defaultApp, adminView.Stdout);

        // The tenant key makes a narrower key; keys list shows tenant and scope.
        var deployer = await tenantCli.RunAsync("keys", "create", TestApps.UniqueName("deployer"), "--app", app, "--access", "deploy-only", "--json");
        Assert.True(deployer.ExitCode == 0, deployer.ToString());
        var deployerKey = JsonDocument.Parse(deployer.Stdout).RootElement;
        Assert.Equal("deploy-only", deployerKey.GetProperty("access").GetString());
        AssertOneLineError(await tenantCli.RunAsync("keys", "create", TestApps.UniqueName("x"), "--tenant", "default"), "'default'");
        var table = await cli.RunAsync("keys", "list");
        var row = table.Stdout.Split('\n').Single(l => l.Contains(deployerKey.GetProperty("name").GetString()!));
        Assert.Contains(tenant, row);
        Assert.Contains("deploy-only", row);
        Assert.Contains(app, row);
        var deployCli = NewCli();
        deployCli.Environment["PLATFORM_URL"] = stack.ControlPlane.Url;
        deployCli.Environment["PLATFORM_KEY"] = deployerKey.GetProperty("key").GetString();
        AssertOneLineError(await deployCli.RunAsync("vars", app, "set", "A=1"), "(HTTP 403)");
        Assert.Equal(0, (await deployCli.RunAsync("deploy", "--app", app, "--no-wait", TestApps.PathOf("hello"))).ExitCode);

        AssertOneLineError(await cli.RunAsync("tenants", "delete", tenant), "1 app");
        Assert.Equal(0, (await tenantCli.RunAsync("apps")).ExitCode);
        var deleteApp = await cli.RunAsync("tenants", "delete", TestApps.UniqueName("nope"));
        AssertOneLineError(deleteApp, "(HTTP 404)");
    }

    [Fact]
    public async Task Deploy_of_a_spin_toml_directory_uploads_it_as_a_gzipped_bundle()
    {
        var cli = await LoggedInCliAsync();
        var app = TestApps.UniqueName("bundle");
        var dir = Path.Combine(stack.Stack.Root, app);
        Directory.CreateDirectory(dir);
        File.Copy(TestApps.PathOf("hello"), Path.Combine(dir, "hello.wasm"));
        await File.WriteAllTextAsync(Path.Combine(dir, "spin.toml"), $"""
            spin_manifest_version = 2

            [application]
            name = "{app}"

            [[trigger.http]]
            route = "/..."
            component = "hello"
            executor = {"{"} type = "wagi" {"}"}

            [component.hello]
            source = "hello.wasm"
            """);

        var result = await cli.RunAsync("deploy", dir);
        if (result.ExitCode == 0)
        {
            // The control plane takes bundles: the app (named from spin.toml) is served.
            Assert.Contains($"Deployed {app} version 1", result.Stdout);
            await WaitForBodyAsync(app, "GET");
        }
        else
        {
            // A control plane without bundle support refuses the content type; the CLI prints that problem.
            AssertOneLineError(result, "(HTTP 415)");
            Assert.Contains("application/gzip", result.Stderr);
            // ...and leaves no empty app behind.
            using var client = stack.ControlPlane.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/apps/{app}")).StatusCode);
        }
    }
}
