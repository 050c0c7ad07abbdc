;; A hostile handler: imports get-random-u64 declaring a u32 result; the host's u64 must be refused by Wasmtime's
;; type check (a trap for this request), not crash the host.
(component
  (import "wasi:random/random@0.2.3" (instance $random
    (export "get-random-u64" (func (result u32)))
  ))
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $random "get-random-u64" (func $random-u64))
  (core func $random-l (canon lower (func $random-u64)))
  (core module $Main
    (import "host" "random" (func $random (result i32)))
    (func (export "handle") (param i32 i32) (drop (call $random)))
  )
  (core instance $main (instantiate $Main (with "host" (instance (export "random" (func $random-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
