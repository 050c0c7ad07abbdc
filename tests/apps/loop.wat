;; Never returns: the host must stop it with epoch interruption (wall-time limit).
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever
      (br $forever))))
