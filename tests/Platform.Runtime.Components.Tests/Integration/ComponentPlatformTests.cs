using System.Diagnostics;
using Platform.Runtime;
using Platform.Runtime.Components;

namespace Platform.Runtime.Components.Tests.Integration;

/// <summary>
/// What the platform needs of the host beyond one request: CPU-time limits, separate log streams, the upload
/// validator's message and the module cache holding components beside core modules.
/// </summary>
[Collection(ComponentCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ComponentPlatformTests(ComponentFixture fixture)
{
    private static readonly AppLimits Limits = AppLimits.Default with { WallTime = TimeSpan.FromSeconds(20), MemoryBytes = 32L * 1024 * 1024 };

    [Fact]
    public void A_looping_component_is_stopped_at_its_cpu_time_limit_long_before_its_wall_time_limit()
    {
        Assert.True(ThreadCpuTime.IsSupported, "the platform runs on Linux, whose per-thread CPU clock this limit needs");
        var started = Stopwatch.GetTimestamp();

        var result = fixture.Host.Execute(fixture.Load("loop"), ComponentFixture.Get("/"), Limits with { CpuTime = TimeSpan.FromMilliseconds(300) }, null, CancellationToken.None);

        Assert.Equal(ComponentOutcome.CpuLimit, result.Outcome);
        Assert.Equal(504, result.StatusCode);
        Assert.Contains("CPU-time limit of 300 ms", result.Error);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10), $"took {Stopwatch.GetElapsedTime(started)}");
    }

    [Fact]
    public void A_sleeping_component_uses_no_cpu_time_and_ends_at_its_wall_time_limit()
    {
        var result = fixture.Host.Execute(fixture.Load("sleep"), ComponentFixture.Get("/"),
            Limits with { CpuTime = TimeSpan.FromMilliseconds(100), WallTime = TimeSpan.FromMilliseconds(400) }, null, CancellationToken.None);

        Assert.Equal(ComponentOutcome.Timeout, result.Outcome);
    }

    [Fact]
    public void Stdout_stderr_and_the_platforms_own_lines_reach_separate_sinks()
    {
        var stdout = new List<string>();
        var stderr = new List<string>();
        var platform = new List<string>();
        var log = new ComponentLog(stdout.Add, stderr.Add, platform.Add);

        var ok = fixture.Host.Execute(fixture.Load("respond"), ComponentFixture.Get("/"), Limits, log, CancellationToken.None);
        var hungry = fixture.Host.Execute(fixture.Load("membomb"), ComponentFixture.Get("/"), Limits with { MemoryBytes = 16L * 1024 * 1024 }, log, CancellationToken.None);

        Assert.Equal(ComponentOutcome.Ok, ok.Outcome);
        Assert.Equal(ComponentOutcome.MemoryLimit, hungry.Outcome);
        Assert.Equal(["respond.wat handled a request"], stdout);
        Assert.Equal(["memory allocation of 1048576 bytes failed"], stderr);
        Assert.Single(platform);
        Assert.StartsWith("[MemoryLimit] ", platform[0]);
    }

    [Fact]
    public void The_upload_validator_names_the_missing_import_and_what_the_component_exports()
    {
        var validator = new ComponentValidator(fixture.Host);

        var missing = validator.ValidateAndPrecompile(ComponentFixture.Bytes("missing-import"), out var none);
        var notHandler = validator.ValidateAndPrecompile(ComponentFixture.Bytes("not-a-handler"), out _);
        var good = validator.ValidateAndPrecompile(ComponentFixture.Bytes("respond"), out var artifact);

        Assert.False(missing.IsValid);
        Assert.Null(none);
        Assert.Contains("imports 'fermyon:spin/key-value@2.0.0', which this platform does not provide", missing.Error);
        Assert.Contains("it exports 'wasi:http/incoming-handler@0.2.3'", missing.Error);
        Assert.False(notHandler.IsValid);
        Assert.Contains("does not export 'wasi:http/incoming-handler@0.2.x'", notHandler.Error);
        Assert.True(good.IsValid, good.Error);
        Assert.NotNull(artifact);
        using var loaded = fixture.Host.Deserialize(artifact);
        Assert.Equal(ComponentOutcome.Ok, fixture.Host.Execute(loaded, ComponentFixture.Get("/"), Limits, null, CancellationToken.None).Outcome);
    }

    [Fact]
    public void A_module_validator_with_the_component_validator_accepts_components_and_still_checks_core_modules()
    {
        var validator = new ModuleValidator(fixture.Engine, new ComponentValidator(fixture.Host));

        Assert.True(validator.AcceptsComponents);
        Assert.True(validator.Validate(ComponentFixture.Bytes("respond")).IsValid);
        Assert.False(validator.Validate(ComponentFixture.Bytes("missing-import")).IsValid);
        Assert.True(validator.Validate(Platform.Testing.TestApps.Bytes("hello")).IsValid);
        Assert.Contains("_start", validator.Validate(Platform.Testing.TestApps.Bytes("nostart")).Error);
        Assert.Contains("component", new ModuleValidator(fixture.Engine).Validate(ComponentFixture.Bytes("respond")).Error);
    }

    [Fact]
    public async Task The_module_cache_compiles_a_component_once_keeps_its_artifact_on_disk_and_a_new_cache_loads_it_from_there()
    {
        var directory = Directory.CreateTempSubdirectory("platform-component-cache-").FullName;
        try
        {
            var bytes = ComponentFixture.Bytes("respond");
            var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            var loader = new ComponentCodeLoader(fixture.Host);
            using (var cache = new ModuleCache(fixture.Engine, directory, 4))
            {
                var first = await cache.GetAsync(digest, _ => Task.FromResult(bytes), null, loader, CancellationToken.None);
                var again = await cache.GetAsync(digest, _ => throw new InvalidOperationException("fetched twice"), null, loader, CancellationToken.None);
                Assert.Equal((ModuleSource.Compiled, ModuleSource.Memory), (first.Source, again.Source));
                Assert.IsType<LoadedComponent>(first.Code);
                Assert.Throws<InvalidOperationException>(() => first.Module);
            }
            using var fresh = new ModuleCache(fixture.Engine, directory, 4);
            var fromDisk = await fresh.GetAsync(digest, _ => throw new InvalidOperationException("compiled again"), null, loader, CancellationToken.None);
            Assert.Equal(ModuleSource.Disk, fromDisk.Source);
            var result = fixture.Host.Execute((LoadedComponent)fromDisk.Code, ComponentFixture.Get("/"), Limits, null, CancellationToken.None);
            Assert.Equal((ComponentOutcome.Ok, 201), (result.Outcome, result.StatusCode));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
