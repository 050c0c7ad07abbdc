using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// Routers that fall behind, miss a delta, restart mid-stream or talk to another control-plane replica end at the
/// same table (the <c>/routing</c> document) as a router that starts fresh at the end.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RoutingConvergenceTests
{
    [Fact]
    public async Task Routers_that_fall_behind_miss_a_delta_restart_or_use_a_second_replica_converge_to_the_table_of_a_fresh_router()
    {
        await using var stack = await PlatformStack.StartAsync(new PlatformStackOptions { StartRouter = false });
        var first = stack.ControlPlane;
        var second = await stack.StartControlPlaneAsync();
        await using var skipper = new RevisionSkippingProxy(first.Url);
        var hello = TestApps.Bytes("hello");
        var cgienv = TestApps.Bytes("cgienv");

        Task<RouterProcess> Start(string name, string controlPlane) => stack.StartOwnRouterAsync(name, controlPlaneUrl: controlPlane);

        var missing = await Start("missing", skipper.Url);
        var replica = await Start("replica", second.Url);
        var behind = await Start("behind", first.Url);
        using var admin = first.CreateClient();
        await first.DeployAsync("keep-one", cgienv);
        await first.DeployAsync("roll-back", hello);
        await first.DeployAsync("roll-back", cgienv, create: false);
        await first.DeployAsync("go-away", hello);
        await behind.WaitForAppAsync("go-away", "/", "", TimeSpan.FromSeconds(20));
        await WaitConvergedAsync([missing, replica, behind], await DocumentAsync(behind));

        // Mid-stream: the replica router restarts gracefully and the far-behind one stops while things change.
        await StopAsync(replica);
        await StopAsync(behind);
        skipper.SkipOnce();
        await (await admin.PostAsync("/api/v1/apps/roll-back/versions/1/activate", null)).EnsureSuccessAsync();
        await (await admin.DeleteAsync("/api/v1/apps/go-away")).EnsureSuccessAsync();
        await (await admin.PatchAsJsonAsync("/api/v1/apps/keep-one", new { variables = new Dictionary<string, string> { ["COLOUR"] = "teal" } })).EnsureSuccessAsync();
        await first.DeployAsync("late-comer", hello);

        replica = await Start("replica", second.Url);
        await first.DeployAsync("late-comer", cgienv, create: false);
        // Caught up before the log is pruned, so the restarted router's resume is a delta, not a snapshot.
        await WaitForDocumentAsync(replica, d => Routes(d).Contains("late-comer@2/30000"));

        // Past the retention: the log no longer holds what the stopped router missed (what the pruner does on its timer).
        await using (var db = new NpgsqlConnection(stack.DatabaseConnectionString))
        {
            await db.OpenAsync();
            await using var prune = new NpgsqlCommand("""
                BEGIN;
                UPDATE routing_state SET "PrunedThrough" = "Revision";
                DELETE FROM route_changes;
                COMMIT;
                """, db);
            await prune.ExecuteNonQueryAsync();
        }
        behind = await Start("behind", first.Url);
        await (await admin.PatchAsJsonAsync("/api/v1/apps/late-comer", new { timeoutSeconds = 12 })).EnsureSuccessAsync();

        await using var fresh = await Start("fresh", first.Url);
        var expected = await WaitForDocumentAsync(fresh, d => Routes(d).Contains("late-comer@2/12000"));
        Assert.Equal(["keep-one@1/30000", "late-comer@2/12000", "roll-back@1/30000"], Routes(expected));
        await WaitConvergedAsync([missing, replica, behind, fresh], expected);

        Assert.Contains("asking for a snapshot", missing.Process.Output, StringComparison.Ordinal);
        Assert.True(skipper.Skipped, "the proxy never withheld a delta");
        // The restarted replica router resumed from its saved revision (a delta), the far-behind one needed a snapshot.
        Assert.DoesNotContain("loaded from the control plane", replica.Process.Output, StringComparison.Ordinal);
        Assert.Contains("loaded from the control plane", behind.Process.Output, StringComparison.Ordinal);
        // The variable change reached the apps themselves, not only the table.
        foreach (var router in new[] { missing, replica, behind, fresh })
        {
            Assert.Contains("COLOUR=teal", await (await router.SendAsync("keep-one", "/env")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    private static async Task StopAsync(RouterProcess router)
    {
        router.Process.Terminate();
        await router.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await router.DisposeAsync();
    }

    private static async Task<JsonElement> DocumentAsync(RouterProcess router)
    {
        using var http = new HttpClient();
        return JsonDocument.Parse(await http.GetStringAsync($"{router.ManagementUrl}/routing")).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForDocumentAsync(RouterProcess router, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var document = await DocumentAsync(router);
            if (condition(document))
            {
                return document;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the router's table never got there; last {document}\n{router.Process.Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>The parts of a /routing document every router must agree on (not where or when it got it).</summary>
    private static string Comparable(JsonElement document) => JsonSerializer.Serialize(new
    {
        revision = document.GetProperty("revision").GetString(),
        epoch = document.GetProperty("epoch").GetString(),
        routes = document.GetProperty("routes"),
    });

    private static string[] Routes(JsonElement document) =>
        [.. document.GetProperty("routes").EnumerateArray().Select(r => $"{r.GetProperty("app").GetString()}@{r.GetProperty("version").GetInt32()}/{r.GetProperty("timeoutMilliseconds").GetInt32()}")];

    private static async Task WaitConvergedAsync(IEnumerable<RouterProcess> routers, JsonElement expected)
    {
        foreach (var router in routers)
        {
            var document = await WaitForDocumentAsync(router, d => Comparable(d) == Comparable(expected));
            Assert.Equal(Comparable(expected), Comparable(document));
        }
    }

    /// <summary>
    /// Forwards a router's routing requests to the control plane; armed, it asks once for the changes after the
    /// router's revision plus one, so the router receives a delta that skips a change it never saw.
    /// </summary>
    private sealed class RevisionSkippingProxy : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly HttpClient _upstream = new() { Timeout = TimeSpan.FromSeconds(90) };
        private readonly string _target;
        private readonly Task _loop;
        private int _armed;
        private int _skipped;

        public RevisionSkippingProxy(string target)
        {
            _target = target;
            Url = $"http://127.0.0.1:{TestPorts.GetFreeTcpPort()}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public string Url { get; }
        public bool Skipped => Volatile.Read(ref _skipped) == 1;

        public void SkipOnce() => Volatile.Write(ref _armed, 1);

        private async Task AcceptAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }
                _ = Task.Run(() => ForwardAsync(context));
            }
        }

        private async Task ForwardAsync(HttpListenerContext context)
        {
            try
            {
                var query = System.Web.HttpUtility.ParseQueryString(context.Request.Url!.Query);
                if (context.Request.Url.AbsolutePath != "/internal/v1/routes")
                {
                    context.Response.StatusCode = 204;
                    return;
                }
                var (status, contentType, body) = await UpstreamAsync(query.ToString()!, context.Request.Headers["Authorization"]);
                // Armed: the delta the router asked for is withheld and the next one (starting a revision later) sent
                // instead; the control plane long-polls that request until a change after the skipped one exists.
                if (status == 200 && query["epoch"] is not null && long.TryParse(query["since"], out var since)
                    && JsonDocument.Parse(body).RootElement.GetProperty("since").ValueKind == JsonValueKind.Number
                    && Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    query["since"] = (since + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    (status, contentType, body) = await UpstreamAsync(query.ToString()!, context.Request.Headers["Authorization"]);
                    Volatile.Write(ref _skipped, 1);
                }
                context.Response.StatusCode = status;
                context.Response.ContentType = contentType;
                await context.Response.OutputStream.WriteAsync(body);
            }
            catch (Exception)
            {
                context.Response.StatusCode = 502;
            }
            finally
            {
                try
                {
                    context.Response.Close();
                }
                catch (Exception)
                {
                }
            }
        }

        private async Task<(int Status, string? ContentType, byte[] Body)> UpstreamAsync(string query, string? authorization)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{_target}/internal/v1/routes?{query}");
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await _upstream.SendAsync(request);
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsByteArrayAsync());
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Close();
            _upstream.Dispose();
            try
            {
                await _loop;
            }
            catch (Exception)
            {
            }
        }
    }
}

internal static class ResponseChecks
{
    public static async Task EnsureSuccessAsync(this HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new Xunit.Sdk.XunitException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
