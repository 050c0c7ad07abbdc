;; A second, different app version for rollout tests: answers "greeting v2" on every path.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain\nX-App-Version: 2\n\ngreeting v2\n")
  (func (export "_start")
    ;; iovec at 0: base 64, length 55
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 55))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))
