;; Calls another instance's function that reads its own memory (run.wat's
;; load32), directly and through a table; this module's memory holds other
;; bytes, so a callee using the caller's memory base would be caught.
(module
  (type $l (func (param i32) (result i32)))
  (import "run" "load32" (func $load32 (type $l)))
  (memory 1)
  (data (i32.const 0) "\07\07\07\07")
  (table 1 funcref)
  (elem (i32.const 0) $load32)
  (func (export "direct") (param i32) (result i32) (call $load32 (local.get 0)))
  (func (export "indirect") (param i32) (result i32)
    (call_indirect (type $l) (local.get 0) (i32.const 0)))
  (func (export "own") (param i32) (result i32) (i32.load (local.get 0))))
