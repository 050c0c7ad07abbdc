using System.Text;
using Platform.Runtime;
using Platform.Testing;
using Wasmtime;

namespace Platform.Runtime.Tests.Integration;

[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ModuleCacheTests(RuntimeFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("platform-runtime-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ModuleCache NewCache(int capacity = 16) => new(fixture.Host, _directory, capacity);

    private static Func<CancellationToken, Task<byte[]>> Fetch(byte[] bytes, Action? onCall = null) => _ =>
    {
        onCall?.Invoke();
        return Task.FromResult(bytes);
    };

    private static Func<CancellationToken, Task<byte[]>> MustNotFetch => _ => throw new InvalidOperationException("the cache fetched bytes although it should not have");

    private string RunHello(CachedModule module)
    {
        using var result = fixture.Executor.Execute(module, new WagiRequest { Method = "GET", PathInfo = "/cached" }, AppLimits.Default, null, CancellationToken.None);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        return Encoding.UTF8.GetString(result.Body.Span);
    }

    [Fact]
    public async Task Concurrent_first_requests_fetch_and_compile_once()
    {
        using var cache = NewCache();
        var bytes = TestApps.Bytes("hello");
        var digest = RuntimeFixture.DigestOf(bytes);
        var fetches = 0;
        var gate = new TaskCompletionSource();
        Func<CancellationToken, Task<byte[]>> slowFetch = async _ =>
        {
            Interlocked.Increment(ref fetches);
            await gate.Task;
            return bytes;
        };

        var lookups = Enumerable.Range(0, 20).Select(_ => cache.GetAsync(digest, slowFetch, CancellationToken.None).AsTask()).ToArray();
        gate.SetResult();
        var modules = await Task.WhenAll(lookups);

        Assert.Equal(1, fetches);
        Assert.Equal(1, cache.Statistics.Compiles);
        Assert.All(modules, m => Assert.Same(modules[0].Module, m.Module));
        Assert.All(modules, m => Assert.Equal(ModuleSource.Compiled, m.Source));
        var again = await cache.GetAsync(digest, MustNotFetch, CancellationToken.None);
        Assert.Equal(ModuleSource.Memory, again.Source);
        Assert.Same(modules[0].Module, again.Module);
    }

    [Fact]
    public async Task A_second_cache_on_the_same_directory_loads_from_disk_without_compiling()
    {
        var bytes = TestApps.Bytes("hello");
        var digest = RuntimeFixture.DigestOf(bytes);
        using (var first = NewCache())
        {
            Assert.Equal(ModuleSource.Compiled, (await first.GetAsync(digest, Fetch(bytes), CancellationToken.None)).Source);
            Assert.True(File.Exists(Path.Combine(first.ArtifactDirectory!, digest[7..] + ".cwasm")));
        }

        using var second = NewCache();
        var loaded = await second.GetAsync(digest, MustNotFetch, CancellationToken.None);

        Assert.Equal(ModuleSource.Disk, loaded.Source);
        Assert.Equal(0, second.Statistics.Compiles);
        Assert.Equal(1, second.Statistics.DiskLoads);
        Assert.StartsWith("Hello from GET /cached", RunHello(loaded));
    }

    [Fact]
    public void The_artifact_directory_is_named_after_the_engine_fingerprint()
    {
        using var cache = NewCache();

        Assert.Equal(Path.Combine(_directory, fixture.Host.Fingerprint), cache.ArtifactDirectory);
        Assert.Contains("wasmtime=50.0.1", fixture.Host.FingerprintDescription);
        Assert.Contains("epoch=1", fixture.Host.FingerprintDescription);
        Assert.Contains("pooling=1", fixture.Host.FingerprintDescription);
    }

    [Fact]
    public void Engines_with_different_settings_have_different_fingerprints()
    {
        using var plain = new WasmEngineHost(new WasmRuntimeOptions { UsePoolingAllocator = false });

        Assert.NotEqual(fixture.Host.Fingerprint, plain.Fingerprint);
        Assert.Contains("pooling=0", plain.FingerprintDescription);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("garbage-with-matching-checksum")]
    public async Task A_corrupt_cache_file_is_discarded_and_rebuilt(string damage)
    {
        var bytes = TestApps.Bytes("hello");
        var digest = RuntimeFixture.DigestOf(bytes);
        string path;
        using (var first = NewCache())
        {
            await first.GetAsync(digest, Fetch(bytes), CancellationToken.None);
            path = Path.Combine(first.ArtifactDirectory!, digest[7..] + ".cwasm");
        }
        var original = File.ReadAllBytes(path);
        switch (damage)
        {
            case "garbage":
                File.WriteAllText(path, "this is not a precompiled module");
                break;
            case "truncated":
                File.WriteAllBytes(path, original[..(original.Length / 2)]);
                break;
            default:
                // Passes the (unkeyed) binding, so Wasmtime itself has to refuse it.
                var garbage = Encoding.ASCII.GetBytes("\u007fELF but not really a wasmtime artifact");
                File.WriteAllBytes(path, garbage);
                File.WriteAllText(path + ".mac", "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                    [.. Encoding.UTF8.GetBytes($"platform-cache-v1\n{digest}\n{fixture.Host.Fingerprint}\n"), .. garbage])));
                break;
        }

        using var second = NewCache();
        var fetches = 0;
        var rebuilt = await second.GetAsync(digest, Fetch(bytes, () => fetches++), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, rebuilt.Source);
        Assert.Equal(1, fetches);
        Assert.Equal(1, second.Statistics.DiskFailures);
        Assert.StartsWith("Hello from GET /cached", RunHello(rebuilt));
        using var third = NewCache();
        Assert.Equal(ModuleSource.Disk, (await third.GetAsync(digest, MustNotFetch, CancellationToken.None)).Source);
    }

    [Fact]
    public async Task A_cached_artifact_copied_over_another_modules_file_is_detected_and_that_module_is_compiled_again()
    {
        var key = new Platform.Runtime.Security.ArtifactCacheKey("router-secret-for-the-cache-tests-0123456789");
        var hello = TestApps.Bytes("hello");
        var trap = TestApps.Bytes("trap");
        var helloDigest = RuntimeFixture.DigestOf(hello);
        var trapDigest = RuntimeFixture.DigestOf(trap);
        string directory;
        using (var first = new ModuleCache(fixture.Host, _directory, 16, cacheKey: key))
        {
            await first.GetAsync(helloDigest, Fetch(hello), CancellationToken.None);
            await first.GetAsync(trapDigest, Fetch(trap), CancellationToken.None);
            directory = first.ArtifactDirectory!;
        }
        // Someone puts trap's native code (and its sidecar) where hello's belongs.
        File.Copy(Path.Combine(directory, trapDigest[7..] + ".cwasm"), Path.Combine(directory, helloDigest[7..] + ".cwasm"), overwrite: true);
        File.Copy(Path.Combine(directory, trapDigest[7..] + ".cwasm.mac"), Path.Combine(directory, helloDigest[7..] + ".cwasm.mac"), overwrite: true);

        using var second = new ModuleCache(fixture.Host, _directory, 16, cacheKey: key);
        var fetches = 0;
        var loaded = await second.GetAsync(helloDigest, Fetch(hello, () => fetches++), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, loaded.Source);
        Assert.Equal(1, fetches);
        Assert.Equal(1, second.Statistics.DiskFailures);
        Assert.StartsWith("Hello from GET /cached", RunHello(loaded));
    }

    [Fact]
    public async Task A_cache_file_written_with_another_key_is_not_trusted()
    {
        var hello = TestApps.Bytes("hello");
        var digest = RuntimeFixture.DigestOf(hello);
        using (var first = new ModuleCache(fixture.Host, _directory, 16, cacheKey: new Platform.Runtime.Security.ArtifactCacheKey("the-first-routers-secret-0123456789abcdef")))
        {
            await first.GetAsync(digest, Fetch(hello), CancellationToken.None);
        }

        using var second = new ModuleCache(fixture.Host, _directory, 16, cacheKey: new Platform.Runtime.Security.ArtifactCacheKey("another-routers-secret-0123456789abcdef"));
        var loaded = await second.GetAsync(digest, Fetch(hello), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, loaded.Source);
        Assert.Equal(1, second.Statistics.DiskFailures);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_cache_directories_are_0700_and_its_files_0600()
    {
        File.SetUnixFileMode(_directory, (UnixFileMode)0b111_101_101); // 0755, as a careless operator might leave it
        var hello = TestApps.Bytes("hello");
        var digest = RuntimeFixture.DigestOf(hello);
        using var cache = NewCache();
        await cache.GetAsync(digest, Fetch(hello), CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(cache.ArtifactDirectory!));
        var files = Directory.GetFiles(cache.ArtifactDirectory!);
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task A_failed_fetch_is_not_cached_and_the_next_lookup_tries_again()
    {
        using var cache = NewCache();
        var bytes = TestApps.Bytes("hello");
        var digest = RuntimeFixture.DigestOf(bytes);

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            cache.GetAsync(digest, _ => throw new HttpRequestException("registry down"), CancellationToken.None).AsTask());
        var loaded = await cache.GetAsync(digest, Fetch(bytes), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, loaded.Source);
    }

    [Fact]
    public async Task The_memory_cache_is_bounded_and_evicted_modules_keep_working()
    {
        using var cache = new ModuleCache(fixture.Host, cacheDirectory: null, maxCachedModules: 2);
        var apps = new[] { "hello", "trap", "loop" }.Select(TestApps.Bytes).ToArray();
        var helloDigest = RuntimeFixture.DigestOf(apps[0]);
        var evicted = await cache.GetAsync(helloDigest, Fetch(apps[0]), CancellationToken.None);
        foreach (var app in apps[1..])
        {
            await cache.GetAsync(RuntimeFixture.DigestOf(app), Fetch(app), CancellationToken.None);
        }

        Assert.Equal(2, cache.Statistics.Count);
        Assert.StartsWith("Hello from GET /cached", RunHello(evicted));
        var reloaded = await cache.GetAsync(helloDigest, Fetch(apps[0]), CancellationToken.None);
        Assert.Equal(ModuleSource.Compiled, reloaded.Source);
        Assert.Equal(4, cache.Statistics.Compiles);
    }

    [Fact]
    public async Task The_memory_budget_counts_bytes_of_compiled_code_and_evicts_the_least_recently_used_first()
    {
        var apps = new[] { "hello", "trap", "loop" }.Select(TestApps.Bytes).ToArray();
        var digests = apps.Select(RuntimeFixture.DigestOf).ToArray();
        // Measure what each module weighs, then give a cache room for the two largest but not for all three.
        long[] sizes;
        using (var probe = new ModuleCache(fixture.Host, cacheDirectory: null, maxCachedModules: 10, maxCachedBytes: 1L << 40))
        {
            sizes = [.. await Task.WhenAll(apps.Select(async (a, i) => (await probe.GetAsync(digests[i], Fetch(a), CancellationToken.None)).SizeBytes))];
            Assert.Equal(sizes.Sum(), probe.Statistics.CachedBytes);
        }
        Assert.All(sizes, s => Assert.True(s > 0));
        var budget = sizes.Sum() - sizes.Min();
        using var cache = new ModuleCache(fixture.Host, cacheDirectory: null, maxCachedModules: 10, maxCachedBytes: budget);

        await cache.GetAsync(digests[0], Fetch(apps[0]), CancellationToken.None);
        await cache.GetAsync(digests[1], Fetch(apps[1]), CancellationToken.None);
        Assert.True(cache.TryGetLoaded(digests[0], out _)); // now the most recently used
        await cache.GetAsync(digests[2], Fetch(apps[2]), CancellationToken.None);

        Assert.True(cache.Statistics.CachedBytes <= budget, $"{cache.Statistics.CachedBytes} bytes cached over a budget of {budget}");
        Assert.True(cache.TryGetLoaded(digests[2], out _));
        Assert.False(cache.TryGetLoaded(digests[1], out _), "the least recently used module should have gone first");
    }

    [Fact]
    public async Task A_module_larger_than_the_whole_budget_is_still_kept_alone()
    {
        using var cache = new ModuleCache(fixture.Host, cacheDirectory: null, maxCachedModules: 10, maxCachedBytes: 1);
        var hello = TestApps.Bytes("hello");
        var trap = TestApps.Bytes("trap");
        await cache.GetAsync(RuntimeFixture.DigestOf(hello), Fetch(hello), CancellationToken.None);
        await cache.GetAsync(RuntimeFixture.DigestOf(trap), Fetch(trap), CancellationToken.None);

        Assert.Equal(1, cache.Statistics.Count);
        Assert.True(cache.TryGetLoaded(RuntimeFixture.DigestOf(trap), out _));
    }

    [Fact]
    public async Task A_module_that_does_not_compile_surfaces_wasmtimes_error()
    {
        using var cache = NewCache();
        var bytes = TestApps.Bytes("invalid");

        await Assert.ThrowsAsync<WasmtimeException>(() => cache.GetAsync(RuntimeFixture.DigestOf(bytes), Fetch(bytes), CancellationToken.None).AsTask());
    }
}
