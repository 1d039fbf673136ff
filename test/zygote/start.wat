;; an authority used by a start function, which cannot stop: a trap
(module
  (import "env" "secret" (func $secret (result i32)))
  (global $g (mut i32) (i32.const 0))
  (func $st (global.set $g (call $secret)))
  (start $st))
