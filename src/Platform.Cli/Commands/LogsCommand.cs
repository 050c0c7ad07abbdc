using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.Cli.Commands;

/// <summary><c>platform logs APP [--follow] [--tail N] [--since 10m]</c>: what the app wrote and what the platform said about its requests.</summary>
internal static partial class LogsCommand
{
    public static void AddTo(RootCommand root)
    {
        var app = new Argument<string>("APP") { Description = "The app" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines as they arrive (Ctrl-C stops)" };
        var tail = new Option<int?>("--tail", "-n") { Description = "Print the last N lines (1-10000; default 100)" };
        var since = new Option<string?>("--since") { Description = "Only lines from this long ago (30s, 10m, 2h, 1d) or since an RFC 3339 time" };
        var json = Cli.JsonOption();
        json.Description = "Print each entry as one JSON object per line";
        var command = new Command("logs", "Print an app's log: its stderr/stdout and the platform's reasons for failures") { app, follow, tail, since, json };
        command.Action(async (result, ct) =>
        {
            var query = Query(result.GetValue(tail), result.GetValue(since), DateTimeOffset.UtcNow);
            var name = result.GetValue(app)!;
            var asJson = result.GetValue(json);
            if (!result.GetValue(follow))
            {
                using var client = PlatformClient.FromSettings();
                var page = await client.GetLogsAsync(name, query, ct);
                foreach (var e in page.Entries)
                {
                    Print(e, asJson);
                }
                return;
            }
            await FollowAsync(name, query, asJson, ct);
        });
        root.Subcommands.Add(command);
    }

    /// <summary>The query string for the logs API; durations become an RFC 3339 time relative to <paramref name="now"/>.</summary>
    internal static string Query(int? tail, string? since, DateTimeOffset now)
    {
        var parts = new List<string>();
        if (tail is { } n)
        {
            if (n is < 1 or > 10_000)
            {
                throw new CliException($"--tail {n} is not from 1 to 10000");
            }
            parts.Add("tail=" + n.ToString(CultureInfo.InvariantCulture));
        }
        if (since is not null)
        {
            parts.Add("since=" + Uri.EscapeDataString(SinceTime(since, now)));
        }
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    internal static string SinceTime(string since, DateTimeOffset now)
    {
        var m = Duration().Match(since);
        if (m.Success)
        {
            var amount = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var span = m.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            return (now - span).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        if (DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && since.Contains('T', StringComparison.OrdinalIgnoreCase))
        {
            return since;
        }
        throw new CliException($"--since '{since}' is neither a duration (30s, 10m, 2h, 1d) nor an RFC 3339 time");
    }

    /// <summary>Reads the SSE stream; reconnects after a dropped connection, resuming after the last event seen.</summary>
    private static async Task FollowAsync(string app, string query, bool asJson, CancellationToken ct)
    {
        using var client = PlatformClient.FromSettings(Timeout.InfiniteTimeSpan);
        var sep = query.Length == 0 ? "?" : "&";
        long? lastId = null;
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var response = await client.OpenLogStreamAsync(app, query + sep + "follow=true", lastId, ct);
                failures = 0;
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
                var data = new StringBuilder();
                long? eventId = null;
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.Length == 0)
                    {
                        if (data.Length > 0)
                        {
                            var entry = JsonSerializer.Deserialize<LogEntry>(data.ToString(), Cli.Json);
                            if (entry is not null)
                            {
                                Print(entry, asJson);
                            }
                            lastId = eventId ?? lastId;
                        }
                        data.Clear();
                        eventId = null;
                    }
                    else if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        data.Append(line.AsSpan(line.StartsWith("data: ", StringComparison.Ordinal) ? 6 : 5));
                    }
                    else if (line.StartsWith("id:", StringComparison.Ordinal)
                        && long.TryParse(line.AsSpan(3).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        eventId = id;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                if (++failures > 5)
                {
                    throw;
                }
            }
            // The server closed the stream (a control-plane replica stopping): resume on another.
            await Task.Delay(TimeSpan.FromMilliseconds(500 * Math.Max(1, failures)), ct);
        }
    }

    private static void Print(LogEntry e, bool asJson)
    {
        if (asJson)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(e, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        }
        else
        {
            var time = e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var component = e.Component is null ? "" : " " + e.Component;
            Console.Out.WriteLine($"{time} v{e.Version}{component} {e.Stream,-8} {e.Line}");
        }
        Console.Out.Flush();
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)([smhd])$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
