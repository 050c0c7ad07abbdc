using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Platform.Cli;

/// <summary>What every command shares: running an action with one-line errors, and printing for people or scripts.</summary>
internal static class Cli
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped output is read by scripts and logs, not a terminal of 80 columns: no wrapping, no colours.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(Console.Out),
            });
            AnsiConsole.Profile.Width = 240;
        }
        return await root.Parse(args).InvokeAsync();
    }

    /// <summary>Sets the command's action: errors become one line on stderr and exit code 1.</summary>
    public static void Action(this Command command, Func<ParseResult, CancellationToken, Task> action) =>
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                await action(result, cancellationToken);
                return 0;
            }
            catch (CliException ex)
            {
                return Fail(ex.Message);
            }
            catch (HttpRequestException ex)
            {
                return Fail($"cannot reach the platform: {ex.Message}");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 130;
            }
            catch (TaskCanceledException)
            {
                return Fail("the platform did not answer in time");
            }
            catch (IOException ex)
            {
                return Fail(ex.Message);
            }
            catch (UnauthorizedAccessException ex)
            {
                return Fail(ex.Message);
            }
        });

    private static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + OneLine(message));
        return 1;
    }

    public static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static Option<bool> JsonOption() => new("--json") { Description = "Print JSON for scripts instead of a table" };

    public static void PrintJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var c in columns)
        {
            table.AddColumn(new TableColumn(c).NoWrap());
        }
        return table;
    }

    public static string Cell(object? value) => Markup.Escape(value switch
    {
        null => "-",
        DateTimeOffset t => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "-",
    });

    /// <summary>A digest short enough for a table: sha256:0123456789ab.</summary>
    public static string ShortDigest(string digest) => digest.Length > 19 ? digest[..19] : digest;
}

/// <summary>An error the user should read: its message is printed as is, on one line.</summary>
internal sealed class CliException(string message) : Exception(message);
