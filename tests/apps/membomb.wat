;; Grows memory one page (64 KiB) at a time until memory.grow returns -1 (the Store's limit),
;; then traps. A host without a memory cap would let it take the machine's memory.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $grow
      (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1))
        (then (br $grow))))
    unreachable))
