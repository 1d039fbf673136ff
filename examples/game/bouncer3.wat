;; examples/game: version 3 of bouncer.wat with another state layout: the
;; position in sixteenths of a pixel at 0x200 (x16, y16, vx16, vy16, rgb).
;; It cannot take version 1's memory as it is, so it exports migrate_1:
;; started there, it receives version 1's state (tag 3) and converts it.
;; It moves and draws as version 1 does: a game whose ball is migrated to
;; it shows the very frames it would have shown without the reload.
(module
  (import "gate" "recv" (func $recv (param i32 i32 i32 i64 i32) (result i32)))
  (import "engine" "draw" (func $draw (param i32 i32 i32 i32)))
  (import "engine" "handoff" (func $handoff (param i32 i32)))
  (memory (export "memory") 1)
  (func $get (param $k i32) (result i32) (i32.load (i32.add (i32.const 0x200) (i32.shl (local.get $k) (i32.const 2)))))
  (func $set (param $k i32) (param $v i32) (i32.store (i32.add (i32.const 0x200) (i32.shl (local.get $k) (i32.const 2))) (local.get $v)))
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
    (call $bounce (i32.const 0) (i32.const 2) (i32.const 2368))    ;; 148 * 16
    (call $bounce (i32.const 1) (i32.const 3) (i32.const 1728))    ;; 108 * 16
    (call $draw (i32.shr_s (call $get (i32.const 0)) (i32.const 4))
                (i32.shr_s (call $get (i32.const 1)) (i32.const 4)) (i32.const 12) (call $get (i32.const 4))))
  (func $loop
    (loop $l
      (drop (call $recv (i32.const 0) (i32.const 32) (i32.const -1) (i64.const -1) (i32.const 32)))
      (if (i32.eq (i32.load (i32.const 36)) (i32.const 2))
        (then (call $handoff (i32.const 0x200) (i32.const 20))
              (return)))
      (call $frame)
      (br $l)))
  (func (export "run") (param $x i32) (param $y i32) (param $vx i32) (param $vy i32) (param $rgb i32)
    (call $set (i32.const 0) (i32.shl (local.get $x) (i32.const 4)))
    (call $set (i32.const 1) (i32.shl (local.get $y) (i32.const 4)))
    (call $set (i32.const 2) (i32.shl (local.get $vx) (i32.const 4)))
    (call $set (i32.const 3) (i32.shl (local.get $vy) (i32.const 4)))
    (call $set (i32.const 4) (local.get $rgb))
    (call $loop))
  ;; version 1's state (x, y, vx, vy, rgb in pixels at 0x100 there) arrives
  ;; as a message; converted to this layout
  (func (export "migrate_1")
    (local $k i32)
    (drop (call $recv (i32.const 0x100) (i32.const 20) (i32.const 3) (i64.const -1) (i32.const 32)))
    (loop $c
      (call $set (local.get $k) (i32.shl (i32.load (i32.add (i32.const 0x100) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 4)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $c (i32.lt_u (local.get $k) (i32.const 4))))
    (call $set (i32.const 4) (i32.load (i32.const 0x110)))
    (call $loop)))
