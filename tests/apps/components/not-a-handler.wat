;; A component that exports a plain function instead of wasi:http/incoming-handler.
(component
  (core module $main
    (func (export "run") (result i32) (i32.const 0))
  )
  (core instance $main (instantiate $main))
  (func $run (result u32) (canon lift (core func $main "run")))
  (export "answer" (func $run))
)
