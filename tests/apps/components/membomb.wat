;; A memory-hungry wasi:http handler: grows its memory 1 MiB at a time until the host refuses, then reports it on
;; stderr the way Rust's allocator does ("memory allocation of N bytes failed") and aborts.
(component
  (import "wasi:io/streams@0.2.3" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result))))
  ))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stderr@0.2.3" (instance $stderr
    (alias outer 1 $output-stream (type $os))
    (export "get-stderr" (func (result (own $os))))
  ))
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))
  (core module $Memory
    (memory (export "memory") 1)
    (data (i32.const 0) "memory allocation of 1048576 bytes failed\n")
  )
  (core instance $memory (instantiate $Memory))
  (alias core export $memory "memory" (core memory $mem))
  (alias export $stderr "get-stderr" (func $get-stderr))
  (alias export $streams "[method]output-stream.blocking-write-and-flush" (func $write))
  (core func $get-stderr-l (canon lower (func $get-stderr)))
  (core func $write-l (canon lower (func $write) (memory $mem)))
  (core module $Main
    (import "env" "memory" (memory 1))
    (import "host" "get-stderr" (func $get-stderr (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32) (result i32)))
    (func (export "handle") (param i32 i32)
      (block $refused
        (loop $grow
          (br_if $refused (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
          (br $grow)))
      (drop (call $write (call $get-stderr) (i32.const 0) (i32.const 42)))
      unreachable)
  )
  (core instance $main (instantiate $Main
    (with "env" (instance $memory))
    (with "host" (instance (export "get-stderr" (func $get-stderr-l)) (export "write" (func $write-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
