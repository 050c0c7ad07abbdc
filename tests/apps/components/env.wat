;; A wasi:http handler that prints its environment (wasi:cli/environment) as NAME=value lines on stdout and
;; returns without a response; tests read the lines from the app log.
(component
  (import "wasi:io/streams@0.2.3" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result))))
  ))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.3" (instance $stdout
    (alias outer 1 $output-stream (type $os))
    (export "get-stdout" (func (result (own $os))))
  ))
  (import "wasi:cli/environment@0.2.3" (instance $environment
    (export "get-environment" (func (result (list (tuple string string)))))
  ))
  (import "wasi:http/types@0.2.3" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $request))
  (alias export $types "response-outparam" (type $outparam))

  ;; Memory and a bump allocator for the lists and strings the host returns.
  (core module $Memory
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (data (i32.const 0) "=\n")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 1)))))
      (local.get $at))
  )
  (core instance $memory (instantiate $Memory))
  (alias core export $memory "memory" (core memory $mem))
  (alias core export $memory "realloc" (core func $realloc))

  (alias export $stdout "get-stdout" (func $get-stdout))
  (alias export $streams "[method]output-stream.blocking-write-and-flush" (func $write))
  (alias export $environment "get-environment" (func $get-environment))
  (core func $get-stdout-l (canon lower (func $get-stdout)))
  (core func $write-l (canon lower (func $write) (memory $mem)))
  (core func $get-environment-l (canon lower (func $get-environment) (memory $mem) (realloc $realloc) string-encoding=utf8))

  (core module $Main
    (import "env" "memory" (memory 1))
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32) (result i32)))
    (import "host" "get-environment" (func $get-environment (param i32)))
    (func (export "handle") (param i32 i32)
      (local $list i32) (local $count i32) (local $entry i32) (local $stream i32)
      (call $get-environment (i32.const 8))
      (local.set $list (i32.load (i32.const 8)))
      (local.set $count (i32.load (i32.const 12)))
      (local.set $stream (call $get-stdout))
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $count)))
          (drop (call $write (local.get $stream) (i32.load (local.get $list)) (i32.load offset=4 (local.get $list))))
          (drop (call $write (local.get $stream) (i32.const 0) (i32.const 1)))
          (drop (call $write (local.get $stream) (i32.load offset=8 (local.get $list)) (i32.load offset=12 (local.get $list))))
          (drop (call $write (local.get $stream) (i32.const 1) (i32.const 1)))
          (local.set $list (i32.add (local.get $list) (i32.const 16)))
          (local.set $count (i32.sub (local.get $count) (i32.const 1)))
          (br $next))))
  )
  (core instance $main (instantiate $Main
    (with "env" (instance $memory))
    (with "host" (instance
      (export "get-stdout" (func $get-stdout-l))
      (export "write" (func $write-l))
      (export "get-environment" (func $get-environment-l))))))
  (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
    (canon lift (core func $main "handle")))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
)
