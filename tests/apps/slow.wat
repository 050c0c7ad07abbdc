;; Answers after about 1.5 s of busy waiting on the monotonic clock: a request that is still in flight
;; when a test sends the router SIGTERM.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain\n\nslow done\n")
  (func $now (result i64)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1000) (i32.const 32)))
    (i64.load (i32.const 32)))
  (func (export "_start")
    (local $deadline i64)
    (local.set $deadline (i64.add (call $now) (i64.const 1500000000)))
    (block $done
      (loop $spin
        (br_if $done (i64.ge_u (call $now) (local.get $deadline)))
        (br $spin)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 36))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))
