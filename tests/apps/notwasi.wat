;; A valid module that imports something other than WASI preview 1: the validator must refuse it.
(module
  (import "env" "host_secret" (func $secret (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $secret))))
