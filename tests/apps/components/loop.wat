;; A wasi:http handler that never returns (an infinite loop): the epoch deadline must stop it.
(component
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (core module $main
    (func (export "handle") (param i32 i32) (loop $forever (br $forever)))
  )
  (core instance $main (instantiate $main))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
