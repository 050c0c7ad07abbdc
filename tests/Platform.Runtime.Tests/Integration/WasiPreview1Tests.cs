using System.Text;
using Platform.Runtime;
using Wasmtime;

namespace Platform.Runtime.Tests.Integration;

[Collection(RuntimeCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WasiPreview1Tests(RuntimeFixture fixture)
{
    private WagiResult RunWat(string wat, string body = "")
    {
        var bytes = Module.ConvertText(wat);
        var validation = new ModuleValidator(fixture.Host).Validate(bytes);
        Assert.True(validation.IsValid, validation.Error);
        var module = fixture.Cache.GetAsync(RuntimeFixture.DigestOf(bytes), _ => Task.FromResult(bytes), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return fixture.Executor.Execute(module, new WagiRequest { Method = "GET", Body = Encoding.UTF8.GetBytes(body) }, AppLimits.Default, null, CancellationToken.None);
    }

    private static string WatType(char code) => code == 'I' ? "i64" : "i32";

    [Fact]
    public void A_module_importing_every_preview1_function_with_the_validators_signatures_instantiates_and_runs()
    {
        var imports = new StringBuilder();
        foreach (var (name, signature) in ModuleValidatorSignatures())
        {
            var parts = signature.Split('>');
            var parameters = string.Join(' ', parts[0].Select(WatType));
            var results = string.Join(' ', parts[1].Select(WatType));
            imports.Append($"  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name}")
                .Append(parameters.Length > 0 ? $" (param {parameters})" : "")
                .Append(results.Length > 0 ? $" (result {results})" : "")
                .AppendLine("))");
        }
        const string Response = "Content-Type: text/plain\\0a\\0aall imports\\0a";
        var wat = $$"""
            (module
            {{imports}}
              (memory (export "memory") 1)
              (data (i32.const 16) "{{Response}}")
              (func (export "_start")
                (i32.store (i32.const 0) (i32.const 16))
                (i32.store (i32.const 4) (i32.const 38))
                (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
            """;

        using var result = RunWat(wat);

        Assert.Equal(46, ModuleValidatorSignatures().Count);
        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Equal("all imports\n", Encoding.UTF8.GetString(result.Body.Span));
    }

    [Theory]
    [InlineData("(call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64))", 8)]
    [InlineData("(call $fd_prestat_get (i32.const 3) (i32.const 64))", 8)]
    [InlineData("(call $fd_read (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 64))", 8)]
    [InlineData("(call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 64))", 70)]
    [InlineData("(call $sock_accept (i32.const 0) (i32.const 0) (i32.const 64))", 57)]
    [InlineData("(call $fd_write (i32.const 1) (i32.const 65530) (i32.const 1) (i32.const 64))", 21)]
    [InlineData("(call $random_get (i32.const 65500) (i32.const 100))", 21)]
    public void Calls_outside_the_sandbox_return_an_errno_instead_of_reaching_the_host(string call, int expectedErrno)
    {
        // The module writes the errno as a decimal number after the CGI header.
        var wat = $$"""
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "Status: 200\0a\0a")
              (func (export "_start") (local $errno i32)
                (i32.store (i32.const 0) (i32.const 100))
                (i32.store (i32.const 4) (i32.const 13))
                (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
                (local.set $errno {{call}})
                (i32.store8 (i32.const 200) (i32.add (i32.const 48) (i32.div_u (local.get $errno) (i32.const 10))))
                (i32.store8 (i32.const 201) (i32.add (i32.const 48) (i32.rem_u (local.get $errno) (i32.const 10))))
                (i32.store (i32.const 16) (i32.const 200))
                (i32.store (i32.const 20) (i32.const 2))
                (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))
            """;

        using var result = RunWat(wat);

        Assert.Equal(WagiOutcome.Ok, result.Outcome);
        Assert.Equal(expectedErrno.ToString("00", System.Globalization.CultureInfo.InvariantCulture), Encoding.ASCII.GetString(result.Body.Span));
    }

    private static IReadOnlyDictionary<string, string> ModuleValidatorSignatures() => WasiPreview1.Signatures;
}
