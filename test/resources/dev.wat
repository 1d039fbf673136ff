;; unit_resources.c: a program that reads a device (a host object behind
;; an import) ten times with work in between; each result < 0 is an error
;; it counts and goes on
(module
  (import "dev" "read" (func $read (param i32) (result i32)))
  (memory 1)
  (global $sum (mut i32) (i32.const 0))
  (global $errors (mut i32) (i32.const 0))
  (func (export "run") (result i32)
    (local $i i32) (local $r i32) (local $k i32)
    (loop $l
      (local.set $r (call $read (local.get $i)))
      (if (i32.lt_s (local.get $r) (i32.const 0))
        (then (global.set $errors (i32.add (global.get $errors) (i32.const 1))))
        (else (global.set $sum (i32.add (global.get $sum) (local.get $r)))))
      ;; some work: fuel runs out in here
      (local.set $k (i32.const 0))
      (loop $w
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $w (i32.lt_u (local.get $k) (i32.const 100))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
    (i32.add (i32.mul (global.get $errors) (i32.const 1000)) (global.get $sum))))
