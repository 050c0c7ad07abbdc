using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>PUT/DELETE/GET /api/v1/apps/{app}/secrets: write-only values, encrypted at rest, in the routers' table.</summary>
[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SecretsApiTests(ControlPlaneFixture fixture)
{
    private readonly HttpClient _client = fixture.CreateClient();
    private readonly HttpClient _router = fixture.CreateClient(ControlPlaneFixture.RouterToken);

    private static string NewValue() => "val-" + Guid.NewGuid().ToString("N");

    private async Task<string> DeployedAppAsync(string stem)
    {
        var name = ApiHelpers.UniqueAppName(stem);
        await _client.CreateAppAsync(name);
        await (await _client.UploadAsync(name, Platform.Testing.TestApps.Bytes("hello"))).ExpectAsync(201);
        return name;
    }

    private async Task<JsonElement?> RouteAsync(string app)
    {
        var table = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        foreach (var route in table.GetProperty("routes").EnumerateArray())
        {
            if (route.GetProperty("app").GetString() == app)
            {
                return route;
            }
        }
        return null;
    }

    [Fact]
    public async Task A_secret_is_created_then_replaced_listed_by_name_only_and_handed_to_routers()
    {
        var app = await DeployedAppAsync("sec");
        var first = NewValue();
        var second = NewValue();

        var created = await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/DB_PASSWORD", new { value = first });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.DoesNotContain(first, await created.Content.ReadAsStringAsync());
        Assert.Equal(first, (await RouteAsync(app))!.Value.GetProperty("secrets").GetProperty("DB_PASSWORD").GetString());
        var tableBefore = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/DB_PASSWORD", new { value = second })).StatusCode);

        var shown = await (await _client.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200);
        Assert.Equal("DB_PASSWORD", Assert.Single(shown.GetProperty("secrets").EnumerateArray()).GetString());
        var listed = await (await _client.GetAsync($"/api/v1/apps/{app}/secrets")).ExpectAsync(200);
        Assert.Equal("DB_PASSWORD", Assert.Single(listed.GetProperty("secrets").EnumerateArray()).GetProperty("name").GetString());
        foreach (var text in new[] { shown.GetRawText(), listed.GetRawText(), (await (await _client.GetAsync("/api/v1/apps")).ExpectAsync(200)).GetRawText() })
        {
            Assert.DoesNotContain(first, text);
            Assert.DoesNotContain(second, text);
        }
        var tableAfter = await (await _router.GetAsync("/internal/v1/routes")).ExpectAsync(200);
        Assert.Equal(second, (await RouteAsync(app))!.Value.GetProperty("secrets").GetProperty("DB_PASSWORD").GetString());
        // A secret change is a routing change, and the public revision is not a hash of the value.
        Assert.NotEqual(tableBefore.GetProperty("revision").GetString(), tableAfter.GetProperty("revision").GetString());
    }

    [Fact]
    public async Task The_database_holds_only_ciphertext_and_the_key_ring_lives_there_too()
    {
        var app = await DeployedAppAsync("atrest");
        var value = NewValue();
        (await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/API_KEY", new { value })).EnsureSuccessStatusCode();

        await using var db = new NpgsqlConnection(fixture.ConnectionString);
        await db.OpenAsync();
        await using (var cmd = new NpgsqlCommand("""SELECT s."Ciphertext" FROM app_secrets s JOIN apps a ON a."Id" = s."AppId" WHERE a."Name" = @app""", db))
        {
            cmd.Parameters.AddWithValue("app", app);
            var ciphertext = (string)(await cmd.ExecuteScalarAsync())!;
            Assert.DoesNotContain(value, ciphertext);
            Assert.True(ciphertext.Length > value.Length);
        }
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM data_protection_keys", db))
        {
            Assert.True((long)(await cmd.ExecuteScalarAsync())! >= 1);
        }
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM app_secrets WHERE \"Ciphertext\" LIKE '%' || @value || '%'", db))
        {
            cmd.Parameters.AddWithValue("value", value);
            Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task A_ciphertext_copied_to_another_apps_row_does_not_decrypt_and_is_left_out()
    {
        var owner = await DeployedAppAsync("owner");
        var thief = await DeployedAppAsync("thief");
        (await _client.PutAsJsonAsync($"/api/v1/apps/{owner}/secrets/TOKEN", new { value = NewValue() })).EnsureSuccessStatusCode();
        (await _client.PutAsJsonAsync($"/api/v1/apps/{thief}/secrets/TOKEN", new { value = "mine" })).EnsureSuccessStatusCode();

        await using (var db = new NpgsqlConnection(fixture.ConnectionString))
        {
            await db.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                UPDATE app_secrets t SET "Ciphertext" = o."Ciphertext"
                FROM app_secrets o, apps ao, apps at
                WHERE ao."Id" = o."AppId" AND ao."Name" = @owner AND at."Id" = t."AppId" AND at."Name" = @thief;
                UPDATE apps SET "UpdatedAt" = now() WHERE "Name" = @thief;
                """, db);
            cmd.Parameters.AddWithValue("owner", owner);
            cmd.Parameters.AddWithValue("thief", thief);
            Assert.Equal(2, await cmd.ExecuteNonQueryAsync());
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JsonElement route;
        do
        {
            await Task.Delay(100);
            route = (await RouteAsync(thief))!.Value;
        }
        while (route.TryGetProperty("secrets", out var s) && s.ValueKind == JsonValueKind.Object && s.TryGetProperty("TOKEN", out _) && DateTime.UtcNow < deadline);
        Assert.False(route.GetProperty("secrets").TryGetProperty("TOKEN", out _));
        Assert.True((await RouteAsync(owner))!.Value.GetProperty("secrets").TryGetProperty("TOKEN", out _));
    }

    [Fact]
    public async Task No_span_of_the_control_plane_carries_a_secrets_value()
    {
        var app = await DeployedAppAsync("traced");
        var value = NewValue();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // The control plane runs in this process: a listener sees every span its instrumentation makes (HTTP, EF Core, Npgsql).
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => seen.Enqueue(string.Join("\n", [a.DisplayName, a.StatusDescription ?? "",
                .. a.TagObjects.Select(t => $"{t.Key}={t.Value}"),
                .. a.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")),
                .. a.Baggage.Select(b => $"{b.Key}={b.Value}")])),
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        (await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/TRACED", new { value })).EnsureSuccessStatusCode();
        (await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/1BAD", new { value })).StatusCode.ToString();
        Assert.Equal(value, (await RouteAsync(app))!.Value.GetProperty("secrets").GetProperty("TRACED").GetString());
        await _client.GetAsync($"/api/v1/apps/{app}");

        Assert.Contains(seen, s => s.Contains("/secrets/TRACED", StringComparison.Ordinal));
        Assert.DoesNotContain(seen, s => s.Contains(value, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1LEADING_DIGIT")]
    [InlineData("has-dash")]
    [InlineData("with space")]
    public async Task A_bad_name_is_a_400_that_quotes_the_name_but_never_the_value(string name)
    {
        var app = await DeployedAppAsync("badname");
        var value = NewValue();
        var response = await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/{Uri.EscapeDataString(name)}", new { value });
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{name}'", text);
        Assert.DoesNotContain(value, text);
        Assert.Empty((await (await _client.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200)).GetProperty("secrets").EnumerateArray());
    }

    [Fact]
    public async Task A_missing_or_oversized_value_is_a_400_that_does_not_echo_it()
    {
        var app = await DeployedAppAsync("badvalue");
        await (await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/EMPTY", new { })).ExpectProblemAsync(400, "'EMPTY'");
        var huge = new string('x', 5000) + Guid.NewGuid().ToString("N");
        var response = await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/HUGE", new { value = huge });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(huge[^32..], await response.Content.ReadAsStringAsync());
        Assert.Empty((await (await _client.GetAsync($"/api/v1/apps/{app}")).ExpectAsync(200)).GetProperty("secrets").EnumerateArray());
    }

    [Fact]
    public async Task Removing_a_secret_takes_it_out_of_the_routing_table_and_a_second_removal_is_a_404()
    {
        var app = await DeployedAppAsync("unset");
        (await _client.PutAsJsonAsync($"/api/v1/apps/{app}/secrets/GONE", new { value = NewValue() })).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/apps/{app}/secrets/GONE")).StatusCode);

        var route = (await RouteAsync(app))!.Value;
        Assert.True(!route.TryGetProperty("secrets", out var s) || s.ValueKind == JsonValueKind.Null || !s.TryGetProperty("GONE", out _));
        await (await _client.DeleteAsync($"/api/v1/apps/{app}/secrets/GONE")).ExpectProblemAsync(404, "'GONE'");
    }

    [Fact]
    public async Task Secrets_of_an_unknown_app_are_a_404()
    {
        await (await _client.PutAsJsonAsync("/api/v1/apps/no-such-app-here/secrets/X", new { value = "v" })).ExpectProblemAsync(404, "'no-such-app-here'");
        await (await _client.DeleteAsync("/api/v1/apps/no-such-app-here/secrets/X")).ExpectProblemAsync(404, "'no-such-app-here'");
        await (await _client.GetAsync("/api/v1/apps/no-such-app-here/secrets")).ExpectProblemAsync(404, "'no-such-app-here'");
    }

    [Fact]
    public async Task Secrets_need_a_key()
    {
        using var anonymous = fixture.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsJsonAsync("/api/v1/apps/any-app/secrets/X", new { value = "v" })).StatusCode);
    }
}
