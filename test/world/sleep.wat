
;; Sleeps three times for $ns in poll_oneoff, then yields and returns
;; (test/unit_world.c).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory 1)
  (func (export "sleep3") (param $ns i64) (local $i i32)
    (loop
      ;; subscription at 0: userdata 7, clock, monotonic, $ns relative
      (i64.store (i32.const 0) (i64.const 7))
      (i32.store8 (i32.const 8) (i32.const 0))
      (i32.store (i32.const 16) (i32.const 1))
      (i64.store (i32.const 24) (local.get $ns))
      (i64.store (i32.const 32) (i64.const 0))
      (i32.store16 (i32.const 40) (i32.const 0))
      (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (i32.const 3))))
    (drop (call $yield))))
