;; Valid WebAssembly with a 200,000-element table: more than the pooling allocator's table limit (100,000).
(module
  (memory (export "memory") 1)
  (table 200000 funcref)
  (func (export "_start")))
