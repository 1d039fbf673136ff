;; Processes that talk (test/unit_world.c): the kernel services of
;; import module "gate".  Memory: recv's info at 0 (from, tag, len), a
;; buffer at 16, the topic name at 100.
(module
  (import "gate" "self" (func $self (result i32)))
  (import "gate" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "gate" "recv" (func $recv (param i32 i32 i32 i64 i32) (result i32)))
  (import "gate" "publish" (func $publish (param i32 i32 i32 i32 i32) (result i32)))
  (import "gate" "subscribe" (func $subscribe (param i32 i32) (result i32)))
  (import "gate" "monitor" (func $monitor (param i32) (result i32)))
  (import "gate" "spawn" (func $spawn (param i32 i32) (result i32)))
  (import "t" "mark" (func $mark (param i32)))
  (memory 2)
  (data (i32.const 100) "news")
  (data (i32.const 120) "child")
  (data (i32.const 130) "single")
  (data (i32.const 140) "needy")
  ;; answers n messages: tag + 1, the same bytes, to the sender
  (func (export "pong") (param $n i32) (local $i i32)
    (loop
      (if (i32.eqz (call $recv (i32.const 16) (i32.const 64) (i32.const -1) (i64.const -1) (i32.const 0)))
        (then (drop (call $send (i32.load (i32.const 0)) (i32.add (i32.load (i32.const 4)) (i32.const 1))
                                (i32.const 16) (i32.load (i32.const 8))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (local.get $n)))))
  ;; n round trips; marks how many answers carried the right number
  (func (export "ping") (param $to i32) (param $n i32) (local $i i32) (local $ok i32)
    (loop
      (i32.store (i32.const 16) (local.get $i))
      (drop (call $send (local.get $to) (i32.const 1) (i32.const 16) (i32.const 4)))
      (if (i32.eqz (call $recv (i32.const 16) (i32.const 64) (i32.const 2) (i64.const -1) (i32.const 0)))
        (then (if (i32.eq (i32.load (i32.const 16)) (local.get $i))
          (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (local.get $n))))
    (call $mark (local.get $ok)))
  ;; the first message of tag 6, then n - 1 of any tag: marks tag, first byte
  (func (export "collect") (param $n i32) (local $i i32)
    (drop (call $recv (i32.const 16) (i32.const 64) (i32.const 6) (i64.const -1) (i32.const 0)))
    (call $mark (i32.load (i32.const 4)))
    (call $mark (i32.load8_u (i32.const 16)))
    (loop
      (drop (call $recv (i32.const 16) (i32.const 64) (i32.const -1) (i64.const -1) (i32.const 0)))
      (call $mark (i32.load (i32.const 4)))
      (call $mark (i32.load8_u (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "timeout")
    (call $mark (call $recv (i32.const 16) (i32.const 64) (i32.const -1) (i64.const 1000000) (i32.const 0))))
  ;; a 2-byte buffer: E2BIG and the size, the message kept for a bigger one
  (func (export "small")
    (call $mark (call $recv (i32.const 16) (i32.const 2) (i32.const -1) (i64.const -1) (i32.const 0)))
    (call $mark (i32.load (i32.const 8)))
    (call $mark (call $recv (i32.const 16) (i32.const 64) (i32.const -1) (i64.const -1) (i32.const 0))))
  (func (export "sub")
    (call $mark (call $subscribe (i32.const 100) (i32.const 4)))
    (drop (call $recv (i32.const 16) (i32.const 64) (i32.const -1) (i64.const -1) (i32.const 0)))
    (call $mark (i32.load (i32.const 4))))
  (func (export "pub")
    (call $mark (call $publish (i32.const 100) (i32.const 4) (i32.const 77) (i32.const 100) (i32.const 4))))
  (func (export "sendto") (param $to i32)
    (call $mark (call $send (local.get $to) (i32.const 1) (i32.const 16) (i32.const 4))))
  ;; monitors pid, then marks the DOWN message's sender and status
  (func (export "watch") (param $pid i32)
    (call $mark (call $monitor (local.get $pid)))
    (drop (call $recv (i32.const 16) (i32.const 64) (i32.const -65535) (i64.const -1) (i32.const 0)))
    (call $mark (i32.load (i32.const 0)))
    (call $mark (i32.load (i32.const 20))))
  (func (export "crash") unreachable)
  ;; n one-way messages of len bytes from the buffer at 1024, and their drain
  (func (export "flood") (param $to i32) (param $n i32) (param $len i32) (local $i i32) (local $r i32)
    (loop
      (local.set $r (call $send (local.get $to) (i32.const 1) (i32.const 1024) (local.get $len)))
      (if (i32.eqz (local.get $r))
        (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (else (if (i32.ne (local.get $r) (i32.const 2)) (then (return)))))
      (br_if 0 (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "drain") (param $n i32) (local $i i32)
    (loop
      (drop (call $recv (i32.const 1024) (i32.const 65536) (i32.const -1) (i64.const -1) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (local.get $n)))))
  ;; spawns "child" six times, then "single" twice, "needy" and "secret"
  ;; (not granted): marks each answer
  (func (export "bomb") (local $i i32)
    (loop
      (call $mark (call $spawn (i32.const 120) (i32.const 5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (i32.const 6))))
    (call $mark (call $spawn (i32.const 130) (i32.const 6)))
    (call $mark (call $spawn (i32.const 130) (i32.const 6)))
    (call $mark (call $spawn (i32.const 140) (i32.const 5)))
    (call $mark (call $spawn (i32.const 100) (i32.const 4))))
  (func (export "me") (call $mark (call $self))))
