;; Imports a function the wasi_experimental_http ABI does not have: the validator must refuse it, naming it.
(module
  (import "wasi_experimental_http" "socket_open" (func $open (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
