;; Memory in stripes: 64 bytes of data, 64 bytes of zeros, all the way up
;; (test/unit_snapshot.c: a snapshot of it stays within the segment limit,
;; and restores with every byte in place).
(module
  (memory (export "memory") 4096 4096)
  (func (export "fill") (param $n i32)
    (local $i i32) (local $k i32)
    (loop $l
      (local.set $k (i32.const 0))
      (loop $w
        (i64.store (i32.add (local.get $i) (local.get $k))
                   (i64.extend_i32_u (i32.add (i32.add (local.get $i) (local.get $k)) (i32.const 1))))
        (local.set $k (i32.add (local.get $k) (i32.const 8)))
        (br_if $w (i32.lt_u (local.get $k) (i32.const 64))))
      (local.set $i (i32.add (local.get $i) (i32.const 128)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; how many 8-byte words below n differ from what fill stored (and zeros)
  (func (export "check") (param $n i32) (result i32)
    (local $i i32) (local $bad i32) (local $want i64)
    (loop $l
      (local.set $want
        (select (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))) (i64.const 0)
                (i32.lt_u (i32.and (local.get $i) (i32.const 127)) (i32.const 64))))
      (local.set $bad (i32.add (local.get $bad)
                               (i64.ne (i64.load (local.get $i)) (local.get $want))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $bad)))
