using Platform.Runtime;
using Platform.Testing;
using Wasmtime;

namespace Platform.Runtime.Tests.Integration;

[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ModuleValidatorTests(RuntimeFixture fixture)
{
    private ModuleValidationResult Validate(byte[] bytes) => new ModuleValidator(fixture.Host).Validate(bytes);

    private ModuleValidationResult ValidateWat(string wat) => Validate(Module.ConvertText(wat));

    [Theory]
    [InlineData("hello")]
    [InlineData("probe")]
    [InlineData("bigmodule")]
    [InlineData("trap")]
    [InlineData("loop")]
    public void Wasi_command_modules_are_accepted(string app)
    {
        var result = Validate(TestApps.Bytes(app));

        Assert.True(result.IsValid, result.Error);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Bytes_that_are_not_wasm_are_refused_quoting_how_they_start()
    {
        var result = Validate(TestApps.Bytes("invalid"));

        Assert.False(result.IsValid);
        Assert.Contains("not a WebAssembly binary", result.Error);
        Assert.Contains("'54 68 69 73 20 69 73 20'", result.Error);
    }

    [Fact]
    public void Empty_bytes_are_refused()
    {
        Assert.Equal("The module is empty.", Validate([]).Error);
    }

    [Fact]
    public void A_truncated_module_is_refused_with_wasmtimes_reason()
    {
        var result = Validate(TestApps.Bytes("hello")[..200]);

        Assert.False(result.IsValid);
        Assert.StartsWith("The module is not valid WebAssembly: ", result.Error);
    }

    [Fact]
    public void A_component_is_refused_as_preview_2()
    {
        var result = Validate([0x00, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00]);

        Assert.Contains("component", result.Error);
    }

    [Fact]
    public void A_module_importing_something_other_than_wasi_is_refused_naming_the_import()
    {
        var result = Validate(TestApps.Bytes("notwasi"));

        Assert.False(result.IsValid);
        Assert.Contains("'env.host_secret'", result.Error);
    }

    [Fact]
    public void A_module_without_start_is_refused_as_not_a_command()
    {
        var result = Validate(TestApps.Bytes("nostart"));

        Assert.Contains("'_start'", result.Error);
    }

    [Fact]
    public void An_unknown_wasi_function_is_refused()
    {
        var result = ValidateWat("""
            (module
              (import "wasi_snapshot_preview1" "fd_teleport" (func (param i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "_start")))
            """);

        Assert.Contains("'wasi_snapshot_preview1.fd_teleport'", result.Error);
    }

    [Fact]
    public void A_wasi_import_with_the_wrong_signature_is_refused_showing_both()
    {
        var result = ValidateWat("""
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "_start")))
            """);

        Assert.Contains("'wasi_snapshot_preview1.fd_write'", result.Error);
        Assert.Contains("(i32) -> (i32)", result.Error);
        Assert.Contains("(i32, i32, i32, i32) -> (i32)", result.Error);
    }

    [Fact]
    public void An_imported_memory_is_refused()
    {
        var result = ValidateWat("""
            (module
              (import "env" "memory" (memory 1))
              (func (export "_start")))
            """);

        Assert.Contains("memory 'env.memory'", result.Error);
    }

    [Fact]
    public void A_module_without_an_exported_memory_is_refused()
    {
        var result = ValidateWat("(module (func (export \"_start\")))");

        Assert.Contains("'memory'", result.Error);
    }

    [Fact]
    public void A_start_function_with_parameters_is_refused()
    {
        var result = ValidateWat("(module (memory (export \"memory\") 1) (func (export \"_start\") (param i32)))");

        Assert.Contains("'_start' has signature (i32) -> ()", result.Error);
    }
}
