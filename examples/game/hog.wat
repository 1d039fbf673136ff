;; examples/game: a script that allocates without end: each frame it grows
;; its memory by 4 pages, until its sponsor refuses (memory.grow -1) and
;; it traps.  The game goes on without it.
(module
  (import "gate" "recv" (func $recv (param i32 i32 i32 i64 i32) (result i32)))
  (import "engine" "draw" (func $draw (param i32 i32 i32 i32)))
  (memory 1)
  (func (export "run")
    (loop $l
      (drop (call $recv (i32.const 0) (i32.const 16) (i32.const 1) (i64.const -1) (i32.const 32)))
      (if (i32.lt_s (memory.grow (i32.const 4)) (i32.const 0))
        (then unreachable))
      (call $draw (i32.const 140) (i32.mul (memory.size) (i32.const 1)) (i32.const 6) (i32.const 0xff00ff))
      (br $l))))
