using System.Net;
using System.Text.Json;
using Platform.Oci.Tests.Support;

namespace Platform.Oci.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class WasmArtifactTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    [Fact]
    public async Task A_pushed_module_pulls_back_byte_identical_by_its_digest()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var module = TestModules.Unique(4096);
        var app = TestModules.UniqueAppName();

        var pushed = await client.PushWasmModuleAsync(app, 1, module);
        var pulled = await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest);

        Assert.Equal(module, pulled);
        Assert.Equal(OciDigest.ComputeSha256(module), pushed.ModuleDigest);
        Assert.Equal($"apps/{app}", pushed.Repository);
        Assert.Equal("v1", pushed.Tag);
        Assert.Equal(module.Length, pushed.Size);
        Assert.Equal($"{fixture.Registry.HostPort}/apps/{app}@{pushed.ManifestDigest}", pushed.Reference);
    }

    [Fact]
    public async Task The_push_result_describes_the_manifest_as_the_registry_serves_it()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());

        var served = await client.GetManifestAsync(pushed.Repository, pushed.ManifestDigest);

        // What a referrer's subject needs, without reading the manifest back.
        Assert.Equal(served.MediaType, pushed.Manifest.MediaType);
        Assert.Equal(served.Digest, pushed.Manifest.Digest);
        Assert.Equal(served.Content.Length, pushed.Manifest.Size);
        Assert.Equal(pushed.ManifestDigest, pushed.Manifest.Digest);
    }

    [Fact]
    public async Task The_manifest_is_a_wasm_oci_artifact_whose_one_layer_is_the_module()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var module = TestModules.Unique();
        var app = TestModules.UniqueAppName();
        var pushed = await client.PushWasmModuleAsync(app, 3, module, new Dictionary<string, string> { ["org.example.owner"] = "team-a" });

        var byTag = await client.GetManifestAsync(pushed.Repository, "v3");
        var byDigest = await client.GetManifestAsync(pushed.Repository, pushed.ManifestDigest);

        Assert.Equal(pushed.ManifestDigest, byTag.Digest);
        Assert.Equal(byTag.Content.ToArray(), byDigest.Content.ToArray());
        var manifest = byDigest.Manifest;
        Assert.Equal(2, manifest.SchemaVersion);
        Assert.Equal(OciMediaTypes.ImageManifest, manifest.MediaType);
        Assert.Equal("application/vnd.wasm.config.v0+json", manifest.Config.MediaType);
        Assert.Equal(pushed.ConfigDigest, manifest.Config.Digest);
        var layer = Assert.Single(manifest.Layers);
        Assert.Equal("application/wasm", layer.MediaType);
        Assert.Equal(pushed.ModuleDigest, layer.Digest);
        Assert.Equal(module.Length, layer.Size);
        Assert.Equal($"{app}.wasm", layer.Annotations![OciAnnotations.Title]);
        Assert.Equal("team-a", manifest.Annotations!["org.example.owner"]);
        Assert.True(manifest.Annotations.ContainsKey(OciAnnotations.Created));

        using var config = JsonDocument.Parse(await client.PullBlobAsync(pushed.Repository, manifest.Config.Digest));
        Assert.Equal("wasm", config.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("wasip1", config.RootElement.GetProperty("os").GetString());
        Assert.Equal([pushed.ModuleDigest], config.RootElement.GetProperty("layerDigests").EnumerateArray().Select(e => e.GetString()));
        Assert.True(config.RootElement.GetProperty("created").GetDateTime() > DateTime.UtcNow.AddHours(-1));
    }

    [Fact]
    public async Task Resolving_a_tag_gives_the_manifest_digest_and_an_unknown_tag_gives_null()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());

        Assert.Equal(pushed.ManifestDigest, await client.ResolveTagAsync(pushed.Repository, "v1"));
        Assert.Null(await client.ResolveTagAsync(pushed.Repository, "v999"));
        Assert.Null(await client.ResolveTagAsync("apps/never-pushed-" + Guid.NewGuid().ToString("N"), "v1"));
    }

    [Fact]
    public async Task Pushing_the_same_module_again_checks_with_HEAD_and_skips_the_upload()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry);
        var module = TestModules.Unique(8192);
        var app = TestModules.UniqueAppName();
        var first = await client.PushWasmModuleAsync(app, 1, module);
        var hex = first.ModuleDigest["sha256:".Length..];
        Assert.Equal(1, recorder.Exchanges.Count(e => e.Method == HttpMethod.Put && e.Query.Contains(hex, StringComparison.Ordinal)));
        recorder.Clear();

        var second = await client.PushWasmModuleAsync(app, 2, module);

        Assert.Equal(first.ModuleDigest, second.ModuleDigest);
        Assert.Contains(recorder.Exchanges, e => e.Method == HttpMethod.Head && e.Path.EndsWith(first.ModuleDigest, StringComparison.Ordinal) && e.Status == HttpStatusCode.OK);
        Assert.DoesNotContain(recorder.Exchanges, e => e.Method == HttpMethod.Put && e.Query.Contains(hex, StringComparison.Ordinal));
        Assert.Equal(module, await client.PullWasmModuleAsync(second.Repository, second.ModuleDigest));
    }

    [Fact]
    public async Task Pushing_an_existing_blob_reports_that_it_already_existed()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry);
        var repository = "apps/" + TestModules.UniqueAppName("blob");
        var blob = TestModules.Unique();

        var first = await client.PushBlobAsync(repository, blob);
        recorder.Clear();
        var second = await client.PushBlobAsync(repository, blob);
        var secondPushExchanges = recorder.Exchanges;

        Assert.False(first.AlreadyExisted);
        Assert.True(second.AlreadyExisted);
        Assert.Equal(first.Digest, second.Digest);
        var only = Assert.Single(secondPushExchanges);
        Assert.Equal(HttpMethod.Head, only.Method);
        Assert.True(await client.BlobExistsAsync(repository, first.Digest));
    }

    [Fact]
    public async Task A_blob_corrupted_in_flight_fails_digest_verification_quoting_both_digests()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry);
        var module = TestModules.Unique(2048);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);
        recorder.Rewrite = async (request, response) =>
        {
            if (request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal) && response.IsSuccessStatusCode)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync();
                bytes[^1] ^= 0xFF;
                var headers = response.Content.Headers.ToList();
                response.Content = new ByteArrayContent(bytes);
                foreach (var (name, values) in headers)
                {
                    response.Content.Headers.TryAddWithoutValidation(name, values);
                }
            }
        };

        var ex = await Assert.ThrowsAsync<OciDigestMismatchException>(() => client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));

        Assert.Equal(pushed.ModuleDigest, ex.ExpectedDigest);
        Assert.NotEqual(pushed.ModuleDigest, ex.ActualDigest);
        Assert.Contains(pushed.ModuleDigest, ex.Message);
        Assert.Contains(ex.ActualDigest, ex.Message);
        module[^1] ^= 0xFF;
        Assert.Equal(OciDigest.ComputeSha256(module), ex.ActualDigest);
    }

    [Fact]
    public async Task A_manifest_corrupted_in_flight_fails_verification_when_fetched_by_digest()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());
        recorder.Rewrite = async (request, response) =>
        {
            if (request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath.Contains("/manifests/", StringComparison.Ordinal))
            {
                // Still valid JSON, different bytes: only the digest check can notice.
                var text = await response.Content.ReadAsStringAsync();
                var contentType = response.Content.Headers.ContentType;
                response.Content = new StringContent(text + " ");
                response.Content.Headers.ContentType = contentType;
            }
        };

        var ex = await Assert.ThrowsAsync<OciDigestMismatchException>(() => client.GetManifestAsync(pushed.Repository, pushed.ManifestDigest));

        Assert.Equal(pushed.ManifestDigest, ex.ExpectedDigest);
    }

    [Fact]
    public async Task A_blob_larger_than_the_limit_is_refused()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var module = TestModules.Unique(1000);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);

        var ex = await Assert.ThrowsAsync<OciContentTooLargeException>(() => client.PullBlobAsync(pushed.Repository, pushed.ModuleDigest, maxSizeBytes: module.Length - 1));

        Assert.Equal(module.Length - 1, ex.LimitBytes);
        Assert.Equal(module, await client.PullBlobAsync(pushed.Repository, pushed.ModuleDigest, maxSizeBytes: module.Length));
    }

    [Fact]
    public async Task Pulling_an_unknown_blob_is_not_found_and_quotes_the_registry_error()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());
        var missing = OciDigest.ComputeSha256(TestModules.Unique());

        var ex = await Assert.ThrowsAsync<OciNotFoundException>(() => client.PullWasmModuleAsync(pushed.Repository, missing));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("BLOB_UNKNOWN", ex.ErrorCode);
        Assert.Contains(missing, ex.Message);
        Assert.Contains("blob unknown to registry", ex.Message);
        Assert.False(await client.BlobExistsAsync(pushed.Repository, missing));
    }

    [Fact]
    public async Task Fetching_an_unknown_tag_is_not_found_with_the_registry_error_code()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());

        var ex = await Assert.ThrowsAsync<OciNotFoundException>(() => client.GetManifestAsync(pushed.Repository, "v2"));

        Assert.Equal("MANIFEST_UNKNOWN", ex.ErrorCode);
        Assert.Contains($"'{pushed.Repository}:v2'", ex.Message);
    }

    [Fact]
    public async Task A_relative_upload_location_is_resolved_against_the_registry()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry);
        var relativized = 0;
        recorder.Rewrite = (request, response) =>
        {
            // docker-registry sends absolute Locations; other registries send relative ones. Turn one into the other.
            if (request.Method == HttpMethod.Post && response.Headers.Location is { IsAbsoluteUri: true } location)
            {
                response.Headers.Location = new Uri(location.PathAndQuery, UriKind.Relative);
                Interlocked.Increment(ref relativized);
            }
            return Task.CompletedTask;
        };
        var module = TestModules.Unique();

        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);

        Assert.Equal(2, relativized); // config and layer uploads
        Assert.Equal(module, await client.PullWasmModuleAsync(pushed.Repository, pushed.ModuleDigest));
    }

    [Fact]
    public async Task A_generic_artifact_with_a_subject_is_pushed_beside_the_module_and_read_back()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var module = TestModules.Unique();
        var wasm = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, module);
        var wasmManifest = await client.GetManifestAsync(wasm.Repository, wasm.ManifestDigest);
        var precompiled = TestModules.Unique(512); // stands in for a serialized Wasmtime module
        var tag = $"sha256-{wasm.ModuleDigest["sha256:".Length..]}.cwasm-0123abcd";

        var pushed = await client.PushArtifactAsync(wasm.Repository, tag, new OciArtifact
        {
            ArtifactType = "application/vnd.platform.wasmtime.cwasm.v1",
            Layers = [new OciBlob("application/vnd.platform.wasmtime.cwasm.v1", precompiled, new Dictionary<string, string> { ["engine"] = "wasmtime-50.0.1" })],
            Annotations = new Dictionary<string, string> { ["z.last"] = "1", ["a.first"] = "2" },
            Subject = new OciDescriptor { MediaType = OciMediaTypes.ImageManifest, Digest = wasm.ManifestDigest, Size = wasmManifest.Content.Length },
        });

        var read = await client.GetManifestAsync(wasm.Repository, tag);
        Assert.Equal(pushed.ManifestDigest, read.Digest);
        Assert.Equal("application/vnd.platform.wasmtime.cwasm.v1", read.Manifest.ArtifactType);
        Assert.Equal(OciMediaTypes.Empty, read.Manifest.Config.MediaType);
        Assert.Equal(OciDigest.ComputeSha256("{}"u8), read.Manifest.Config.Digest);
        Assert.Equal(2, read.Manifest.Config.Size);
        Assert.Equal(wasm.ManifestDigest, read.Manifest.Subject!.Digest);
        Assert.Equal("wasmtime-50.0.1", Assert.Single(read.Manifest.Layers).Annotations!["engine"]);
        Assert.Equal(["a.first", "z.last"], read.Manifest.Annotations!.Keys);
        Assert.Equal(precompiled, await client.PullBlobAsync(wasm.Repository, pushed.Layers[0].Digest));
        Assert.Equal(module, await client.PullWasmModuleAsync(wasm.Repository, wasm.ModuleDigest));
    }

    [Fact]
    public async Task An_untagged_artifact_is_pushed_by_digest()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var repository = "apps/" + TestModules.UniqueAppName("untagged");

        var pushed = await client.PushArtifactAsync(repository, tag: null, new OciArtifact
        {
            Config = new OciBlob("application/vnd.example.config.v1+json", "{\"x\":1}"u8.ToArray()),
            Layers = [new OciBlob("application/octet-stream", TestModules.Unique())],
        });

        Assert.Null(pushed.Tag);
        Assert.Equal(pushed.ManifestDigest, (await client.GetManifestAsync(repository, pushed.ManifestDigest)).Digest);
    }

    [Fact]
    public async Task Deleting_a_manifest_by_digest_removes_its_tag()
    {
        var (client, _) = ClientFactory.Create(fixture.Registry);
        var pushed = await client.PushWasmModuleAsync(TestModules.UniqueAppName(), 1, TestModules.Unique());

        Assert.True(await client.DeleteManifestAsync(pushed.Repository, pushed.ManifestDigest));

        Assert.Null(await client.ResolveTagAsync(pushed.Repository, pushed.Tag));
        Assert.False(await client.DeleteManifestAsync(pushed.Repository, pushed.ManifestDigest));
    }

    [Fact]
    public async Task Ping_succeeds_against_a_running_registry()
    {
        var (client, recorder) = ClientFactory.Create(fixture.Registry);

        await client.PingAsync();

        var exchange = Assert.Single(recorder.Exchanges);
        Assert.Equal("/v2/", exchange.Path);
        Assert.Equal(HttpStatusCode.OK, exchange.Status);
    }
}
