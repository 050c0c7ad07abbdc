using System.Diagnostics;
using System.Text;
using Platform.Testing;

namespace Platform.Cli.Tests.Integration;

/// <summary>PostgreSQL, a registry, the control plane and a router as processes; the CLI runs against them.</summary>
public sealed class CliStack : PlatformStackFixture;

/// <summary>The built `platform` CLI, run as a process with its own home (so its saved login is the test's own).</summary>
public sealed class PlatformCli
{
    public static string Dll => RepoPaths.Combine("src", "Platform.Cli", "bin", RepoPaths.Configuration, "net10.0", "platform.dll");

    public PlatformCli(string home, IDictionary<string, string?>? environment = null)
    {
        Home = home;
        Directory.CreateDirectory(home);
        Environment = new Dictionary<string, string?>
        {
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
            ["PLATFORM_URL"] = null,
            ["PLATFORM_KEY"] = null,
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            Environment[k] = v;
        }
    }

    public string Home { get; }
    public Dictionary<string, string?> Environment { get; }
    public string ConfigFile => Path.Combine(Home, ".config", "platform", "config.json");

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public Task<Result> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    /// <summary>Runs the CLI with <paramref name="input"/> on its stdin (closed at once when null).</summary>
    public async Task<Result> RunWithInputAsync(string? input, params string[] args)
    {
        using var process = Start(input, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public Process Start(params string[] args) => Start(null, args);

    private Process Start(string? input, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            WorkingDirectory = Home,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in Environment)
        {
            if (v is null)
            {
                psi.Environment.Remove(k);
            }
            else
            {
                psi.Environment[k] = v;
            }
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the CLI");
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }
        process.StandardInput.Close();
        return process;
    }
}
