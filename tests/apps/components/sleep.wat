;; A wasi:http handler that waits on a 60 s monotonic-clock pollable: the host's wait must end at the deadline.
(component
  (import "wasi:io/poll@0.2.3" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))
  ))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.3" (instance $clock
    (alias outer 1 $pollable (type $p))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p))))
  ))
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (alias export $clock "subscribe-duration" (func $subscribe))
  (alias export $poll "[method]pollable.block" (func $block))
  (core func $subscribe-l (canon lower (func $subscribe)))
  (core func $block-l (canon lower (func $block)))
  (core module $Main
    (import "host" "subscribe" (func $subscribe (param i64) (result i32)))
    (import "host" "block" (func $block (param i32)))
    (func (export "handle") (param i32 i32) (call $block (call $subscribe (i64.const 60000000000))))
  )
  (core instance $main (instantiate $Main (with "host" (instance
    (export "subscribe" (func $subscribe-l)) (export "block" (func $block-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
