using Platform.Oci;
using Platform.Runtime;
using Platform.Runtime.Components;

namespace Platform.Router.Serving;

public sealed partial class RouterWarmup
{
    // A wasi:http handler touching what components do on every request: fields, an outgoing response and body, a
    // stream write, response-outparam.set and stdout (the same shape as tests/apps/components/respond.wat).
    private const string WarmupComponent = """
        (component
          (import "wasi:io/streams@0.2.3" (instance $streams
            (export "output-stream" (type $os (sub resource)))
            (export "[method]output-stream.blocking-write-and-flush"
              (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result))))
          ))
          (alias export $streams "output-stream" (type $output-stream))
          (import "wasi:cli/stdout@0.2.3" (instance $stdout
            (alias outer 1 $output-stream (type $os))
            (export "get-stdout" (func (result (own $os))))
          ))
          (import "wasi:http/types@0.2.3" (instance $types
            (export "fields" (type $fields (sub resource)))
            (export "incoming-request" (type (sub resource)))
            (export "response-outparam" (type $outparam (sub resource)))
            (export "outgoing-response" (type $response (sub resource)))
            (export "outgoing-body" (type $body (sub resource)))
            (alias outer 1 $output-stream (type $os))
            (export "[constructor]fields" (func (result (own $fields))))
            (export "[method]fields.append"
              (func (param "self" (borrow $fields)) (param "name" string) (param "value" (list u8)) (result (result))))
            (export "[constructor]outgoing-response" (func (param "headers" (own $fields)) (result (own $response))))
            (export "[method]outgoing-response.set-status-code"
              (func (param "self" (borrow $response)) (param "status-code" u16) (result (result))))
            (export "[method]outgoing-response.body" (func (param "self" (borrow $response)) (result (result (own $body)))))
            (export "[method]outgoing-body.write" (func (param "self" (borrow $body)) (result (result (own $os)))))
            (export "[static]outgoing-body.finish"
              (func (param "this" (own $body)) (param "trailers" (option (own $fields))) (result (result))))
            (export "[static]response-outparam.set" (func (param "param" (own $outparam)) (param "response" (result (own $response)))))
          ))
          (alias export $types "incoming-request" (type $request))
          (alias export $types "response-outparam" (type $outparam))

          (core module $Memory
            (memory (export "memory") 1)
            (data (i32.const 0) "x-warm-up")
            (data (i32.const 16) "yes")
            (data (i32.const 32) "warm component body..\n")
            (data (i32.const 96) "warm-up component ran request\n")
          )
          (core instance $memory (instantiate $Memory))
          (alias core export $memory "memory" (core memory $mem))

          (alias export $stdout "get-stdout" (func $get-stdout))
          (alias export $streams "[method]output-stream.blocking-write-and-flush" (func $write))
          (alias export $types "[constructor]fields" (func $fields-new))
          (alias export $types "[method]fields.append" (func $fields-append))
          (alias export $types "[constructor]outgoing-response" (func $response-new))
          (alias export $types "[method]outgoing-response.set-status-code" (func $set-status))
          (alias export $types "[method]outgoing-response.body" (func $response-body))
          (alias export $types "[method]outgoing-body.write" (func $body-write))
          (alias export $types "[static]outgoing-body.finish" (func $body-finish))
          (alias export $types "[static]response-outparam.set" (func $outparam-set))

          (core func $get-stdout-l (canon lower (func $get-stdout)))
          (core func $write-l (canon lower (func $write) (memory $mem)))
          (core func $fields-new-l (canon lower (func $fields-new)))
          (core func $fields-append-l (canon lower (func $fields-append) (memory $mem) string-encoding=utf8))
          (core func $response-new-l (canon lower (func $response-new)))
          (core func $set-status-l (canon lower (func $set-status)))
          (core func $response-body-l (canon lower (func $response-body) (memory $mem)))
          (core func $body-write-l (canon lower (func $body-write) (memory $mem)))
          (core func $body-finish-l (canon lower (func $body-finish)))
          (core func $outparam-set-l (canon lower (func $outparam-set)))

          (core module $Main
            (import "env" "memory" (memory 1))
            (import "host" "get-stdout" (func $get-stdout (result i32)))
            (import "host" "write" (func $write (param i32 i32 i32) (result i32)))
            (import "host" "fields-new" (func $fields-new (result i32)))
            (import "host" "fields-append" (func $fields-append (param i32 i32 i32 i32 i32) (result i32)))
            (import "host" "response-new" (func $response-new (param i32) (result i32)))
            (import "host" "set-status" (func $set-status (param i32 i32) (result i32)))
            (import "host" "response-body" (func $response-body (param i32 i32)))
            (import "host" "body-write" (func $body-write (param i32 i32)))
            (import "host" "body-finish" (func $body-finish (param i32 i32 i32) (result i32)))
            (import "host" "outparam-set" (func $outparam-set (param i32 i32 i32)))
            (func (export "handle") (param $request i32) (param $out i32)
              (local $fields i32) (local $response i32) (local $body i32) (local $stream i32)
              (drop (call $write (call $get-stdout) (i32.const 96) (i32.const 30)))
              (local.set $fields (call $fields-new))
              (drop (call $fields-append (local.get $fields) (i32.const 0) (i32.const 9) (i32.const 16) (i32.const 3)))
              (local.set $response (call $response-new (local.get $fields)))
              (drop (call $set-status (local.get $response) (i32.const 200)))
              (call $response-body (local.get $response) (i32.const 200))
              (local.set $body (i32.load (i32.const 204)))
              (call $body-write (local.get $body) (i32.const 208))
              (local.set $stream (i32.load (i32.const 212)))
              (call $outparam-set (local.get $out) (i32.const 0) (local.get $response))
              (drop (call $write (local.get $stream) (i32.const 32) (i32.const 23)))
              (drop (call $body-finish (local.get $body) (i32.const 0) (i32.const 0)))
            )
          )
          (core instance $main (instantiate $Main
            (with "env" (instance $memory))
            (with "host" (instance
              (export "get-stdout" (func $get-stdout-l))
              (export "write" (func $write-l))
              (export "fields-new" (func $fields-new-l))
              (export "fields-append" (func $fields-append-l))
              (export "response-new" (func $response-new-l))
              (export "set-status" (func $set-status-l))
              (export "response-body" (func $response-body-l))
              (export "body-write" (func $body-write-l))
              (export "body-finish" (func $body-finish-l))
              (export "outparam-set" (func $outparam-set-l))
            ))
          ))
          (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
            (canon lift (core func $main "handle")))
          (instance $handler (export "handle" (func $handle)))
          (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
        )
        """;

    /// <summary>
    /// The component path once: text to binary, compile, serialize, the module cache's precompiled-artifact load with
    /// the component loader, and requests through the host, so a component's first real request pays no JIT for it.
    /// </summary>
    private async Task WarmUpComponentsAsync(CancellationToken cancellationToken)
    {
        var wasm = ComponentHost.FromText(WarmupComponent);
        byte[] artifact;
        using (var compiled = components.Compile(wasm))
        {
            artifact = compiled.Serialize();
        }
        using var cache = new ModuleCache(engine, cacheDirectory: null, maxCachedModules: 1) { RecordTelemetry = false };
        var loaded = await cache.GetAsync(OciDigest.ComputeSha256(wasm), _ => throw new InvalidOperationException("the warm-up component is never compiled from Wasm bytes"),
            new PrecompiledArtifact(OciDigest.ComputeSha256(artifact), engine.Fingerprint, _ => Task.FromResult(artifact), FetchVerifiesDigest: true), componentLoader, cancellationToken);
        var component = (LoadedComponent)loaded.Code;
        var limits = AppLimits.Default with { MemoryBytes = 16L * 1024 * 1024, WallTime = TimeSpan.FromSeconds(5) };
        for (var i = 0; i < 3; i++)
        {
            var request = new ComponentRequest
            {
                Method = i == 1 ? "POST" : "GET",
                Authority = $"warm-up.{options.Value.AppDomain}",
                PathWithQuery = "/warm-up?a=1&b=2",
                Headers = [new("user-agent", "platform-warm-up"), new("accept", "*/*"), new("spin-path-info", "/warm-up")],
                Body = i == 1 ? "warm"u8.ToArray() : ReadOnlyMemory<byte>.Empty,
                Environment = [new("WARM", "1")],
                AppName = "warm-up",
            };
            var result = components.Execute(component, request, limits, ComponentLog.None, cancellationToken);
            if (result.Outcome != ComponentOutcome.Ok || result.StatusCode != StatusCodes.Status200OK)
            {
                throw new InvalidOperationException($"the warm-up component answered {result.Outcome} {result.StatusCode}: {result.Error}");
            }
        }
    }
}
