;; A wasi:http handler that calls wasi:cli/exit with an error before setting any response.
(component
  (import "wasi:cli/exit@0.2.3" (instance $exit
    (export "exit" (func (param "status" (result))))
  ))
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $exit "exit" (func $exit-fn))
  (core func $exit-l (canon lower (func $exit-fn)))
  (core module $Main
    (import "host" "exit" (func $exit (param i32)))
    (func (export "handle") (param i32 i32) (call $exit (i32.const 1)))
  )
  (core instance $main (instantiate $Main (with "host" (instance (export "exit" (func $exit-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
