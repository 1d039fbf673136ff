;; Functions for the runtime unit tests (test/unit_run.c).
(module
  (memory (export "mem") 1 4)
  (func $add (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  ;; recurse n deep, then trap
  (func $deep (export "deep") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (unreachable))
      (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get $n) (i32.const 1)))))))
  ;; recurse n deep, then return n
  (func $depth (export "depth") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get $n) (i32.const 1)))))))
  (func $runaway (export "runaway") (result i32)
    (i32.add (call $runaway) (i32.const 1)))
  (func (export "load32") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "load8") (param i32) (result i32)
    (i32.load8_u (local.get 0)))
  (func (export "load_far") (param i32) (result i64)
    (i64.load offset=0xfffffff0 (local.get 0)))
  (func (export "store32") (param i32 i32)
    (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  ;; sum 0..n-1 in a loop
  (func (export "sum") (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $s))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
;; recurse `depth` deep, spin `iters` times at the bottom, and fold
  ;; locals of every type into the result on the way back (for stops)
  (func $spin (export "spin") (param $depth i32) (param $iters i64) (result i64)
    (local $f f64) (local $g f32) (local $k i64)
    (local.set $f (f64.convert_i32_u (local.get $depth)))
    (local.set $g (f32.const 0.5))
    (if (result i64) (i32.eqz (local.get $depth))
      (then
        (loop $l
          (local.set $k (i64.add (local.get $k) (i64.const 3)))
          (br_if $l (i64.lt_u (local.get $k) (i64.mul (local.get $iters) (i64.const 3)))))
        (local.get $k))
      (else
        (i64.add
          (call $spin (i32.sub (local.get $depth) (i32.const 1)) (local.get $iters))
          (i64.add (i64.trunc_f64_u (local.get $f))
                   (i64.trunc_f32_u (f32.mul (local.get $g) (f32.const 2))))))))
)
