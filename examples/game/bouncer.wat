;; examples/game: a square that moves and bounces off the walls of the
;; 160x120 scene.  run(x, y, vx, vy, rgb): its state is in its memory at
;; 0x100 (x, y, vx, vy, rgb: i32 each; bouncer2.wat keeps this layout).
;; Each frame message: move, bounce, draw.
(module
  (import "gate" "recv" (func $recv (param i32 i32 i32 i64 i32) (result i32)))
  (import "engine" "draw" (func $draw (param i32 i32 i32 i32)))
  (import "engine" "handoff" (func $handoff (param i32 i32)))
  (memory (export "memory") 1)
  (export "state_layout_1" (global $layout))
  (global $layout i32 (i32.const 1))
  (func $get (param $k i32) (result i32) (i32.load (i32.add (i32.const 0x100) (i32.shl (local.get $k) (i32.const 2)))))
  (func $set (param $k i32) (param $v i32) (i32.store (i32.add (i32.const 0x100) (i32.shl (local.get $k) (i32.const 2))) (local.get $v)))
  (func $bounce (param $p i32) (param $v i32) (param $max i32)
    (local $x i32)
    (local.set $x (i32.add (call $get (local.get $p)) (call $get (local.get $v))))
    (if (i32.lt_s (local.get $x) (i32.const 0))
      (then (local.set $x (i32.sub (i32.const 0) (local.get $x)))
            (call $set (local.get $v) (i32.sub (i32.const 0) (call $get (local.get $v))))))
    (if (i32.gt_s (local.get $x) (local.get $max))
      (then (local.set $x (i32.sub (i32.shl (local.get $max) (i32.const 1)) (local.get $x)))
            (call $set (local.get $v) (i32.sub (i32.const 0) (call $get (local.get $v))))))
    (call $set (local.get $p) (local.get $x)))
  (func $frame
    (call $bounce (i32.const 0) (i32.const 2) (i32.const 148))
    (call $bounce (i32.const 1) (i32.const 3) (i32.const 108))
    (call $draw (call $get (i32.const 0)) (call $get (i32.const 1)) (i32.const 12) (call $get (i32.const 4))))
  (func (export "run") (param $x i32) (param $y i32) (param $vx i32) (param $vy i32) (param $rgb i32)
    (call $set (i32.const 0) (local.get $x))
    (call $set (i32.const 1) (local.get $y))
    (call $set (i32.const 2) (local.get $vx))
    (call $set (i32.const 3) (local.get $vy))
    (call $set (i32.const 4) (local.get $rgb))
    (call $loop))
  ;; messages: tag 1 a frame, tag 2 "hand your state over" (hot reload):
  ;; the state goes to the engine and the script ends
  (func $loop
    (loop $l
      (drop (call $recv (i32.const 0) (i32.const 32) (i32.const -1) (i64.const -1) (i32.const 32)))
      (if (i32.eq (i32.load (i32.const 36)) (i32.const 2))
        (then (call $handoff (i32.const 0x100) (i32.const 20))
              (return)))
      (call $frame)
      (br $l)))
  ;; started with a state handed over by an older version (tag 3)
  (func (export "adopt")
    (drop (call $recv (i32.const 0x100) (i32.const 20) (i32.const 3) (i64.const -1) (i32.const 32)))
    (call $loop)))
