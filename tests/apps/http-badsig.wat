;; Imports wasi_experimental_http.req with the wrong signature: the validator must refuse it, naming the import.
(module
  (import "wasi_experimental_http" "req" (func $req (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
