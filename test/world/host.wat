;; Processes that call the host (test/unit_world.c).
(module
  (import "t" "mark" (func $mark (param i32)))
  (import "t" "spawn" (func $spawn))
  (import "t" "block" (func $block))
  (memory 1)
  (func (export "grow2")
    (call $mark (memory.grow (i32.const 1)))
    (call $mark (memory.grow (i32.const 1))))
  (func (export "child") (call $mark (i32.const 99)))
  (func (export "parent") (call $spawn) (call $mark (i32.const 1)))
  (func (export "block") (call $block) (call $mark (i32.const 2))))
