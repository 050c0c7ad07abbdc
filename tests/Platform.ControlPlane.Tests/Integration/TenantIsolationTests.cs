using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>Two tenants with keys of every access level: none of them reaches the other tenant's app, on any app endpoint.</summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TenantIsolationTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _admin = fixture.CreateClient();

    /// <summary>Every app endpoint, as (label, request) for a given app name; each one would change or read that app.</summary>
    private static IEnumerable<(string Label, Func<HttpClient, string, Task<HttpResponseMessage>> Call)> AppEndpoints()
    {
        yield return ("GET app", (c, a) => c.GetAsync($"/api/v1/apps/{a}"));
        yield return ("PATCH variables", (c, a) => c.PatchAsJsonAsync($"/api/v1/apps/{a}", new { variables = new Dictionary<string, string> { ["STOLEN"] = "1" } }));
        yield return ("PATCH limits", (c, a) => c.PatchAsJsonAsync($"/api/v1/apps/{a}", new { timeoutSeconds = 900, memoryLimitMb = 64, cpuTimeLimitMs = 5000 }));
        yield return ("PATCH allowed hosts", (c, a) => c.PatchAsJsonAsync($"/api/v1/apps/{a}", new { allowedOutboundHosts = new[] { "https://evil.example.com" } }));
        yield return ("PATCH concurrency", (c, a) => c.PatchAsJsonAsync($"/api/v1/apps/{a}", new { maxConcurrency = 3 }));
        yield return ("upload", (c, a) => Upload(c, a, TestApps.Bytes("status")));
        yield return ("upload by reference", (c, a) => c.PostAsJsonAsync($"/api/v1/apps/{a}/versions", new { ociReference = "127.0.0.1:1/x/y:v1" }));
        yield return ("list versions", (c, a) => c.GetAsync($"/api/v1/apps/{a}/versions"));
        yield return ("show version", (c, a) => c.GetAsync($"/api/v1/apps/{a}/versions/1"));
        yield return ("manifest", (c, a) => c.GetAsync($"/api/v1/apps/{a}/versions/1/manifest"));
        yield return ("roll back", (c, a) => c.PostAsync($"/api/v1/apps/{a}/versions/1/activate", null));
        yield return ("stats", (c, a) => c.GetAsync($"/api/v1/apps/{a}/stats?minutes=5"));
        yield return ("logs", (c, a) => c.GetAsync($"/api/v1/apps/{a}/logs?tail=10"));
        yield return ("logs follow", (c, a) =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/apps/{a}/logs?follow=true");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            return c.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        });
        yield return ("try", (c, a) => c.PostAsJsonAsync($"/api/v1/apps/{a}/try", new { method = "GET", path = "/" }));
        yield return ("delete", (c, a) => c.DeleteAsync($"/api/v1/apps/{a}"));
    }

    [Fact]
    public async Task Every_app_endpoint_with_every_key_of_another_tenant_answers_404_like_a_missing_app_and_changes_nothing()
    {
        var (acme, globex) = (await CreateTenantAsync("acme"), await CreateTenantAsync("globex"));
        var acmeApp = await CreateDeployedAppAsync("acme-web", acme);
        var globexApp = await CreateDeployedAppAsync("globex-web", globex);
        var before = await SnapshotAsync(acmeApp);

        var globexKeys = new Dictionary<string, HttpClient>
        {
            ["full"] = fixture.CreateClient(await CreateKeyAsync(globex)),
            ["deploy-only"] = fixture.CreateClient(await CreateKeyAsync(globex, access: "deploy-only")),
            ["read-only"] = fixture.CreateClient(await CreateKeyAsync(globex, access: "read-only")),
            ["scoped to its own app"] = fixture.CreateClient(await CreateKeyAsync(globex, apps: [globexApp])),
        };
        var missing = ApiHelpers.UniqueAppName("nosuch");
        foreach (var (keyLabel, client) in globexKeys)
        {
            foreach (var (label, call) in AppEndpoints())
            {
                using var response = await call(client, acmeApp);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{keyLabel} key, {label}: expected 404, got {(int)response.StatusCode}: {body}");
                using var missingResponse = await call(client, missing);
                var missingBody = await missingResponse.Content.ReadAsStringAsync();
                // The answer for an app that does not exist, with only the name (and the request's trace id) differing.
                Assert.Equal(WithoutTraceId(missingBody.Replace(missing, "APP")), WithoutTraceId(body.Replace(acmeApp, "APP")));
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain(acme, body);
            }
            var listed = await (await client.GetAsync("/api/v1/apps")).ExpectAsync(200);
            Assert.DoesNotContain(listed.EnumerateArray(), a => a.GetProperty("name").GetString() == acmeApp);
            // Names stay globally unique, and the conflict does not say whose the name is.
            var taken = await client.PostAsJsonAsync("/api/v1/apps", new { name = acmeApp });
            if (keyLabel == "full")
            {
                var text = await taken.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
                Assert.DoesNotContain(acme, text);
            }
            else
            {
                Assert.Equal(HttpStatusCode.Forbidden, taken.StatusCode);
            }
        }

        // Read back as admin: the acme app is exactly as it was.
        Assert.Equal(before, await SnapshotAsync(acmeApp));
        // And the globex keys do see their own app.
        await (await globexKeys["read-only"].GetAsync($"/api/v1/apps/{globexApp}")).ExpectAsync(200);
    }

    /// <summary>
    /// Not a hand-made list: every endpoint the control plane maps under /api/v1/apps/{app}, whoever added it, is called
    /// with a tenant key on another tenant's app and must answer 404 app-not-found.
    /// </summary>
    [Fact]
    public async Task Every_endpoint_mapped_under_an_app_answers_404_to_another_tenants_key()
    {
        var (acme, globex) = (await CreateTenantAsync("enum-acme"), await CreateTenantAsync("enum-globex"));
        var acmeApp = await CreateDeployedAppAsync("enum-web", acme);
        var before = await SnapshotAsync(acmeApp);
        using var globexKey = fixture.CreateClient(await CreateKeyAsync(globex));

        var endpoints = fixture.Factory.Services.GetServices<Microsoft.AspNetCore.Routing.EndpointDataSource>()
            .SelectMany(d => d.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.GetParameter("app") is not null && e.RoutePattern.RawText!.StartsWith("/api/v1/apps/", StringComparison.Ordinal))
            .ToList();
        Assert.True(endpoints.Count >= 11, $"only {endpoints.Count} app endpoints were found");
        foreach (var endpoint in endpoints)
        {
            var path = string.Concat(endpoint.RoutePattern.PathSegments.Select(segment => "/" + string.Concat(segment.Parts.Select(part => part switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "app" } => acmeApp,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart => "1",
                _ => "",
            }))));
            foreach (var method in endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is not "GET" and not "HEAD" and not "DELETE")
                {
                    request.Content = JsonContent.Create(new { value = "x", variables = new Dictionary<string, string> { ["X"] = "1" } });
                }
                using var response = await globexKey.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.NotFound && body.Contains("app-not-found", StringComparison.Ordinal),
                    $"{method} {endpoint.RoutePattern.RawText}: expected 404 app-not-found, got {(int)response.StatusCode}: {body}");
            }
        }
        Assert.Equal(before, await SnapshotAsync(acmeApp));
    }

    [Fact]
    public async Task The_next_owner_of_a_deleted_apps_name_never_sees_its_request_figures_even_from_a_late_router_report()
    {
        var (first, second) = (await CreateTenantAsync("stats-first"), await CreateTenantAsync("stats-second"));
        var name = ApiHelpers.UniqueAppName("stats");
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name, tenant = first })).ExpectAsync(201);
        using var router = fixture.CreateClient(ControlPlaneFixture.RouterToken);
        var now = DateTimeOffset.UtcNow;
        var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        object Report() => new
        {
            routerId = "test-router",
            minutes = new[] { new { app = name, minute, requests = 7, errors = 1, latencyBuckets = new long[Platform.Contracts.LatencyHistogram.UpperBoundsMs.Length] } },
        };
        Assert.Equal(HttpStatusCode.NoContent, (await router.PostAsJsonAsync("/internal/v1/stats", Report())).StatusCode);
        var seen = await (await _admin.GetAsync($"/api/v1/apps/{name}/stats?minutes=5")).ExpectAsync(200);
        Assert.Equal(7, seen.GetProperty("totalRequests").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/apps/{name}")).StatusCode);
        // A router that served the old app reports late, for a name that no longer exists.
        Assert.Equal(HttpStatusCode.NoContent, (await router.PostAsJsonAsync("/internal/v1/stats", Report())).StatusCode);
        using var secondKey = fixture.CreateClient(await CreateKeyAsync(second));
        await (await secondKey.PostAsJsonAsync("/api/v1/apps", new { name })).ExpectAsync(201);
        Assert.Equal(HttpStatusCode.NoContent, (await router.PostAsJsonAsync("/internal/v1/stats", Report())).StatusCode);
        var inherited = await (await secondKey.GetAsync($"/api/v1/apps/{name}/stats?minutes=5")).ExpectAsync(200);
        // Only what was reported after the new app existed (the same minute counts: it may be the new app's traffic).
        Assert.Equal(7, inherited.GetProperty("totalRequests").GetInt64());
    }

    [Fact]
    public async Task A_deploy_only_key_uploads_and_rolls_back_but_cannot_delete_or_change_settings_or_make_keys()
    {
        var tenant = await CreateTenantAsync("deployer");
        var app = await CreateDeployedAppAsync("deploy-only", tenant);
        using var deployer = fixture.CreateClient(await CreateKeyAsync(tenant, access: "deploy-only"));

        var uploaded = await (await Upload(deployer, app, TestApps.Bytes("status"))).ExpectAsync(201);
        Assert.Equal(2, uploaded.GetProperty("number").GetInt32());
        await (await deployer.PostAsync($"/api/v1/apps/{app}/versions/1/activate", null)).ExpectAsync(200);

        await (await deployer.DeleteAsync($"/api/v1/apps/{app}")).ExpectProblemAsync(403, "deploy-only");
        await (await deployer.PatchAsJsonAsync($"/api/v1/apps/{app}", new { timeoutSeconds = 5 })).ExpectProblemAsync(403, "deploy-only");
        await (await deployer.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("k"), access = "read-only" })).ExpectProblemAsync(403, "deploy-only");
        await (await deployer.PostAsJsonAsync("/api/v1/apps", new { name = ApiHelpers.UniqueAppName("new") })).ExpectProblemAsync(403, "deploy-only");

        var shown = await (await _admin.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        Assert.Equal(1, shown.GetProperty("activeVersion").GetInt32());
        Assert.Equal(30, shown.GetProperty("timeoutSeconds").GetInt32());
    }

    [Fact]
    public async Task A_read_only_key_reads_but_cannot_deploy_roll_back_or_delete()
    {
        var tenant = await CreateTenantAsync("reader");
        var app = await CreateDeployedAppAsync("read-only", tenant);
        using var reader = fixture.CreateClient(await CreateKeyAsync(tenant, access: "read-only"));

        await (await reader.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        await (await reader.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        await (await reader.GetAsync($"/api/v1/apps/{app}/logs")).ExpectAsync(200);
        await (await Upload(reader, app, TestApps.Bytes("status"))).ExpectProblemAsync(403, "read-only");
        await (await reader.PostAsync($"/api/v1/apps/{app}/versions/1/activate", null)).ExpectProblemAsync(403, "read-only");
        await (await reader.DeleteAsync($"/api/v1/apps/{app}")).ExpectProblemAsync(403, "read-only");

        var versions = await (await _admin.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        Assert.Equal(1, versions.GetArrayLength());
    }

    [Fact]
    public async Task A_key_limited_to_some_apps_sees_only_those_of_its_tenant()
    {
        var tenant = await CreateTenantAsync("scoped");
        var mine = await CreateDeployedAppAsync("scoped-mine", tenant);
        var other = await CreateDeployedAppAsync("scoped-other", tenant);
        using var scoped = fixture.CreateClient(await CreateKeyAsync(tenant, apps: [mine]));

        var listed = await (await scoped.GetAsync("/api/v1/apps")).ExpectAsync(200);
        Assert.Equal([mine], listed.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        await (await scoped.GetAsync($"/api/v1/apps/{other}")).ExpectProblemAsync(404, $"No app is named '{other}'");
        await (await scoped.DeleteAsync($"/api/v1/apps/{other}")).ExpectProblemAsync(404);
        await (await scoped.PatchAsJsonAsync($"/api/v1/apps/{mine}", new { variables = new Dictionary<string, string> { ["A"] = "1" } })).ExpectAsync(200);
        await (await _admin.GetAsync($"/api/v1/apps/{other}")).ExpectAsync(200);
    }

    [Fact]
    public async Task A_tenant_key_makes_and_revokes_keys_of_its_own_tenant_only_and_never_wider_than_itself()
    {
        var tenant = await CreateTenantAsync("keys");
        var other = await CreateTenantAsync("keys-other");
        var app = await CreateDeployedAppAsync("keys-app", tenant);
        using var full = fixture.CreateClient(await CreateKeyAsync(tenant));

        var made = await (await full.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("ro"), access = "read-only" })).ExpectAsync(201);
        Assert.Equal(tenant, made.GetProperty("tenant").GetString());
        Assert.Equal("read-only", made.GetProperty("access").GetString());
        await (await full.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("x"), tenant = other })).ExpectProblemAsync(400, $"'{other}'");
        await (await full.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("x"), admin = true })).ExpectProblemAsync(403);

        // A key limited to one app makes keys for that app only.
        var scopedName = ApiHelpers.UniqueAppName("scoped");
        var scopedKey = (await (await full.PostAsJsonAsync("/api/v1/keys", new { name = scopedName, apps = new[] { app } })).ExpectAsync(201)).GetProperty("key").GetString();
        using var scoped = fixture.CreateClient(scopedKey);
        await (await scoped.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("x"), apps = new[] { "someone-else" } })).ExpectProblemAsync(403, "someone-else");
        var inherited = await (await scoped.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("inh") })).ExpectAsync(201);
        Assert.Equal([app], inherited.GetProperty("apps").EnumerateArray().Select(e => e.GetString()));

        // The scoped key sees only keys within its scope; the full key sees all of its tenant's; none sees another tenant's.
        var otherKeyName = ApiHelpers.UniqueAppName("otherkey");
        await (await _admin.PostAsJsonAsync("/api/v1/keys", new { name = otherKeyName, tenant = other })).ExpectAsync(201);
        var seenByScoped = (await (await scoped.GetAsync("/api/v1/keys")).ExpectAsync(200)).EnumerateArray().Select(k => k.GetProperty("name").GetString()).ToList();
        var seenByFull = (await (await full.GetAsync("/api/v1/keys")).ExpectAsync(200)).EnumerateArray().Select(k => k.GetProperty("name").GetString()).ToList();
        Assert.Contains(scopedName, seenByScoped);
        Assert.DoesNotContain(made.GetProperty("name").GetString(), seenByScoped);
        Assert.Contains(made.GetProperty("name").GetString(), seenByFull);
        Assert.DoesNotContain(otherKeyName, seenByFull);
        await (await full.DeleteAsync($"/api/v1/keys/{otherKeyName}")).ExpectProblemAsync(404);
        await (await scoped.DeleteAsync($"/api/v1/keys/{made.GetProperty("name").GetString()}")).ExpectProblemAsync(404);
        Assert.Equal(HttpStatusCode.NoContent, (await full.DeleteAsync($"/api/v1/keys/{made.GetProperty("name").GetString()}")).StatusCode);

        var all = (await (await _admin.GetAsync("/api/v1/keys")).ExpectAsync(200)).EnumerateArray().Select(k => k.GetProperty("name").GetString()).ToList();
        Assert.Contains(otherKeyName, all);
        Assert.Contains(scopedName, all);
    }

    [Fact]
    public async Task Quotas_refuse_the_app_the_limit_and_the_upload_over_them_naming_the_quota()
    {
        var tenant = await CreateTenantAsync("quota", new { maxApps = 1, maxTimeoutSeconds = 5, maxStoredBytes = TestApps.Bytes("hello").Length + 100 });
        using var key = fixture.CreateClient(await CreateKeyAsync(tenant));
        var first = ApiHelpers.UniqueAppName("quota-one");
        await (await key.PostAsJsonAsync("/api/v1/apps", new { name = first, timeoutSeconds = 10 })).ExpectProblemAsync(422, "maxTimeoutSeconds");
        await (await key.PostAsJsonAsync("/api/v1/apps", new { name = first })).ExpectAsync(201);

        var second = ApiHelpers.UniqueAppName("quota-two");
        var refused = await key.PostAsJsonAsync("/api/v1/apps", new { name = second });
        var problem = await refused.ExpectAsync(409);
        Assert.Equal("maxApps", problem.GetProperty("quota").GetString());
        Assert.Equal(1, problem.GetProperty("maximum").GetInt64());
        Assert.Equal(1, problem.GetProperty("current").GetInt64());
        Assert.Contains("maxApps", problem.GetProperty("detail").GetString());
        await (await _admin.GetAsync($"/api/v1/apps/{second}")).ExpectProblemAsync(404);

        // The default timeout (30 s) is capped by the quota, and a PATCH above it is refused.
        var shown = await (await key.GetAsync($"/api/v1/apps/{first}")).ExpectAsync(200);
        Assert.Equal(5, shown.GetProperty("timeoutSeconds").GetInt32());
        await (await key.PatchAsJsonAsync($"/api/v1/apps/{first}", new { timeoutSeconds = 6 })).ExpectProblemAsync(422, "maxTimeoutSeconds");

        await (await Upload(key, first, TestApps.Bytes("hello"))).ExpectAsync(201);
        var overStorage = await (await Upload(key, first, TestApps.Bytes("status"))).ExpectAsync(409);
        Assert.Equal("maxStoredBytes", overStorage.GetProperty("quota").GetString());
        Assert.Equal(1, (await (await _admin.GetAsync($"/api/v1/apps/{first}/versions")).ExpectAsync(200)).GetArrayLength());

        // An admin raises the quota; the app fits now. A quota set to null is removed.
        var patched = await (await _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}", new { maxApps = 2, maxTimeoutSeconds = (int?)null })).ExpectAsync(200);
        Assert.Equal(2, patched.GetProperty("quotas").GetProperty("maxApps").GetInt32());
        Assert.Equal(JsonValueKind.Null, patched.GetProperty("quotas").GetProperty("maxTimeoutSeconds").ValueKind);
        Assert.Equal(1, patched.GetProperty("usage").GetProperty("apps").GetInt32());
        await (await key.PostAsJsonAsync("/api/v1/apps", new { name = second, timeoutSeconds = 10 })).ExpectAsync(201);
    }

    [Fact]
    public async Task Tenants_are_created_validated_listed_and_deleted_only_when_they_have_no_apps()
    {
        var name = ApiHelpers.UniqueAppName("crud");
        var created = await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name, maxApps = 3 })).ExpectAsync(201);
        Assert.Equal(3, created.GetProperty("quotas").GetProperty("maxApps").GetInt32());
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name })).ExpectProblemAsync(409, $"'{name}'");
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Bad_Name" })).ExpectProblemAsync(400, "'Bad_Name'");
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = ApiHelpers.UniqueAppName("q"), maxTimeoutSeconds = 0 })).ExpectProblemAsync(400, "maxTimeoutSeconds 0");
        await (await _admin.PatchAsJsonAsync($"/api/v1/tenants/{name}", new { maxAppz = 1 })).ExpectProblemAsync(400, "'maxAppz'");
        await (await _admin.PatchAsJsonAsync($"/api/v1/tenants/{name}", new { maxApps = "many" })).ExpectProblemAsync(400, "\"many\"");
        var listed = await (await _admin.GetAsync("/api/v1/tenants")).ExpectAsync(200);
        Assert.Contains(listed.EnumerateArray(), t => t.GetProperty("name").GetString() == name);
        Assert.Contains(listed.EnumerateArray(), t => t.GetProperty("name").GetString() == "default");

        // A tenant key reads its own tenant, not another, and cannot create tenants.
        using var key = fixture.CreateClient(await CreateKeyAsync(name));
        await (await key.GetAsync($"/api/v1/tenants/{name}")).ExpectAsync(200);
        await (await key.GetAsync("/api/v1/tenants/default")).ExpectProblemAsync(404, "'default'");
        await (await key.PostAsJsonAsync("/api/v1/tenants", new { name = ApiHelpers.UniqueAppName("no") })).ExpectProblemAsync(403);

        var app = ApiHelpers.UniqueAppName("crud-app");
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = app, tenant = name })).ExpectAsync(201);
        await (await _admin.DeleteAsync($"/api/v1/tenants/{name}")).ExpectProblemAsync(409, "1 app");
        await (await _admin.DeleteAsync("/api/v1/tenants/default")).ExpectProblemAsync(409, "default");
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/apps/{app}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/tenants/{name}")).StatusCode);
        // Its keys went with it.
        await (await key.GetAsync("/api/v1/apps")).ExpectProblemAsync(401);
        await (await _admin.GetAsync($"/api/v1/tenants/{name}")).ExpectProblemAsync(404);
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = app, tenant = "no-such-tenant" })).ExpectProblemAsync(400, "'no-such-tenant'");
    }

    [Fact]
    public async Task An_admin_sees_every_tenants_apps_and_filters_by_tenant()
    {
        var (a, b) = (await CreateTenantAsync("filter-a"), await CreateTenantAsync("filter-b"));
        var appA = ApiHelpers.UniqueAppName("fa");
        var appB = ApiHelpers.UniqueAppName("fb");
        var appDefault = ApiHelpers.UniqueAppName("fd");
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = appA, tenant = a })).ExpectAsync(201);
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = appB, tenant = b })).ExpectAsync(201);
        var inDefault = await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = appDefault })).ExpectAsync(201);
        Assert.Equal("default", inDefault.GetProperty("tenant").GetString());

        var all = (await (await _admin.GetAsync("/api/v1/apps")).ExpectAsync(200)).EnumerateArray().Select(x => x.GetProperty("name").GetString()).ToList();
        Assert.Contains(appA, all);
        Assert.Contains(appB, all);
        Assert.Contains(appDefault, all);
        var onlyA = await (await _admin.GetAsync($"/api/v1/apps?tenant={a}")).ExpectAsync(200);
        Assert.Equal([appA], onlyA.EnumerateArray().Select(x => x.GetProperty("name").GetString()));
        Assert.Equal(a, onlyA[0].GetProperty("tenant").GetString());
        await (await _admin.GetAsync("/api/v1/apps?tenant=nope-nope")).ExpectProblemAsync(400, "'nope-nope'");
    }

    private async Task<string> CreateTenantAsync(string stem, object? quotas = null)
    {
        var name = ApiHelpers.UniqueAppName(stem);
        var body = JsonSerializer.SerializeToElement(quotas ?? new { }).EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        body["name"] = name;
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", body)).ExpectAsync(201);
        return name;
    }

    private async Task<string> CreateKeyAsync(string tenant, string? access = null, string[]? apps = null)
    {
        var created = await (await _admin.PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("key"), tenant, access, apps })).ExpectAsync(201);
        Assert.Equal(tenant, created.GetProperty("tenant").GetString());
        return created.GetProperty("key").GetString()!;
    }

    private async Task<string> CreateDeployedAppAsync(string stem, string tenant)
    {
        var name = ApiHelpers.UniqueAppName(stem);
        var created = await (await _admin.PostAsJsonAsync("/api/v1/apps", new
        {
            name,
            tenant,
            variables = new Dictionary<string, string> { ["GREETING"] = "hi" },
        })).ExpectAsync(201);
        Assert.Equal(tenant, created.GetProperty("tenant").GetString());
        await (await Upload(_admin, name, TestApps.Bytes("hello"))).ExpectAsync(201);
        return name;
    }

    /// <summary>Everything an attacker could have changed, read as admin.</summary>
    private async Task<string> SnapshotAsync(string app)
    {
        var shown = await (await _admin.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        var versions = await (await _admin.GetAsync($"/api/v1/apps/{app}/versions")).ExpectAsync(200);
        return JsonSerializer.Serialize(new { shown, versions });
    }

    private static string WithoutTraceId(string problem)
    {
        var fields = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(problem)!;
        fields.Remove("traceId");
        return JsonSerializer.Serialize(fields);
    }

    private static Task<HttpResponseMessage> Upload(HttpClient client, string app, byte[] module)
    {
        var content = new ByteArrayContent(module);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        return client.PostAsync($"/api/v1/apps/{app}/versions", content);
    }
}
