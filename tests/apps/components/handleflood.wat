;; A hostile handler that creates fields without ever dropping them: the host must stop it at its handle cap
;; instead of growing its table without bound.
(component
  (import "wasi:http/types@0.2.3" (instance $types
    (export "fields" (type $fields (sub resource)))
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
    (export "[constructor]fields" (func (result (own $fields))))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $types "[constructor]fields" (func $fields-new))
  (core func $fields-new-l (canon lower (func $fields-new)))
  (core module $Main
    (import "host" "fields-new" (func $fields-new (result i32)))
    (func (export "handle") (param i32 i32)
      (loop $more (drop (call $fields-new)) (br $more)))
  )
  (core instance $main (instantiate $Main (with "host" (instance (export "fields-new" (func $fields-new-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
