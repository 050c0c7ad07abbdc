using Platform.Oci;
using Platform.Runtime.Components;
using Platform.Testing;

namespace Platform.Runtime.Components.Tests.Integration;

[Collection(ComponentCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ComponentValidationTests(ComponentFixture fixture)
{
    [Fact]
    public void A_handler_component_importing_only_provided_interfaces_is_servable()
    {
        var problem = fixture.Host.Validate(ComponentFixture.Bytes("respond"), out var component);
        using var _ = component;

        Assert.Null(problem);
        Assert.NotNull(component);
        Assert.Equal("wasi:http/incoming-handler@0.2.3", component.Info.HandlerExport);
        Assert.Contains("wasi:http/types@0.2.3", component.Info.Imports);
        Assert.Empty(component.Info.MissingImports);
    }

    [Fact]
    public void A_component_importing_an_unknown_interface_is_refused_naming_the_import()
    {
        var problem = fixture.Host.Validate(ComponentFixture.Bytes("missing-import"), out var component);

        Assert.Null(component);
        Assert.NotNull(problem);
        Assert.Contains("fermyon:spin/key-value@2.0.0", problem);
    }

    [Fact]
    public void A_component_without_the_handler_export_is_refused_listing_what_it_exports()
    {
        var problem = fixture.Host.Validate(ComponentFixture.Bytes("not-a-handler"), out var component);

        Assert.Null(component);
        Assert.Contains("does not export wasi:http/incoming-handler", problem);
        Assert.Contains("answer", problem);
    }

    [Fact]
    public void A_core_module_is_refused_as_not_a_component()
    {
        var wasm = TestApps.Bytes("hello");

        Assert.False(WasmBinary.IsComponent(wasm));
        Assert.Contains("core WebAssembly module", fixture.Host.Validate(wasm, out _));
    }

    [Fact]
    public void Garbage_with_a_component_header_is_refused_with_wasmtimes_reason()
    {
        byte[] wasm = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff];

        Assert.True(WasmBinary.IsComponent(wasm));
        Assert.Contains("does not compile", fixture.Host.Validate(wasm, out _));
    }

    [Fact]
    public void The_spin_js_app_exports_the_handler_and_needs_nothing_missing()
    {
        var info = fixture.Load("js-echo").Info;

        Assert.True(info.IsServable, info.Problem);
        Assert.StartsWith("wasi:http/incoming-handler@0.2.", info.HandlerExport);
    }

    [Fact]
    public void An_artifact_for_this_engine_loads_and_a_corrupt_one_is_refused()
    {
        var artifact = fixture.Load("respond").Serialize();
        using (var loaded = fixture.Host.Deserialize(artifact))
        {
            Assert.True(loaded.FromArtifact);
        }

        var path = Path.Combine(Path.GetTempPath(), $"component-{Guid.NewGuid():N}.cwasm");
        File.WriteAllBytes(path, artifact);
        try
        {
            using var fromFile = fixture.Host.DeserializeFile(path);
            Assert.True(fromFile.FromArtifact);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<ComponentLoadException>(() => fixture.Host.Deserialize(artifact[..(artifact.Length / 3)]));
    }

    [Fact]
    public void Validating_for_an_upload_gives_an_artifact_that_serves_without_compiling()
    {
        var problem = fixture.Host.ValidateAndPrecompile(ComponentFixture.Bytes("respond"), out var artifact);

        Assert.Null(problem);
        Assert.NotNull(artifact);
        using var loaded = fixture.Host.Deserialize(artifact);
        var result = fixture.Host.Execute(loaded, ComponentFixture.Get("/"), Platform.Runtime.AppLimits.Default, null, CancellationToken.None);
        Assert.Equal(ComponentOutcome.Ok, result.Outcome);
        Assert.Equal(201, result.StatusCode);
    }

    [Fact]
    public void Validating_a_component_with_a_missing_import_for_an_upload_gives_no_artifact()
    {
        var problem = fixture.Host.ValidateAndPrecompile(ComponentFixture.Bytes("missing-import"), out var artifact);

        Assert.Null(artifact);
        Assert.Contains("fermyon:spin/key-value@2.0.0", problem);
    }
}
