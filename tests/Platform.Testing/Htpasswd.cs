using System.Diagnostics;

namespace Platform.Testing;

/// <summary>htpasswd lines for registries under test, made by the real <c>htpasswd</c> tool (Debian package apache2-utils).</summary>
public static class Htpasswd
{
    public const string DefaultBinaryPath = "/usr/bin/htpasswd";

    /// <summary>
    /// Returns <c>user:$2y$...</c> (bcrypt, the only hash docker-registry accepts). The password goes through stdin,
    /// not the command line, so it never shows in a process listing.
    /// </summary>
    public static async Task<string> CreateBcryptLineAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user.Contains(':'))
        {
            throw new ArgumentException($"htpasswd user names cannot contain ':' (got '{user}').", nameof(user));
        }
        var binary = Environment.GetEnvironmentVariable("PLATFORM_HTPASSWD") ?? DefaultBinaryPath;
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"'{binary}' does not exist; install the Debian package 'apache2-utils' (deploy/platform.sh test does).");
        }
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-n", "-i", "-B", user })
        {
            psi.ArgumentList.Add(arg);
        }
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start '{binary}'.");
        await process.StandardInput.WriteAsync(password);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var line = (await stdout).Trim();
        if (process.ExitCode != 0 || !line.StartsWith(user + ":$2", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"htpasswd -niB '{user}' failed with exit code {process.ExitCode}: {(await stderr).Trim()}");
        }
        return line;
    }
}
