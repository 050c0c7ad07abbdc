;; Sleeps about 1 s in poll_oneoff (a relative clock subscription), then answers: a guest that waits, using no CPU
;; while it does. The query string "ms=N" is not parsed; the sleep is fixed, so tests know what to expect.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "Content-Type: text/plain\n\nslept\n")
  (func (export "_start")
    ;; subscription at 64 (48 bytes): userdata 0, tag 0 (clock), clock id 1 (monotonic) at +16,
    ;; timeout 1e9 ns at +24, precision 0 at +32, flags 0 (relative) at +40. Event out at 128, count at 192.
    (i64.store (i32.const 64) (i64.const 7))
    (i32.store8 (i32.const 72) (i32.const 0))
    (i32.store (i32.const 80) (i32.const 1))
    (i64.store (i32.const 88) (i64.const 1000000000))
    (i64.store (i32.const 96) (i64.const 0))
    (i32.store16 (i32.const 104) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 192)))
    (i32.store (i32.const 0) (i32.const 512))
    (i32.store (i32.const 4) (i32.const 32))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))
