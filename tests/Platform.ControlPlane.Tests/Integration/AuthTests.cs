using System.Net;
using System.Net.Http.Json;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AuthTests(ControlPlaneFixture fixture)
{
    [Fact]
    public async Task A_request_without_a_key_is_401_with_a_bearer_challenge()
    {
        var response = await fixture.CreateClient(key: null).GetAsync("/api/v1/apps");
        await response.ExpectProblemAsync(401, "Bearer");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task A_wrong_key_is_401_and_changes_nothing()
    {
        var name = ApiHelpers.UniqueAppName("nokey");
        var response = await fixture.CreateClient("wpk_wrong-key-that-does-not-exist").PostAsJsonAsync("/api/v1/apps", new { name });
        await response.ExpectProblemAsync(401, "unknown or revoked");
        var list = await (await fixture.CreateClient().GetAsync("/api/v1/apps")).ExpectAsync(200);
        Assert.DoesNotContain(list.EnumerateArray(), a => a.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task A_key_made_by_the_admin_works_a_non_admin_key_may_not_make_admin_keys_and_a_revoked_key_stops_working()
    {
        var admin = fixture.CreateClient();
        var keyName = ApiHelpers.UniqueAppName("ci");
        var created = await (await admin.PostAsJsonAsync("/api/v1/keys", new { name = keyName })).ExpectAsync(201);
        var secret = created.GetProperty("key").GetString()!;
        Assert.StartsWith("wpk_", secret);

        var user = fixture.CreateClient(secret);
        await (await user.GetAsync("/api/v1/apps")).ExpectAsync(200);
        await (await user.PostAsJsonAsync("/api/v1/keys", new { name = keyName + "-admin", admin = true })).ExpectProblemAsync(403, keyName);
        // Without a tenant it is a key of the default tenant, and it sees only that tenant's keys.
        Assert.Equal("default", created.GetProperty("tenant").GetString());
        var seen = await (await user.GetAsync("/api/v1/keys")).ExpectAsync(200);
        Assert.Contains(seen.EnumerateArray(), k => k.GetProperty("name").GetString() == keyName);
        Assert.DoesNotContain(seen.EnumerateArray(), k => k.GetProperty("admin").GetBoolean());

        // Listing keys never shows a secret.
        var keys = await (await admin.GetAsync("/api/v1/keys")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, keys);
        Assert.Contains(keyName, keys);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{keyName}")).StatusCode);
        await (await user.GetAsync("/api/v1/apps")).ExpectProblemAsync(401);
    }

    [Fact]
    public async Task Keys_are_stored_only_as_hashes()
    {
        var created = await (await fixture.CreateClient().PostAsJsonAsync("/api/v1/keys", new { name = ApiHelpers.UniqueAppName("hash") })).ExpectAsync(201);
        var secret = created.GetProperty("key").GetString()!;
        await using var db = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await db.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM api_keys WHERE \"Hash\" = @secret OR \"Prefix\" = @secret", db);
        cmd.Parameters.AddWithValue("secret", secret);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_routing_table_needs_the_router_token_and_an_api_key_is_not_enough()
    {
        await (await fixture.CreateClient().GetAsync("/internal/v1/routes")).ExpectProblemAsync(401);
        await (await fixture.CreateClient(ControlPlaneFixture.RouterToken).GetAsync("/internal/v1/routes")).ExpectAsync(200);
        await (await fixture.CreateClient(ControlPlaneFixture.RouterToken).GetAsync("/api/v1/apps")).ExpectProblemAsync(401);
    }
}
