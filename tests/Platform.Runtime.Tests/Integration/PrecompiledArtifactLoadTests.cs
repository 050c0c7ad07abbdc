using System.Text;
using Platform.Runtime;
using Platform.Testing;

namespace Platform.Runtime.Tests.Integration;

/// <summary>Artifacts offered to <see cref="ModuleCache"/> (what a router pulls from the registry) and the validator that makes them.</summary>
[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PrecompiledArtifactLoadTests(RuntimeFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("platform-runtime-precompiled-").FullName;
    private readonly byte[] _hello = TestApps.Bytes("hello");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ModuleCache NewCache() => new(fixture.Host, _directory, 16);

    private string Digest => RuntimeFixture.DigestOf(_hello);

    private byte[] Artifact()
    {
        Assert.True(new ModuleValidator(fixture.Host).ValidateAndPrecompile(_hello, out var artifact).IsValid);
        return Assert.IsType<byte[]>(artifact);
    }

    private static Func<CancellationToken, Task<byte[]>> Returns(byte[] bytes, Action? onCall = null) => _ =>
    {
        onCall?.Invoke();
        return Task.FromResult(bytes);
    };

    private static Func<CancellationToken, Task<byte[]>> MustNotFetch => _ => throw new InvalidOperationException("fetched although it should not have");

    private string Run(CachedModule module)
    {
        using var result = fixture.Executor.Execute(module, new WagiRequest { Method = "GET", PathInfo = "/pre" }, AppLimits.Default, null, CancellationToken.None);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        return Encoding.UTF8.GetString(result.Body.Span);
    }

    [Fact]
    public async Task An_artifact_for_this_engine_is_loaded_without_fetching_or_compiling_the_module_and_kept_on_disk()
    {
        var artifact = Artifact();
        using var cache = NewCache();

        var module = await cache.GetAsync(Digest, MustNotFetch,
            new PrecompiledArtifact(RuntimeFixture.DigestOf(artifact), fixture.Host.Fingerprint, Returns(artifact)), CancellationToken.None);

        Assert.Equal(ModuleSource.Precompiled, module.Source);
        Assert.Equal(0, cache.Statistics.Compiles);
        Assert.Equal(1, cache.Statistics.PrecompiledLoads);
        Assert.StartsWith("Hello from GET /pre", Run(module));
        // The disk copy is written off the request path; a later process then loads it from disk.
        var path = Path.Combine(cache.ArtifactDirectory!, Digest[7..] + ".cwasm");
        for (var i = 0; i < 100 && !(File.Exists(path) && File.Exists(path + ".mac")); i++)
        {
            await Task.Delay(50);
        }
        using var next = NewCache();
        Assert.Equal(ModuleSource.Disk, (await next.GetAsync(Digest, MustNotFetch, CancellationToken.None)).Source);
    }

    [Fact]
    public async Task An_artifact_whose_bytes_do_not_hash_to_its_digest_is_refused_and_the_module_is_compiled()
    {
        var artifact = Artifact();
        using var cache = NewCache();
        var trusted = RuntimeFixture.DigestOf(TestApps.Bytes("trap"));

        var module = await cache.GetAsync(Digest, Returns(_hello), new PrecompiledArtifact(trusted, fixture.Host.Fingerprint, Returns(artifact)), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, module.Source);
        Assert.Equal(1, cache.Statistics.PrecompiledFailures);
        Assert.Equal(0, cache.Statistics.PrecompiledLoads);
        Assert.StartsWith("Hello from GET /pre", Run(module));
    }

    [Fact]
    public async Task An_artifact_whose_fetch_verified_its_digest_is_not_hashed_again_by_the_cache()
    {
        var artifact = Artifact();
        using var cache = NewCache();
        // A digest the bytes do not hash to: only a cache that hashes them again would notice, and a fetch that
        // says it verified them (a registry pull by that digest) is taken at its word, so the artifact loads.
        var claimed = RuntimeFixture.DigestOf(TestApps.Bytes("trap"));

        var module = await cache.GetAsync(Digest, MustNotFetch,
            new PrecompiledArtifact(claimed, fixture.Host.Fingerprint, Returns(artifact), FetchVerifiesDigest: true), CancellationToken.None);

        Assert.Equal(ModuleSource.Precompiled, module.Source);
        Assert.Equal(0, cache.Statistics.PrecompiledFailures);
        Assert.StartsWith("Hello from GET /pre", Run(module));
    }

    [Fact]
    public async Task An_artifact_made_for_another_engine_is_not_even_fetched()
    {
        var artifact = Artifact();
        using var cache = NewCache();
        var fetched = false;

        var module = await cache.GetAsync(Digest, Returns(_hello),
            new PrecompiledArtifact(RuntimeFixture.DigestOf(artifact), "0123456789abcdef", Returns(artifact, () => fetched = true)), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, module.Source);
        Assert.False(fetched);
        Assert.Equal(1, cache.Statistics.PrecompiledForOtherEngines);
    }

    [Fact]
    public async Task A_failed_artifact_fetch_falls_back_to_compiling_the_module()
    {
        using var cache = NewCache();
        var artifactDigest = RuntimeFixture.DigestOf(Artifact());

        var module = await cache.GetAsync(Digest, Returns(_hello),
            new PrecompiledArtifact(artifactDigest, fixture.Host.Fingerprint, _ => throw new HttpRequestException("registry says 404")), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, module.Source);
        Assert.Equal(1, cache.Statistics.PrecompiledFailures);
        Assert.Equal(1, cache.Statistics.Compiles);
    }

    [Fact]
    public async Task Bytes_wasmtime_refuses_are_not_loaded_even_when_they_match_their_digest()
    {
        using var cache = NewCache();
        // The Wasm module itself offered as an "artifact": its digest matches, but it is no serialized module.
        var module = await cache.GetAsync(Digest, Returns(_hello), new PrecompiledArtifact(Digest, fixture.Host.Fingerprint, Returns(_hello)), CancellationToken.None);

        Assert.Equal(ModuleSource.Compiled, module.Source);
        Assert.Equal(1, cache.Statistics.PrecompiledFailures);
    }

    [Fact]
    public async Task TryGetLoaded_finds_a_module_only_once_it_is_compiled()
    {
        using var cache = NewCache();
        Assert.False(cache.TryGetLoaded(Digest, out _));

        var compiled = await cache.GetAsync(Digest, Returns(_hello), CancellationToken.None);

        Assert.True(cache.TryGetLoaded(Digest, out var loaded));
        Assert.Same(compiled.Module, loaded.Module);
        Assert.Equal(ModuleSource.Memory, loaded.Source);
    }

    [Fact]
    public void The_validator_returns_no_artifact_for_an_invalid_module()
    {
        var result = new ModuleValidator(fixture.Host).ValidateAndPrecompile(TestApps.Bytes("nostart"), out var artifact);

        Assert.False(result.IsValid);
        Assert.Null(artifact);
    }
}
