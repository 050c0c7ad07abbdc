;; Valid WebAssembly whose memory starts at 256 MiB: more than a pooling-allocator slot (128 MiB by default).
(module
  (memory (export "memory") 4096)
  (func (export "_start")))
