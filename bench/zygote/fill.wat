;; bench/zygote.c fork: a zygote whose initialisation writes every page of
;; 1 MiB or 256 MiB of memory; a child that writes one page (poke)
(module
  (memory (export "memory") 1)
  (func $fill (param $pages i32) (local $i i32)
    (drop (memory.grow (i32.sub (local.get $pages) (i32.const 1))))
    (loop $l
      (i32.store (i32.mul (local.get $i) (i32.const 65536)) (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $pages)))))
  (func (export "init1") (call $fill (i32.const 16)))
  (func (export "init256") (call $fill (i32.const 4096)))
  (func (export "poke") (i32.store (i32.const 8) (i32.const 7)))
  (func (export "peek") (result i32) (i32.load (i32.const 65536))))
