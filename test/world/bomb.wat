;; unit_world.c zygote_fork_bomb: a zygote whose initialisation builds
;; its state (memory[100] = 1234) and then asks the kernel who it is (an
;; authority: pending, so each child learns its own pid); every child
;; spawns two more children of the zygote by registry name, marks what
;; each spawn returned and waits for ever.
(module
  (import "gate" "self" (func $self (result i32)))
  (import "gate" "spawn" (func $spawn (param i32 i32) (result i32)))
  (import "gate" "recv" (func $recv (param i32 i32 i32 i64 i32) (result i32)))
  (import "t" "mark" (func $mark (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bomb")
  (func (export "init")
    (i32.store (i32.const 100) (i32.const 1234))
    (i32.store (i32.const 104) (call $self)))
  (func (export "_start")
    ;; its state from the zygote, its pid its own
    (call $mark (i32.load (i32.const 100)))
    (call $mark (i32.add (i32.const 1000000) (i32.load (i32.const 104))))
    (call $mark (call $spawn (i32.const 0) (i32.const 4)))
    (call $mark (call $spawn (i32.const 0) (i32.const 4)))
    (drop (call $recv (i32.const 256) (i32.const 16) (i32.const -1) (i64.const -1) (i32.const 512)))))
