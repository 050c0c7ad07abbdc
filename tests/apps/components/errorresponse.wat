;; A wasi:http handler that answers with an error-code instead of a response (the error type is trimmed to one
;; payload-less case, which the host reads by name).
(component
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type $outparam (sub resource)))
    (export "outgoing-response" (type $response (sub resource)))
    (type $error-code (variant (case "HTTP-request-denied") (case "internal-error")))
    (export "error-code" (type $error (eq $error-code)))
    (export "[static]response-outparam.set"
      (func (param "param" (own $outparam)) (param "response" (result (own $response) (error $error)))))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $types "[static]response-outparam.set" (func $set))
  (core func $set-l (canon lower (func $set)))
  (core module $Main
    (import "host" "set" (func $set (param i32 i32 i32)))
    (func (export "handle") (param i32 i32) (call $set (local.get 1) (i32.const 1) (i32.const 1)))
  )
  (core instance $main (instantiate $Main (with "host" (instance (export "set" (func $set-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
