using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Platform.Testing;

/// <summary>
/// A child process whose output is captured line by line, so a failing test can show what a server printed.
/// Disposing kills the whole process tree.
/// </summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ExternalProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public IReadOnlyCollection<string> OutputLines => _lines;
    public string Output => string.Join('\n', _lines);

    public static ExternalProcess Start(string fileName, IEnumerable<string> args, IDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
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
        }
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var ep = new ExternalProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { ep._lines.Enqueue(e.Data); } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { ep._lines.Enqueue(e.Data); } };
        if (!p.Start())
        {
            throw new InvalidOperationException($"Could not start '{fileName}'.");
        }
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return ep;
    }

    /// <summary>Runs a command to completion and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> args, IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        await using var p = Start(fileName, args, environment);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await p._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"'{fileName} {string.Join(' ', args)}' did not finish in time. Output:\n{p.Output}");
        }
        // WaitForExitAsync also waits for the redirected streams to drain.
        return (p._process.ExitCode, p.Output);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM (a graceful stop request) to the process.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int sig);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or refused to die in time: nothing more a test can do.
        }
        _process.Dispose();
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(_process.StartInfo.FileName).Append(" pid ").Append(_process.Id);
        return sb.ToString();
    }
}
