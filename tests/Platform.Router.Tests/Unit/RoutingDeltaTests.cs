using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Router.Infrastructure;
using Platform.Router.Routing;

namespace Platform.Router.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class RoutingDeltaTests
{
    private const string Epoch = "epoch-a";

    private static RouteEntry Entry(string app, int version = 1, Dictionary<string, string>? variables = null) =>
        new(app, version, "sha256:" + new string((char)('a' + (version % 6)), 64), $"apps/{app}", $"r/apps/{app}:v{version}",
            64L * 1024 * 1024, 5000, variables ?? [], HttpRoutes: [new("/...", app)],
            Components: [new(app, "sha256:" + new string((char)('a' + (version % 6)), 64), "wagi", null, null, new Dictionary<string, string>(), [], [])]);

    private static RoutingChanges Snapshot(long revision, params RouteEntry[] routes) => new(Epoch, revision, null, DateTimeOffset.UnixEpoch, routes, []);

    private static RoutingChanges Delta(long since, long revision, RouteEntry[] upserts, string[]? deletions = null, string epoch = Epoch) =>
        new(epoch, revision, since, DateTimeOffset.UnixEpoch, upserts, deletions ?? []);

    private static RoutingSnapshot Start(RoutingChanges snapshot)
    {
        var empty = new RoutingSnapshot(RoutingTable.Empty, "test");
        Assert.Equal(RoutingApplyOutcome.Applied, empty.TryApply(snapshot, "test", out var applied));
        return applied;
    }

    private static string[] Apps(RoutingSnapshot s) => [.. s.Table.Routes.Select(r => $"{r.App}@{r.Version}")];

    [Fact]
    public void A_delta_replaces_and_removes_only_the_apps_it_names_and_keeps_the_state_of_the_others()
    {
        var start = Start(Snapshot(10, Entry("alpha"), Entry("beta"), Entry("gamma")));
        var untouched = start.Apps["gamma"];

        Assert.Equal(RoutingApplyOutcome.Applied, start.TryApply(Delta(10, 12, [Entry("alpha", 2)], ["beta"]), "test", out var next));

        Assert.Equal(["alpha@2", "gamma@1"], Apps(next));
        Assert.Equal(12, next.Revision);
        Assert.Same(untouched, next.Apps["gamma"]);
        Assert.NotSame(start.Apps["alpha"], next.Apps["alpha"]);
        // The old snapshot is immutable: readers holding it still see the old table.
        Assert.Equal(["alpha@1", "beta@1", "gamma@1"], Apps(start));
    }

    [Fact]
    public void An_upsert_equal_to_what_the_router_has_keeps_its_state_even_when_it_is_a_new_object()
    {
        var start = Start(Snapshot(1, Entry("alpha", variables: new() { ["K"] = "v" })));
        var before = start.Apps["alpha"];

        start.TryApply(Delta(1, 2, [Entry("alpha", variables: new() { ["K"] = "v" })]), "test", out var same);
        start.TryApply(Delta(1, 2, [Entry("alpha", variables: new() { ["K"] = "w" })]), "test", out var changed);

        Assert.Same(before, same.Apps["alpha"]);
        Assert.NotSame(before, changed.Apps["alpha"]);
        Assert.Equal("w", changed.Apps["alpha"].Entry.Variables["K"]);
    }

    [Fact]
    public void A_routes_request_state_is_built_once_when_the_table_is_applied_and_reused_for_the_unchanged_route_across_a_delta()
    {
        var log = new LineLog();
        var states = new RouteStateFactory(new RouterOptions { MaxConcurrency = 8, DefaultAppShare = 0.25 }, log);
        // An allow-list that does not parse is reported when the component's state is built: the count of builds.
        static RouteEntry Alpha()
        {
            var entry = Entry("alpha");
            return entry with { Components = [entry.Components![0] with { AllowedOutboundHosts = ["h ttp://bad.example"] }] };
        }
        var empty = new RoutingSnapshot(RoutingTable.Empty, "test", states);
        Assert.Equal(RoutingApplyOutcome.Applied, empty.TryApply(Snapshot(1, Alpha(), Entry("beta")), "test", out var start));

        // Built by the apply, before any request: limits validated, the app's share of workers, its log callback.
        var alpha = start.Apps["alpha"].State;
        var beta = start.Apps["beta"].State;
        Assert.Equal(1, log.Count("[alpha v1] [platform] outbound HTTP disabled"));
        Assert.Equal(2, alpha.Concurrency);
        Assert.Equal(TimeSpan.FromMilliseconds(5000), alpha.Limits.WallTime);
        alpha.Limits.Validate();
        Assert.Same(alpha, start.Apps["alpha"].State);

        Assert.Equal(RoutingApplyOutcome.Applied, start.TryApply(Delta(1, 2, [Alpha(), Entry("beta", 2)]), "test", out var next));

        // The equal entry (a new object) keeps its state; only the changed one is built again.
        Assert.Same(alpha, next.Apps["alpha"].State);
        Assert.Same(alpha.LogLine, next.Apps["alpha"].State.LogLine);
        Assert.Same(start.Apps["alpha"].Components[0].Outbound, next.Apps["alpha"].Components[0].Outbound);
        Assert.Equal(1, log.Count("[alpha v1] [platform] outbound HTTP disabled"));
        Assert.NotSame(beta, next.Apps["beta"].State);
        Assert.Equal("2", next.Apps["beta"].State.Version);
    }

    [Fact]
    public void A_route_whose_limits_are_out_of_range_is_unservable_with_an_error_and_still_has_the_body_cap()
    {
        var start = Start(Snapshot(1, Entry("alpha") with { CpuTimeMilliseconds = 0 }, Entry("beta") with { MemoryLimitBytes = 10 }));

        foreach (var (app, limit) in new[] { ("alpha", "CpuTime"), ("beta", "MemoryBytes") })
        {
            var routing = start.Apps[app];
            Assert.Contains("the app's limits are out of range", routing.Error);
            Assert.Contains(limit, routing.Error);
            Assert.Empty(routing.Routes);
            Assert.Equal(Platform.Router.Serving.AppTrafficHandler.DefaultMaxBodyBytes, routing.State.Limits.MaxRequestBodyBytes);
        }
    }

    private sealed class LineLog : ILogger
    {
        private readonly List<string> _lines = [];

        public int Count(string start)
        {
            lock (_lines)
            {
                return _lines.Count(l => l.StartsWith(start, StringComparison.Ordinal));
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add(formatter(state, exception));
            }
        }
    }

    [Fact]
    public void A_delta_that_starts_after_the_routers_revision_is_a_gap_and_changes_nothing()
    {
        var start = Start(Snapshot(5, Entry("alpha")));

        Assert.Equal(RoutingApplyOutcome.Gap, start.TryApply(Delta(6, 7, [Entry("beta")]), "test", out var next));

        Assert.Same(start, next);
    }

    [Fact]
    public void A_delta_of_another_epoch_is_a_gap_even_when_its_numbers_fit()
    {
        var start = Start(Snapshot(5, Entry("alpha")));

        Assert.Equal(RoutingApplyOutcome.Gap, start.TryApply(Delta(5, 6, [Entry("beta")], epoch: "epoch-b"), "test", out _));
    }

    [Fact]
    public void A_duplicated_or_late_delta_is_ignored()
    {
        var start = Start(Snapshot(5, Entry("alpha")));
        start.TryApply(Delta(5, 6, [Entry("alpha", 2)]), "test", out var six);

        Assert.Equal(RoutingApplyOutcome.Stale, six.TryApply(Delta(5, 6, [Entry("alpha", 2)]), "test", out var again));
        Assert.Equal(RoutingApplyOutcome.Stale, six.TryApply(Delta(4, 5, [Entry("alpha", 1)]), "test", out _));
        Assert.Same(six, again);
        Assert.Equal(["alpha@2"], Apps(six));
    }

    [Fact]
    public void An_overlapping_delta_that_reaches_past_the_routers_revision_applies()
    {
        // Entries are each app's whole state at the delta's end, so changes already seen are simply set again.
        var start = Start(Snapshot(5, Entry("alpha")));
        start.TryApply(Delta(5, 6, [Entry("alpha", 2)]), "test", out var six);

        Assert.Equal(RoutingApplyOutcome.Applied, six.TryApply(Delta(5, 8, [Entry("alpha", 3), Entry("beta")]), "test", out var eight));

        Assert.Equal(["alpha@3", "beta@1"], Apps(eight));
    }

    [Fact]
    public void Deltas_applied_in_any_grouping_end_at_the_same_table_as_one_snapshot()
    {
        var start = Start(Snapshot(1, Entry("alpha"), Entry("beta")));
        start.TryApply(Delta(1, 2, [Entry("gamma")]), "test", out var two);
        two.TryApply(Delta(2, 3, [], ["alpha"]), "test", out var three);
        three.TryApply(Delta(3, 4, [Entry("beta", 2)]), "test", out var stepwise);
        start.TryApply(Delta(1, 4, [Entry("beta", 2), Entry("gamma")], ["alpha"]), "test", out var atOnce);
        var fresh = Start(Snapshot(4, Entry("gamma"), Entry("beta", 2)));

        Assert.Equal(Apps(fresh), Apps(stepwise));
        Assert.Equal(Apps(fresh), Apps(atOnce));
        Assert.Equal(4, stepwise.Revision);
    }

    [Fact]
    public void A_snapshot_replaces_everything_but_keeps_the_state_of_unchanged_apps()
    {
        var start = Start(Snapshot(5, Entry("alpha"), Entry("beta")));
        var alpha = start.Apps["alpha"];

        Assert.Equal(RoutingApplyOutcome.Applied, start.TryApply(Snapshot(9, Entry("alpha"), Entry("delta")), "test", out var nine));

        Assert.Equal(["alpha@1", "delta@1"], Apps(nine));
        Assert.Same(alpha, nine.Apps["alpha"]);
    }

    [Fact]
    public void A_snapshot_at_an_older_revision_is_taken_so_a_router_ahead_of_a_restored_database_converges()
    {
        var start = Start(Snapshot(50, Entry("alpha"), Entry("beta")));

        Assert.Equal(RoutingApplyOutcome.Applied, start.TryApply(Snapshot(7, Entry("beta")), "test", out var restored));

        Assert.Equal(["beta@1"], Apps(restored));
        Assert.Equal(7, restored.Revision);
        // From there on, deltas of the restored database follow on.
        Assert.Equal(RoutingApplyOutcome.Applied, restored.TryApply(Delta(7, 8, [Entry("gamma")]), "test", out _));
    }

    [Fact]
    public void Deleting_an_app_the_router_does_not_have_is_harmless_and_lookups_ignore_case()
    {
        var start = Start(Snapshot(1, Entry("alpha")));

        Assert.Equal(RoutingApplyOutcome.Applied, start.TryApply(Delta(1, 2, [], ["never-seen"]), "test", out var next));

        Assert.True(next.Apps.ContainsKey("ALPHA"));
        Assert.Equal(2, next.Revision);
    }

    [Fact]
    public void Changes_after_the_saved_table_go_to_a_journal_and_a_restart_replays_them_up_to_a_torn_line()
    {
        var directory = Path.Combine(Path.GetTempPath(), "routing-journal-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = Options.Create(new RouterOptions { StateDirectory = directory, ControlPlaneUrl = "http://127.0.0.1:1", Token = "t" });
            var table = Path.Combine(directory, "routing-table.json");
            var journal = Path.Combine(directory, "routing-changes.jsonl");
            var store = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);
            store.Apply(Snapshot(3, Entry("alpha"), Entry("beta")));
            store.Flush();
            var tableBytes = File.ReadAllBytes(table);
            Assert.False(File.Exists(journal));

            store.Apply(Delta(3, 4, [Entry("alpha", 2, new() { ["K"] = "v" })]));
            store.Apply(Delta(4, 5, [], ["beta"]));
            store.Flush();
            store.Apply(Delta(5, 6, [Entry("gamma")]));
            store.Flush();

            // One line per change; the table itself was not written again.
            Assert.Equal(tableBytes, File.ReadAllBytes(table));
            Assert.Equal(3, File.ReadAllLines(journal).Length);
            var restarted = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);
            Assert.Equal(6, restarted.Current!.Revision);
            Assert.Equal(["alpha@2", "gamma@1"], Apps(restarted.Current).Order().ToArray());
            Assert.Equal("v", restarted.Current.Apps["alpha"].Entry.Variables!["K"]);

            // A crash mid-line: the replay stops at the last whole change, and the control plane sends the rest.
            var lines = File.ReadAllLines(journal);
            File.WriteAllText(journal, string.Join('\n', lines[..2]) + "\n" + lines[2][..(lines[2].Length / 2)]);
            var afterCrash = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);
            Assert.Equal(5, afterCrash.Current!.Revision);
            Assert.Equal(["alpha@2"], Apps(afterCrash.Current));
        }
        finally
        {
            DeleteEventually(directory);
        }
    }

    [Fact]
    public void A_snapshot_from_the_control_plane_rewrites_the_table_and_drops_the_journal()
    {
        var directory = Path.Combine(Path.GetTempPath(), "routing-journal-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = Options.Create(new RouterOptions { StateDirectory = directory, ControlPlaneUrl = "http://127.0.0.1:1", Token = "t" });
            var store = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);
            store.Apply(Snapshot(3, Entry("alpha")));
            store.Flush();
            store.Apply(Delta(3, 4, [Entry("beta")]));
            store.Flush();
            Assert.True(File.Exists(Path.Combine(directory, "routing-changes.jsonl")));

            store.Apply(Snapshot(9, Entry("omega")));
            store.Flush();

            Assert.False(File.Exists(Path.Combine(directory, "routing-changes.jsonl")));
            var restarted = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);
            Assert.Equal(9, restarted.Current!.Revision);
            Assert.Equal(["omega@1"], Apps(restarted.Current));
        }
        finally
        {
            DeleteEventually(directory);
        }
    }

    // The stores' background savers may still write for up to a second.
    private static void DeleteEventually(string directory)
    {
        for (var attempt = 0; Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException) when (attempt < 30)
            {
                Thread.Sleep(100);
            }
        }
    }

    [Fact]
    public void A_saved_table_brings_back_its_epoch_and_revision_after_a_restart()
    {
        var directory = Path.Combine(Path.GetTempPath(), "routing-delta-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = Options.Create(new RouterOptions { StateDirectory = directory, ControlPlaneUrl = "http://127.0.0.1:1", Token = "t" });
            var store = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);
            Assert.Equal(RoutingApplyOutcome.Applied, store.Apply(Snapshot(3, Entry("alpha"))));
            Assert.Equal(RoutingApplyOutcome.Applied, store.Apply(Delta(3, 4, [Entry("beta")])));
            Assert.Equal(RoutingApplyOutcome.Gap, store.Apply(Delta(6, 7, [Entry("gamma")])));
            store.Flush();

            var restarted = new RoutingTableStore(options, NullLogger<RoutingTableStore>.Instance);

            Assert.Equal(Epoch, restarted.Current!.Epoch);
            Assert.Equal(4, restarted.Current.Revision);
            Assert.Equal(["alpha@1", "beta@1"], Apps(restarted.Current));
            Assert.Equal(RoutingApplyOutcome.Applied, restarted.Apply(Delta(4, 5, [], ["alpha"])));
            Assert.Equal(["beta@1"], Apps(restarted.Current));
        }
        finally
        {
            DeleteEventually(directory);
        }
    }
}

[Trait("Category", "Unit")]
public sealed class PooledStringConverterTests
{
    [Fact]
    public void Repeated_strings_of_a_routing_document_are_read_once_and_the_document_reads_back_the_same()
    {
        var digest = "sha256:" + new string('d', 64);
        var big = new string('x', PooledStringConverter.MaxPooledLength + 10);
        var entries = new[] { "one", "two" }.Select(app => new RouteEntry(app, 1, digest, "apps/shared", "r/apps/shared:v1", 1 << 20, 1000,
            new Dictionary<string, string> { ["KEY"] = "value", ["BIG"] = big }, Components: [new(app, digest, "wagi", null, null, new Dictionary<string, string> { ["KEY"] = "é\"escaped\"" }, [], [])],
            HttpRoutes: [new("/...", app)])).ToArray();
        var json = System.Text.Json.JsonSerializer.Serialize(new RoutingChanges("e", 1, null, DateTimeOffset.UnixEpoch, entries, []), RoutingJson.Options);
        var options = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { Converters = { new PooledStringConverter() } };

        var read = System.Text.Json.JsonSerializer.Deserialize<RoutingChanges>(json, options)!;

        Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize(read, RoutingJson.Options));
        var (a, b) = (read.Upserts[0], read.Upserts[1]);
        Assert.Same(a.ModuleDigest, b.ModuleDigest);
        Assert.Same(a.ModuleDigest, a.Components![0].ModuleDigest);
        Assert.Same(a.Repository, b.Repository);
        Assert.Same(a.Variables.Keys.First(), b.Variables.Keys.First());
        Assert.Equal("é\"escaped\"", a.Components[0].Environment["KEY"]);
        Assert.Equal(big, a.Variables["BIG"]);
        Assert.NotSame(a.Variables["BIG"], b.Variables["BIG"]);
    }
}
