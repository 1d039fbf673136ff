;; guest.wat - the module examples/host.c embeds.  It imports three host
;; functions, exports its memory and a few functions.
(module
  (import "env" "log_i32" (func $log_i32 (param i32)))
  (import "env" "hypot" (func $hypot (param f64 f64) (result f64)))
  (import "env" "ticks" (func $ticks (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from the guest")
  ;; sum of squares 1..n, logging every 250th partial sum
  (func (export "squares") (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $s (i64.add (local.get $s)
        (i64.mul (i64.extend_i32_u (local.get $i)) (i64.extend_i32_u (local.get $i)))))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 250)))
        (then (call $log_i32 (local.get $i))))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func (export "diagonal") (param f64 f64) (result f64)
    (call $hypot (local.get 0) (local.get 1)))
  (func (export "elapsed") (result i64)
    (call $ticks))
  ;; reads past the end of memory: a trap the host survives
  (func (export "crash") (result i32)
    (i32.load (i32.const 70000)))
)
