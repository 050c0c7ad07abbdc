using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.ControlPlane.Services;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>The delta protocol routers use: <c>GET /internal/v1/routes?since=R&amp;epoch=E</c>, answered from the change log.</summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RoutingDeltaTests(ControlPlaneFixture fixture, ITestOutputHelper output)
{
    private readonly HttpClient _admin = fixture.CreateClient();
    private readonly HttpClient _router = fixture.CreateClient(ControlPlaneFixture.RouterToken);

    private sealed record Head(string Epoch, long Revision);

    private async Task<Head> HeadAsync(HttpClient? router = null)
    {
        var snapshot = await (await (router ?? _router).GetAsync("/internal/v1/routes?since=0")).ExpectAsync(200);
        Assert.Equal(JsonValueKind.Null, snapshot.GetProperty("since").ValueKind);
        return new(snapshot.GetProperty("epoch").GetString()!, snapshot.GetProperty("revision").GetInt64());
    }

    private async Task<JsonElement> ChangesSinceAsync(Head head, HttpClient? router = null) =>
        await (await (router ?? _router).GetAsync($"/internal/v1/routes?since={head.Revision}&epoch={head.Epoch}")).ExpectAsync(200);

    private static string[] Upserted(JsonElement changes) => [.. changes.GetProperty("upserts").EnumerateArray().Select(r => $"{r.GetProperty("app").GetString()}@{r.GetProperty("version").GetInt32()}")];

    private static string[] Deleted(JsonElement changes) => [.. changes.GetProperty("deletions").EnumerateArray().Select(d => d.GetString()!)];

    [Fact]
    public async Task First_contact_gets_a_snapshot_of_every_served_app_and_later_only_the_apps_that_changed()
    {
        var quiet = ApiHelpers.UniqueAppName("quiet");
        var busy = ApiHelpers.UniqueAppName("busy");
        await _admin.CreateAppAsync(quiet);
        await (await _admin.UploadAsync(quiet, TestApps.Bytes("hello"))).ExpectAsync(201);
        await _admin.CreateAppAsync(busy);
        var snapshot = await (await _router.GetAsync("/internal/v1/routes?since=0")).ExpectAsync(200);
        Assert.Contains($"{quiet}@1", Upserted(snapshot));
        Assert.DoesNotContain(Upserted(snapshot), u => u.StartsWith(busy + "@", StringComparison.Ordinal));
        var head = new Head(snapshot.GetProperty("epoch").GetString()!, snapshot.GetProperty("revision").GetInt64());

        await (await _admin.UploadAsync(busy, TestApps.Bytes("hello"))).ExpectAsync(201);
        var changes = await ChangesSinceAsync(head);

        Assert.Equal(head.Revision, changes.GetProperty("since").GetInt64());
        Assert.True(changes.GetProperty("revision").GetInt64() > head.Revision);
        Assert.Equal([$"{busy}@1"], Upserted(changes));
        Assert.Empty(Deleted(changes));
    }

    [Fact]
    public async Task A_lowered_tenant_quota_arrives_as_a_delta_for_each_of_the_tenants_apps()
    {
        var tenant = ApiHelpers.UniqueAppName("quota");
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = tenant })).ExpectAsync(201);
        var capped = ApiHelpers.UniqueAppName("capped");
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = capped, tenant })).ExpectAsync(201);
        await (await _admin.PatchAsJsonAsync($"/api/v1/apps/{capped}", new { timeoutSeconds = 20 })).ExpectAsync(200);
        await (await _admin.UploadAsync(capped, TestApps.Bytes("hello"))).ExpectAsync(201);
        var head = await HeadAsync();

        await (await _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}", new { maxTimeoutSeconds = 3 })).ExpectAsync(200);
        var changes = await ChangesSinceAsync(head);

        var route = Assert.Single(changes.GetProperty("upserts").EnumerateArray(), r => r.GetProperty("app").GetString() == capped);
        Assert.Equal(3000, route.GetProperty("timeoutMilliseconds").GetInt32());
    }

    [Fact]
    public async Task A_tenant_quota_changed_through_one_replica_wakes_the_long_polls_held_by_another()
    {
        var tenant = ApiHelpers.UniqueAppName("quota");
        await (await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = tenant })).ExpectAsync(201);
        var capped = ApiHelpers.UniqueAppName("capped");
        await (await _admin.PostAsJsonAsync("/api/v1/apps", new { name = capped, tenant })).ExpectAsync(201);
        await (await _admin.PatchAsJsonAsync($"/api/v1/apps/{capped}", new { timeoutSeconds = 20 })).ExpectAsync(200);
        await (await _admin.UploadAsync(capped, TestApps.Bytes("hello"))).ExpectAsync(201);
        await using var second = fixture.CreateFactory();
        using var secondRouter = fixture.CreateClient(ControlPlaneFixture.RouterToken, second);
        var head = await HeadAsync(secondRouter);
        // Its LISTEN connection opens in the background; a poll woken by its start would only read again.
        await Task.Delay(500);

        var poll = secondRouter.GetAsync($"/internal/v1/routes?since={head.Revision}&epoch={head.Epoch}&wait=30");
        await Task.Delay(300);
        Assert.False(poll.IsCompleted, "the long-poll answered before anything changed");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await (await _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}", new { maxTimeoutSeconds = 3 })).ExpectAsync(200);
        var written = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        // Only the tenants row changed: without a NOTIFY from it the other replica would sleep through the change.
        var changes = await (await poll.WaitAsync(TimeSpan.FromSeconds(15))).ExpectAsync(200);
        output.WriteLine($"PATCH answered after {written.TotalMilliseconds:F1} ms; the other replica's long-poll after {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");

        var route = Assert.Single(changes.GetProperty("upserts").EnumerateArray(), r => r.GetProperty("app").GetString() == capped);
        Assert.Equal(3000, route.GetProperty("timeoutMilliseconds").GetInt32());
    }

    [Fact]
    public async Task Deletions_rollbacks_and_variable_changes_arrive_as_deltas()
    {
        var rolled = ApiHelpers.UniqueAppName("rolled");
        var doomed = ApiHelpers.UniqueAppName("doomed");
        var tuned = ApiHelpers.UniqueAppName("tuned");
        foreach (var app in new[] { rolled, doomed, tuned })
        {
            await _admin.CreateAppAsync(app);
            await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        }
        await (await _admin.UploadAsync(rolled, TestApps.Bytes("cgienv"))).ExpectAsync(201);
        var head = await HeadAsync();

        await (await _admin.PostAsync($"/api/v1/apps/{rolled}/versions/1/activate", null)).ExpectAsync(200);
        await (await _admin.DeleteAsync($"/api/v1/apps/{doomed}")).ExpectAsync(204);
        await (await _admin.PatchAsJsonAsync($"/api/v1/apps/{tuned}", new { variables = new Dictionary<string, string> { ["GREETING"] = "hej" }, timeoutSeconds = 7 })).ExpectAsync(200);
        var changes = await ChangesSinceAsync(head);

        Assert.Equal([$"{rolled}@1", $"{tuned}@1"], Upserted(changes).Order(StringComparer.Ordinal));
        Assert.Equal([doomed], Deleted(changes));
        var tunedEntry = changes.GetProperty("upserts").EnumerateArray().Single(r => r.GetProperty("app").GetString() == tuned);
        Assert.Equal("hej", tunedEntry.GetProperty("variables").GetProperty("GREETING").GetString());
        Assert.Equal(7000, tunedEntry.GetProperty("timeoutMilliseconds").GetInt32());
    }

    [Fact]
    public async Task A_long_poll_with_since_waits_until_something_changes_and_then_answers_the_change_alone()
    {
        var app = ApiHelpers.UniqueAppName("waiter");
        await _admin.CreateAppAsync(app);
        var head = await HeadAsync();

        var poll = _router.GetAsync($"/internal/v1/routes?since={head.Revision}&epoch={head.Epoch}&wait=30");
        await Task.Delay(300);
        Assert.False(poll.IsCompleted, "the long-poll answered before anything changed");
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        var changes = await (await poll.WaitAsync(TimeSpan.FromSeconds(20))).ExpectAsync(200);

        Assert.Contains($"{app}@1", Upserted(changes));
        Assert.Equal(head.Revision, changes.GetProperty("since").GetInt64());
    }

    [Fact]
    public async Task An_unchanged_revision_answers_304_after_the_wait()
    {
        var head = await HeadAsync();
        var response = await _router.GetAsync($"/internal/v1/routes?since={head.Revision}&epoch={head.Epoch}&wait=1");
        // Another test's change may land meanwhile; then a delta that starts at our revision is the right answer.
        Assert.True(response.StatusCode == HttpStatusCode.NotModified
            || (await response.ExpectAsync(200)).GetProperty("since").GetInt64() == head.Revision, $"got {(int)response.StatusCode}");
    }

    [Fact]
    public async Task A_router_behind_the_pruned_log_or_on_another_epoch_or_ahead_of_the_database_gets_a_snapshot()
    {
        var app = ApiHelpers.UniqueAppName("pruned");
        await _admin.CreateAppAsync(app);
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        var old = await HeadAsync();
        await (await _admin.PatchAsJsonAsync($"/api/v1/apps/{app}", new { timeoutSeconds = 9 })).ExpectAsync(200);

        var (deleted, through) = await fixture.Factory.Services.GetRequiredService<RoutingChangeLog>().PruneAsync(DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);
        Assert.True(deleted > 0);
        Assert.True(through > old.Revision);

        var behind = await ChangesSinceAsync(old);
        Assert.Equal(JsonValueKind.Null, behind.GetProperty("since").ValueKind);
        var entry = behind.GetProperty("upserts").EnumerateArray().Single(r => r.GetProperty("app").GetString() == app);
        Assert.Equal(9000, entry.GetProperty("timeoutMilliseconds").GetInt32());
        Assert.Empty(Deleted(behind));

        var otherEpoch = await (await _router.GetAsync($"/internal/v1/routes?since={through}&epoch=0123456789abcdef0123456789abcdef")).ExpectAsync(200);
        Assert.Equal(JsonValueKind.Null, otherEpoch.GetProperty("since").ValueKind);
        var ahead = await (await _router.GetAsync($"/internal/v1/routes?since={through + 1_000_000}&epoch={old.Epoch}")).ExpectAsync(200);
        Assert.Equal(JsonValueKind.Null, ahead.GetProperty("since").ValueKind);

        // After the pruned revision the log still answers deltas.
        var fresh = await HeadAsync();
        await (await _admin.PatchAsJsonAsync($"/api/v1/apps/{app}", new { timeoutSeconds = 8 })).ExpectAsync(200);
        Assert.Equal([$"{app}@1"], Upserted(await ChangesSinceAsync(fresh)));
    }

    [Fact]
    public async Task A_second_replica_and_a_restarted_control_plane_give_the_same_answer_for_the_same_revision()
    {
        var app = ApiHelpers.UniqueAppName("replica");
        await _admin.CreateAppAsync(app);
        var head = await HeadAsync();
        await (await _admin.UploadAsync(app, TestApps.Bytes("hello"))).ExpectAsync(201);
        var fromFirst = await ChangesSinceAsync(head);

        // A fresh host on the same database stands for another replica and for the first one after a restart.
        await using var second = fixture.CreateFactory();
        using var secondRouter = fixture.CreateClient(ControlPlaneFixture.RouterToken, second);
        var secondHead = await HeadAsync(secondRouter);
        var fromSecond = await ChangesSinceAsync(head, secondRouter);

        Assert.Equal(head.Epoch, secondHead.Epoch);
        Assert.True(secondHead.Revision >= fromFirst.GetProperty("revision").GetInt64());
        if (fromSecond.GetProperty("revision").GetInt64() == fromFirst.GetProperty("revision").GetInt64())
        {
            Assert.Equal(Comparable(fromFirst), Comparable(fromSecond));
        }
        Assert.Contains($"{app}@1", Upserted(fromSecond));
    }

    [Fact]
    public async Task The_revision_counts_on_across_restarts_and_revisions_commit_in_order()
    {
        var head = await HeadAsync();
        await using (var db = new NpgsqlConnection(fixture.ConnectionString))
        {
            await db.OpenAsync();
            // Two writers at once: the second waits for the first's revision row lock, so numbers follow commit order.
            await using var first = await db.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand("INSERT INTO apps (\"Id\", \"Name\", \"CreatedAt\", \"UpdatedAt\", \"Variables\", \"TenantId\") VALUES (gen_random_uuid(), @n, now(), now(), '{}', '00000000-0000-0000-0000-000000000001')", db, first))
            {
                insert.Parameters.AddWithValue("n", ApiHelpers.UniqueAppName("order"));
                await insert.ExecuteNonQueryAsync();
            }
            var second = _admin.PostAsJsonAsync("/api/v1/apps", new { name = ApiHelpers.UniqueAppName("order") });
            await Task.Delay(300);
            Assert.False(second.IsCompleted, "a second writer got a revision while the first one had not committed");
            await first.CommitAsync();
            await (await second).ExpectAsync(201);
        }
        await using var restarted = fixture.CreateFactory();
        using var router = fixture.CreateClient(ControlPlaneFixture.RouterToken, restarted);
        var after = await HeadAsync(router);
        Assert.Equal(head.Epoch, after.Epoch);
        Assert.True(after.Revision >= head.Revision + 2, $"revision {after.Revision} after {head.Revision} and two changes");
        var changes = await ChangesSinceAsync(head, router);
        Assert.Equal(head.Revision, changes.GetProperty("since").GetInt64());
    }

    [Fact]
    public async Task Routing_documents_are_compressed_when_the_router_accepts_gzip_or_brotli()
    {
        foreach (var encoding in new[] { "gzip", "br" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/internal/v1/routes?since=0");
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
            using var response = await _router.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
            await using var body = await response.Content.ReadAsStreamAsync();
            await using Stream plain = encoding == "gzip" ? new GZipStream(body, CompressionMode.Decompress) : new BrotliStream(body, CompressionMode.Decompress);
            var document = await JsonDocument.ParseAsync(plain);
            Assert.True(document.RootElement.GetProperty("revision").GetInt64() >= 0);
        }
        using var plainResponse = await _router.GetAsync("/internal/v1/routes?since=0");
        Assert.Empty(plainResponse.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task A_since_that_is_not_a_revision_is_a_problem_that_quotes_it()
    {
        await (await _router.GetAsync("/internal/v1/routes?since=-4")).ExpectProblemAsync(400, "-4");
        await (await fixture.CreateClient(key: null).GetAsync("/internal/v1/routes?since=0")).ExpectProblemAsync(401);
    }

    /// <summary>The document without the time it was made (each replica stamps its own).</summary>
    private static string Comparable(JsonElement changes) =>
        JsonSerializer.Serialize(new { epoch = changes.GetProperty("epoch"), revision = changes.GetProperty("revision"), since = changes.GetProperty("since"), upserts = changes.GetProperty("upserts"), deletions = changes.GetProperty("deletions") });
}
