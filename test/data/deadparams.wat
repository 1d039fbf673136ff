;; Blocks, loops and ifs with parameters in unreachable code (after br,
;; br_table, return, unreachable, and after a block whose end no branch
;; reaches): their ends must not eat the enclosing frames' values.  The
;; expected results are wabt's wasm-interp's (test/unit_run.c
;; dead_code_with_params); regen.sh makes deadparams_wasm.h.
(module
  (func (export "after_br") (result i32)
    i32.const 100
    (block (result i32)
      i32.const 13
      (block
        br 0
        (loop (param i32) (result i32))
        drop)
      i32.const 3
      i32.mul)
    i32.sub)
  (func $after_br_table (param i32) (result i32)
    i32.const 1000
    (block (result i32)
      i32.const 7
      (block
        (block
          local.get 0
          br_table 0 1 0
          (block (param i32 i64) (result f32) unreachable)
          drop))
      i32.const 5
      i32.mul)
    i32.sub)
  (func $after_return (param i32) (result i32)
    i32.const 50
    (block (result i32)
      i32.const 9
      (block
        local.get 0
        br_if 0
        i32.const 1
        return
        (if (param i32) (result i32) (then) (else))
        drop)
      i32.const 2
      i32.shl)
    i32.add)
  (func (export "after_dead_end") (result i32)
    i32.const 50
    (block (result i32)
      i32.const 9
      (block
        (block (result i32) i32.const 4 br 1)
        i32.const 1
        (if (param i32) (result i32) (then) (else))
        drop)
      i32.const 2
      i32.shl)
    i32.add)
  (func (export "nested_dead") (result i64)
    i64.const 77
    (block (result i64)
      i64.const 5
      (block
        br 0
        (block (param i32 i32) (result i32)
          (loop (param i32 i32) (result i32) i32.add))
        (loop (param i32) (result i64) drop i64.const 1)
        drop)
      i64.const 3
      i64.sub)
    i64.mul)
  (func $after_unreachable (param i32) (result i32)
    local.get 0
    (if (result i32)
      (then
        i32.const 40
        (block
          unreachable
          (block (param i32) (result i32 i32) i32.const 0)
          drop drop)
        i32.const 2
        i32.add)
      (else i32.const 8))
    i32.const 100
    i32.add)
  (func (export "after_br_table_0") (result i32) i32.const 0 call $after_br_table)
  (func (export "after_br_table_1") (result i32) i32.const 1 call $after_br_table)
  (func (export "after_br_table_2") (result i32) i32.const 2 call $after_br_table)
  (func (export "after_return_0") (result i32) i32.const 0 call $after_return)
  (func (export "after_return_1") (result i32) i32.const 1 call $after_return)
  (func (export "after_unreachable_0") (result i32) i32.const 0 call $after_unreachable))
