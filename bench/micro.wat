;; micro.wat - the module of bench/micro.c.  micro.c appends a 1 MiB
;; active data segment (the "module with 1 MB of data" of the targets).
(module
  (memory (export "memory") 32)
  (global $g (mut i64) (i64.const 0))
  ;; writes one byte in each of `pages` 4 KiB pages from `at`
  (func (export "touch") (param $at i32) (param $pages i32)
    (loop $l
      (if (local.get $pages)
        (then
          (i32.store8 (local.get $at) (i32.const 1))
          (local.set $at (i32.add (local.get $at) (i32.const 4096)))
          (local.set $pages (i32.sub (local.get $pages) (i32.const 1)))
          (br $l)))))
  ;; grows memory to `pages` wasm pages and fills every byte from 2 MiB on
  ;; with a non-zero pattern
  (func (export "fill") (param $pages i32) (param $seed i64)
    (local $p i32) (local $end i32) (local $x i64)
    (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))
    (local.set $p (i32.const 0x200000))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (local.set $x (i64.or (local.get $seed) (i64.const 1)))
    (loop $l
      ;; xorshift64, with the low byte forced non-zero
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (i64.store (local.get $p) (i64.or (local.get $x) (i64.const 0x0101010101010101)))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $l (i32.lt_u (local.get $p) (local.get $end)))))
  ;; busy forever (until stopped)
  (func (export "spin") (result i64)
    (local $i i64)
    (loop $l
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (global.set $g (local.get $i))
      (br $l))
    (unreachable))
  (func (export "get") (result i64) (global.get $g)))
