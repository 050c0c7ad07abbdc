using System.CommandLine;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary>
/// <c>platform deploy [--app NAME] [PATH]</c>: uploads a module (.wasm) or a Spin-style bundle (a spin.toml and the
/// files beside it, as a gzipped tar), creates the app when it does not exist, waits until a router serves it and
/// prints the version, digest and URL.
/// </summary>
internal static partial class DeployCommand
{
    public static void AddTo(RootCommand root)
    {
        var path = new Argument<string>("PATH") { Description = "A .wasm module, a spin.toml or the directory holding it (default: .)", DefaultValueFactory = _ => "." };
        var app = new Option<string?>("--app", "-a") { Description = "App name (default: the bundle's application name, or the module's file name)" };
        var noWait = new Option<bool>("--no-wait") { Description = "Do not wait for a router to serve the new version" };
        var wait = new Option<int>("--wait-seconds") { Description = "How long to wait for the app's URL to answer", DefaultValueFactory = _ => 60 };
        var json = Cli.JsonOption();
        json.Description = "Print the result as JSON";
        var command = new Command("deploy", "Upload a module or bundle as a new live version of an app") { path, app, noWait, wait, json };
        command.Action(async (result, ct) =>
        {
            var upload = Resolve(result.GetValue(path)!, result.GetValue(app));
            using var client = PlatformClient.FromSettings(TimeSpan.FromMinutes(10));
            var bytes = await upload.ReadAsync(ct);
            var created = false;
            if (await client.FindAppAsync(upload.App, ct) is null)
            {
                await client.CreateAppAsync(upload.App, ct);
                created = true;
            }
            VersionInfo version;
            try
            {
                version = await UploadWithProgressAsync(client, upload, bytes, ct);
            }
            catch (CliException) when (created)
            {
                // A refused first upload leaves nothing behind: the app this command made goes again.
                await client.DeleteAppAsync(upload.App, CancellationToken.None);
                throw;
            }
            if (created)
            {
                Console.Error.WriteLine($"Created app '{upload.App}'");
            }
            var info = await client.GetAppAsync(upload.App, ct);
            var served = !result.GetValue(noWait) && await WaitServedAsync(info.Url, TimeSpan.FromSeconds(result.GetValue(wait)), ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(new { app = upload.App, version = version.Number, digest = version.Digest, url = info.Url, served, active = version.Active });
                return;
            }
            Console.Out.WriteLine($"Deployed {upload.App} version {version.Number}");
            Console.Out.WriteLine($"  digest  {version.Digest}");
            Console.Out.WriteLine($"  url     {info.Url}");
            if (!result.GetValue(noWait) && !served)
            {
                throw new CliException($"version {version.Number} is recorded, but {info.Url} did not answer within {result.GetValue(wait)} s; check 'platform logs {upload.App}'");
            }
        });
        root.Subcommands.Add(command);
    }

    /// <summary>What to upload: a module's bytes, or a bundle directory to pack.</summary>
    internal sealed record Upload(string App, string ContentType, string Source, bool IsBundle)
    {
        public async Task<byte[]> ReadAsync(CancellationToken ct) => IsBundle ? Pack(Source) : await File.ReadAllBytesAsync(Source, ct);
    }

    internal static Upload Resolve(string path, string? app)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            if (full.EndsWith(".wasm", StringComparison.OrdinalIgnoreCase))
            {
                return new Upload(app ?? Path.GetFileNameWithoutExtension(full), "application/wasm", full, false);
            }
            if (Path.GetFileName(full).Equals("spin.toml", StringComparison.OrdinalIgnoreCase))
            {
                return Bundle(Path.GetDirectoryName(full)!, app);
            }
            throw new CliException($"'{path}' is neither a .wasm module nor a spin.toml");
        }
        if (Directory.Exists(full))
        {
            if (File.Exists(Path.Combine(full, "spin.toml")))
            {
                return Bundle(full, app);
            }
            throw new CliException($"'{path}' has no spin.toml; pass a .wasm module or a spin.toml");
        }
        throw new CliException($"'{path}' does not exist");
    }

    private static Upload Bundle(string directory, string? app)
    {
        var name = app ?? ApplicationName(File.ReadAllText(Path.Combine(directory, "spin.toml"))) ?? Path.GetFileName(directory.TrimEnd(Path.DirectorySeparatorChar));
        return new Upload(name, "application/gzip", directory, true);
    }

    /// <summary>The <c>name</c> of spin.toml's <c>[application]</c> table (a small read; the server parses the manifest).</summary>
    internal static string? ApplicationName(string manifest)
    {
        var inApplication = false;
        foreach (var raw in manifest.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                inApplication = line == "[application]";
                continue;
            }
            if (inApplication && NameLine().Match(line) is { Success: true } m)
            {
                return m.Groups[1].Value;
            }
        }
        return null;
    }

    /// <summary>The directory as a gzipped tar (paths relative to it, '/' separated); .git is left out.</summary>
    internal static byte[] Pack(string directory)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var root = Path.GetFullPath(directory);
            foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (relative == ".git" || relative.StartsWith(".git/", StringComparison.Ordinal) || new FileInfo(file).LinkTarget is not null)
                {
                    continue;
                }
                tar.WriteEntry(file, relative);
            }
        }
        return output.ToArray();
    }

    private static async Task<VersionInfo> UploadWithProgressAsync(PlatformClient client, Upload upload, byte[] bytes, CancellationToken ct)
    {
        VersionInfo? version = null;
        var what = upload.IsBundle ? "bundle" : "module";
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"Uploading {what} ({bytes.Length:N0} bytes)", maxValue: Math.Max(1, bytes.Length));
                using var content = new ProgressContent(bytes, n => task.Increment(n));
                content.Headers.ContentType = new MediaTypeHeaderValue(upload.ContentType);
                version = await client.UploadAsync(upload.App, content, ct);
                task.Value = task.MaxValue;
            });
        return version!;
    }

    /// <summary>Polls the app's URL until a router answers for the app (anything but its "no such app" or "not loaded yet").</summary>
    private static async Task<bool> WaitServedAsync(string url, TimeSpan patience, CancellationToken ct)
    {
        using var http = new HttpClient(PlatformClient.CreateHandler()) { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = Stopwatch.GetTimestamp() + (long)(patience.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
                var notHere = response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
                    && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                    && (await response.Content.ReadAsStringAsync(ct)) is var body
                    && (body.Contains("/app-not-found", StringComparison.Ordinal) || body.Contains("/registry-unavailable", StringComparison.Ordinal)
                        || body.Contains("/module-unavailable", StringComparison.Ordinal));
                if (!notHere)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }
            await Task.Delay(200, ct);
        }
    }

    [GeneratedRegex("^name\\s*=\\s*\"([^\"]+)\"", RegexOptions.CultureInvariant)]
    private static partial Regex NameLine();

    /// <summary>A request body that reports how much of it has been sent.</summary>
    private sealed class ProgressContent(byte[] bytes, Action<long> sent) : HttpContent
    {
        private const int Chunk = 64 * 1024;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < bytes.Length; offset += Chunk)
            {
                var n = Math.Min(Chunk, bytes.Length - offset);
                await stream.WriteAsync(bytes.AsMemory(offset, n), cancellationToken);
                sent(n);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
