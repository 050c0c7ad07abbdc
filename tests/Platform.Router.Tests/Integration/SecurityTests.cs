using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// Issue 14 on a whole stack (real PostgreSQL, registry, control plane and router processes): secrets reach the
/// module and nothing else, the router's saved state and artifact cache are private to its user, only signed native
/// code for the very module is loaded, and apps cannot set cookies for the shared apps domain.
/// </summary>
[Trait("Category", "Integration")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecurityTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task A_secret_reaches_the_module_and_appears_in_no_api_answer_log_or_file()
    {
        await using var stack = await PlatformStack.StartAsync();
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        using var api = stack.ControlPlane.CreateClient();
        await stack.ControlPlane.DeployAsync("vault", TestApps.Bytes("cgienv"));
        // A variable of the same name loses to the secret.
        (await api.PatchAsJsonAsync("/api/v1/apps/vault", new { variables = new Dictionary<string, string> { ["DB_PASSWORD"] = "from-a-variable", ["MODE"] = "prod" } }))
            .EnsureSuccessStatusCode();

        var created = await api.PutAsJsonAsync("/api/v1/apps/vault/secrets/DB_PASSWORD", new { value = secret });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.DoesNotContain(secret, await created.Content.ReadAsStringAsync());

        var answer = await stack.WaitForAppAsync("vault", "/env", $"DB_PASSWORD={secret}");
        Assert.DoesNotContain("from-a-variable", answer);
        Assert.Contains("MODE=prod", answer);

        var app = await api.GetStringAsync("/api/v1/apps/vault");
        Assert.DoesNotContain(secret, app);
        Assert.Equal(["DB_PASSWORD"], JsonDocument.Parse(app).RootElement.GetProperty("secrets").EnumerateArray().Select(e => e.GetString()!).ToArray());
        var list = await api.GetStringAsync("/api/v1/apps/vault/secrets");
        Assert.Contains("DB_PASSWORD", list);
        Assert.DoesNotContain(secret, list);
        Assert.DoesNotContain(secret, await api.GetStringAsync("/api/v1/apps"));
        // A bad name is quoted; the value is not.
        var bad = await api.PutAsJsonAsync("/api/v1/apps/vault/secrets/9-bad", new { value = secret });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var badText = await bad.Content.ReadAsStringAsync();
        Assert.Contains("9-bad", badText);
        Assert.DoesNotContain(secret, badText);

        // Stored log lines of the app's requests (a failing request adds platform lines too).
        await stack.Router.SendAsync("vault", "/env?again=1");
        await Task.Delay(1500);
        Assert.DoesNotContain(secret, await api.GetStringAsync("/api/v1/apps/vault/logs?tail=1000"));

        // The router's saved table holds the secret sealed, in a file only the router's user can read.
        // (The table, and the journal of changes saved since it: the secret came after the first table.)
        await WaitUntilAsync(() => SavedState(stack).Contains("DB_PASSWORD", StringComparison.Ordinal), "the saved table names the secret");
        Assert.DoesNotContain(secret, SavedState(stack));
        Assert.Contains("sealed:v1:", SavedState(stack));
        foreach (var file in SavedStateFiles(stack))
        {
            AssertPrivate(file, stack.StateDirectory);
        }

        // The router's debug document and metrics.
        Assert.DoesNotContain(secret, await RoutingAsync(stack.Router));
        Assert.DoesNotContain(secret, await stack.Router.MetricsAsync());

        // Every file the stack wrote (router state and cache, PostgreSQL's cluster, the registry) and every process log.
        Assert.DoesNotContain(secret, stack.ControlPlane.Process.Output);
        Assert.DoesNotContain(secret, stack.Router.Process.Output);
        foreach (var root in new[] { stack.Root, stack.Postgres.DataDirectory, stack.Registry.RootDirectory })
        {
            AssertNoFileContains(root, secret);
        }

        // Removing it is live like a variable change; removing it again is a 404.
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("/api/v1/apps/vault/secrets/DB_PASSWORD")).StatusCode);
        await stack.WaitForAppAsync("vault", "/env", "DB_PASSWORD=from-a-variable");
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync("/api/v1/apps/vault/secrets/DB_PASSWORD")).StatusCode);
    }

    /// <summary>The router's saved routing state: the table and the journal of changes after it.</summary>
    private static IEnumerable<string> SavedStateFiles(PlatformStack stack) =>
        new[] { "routing-table.json", "routing-changes.jsonl" }.Select(f => Path.Combine(stack.StateDirectory, f)).Where(File.Exists);

    private static string SavedState(PlatformStack stack) => string.Concat(SavedStateFiles(stack).Select(File.ReadAllText));

    [Fact]
    public async Task A_restarted_router_serves_the_secret_from_its_sealed_saved_table_without_the_control_plane()
    {
        await using var stack = await PlatformStack.StartAsync();
        var secret = "restart-" + Guid.NewGuid().ToString("N");
        using var api = stack.ControlPlane.CreateClient();
        await stack.ControlPlane.DeployAsync("keeps", TestApps.Bytes("cgienv"));
        (await api.PutAsJsonAsync("/api/v1/apps/keeps/secrets/API_TOKEN", new { value = secret })).EnsureSuccessStatusCode();
        await stack.WaitForAppAsync("keeps", "/", $"API_TOKEN={secret}");
        await WaitUntilAsync(() => SavedState(stack).Contains("API_TOKEN", StringComparison.Ordinal), "saved table");

        await stack.ControlPlane.DisposeAsync();
        await stack.ReplaceRouterAsync();

        await stack.WaitForAppAsync("keeps", "/", $"API_TOKEN={secret}");
        Assert.Equal("disk", JsonDocument.Parse(await RoutingAsync(stack.Router)).RootElement.GetProperty("source").GetString());
        Assert.DoesNotContain(secret, stack.Router.Process.Output);
    }

    [Fact]
    public async Task Artifacts_with_a_bad_signature_or_signed_for_another_module_are_not_loaded_and_the_router_compiles_instead()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("alpha", TestApps.Bytes("hello"));
        await stack.ControlPlane.DeployAsync("beta", TestApps.Bytes("cgienv"));

        await using (var db = new NpgsqlConnection(stack.DatabaseConnectionString))
        {
            await db.OpenAsync();
            var (digest, fingerprint, signature) = await PrecompiledOfAsync(db, "alpha");
            Assert.StartsWith("hmac-sha256:", signature);
            // As an attacker with write access to the registry and the database would: beta's row points at alpha's
            // (validly signed) artifact, copied into beta's repository; alpha's signature is altered.
            using var registry = new HttpClient { BaseAddress = new Uri(stack.Registry.Url) };
            var mount = await registry.PostAsync($"/v2/apps/beta/blobs/uploads/?mount={digest}&from=apps/alpha", null);
            Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
            var tampered = signature[..^2] + (signature[^2] == 'A' ? "B" : "A") + signature[^1];
            await ExecuteAsync(db, """
                UPDATE app_versions v SET "PrecompiledDigest" = @digest, "PrecompiledFingerprint" = @fingerprint, "PrecompiledSignature" = @signature
                FROM apps a WHERE a."Id" = v."AppId" AND a."Name" = 'beta'
                """, ("digest", digest), ("fingerprint", fingerprint), ("signature", signature));
            await ExecuteAsync(db, """
                UPDATE app_versions v SET "PrecompiledSignature" = @signature FROM apps a WHERE a."Id" = v."AppId" AND a."Name" = 'alpha'
                """, ("signature", tampered));
            // Any change to apps announces a routing change.
            await ExecuteAsync(db, """UPDATE apps SET "UpdatedAt" = now()""");
        }
        // Both rows were changed before the announcement, so a table with beta's new digest also has alpha's signature.
        await WaitUntilAsync(async () => await ArtifactOfAsync(stack, "beta") == await ArtifactOfAsync(stack, "alpha"), "the tampered table reached the router");

        await using var fresh = await stack.StartOwnRouterAsync("fresh");
        await stack.WaitForAppAsync("alpha", "/compiled", "Hello from GET /compiled", router: fresh);
        await stack.WaitForAppAsync("beta", "/compiled", "REQUEST_METHOD=GET", router: fresh);

        var metrics = await fresh.MetricsAsync();
        Assert.Equal(2, Counter(metrics, "platform_router_artifact_rejected_total", "reason=\"bad-signature\""));
        Assert.Equal(2, Counter(metrics, "platform_runtime_module_cache_misses_total", null));
        Assert.Equal(0, Counter(metrics, "platform_runtime_module_cache_hits_total", "source=\"precompiled\""));
        Assert.Contains("is not signed for it (bad-signature)", fresh.Process.Output);
    }

    [Fact]
    public async Task A_cache_file_swapped_for_another_modules_on_disk_is_detected_and_the_module_compiled_again()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("first", TestApps.Bytes("hello"));
        await stack.ControlPlane.DeployAsync("second", TestApps.Bytes("cgienv"));
        await stack.WaitForAppAsync("first", "/a", "Hello from GET /a");
        await stack.WaitForAppAsync("second", "/a", "REQUEST_METHOD=GET");
        var engine = Assert.Single(Directory.GetDirectories(stack.CacheDirectory));
        var hello = Path.Combine(engine, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(TestApps.Bytes("hello"))) + ".cwasm");
        var cgienv = Path.Combine(engine, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(TestApps.Bytes("cgienv"))) + ".cwasm");
        await WaitUntilAsync(() => File.Exists(hello + ".mac") && File.Exists(cgienv + ".mac"), "both modules are cached on disk");

        await stack.Router.DisposeAsync();
        // Someone who can write the folder puts cgienv's native code (with its sidecar) where hello's belongs.
        File.Copy(cgienv, hello, overwrite: true);
        File.Copy(cgienv + ".mac", hello + ".mac", overwrite: true);
        await stack.ReplaceRouterAsync();

        await stack.WaitForAppAsync("first", "/b", "Hello from GET /b");
        await stack.WaitForAppAsync("second", "/b", "REQUEST_METHOD=GET");
        var metrics = await stack.Router.MetricsAsync();
        Assert.Equal(1, Counter(metrics, "platform_router_artifact_rejected_total", "reason=\"cache-mismatch\""));
        Assert.Equal(1, Counter(metrics, "platform_runtime_module_cache_hits_total", "source=\"disk\""));
        // hello is compiled again from its Wasm (its signed artifact from the registry would do too; either way no swapped code runs).
        Assert.Equal(1, Counter(metrics, "platform_runtime_module_cache_misses_total", null) + Counter(metrics, "platform_runtime_module_cache_hits_total", "source=\"precompiled\""));
    }

    [Fact]
    public async Task A_router_without_the_signing_key_loads_no_artifact_and_compiles_every_module()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("keyless", TestApps.Bytes("hello"));
        await using var keyless = await stack.StartOwnRouterAsync("keyless", new Dictionary<string, string?> { ["PLATFORM_ARTIFACT_SIGNING_KEY"] = null });

        await stack.WaitForAppAsync("keyless", "/k", "Hello from GET /k", router: keyless);

        var metrics = await keyless.MetricsAsync();
        Assert.Equal(1, Counter(metrics, "platform_router_artifact_rejected_total", "reason=\"no-signing-key\""));
        Assert.Equal(1, Counter(metrics, "platform_runtime_module_cache_misses_total", null));
        Assert.Equal(0, Counter(metrics, "platform_runtime_module_cache_hits_total", "source=\"precompiled\""));
    }

    [Fact]
    public async Task A_signed_artifact_is_loaded_and_the_cache_it_lands_in_is_private_to_the_routers_user()
    {
        await using var stack = await PlatformStack.StartAsync();
        await stack.ControlPlane.DeployAsync("signed", TestApps.Bytes("hello"));

        await stack.WaitForAppAsync("signed", "/first", "Hello from GET /first");

        var metrics = await stack.Router.MetricsAsync();
        Assert.Equal(1, Counter(metrics, "platform_runtime_module_cache_hits_total", "source=\"precompiled\""));
        Assert.Equal(0, Counter(metrics, "platform_router_artifact_rejected_total", null));
        var files = Directory.GetFiles(stack.CacheDirectory, "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        Assert.Equal(Mode0700, File.GetUnixFileMode(stack.CacheDirectory));
        foreach (var directory in Directory.GetDirectories(stack.CacheDirectory, "*", SearchOption.AllDirectories))
        {
            Assert.Equal(Mode0700, File.GetUnixFileMode(directory));
        }
        foreach (var file in files)
        {
            AssertPrivate(file, stack.CacheDirectory);
        }
    }

    [Fact]
    public async Task A_cookie_for_the_shared_apps_domain_never_reaches_the_client_while_a_host_only_one_does()
    {
        await using var stack = await PlatformStack.StartAsync();
        using var api = stack.ControlPlane.CreateClient();
        await stack.ControlPlane.DeployAsync("cookies", TestApps.Bytes("cookies"));
        await stack.WaitForAppAsync("cookies", "/", "cookies set");

        var response = await stack.Router.SendAsync("cookies", "/");
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];

        Assert.Contains(cookies, c => c.StartsWith("hostonly=1", StringComparison.Ordinal));
        Assert.Contains(cookies, c => c.StartsWith("own=1; Domain=cookies.apps.localhost", StringComparison.Ordinal));
        Assert.DoesNotContain(cookies, c => c.Contains("stolen", StringComparison.Ordinal));
        Assert.Equal(2, cookies.Count);
        await WaitUntilAsync(async () => (await api.GetStringAsync("/api/v1/apps/cookies/logs?stream=platform")).Contains("Set-Cookie 'shared' dropped", StringComparison.Ordinal),
            "the app's log names the dropped cookie");
        var log = await api.GetStringAsync("/api/v1/apps/cookies/logs?stream=platform");
        Assert.Contains("Set-Cookie 'parent' dropped", log);
        Assert.DoesNotContain("stolen", log);
    }

    private static async Task<(string Digest, string Fingerprint, string Signature)> PrecompiledOfAsync(NpgsqlConnection db, string app)
    {
        await using var command = new NpgsqlCommand("""
            SELECT v."PrecompiledDigest", v."PrecompiledFingerprint", v."PrecompiledSignature"
            FROM app_versions v JOIN apps a ON a."Id" = v."AppId" WHERE a."Name" = @app
            """, db);
        command.Parameters.AddWithValue("app", app);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no version of '{app}'");
        return (reader.GetString(0), reader.GetString(1), reader.GetString(2));
    }

    private static async Task ExecuteAsync(NpgsqlConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, db);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> RoutingAsync(RouterProcess router)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync($"{router.ManagementUrl}/routing");
    }

    private static async Task<string> ArtifactOfAsync(PlatformStack stack, string app)
    {
        var table = JsonDocument.Parse(await RoutingAsync(stack.Router)).RootElement;
        return table.GetProperty("routes").EnumerateArray().First(r => r.GetProperty("app").GetString() == app).GetProperty("precompiledDigest").GetString() ?? "";
    }

    /// <summary>Sum of a Prometheus counter's series whose labels contain <paramref name="label"/> (all series when null).</summary>
    private static long Counter(string metrics, string name, string? label)
    {
        long total = 0;
        foreach (Match m in Regex.Matches(metrics, $@"^{Regex.Escape(name)}(\{{(?<labels>[^}}]*)\}})? (?<value>[0-9.e+]+)", RegexOptions.Multiline))
        {
            if (label is null || m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            {
                total += (long)double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    /// <summary>0600, and (when the tests run as root) another user really cannot read it.</summary>
    private static void AssertPrivate(string file, string directory)
    {
        Assert.Equal(Mode0600, File.GetUnixFileMode(file));
        Assert.Equal(Mode0700, File.GetUnixFileMode(directory));
        if (Environment.UserName == "root")
        {
            var (code, output) = RunAsNobody("cat", file);
            Assert.True(code != 0, $"user nobody read {file}: {output}");
            (code, output) = RunAsNobody("ls", directory);
            Assert.True(code != 0, $"user nobody listed {directory}: {output}");
        }
    }

    private static (int Code, string Output) RunAsNobody(params string[] command)
    {
        var start = new ProcessStartInfo("runuser") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-u", "nobody", "--", .. command])
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    private static void AssertNoFileContains(string root, string secret)
    {
        var needle = Encoding.UTF8.GetBytes(secret);
        var checkedFiles = 0;
        foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (IOException)
            {
                continue; // a file removed or locked while walking
            }
            checkedFiles++;
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} holds the secret in plain text");
        }
        Assert.True(checkedFiles > 0, $"no files under {root}");
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting until {what}.");
            }
            await Task.Delay(100);
        }
    }
}
