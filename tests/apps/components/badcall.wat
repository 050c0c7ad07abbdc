;; A hostile handler: imports http-error-code with a made-up signature (a u32 instead of a borrowed error handle)
;; and calls it with garbage. The host must trap it, not misread the value.
(component
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
    (export "http-error-code" (func (param "err" u32) (result u32)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $types "http-error-code" (func $get))
  (core func $get-l (canon lower (func $get)))
  (core module $Main
    (import "host" "get" (func $get (param i32) (result i32)))
    (func (export "handle") (param i32 i32) (drop (call $get (i32.const -1))))
  )
  (core instance $main (instantiate $Main (with "host" (instance (export "get" (func $get-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
