;; A valid WASI-looking module without _start (a reactor/library, not a command): refused by the validator.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (call $exit (i32.const 0))))
