using System.Net.Http.Json;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Npgsql;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RoutingTableTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _admin = fixture.CreateClient();
    private readonly HttpClient _router = fixture.CreateClient(ControlPlaneFixture.RouterToken);

    [Fact]
    public async Task The_table_lists_active_apps_with_digest_repository_and_limits_and_omits_apps_without_a_version()
    {
        var served = ApiHelpers.UniqueAppName("served");
        var empty = ApiHelpers.UniqueAppName("empty");
        await _admin.CreateAppAsync(served);
        await _admin.CreateAppAsync(empty);
        var version = await (await _admin.UploadAsync(served, TestApps.Bytes("hello"))).ExpectAsync(201);

        var response = await _router.GetAsync("/internal/v1/routes");
        var table = await response.ExpectAsync(200);
        Assert.NotNull(response.Headers.ETag);
        var route = table.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("app").GetString() == served);
        Assert.Equal(version.GetProperty("digest").GetString(), route.GetProperty("moduleDigest").GetString());
        Assert.Equal($"apps/{served}", route.GetProperty("repository").GetString());
        Assert.Equal(128L * 1024 * 1024, route.GetProperty("memoryLimitBytes").GetInt64());
        Assert.Equal(30_000, route.GetProperty("timeoutMilliseconds").GetInt32());
        Assert.DoesNotContain(table.GetProperty("routes").EnumerateArray(), r => r.GetProperty("app").GetString() == empty);
    }

    [Fact]
    public async Task A_tenants_quota_caps_the_limits_routers_get_even_for_apps_that_asked_for_more_before()
    {
        var tenant = ApiHelpers.UniqueAppName("capped");
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = tenant })).ExpectAsync(201);
        var app = ApiHelpers.UniqueAppName("capped-app");
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = app, tenant, timeoutSeconds = 20, memoryLimitMb = 100 })).ExpectAsync(201);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);

        // Lowered afterwards: the routing table applies the cap at once, to the default CPU time too.
        await (await _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}", new { maxTimeoutSeconds = 2, maxMemoryLimitMb = 64, maxCpuTimeLimitMs = 500 })).ExpectAsync(200);
        var table = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        var route = table.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
        Assert.Equal(2_000, route.GetProperty("timeoutMilliseconds").GetInt32());
        Assert.Equal(64L * 1024 * 1024, route.GetProperty("memoryLimitBytes").GetInt64());
        Assert.Equal(500, route.GetProperty("cpuTimeMilliseconds").GetInt32());
        var shown = await (await _admin.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        Assert.Equal(2, shown.GetProperty("timeoutSeconds").GetInt32());
    }

    [Fact]
    public async Task An_unchanged_table_answers_304_to_its_etag()
    {
        var first = await _router.GetAsync("/internal/v1/routes");
        first.EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/internal/v1/routes");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        var second = await _router.SendAsync(request);
        // Other tests in the collection may change the table meanwhile; then a fresh table is the right answer.
        Assert.True(second.StatusCode is HttpStatusCode.NotModified || second.Headers.ETag != first.Headers.ETag,
            $"expected 304 or a new ETag, got {(int)second.StatusCode} with {second.Headers.ETag}");
    }

    [Fact]
    public async Task A_long_poll_wakes_when_a_version_is_activated()
    {
        var app = ApiHelpers.UniqueAppName("poll");
        await _admin.CreateAppAsync(app);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"), query: "?activate=false")).ExpectAsync(201);

        var poll = LongPollUntilAsync(r => RouteVersion(r, app) == 2);
        await (await _admin.PostAsync($"/api/v1/apps/{app}/versions/2/activate", null)).ExpectAsync(200);
        Assert.Equal(2, RouteVersion(await poll, app));
    }

    [Fact]
    public async Task A_change_written_straight_to_postgres_wakes_the_long_poll_through_listen_notify()
    {
        // Stands for a change made through another control-plane replica: only PostgreSQL's NOTIFY can tell us.
        var app = ApiHelpers.UniqueAppName("notify");
        await _admin.CreateAppAsync(app);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"), query: "?activate=false")).ExpectAsync(201);

        var poll = LongPollUntilAsync(r => RouteVersion(r, app) == 2);
        await using (var db = new NpgsqlConnection(fixture.ConnectionString))
        {
            await db.OpenAsync();
            await using var cmd = new NpgsqlCommand("UPDATE apps SET \"ActiveVersionNumber\" = 2 WHERE \"Name\" = @n", db);
            cmd.Parameters.AddWithValue("n", app);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        Assert.Equal(2, RouteVersion(await poll, app));
    }

    [Fact]
    public async Task Deleting_an_app_removes_it_from_the_table()
    {
        var app = ApiHelpers.UniqueAppName("delroute");
        await _admin.CreateAppAsync(app);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        Assert.Equal(1, RouteVersion(await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200), app));
        await _admin.DeleteAsync($"/api/v1/apps/{app}");
        Assert.Null(RouteVersion(await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200), app));
    }

    private static int? RouteVersion(JsonElement table, string app) =>
        table.GetProperty("routes").EnumerateArray().Where(r => r.GetProperty("app").GetString() == app)
            .Select(r => (int?)r.GetProperty("version").GetInt32()).FirstOrDefault();

    /// <summary>Long-polls like a router does (ETag + wait) until the table satisfies the condition.</summary>
    private async Task<JsonElement> LongPollUntilAsync(Func<JsonElement, bool> condition)
    {
        var first = await _router.GetAsync("/internal/v1/routes");
        var etag = first.Headers.ETag!;
        var table = await first.ExpectAsync(200);
        for (var i = 0; i < 20 && !condition(table); i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/internal/v1/routes?wait=20");
            request.Headers.IfNoneMatch.Add(etag);
            var response = await _router.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                continue;
            }
            etag = response.Headers.ETag!;
            table = await response.ExpectAsync(200);
        }
        Assert.True(condition(table), "the routing table never reached the expected state");
        return table;
    }
}
