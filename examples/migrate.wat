;; migrate.wat - the state a migration must carry (examples/migrate.c):
;; deep recursion, locals of every type (i32 i64 f32 f64 funcref
;; externref), a multi-value block whose values sit on the operand stack
;; while the host function env.tick runs (and may ask to stop right
;; there), call_indirect through a table, a global and linear memory.
(module
  (type $unop (func (param i32) (result i32)))
  (import "env" "tick" (func $tick (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $plus7 $flip)
  (memory 1)
  (global $acc (mut i64) (i64.const 0))
  (func $plus7 (type $unop) (i32.add (local.get 0) (i32.const 7)))
  (func $flip (type $unop) (i32.xor (local.get 0) (i32.const 0x5a5a)))

  (func $rec (param $d i32) (param $seed i64) (result i64)
    (local $a i32) (local $b i64) (local $c f32) (local $e f64)
    (local $fr funcref) (local $er externref) (local $i i32)
    (local.set $a (i32.wrap_i64 (local.get $seed)))
    (local.set $b (i64.mul (local.get $seed) (i64.const 6364136223846793005)))
    (local.set $c (f32.convert_i32_s (local.get $a)))
    (local.set $e (f64.div (f64.convert_i64_s (local.get $b)) (f64.const 3)))
    (local.set $fr (ref.func $plus7))
    (if (i32.gt_u (local.get $d) (i32.const 0))
      (then
        (local.set $b
          (i64.add (local.get $b)
            (call $rec (i32.sub (local.get $d) (i32.const 1))
                       (i64.add (local.get $seed) (i64.const 1)))))))
    (loop $l
      i32.const 11
      i64.const 22
      ;; two values under the host call
      block (param i32 i64) (result i32 i64)
        (local.set $a (call $tick (i32.add (local.get $a) (local.get $i))))
      end
      local.get $b
      i64.add
      local.set $b
      local.get $a
      i32.add
      local.set $a
      (local.set $c (f32.mul (local.get $c) (f32.const 1.5)))
      (local.set $e (f64.add (local.get $e) (f64.const 0.25)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3))))
    (local.set $a
      (call_indirect (type $unop) (local.get $a) (i32.and (local.get $d) (i32.const 1))))
    (global.set $acc
      (i64.add (global.get $acc)
        (i64.xor
          (i64.xor (local.get $b) (i64.extend_i32_u (local.get $a)))
          (i64.add
            (i64.add (i64.trunc_sat_f64_s (local.get $e))
                     (i64.extend_i32_u (i32.reinterpret_f32 (local.get $c))))
            (i64.extend_i32_u
              (i32.add (ref.is_null (local.get $fr)) (ref.is_null (local.get $er))))))))
    (i64.store (i32.mul (i32.and (local.get $d) (i32.const 1023)) (i32.const 8))
               (global.get $acc))
    (global.get $acc))

  ;; run(depth): the recursion, then a sum over what it left in memory
  (func (export "run") (param $depth i32) (result i64)
    (local $k i32) (local $sum i64)
    (drop (call $rec (local.get $depth) (i64.const 1)))
    (loop $s
      (local.set $sum (i64.add (i64.rotl (local.get $sum) (i64.const 5))
                               (i64.load (i32.mul (local.get $k) (i32.const 8)))))
      (br_if $s (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 1024))))
    (i64.xor (local.get $sum) (global.get $acc))))
