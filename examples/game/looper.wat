;; examples/game: a script with a bug: from its 8th frame on it never
;; finishes a frame (a loop without end).  The engine's per-frame budget
;; preempts it; every other script's frame goes on.
(module
  (import "gate" "recv" (func $recv (param i32 i32 i32 i64 i32) (result i32)))
  (import "engine" "draw" (func $draw (param i32 i32 i32 i32)))
  (memory 1)
  (func (export "run")
    (local $n i32) (local $spin i32)
    (loop $l
      (drop (call $recv (i32.const 0) (i32.const 16) (i32.const 1) (i64.const -1) (i32.const 32)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (call $draw (i32.add (i32.const 20) (i32.mul (local.get $n) (i32.const 4))) (i32.const 100) (i32.const 8) (i32.const 0xffff00))
      (if (i32.ge_u (local.get $n) (i32.const 8))
        (then (loop $forever
                (local.set $spin (i32.add (local.get $spin) (i32.const 1)))
                (br $forever))))
      (br $l))))
