;; scripts.wat - the scripts examples/world.c runs: two that walk and end,
;; one that never ends, one that traps.
(module
  (memory 1)
  (func (export "walker") (param $n i32) (local $i i32) (local $x i32)
    (loop $l
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $i)))
      (i32.store (i32.const 0) (local.get $x))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "forever") (loop $l (br $l)))
  (func (export "broken") (i32.store (i32.const 70000) (i32.const 1))))
