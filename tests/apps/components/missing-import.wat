;; A wasi:http handler that also imports an interface the platform does not provide (Spin's key-value store).
(component
  (import "fermyon:spin/key-value@2.0.0" (instance $kv
    (export "get-answer" (func (result u32)))
  ))
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (core module $main
    (func (export "handle") (param i32 i32))
  )
  (core instance $main (instantiate $main))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
