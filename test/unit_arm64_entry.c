/* unit_arm64_entry.c - the aarch64 crossings (runtime/entry-aarch64.S)
   with code assembled by codegen-arm64's encoders: arguments and results
   through the slot area, the pinned vmctx (x28) and memory base (x27), a
   separate wasm stack, a trap (udf) turned by the signal handler into a
   return from the entry, and a portable frame rebuilt and resumed.  Runs on aarch64 hosts (under qemu-aarch64 in
   `make check-arm64`); elsewhere it reports itself skipped. */
#include <stdio.h>
#include <sys/mman.h>

#include "unit.h"
#include "../runtime/runtime.h"
#include "../codegen-arm64/arm64.h"

#if defined(__aarch64__)

static uint8_t *page;
static gc_buf buf;
static gate_module fake;
static gc_trapsite site;
static rt_vm vm;
static uint64_t membase_word;

/* The prologue and epilogue every wasm function has on ARM64. */
static void prologue(void)
{
    a64_ldstp(&buf, LS_ST, PAIR_PRE, X29, X30, SP, -16);
    a64_mov_sp(&buf, 1, X29, SP);
}

static void epilogue(void)
{
    a64_ldstp(&buf, LS_LD, PAIR_POST, X29, X30, SP, 16);
    a64_ret(&buf);
}

static size_t f_add, f_pinned, f_trap, trap_at, f_cont;

static int setup(void **state)
{
    (void)state;
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return -1;
    buf.p = page;
    buf.cap = 4096;
    buf.n = 0;
    /* add(a, b): result slot 0 = a + b */
    f_add = buf.n;
    prologue();
    a64_ldst(&buf, LS_LD, 3, X0, X29, 16);
    a64_ldst(&buf, LS_LD, 3, X1, X29, 24);
    a64_addsub_rr(&buf, AS_ADD, 1, X0, X0, X1);
    a64_ldst(&buf, LS_ST, 3, X0, X29, 16);
    epilogue();
    /* pinned(): slot 0 = x28, slot 1 = x27, slot 2 = [x29 - 8] of the entry */
    f_pinned = buf.n;
    prologue();
    a64_ldst(&buf, LS_ST, 3, X28, X29, 16);
    a64_ldst(&buf, LS_ST, 3, X27, X29, 24);
    a64_ldst(&buf, LS_LD, 3, X0, X29, 0);            /* the entry's frame */
    a64_ldst_unscaled(&buf, LS_LD, 3, X0, X0, -8);
    a64_ldst(&buf, LS_ST, 3, X0, X29, 32);
    epilogue();
    /* the continuation of a stopped function with one slot: returns the
       slot as its result (what a resumed frame does after its safe point) */
    f_cont = buf.n;
    a64_ldst_unscaled(&buf, LS_LD, 3, X0, X29, -16);
    a64_ldst(&buf, LS_ST, 3, X0, X29, 16);
    a64_mov_sp(&buf, 1, SP, X29);
    epilogue();
    /* trap(): udf */
    f_trap = buf.n;
    prologue();
    trap_at = buf.n;
    a64_udf(&buf, 0);
    epilogue();
    __builtin___clear_cache((char *)page, (char *)page + 4096);
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC))
        return -1;
    /* a module that owns the page, with one trap site */
    site = (gc_trapsite){ (uint32_t)trap_at, 0, 0x42, GATE_TRAP_UNREACHABLE };
    fake.exec = page;
    fake.exec_size = 4096;
    fake.code.size = buf.n;
    fake.code.traps = &site;
    fake.code.ntraps = 1;
    static gc_safepoint sp;
    static uint32_t frame_size = 32;
    static gd_func func;
    sp = (gc_safepoint){ (uint32_t)f_cont, 0, 0x10, 1 };
    fake.code.sp = &sp;
    fake.code.nsp = 1;
    fake.code.func_frame = &frame_size;
    static uint32_t func_off;                        /* the function starts at 0 */
    fake.code.func_off = &func_off;
    fake.info.nfuncs = 1;
    fake.info.funcs = &func;
    if (!rt_code_register(&fake))
        return -1;
    vm.mem_base = (uint8_t *)&membase_word;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rt_code_unregister(&fake);
    munmap(page, 4096);
    return 0;
}

static void arguments_and_results(void **state)
{
    (void)state;
    uint64_t area[2] = { 40, 2 };
    assert_int_equal(gate_enter_aarch64(&vm, page + f_add, area, 2, NULL, &vm), 0);
    assert_int_equal(area[0], 42);
    /* on a stack of its own, as calls from the host run */
    size_t size = 64 << 10;
    uint8_t *stack = malloc(size);
    area[0] = UINT64_MAX;
    area[1] = 1;
    assert_int_equal(gate_enter_aarch64(&vm, page + f_add, area, 2, stack + size, &vm), 0);
    assert_int_equal(area[0], 0);
    free(stack);
}

static void pinned_registers(void **state)
{
    (void)state;
    uint64_t area[3] = { 0, 0, 0 };
    assert_int_equal(gate_enter_aarch64(&vm, page + f_pinned, area, 3, NULL, &vm), 0);
    assert_int_equal(area[0], (uintptr_t)&vm);                  /* x28 = vmctx */
    assert_int_equal(area[1], (uintptr_t)&membase_word);        /* x27 = [vmctx] */
    assert_int_equal(area[2], (uintptr_t)&vm);                  /* [x29_entry - 8] */
}

static void trap_returns_from_the_entry(void **state)
{
    (void)state;
    rt_signals_install();
    rt_signals_reinstall();
    for (int i = 0; i < 3; i++) {
        memset(&vm.trap, 0, sizeof vm.trap);
        rt_entry_vm = &vm;
        uint32_t rc = gate_enter_aarch64(&vm, page + f_trap, NULL, 0, NULL, &vm);
        rt_entry_vm = NULL;
        assert_int_equal(rc, 1);
        assert_int_equal(vm.trap.code, GATE_TRAP_UNREACHABLE);
        assert_int_equal(vm.trap.wasm_offset, 0x42);
        /* and the next entry works */
        uint64_t area[2] = { 1, 2 };
        assert_int_equal(gate_enter_aarch64(&vm, page + f_add, area, 2, NULL, &vm), 0);
        assert_int_equal(area[0], 3);
    }
}

/* A portable frame rebuilt on a wasm stack (frames.c) and continued
   through gate_resume_aarch64; its return reaches gate_enter_ret_aarch64,
   which hands the result back. */
static void resume_rebuilt_frames(void **state)
{
    (void)state;
    static gate_instance inst;
    inst.mod = &fake;
    inst.vm.mem_base = (uint8_t *)&membase_word;
    inst.vm.inst = &inst;
    uint64_t slot = 777;
    rt_frame fr = { 0, 0x10, 1, &slot };
    rt_susp s = { .frames = &fr, .nframes = 1 };
    size_t size = 64 << 10;
    uint8_t *stack = malloc(size);
    uint64_t area[1] = { 0 };
    gate_error err;
    assert_int_equal(rt_resume_frames(&inst, &s, area, 1, stack + size, &err), GATE_OK);
    assert_int_equal(area[0], 777);
    /* a frame at no safe point is refused before anything runs */
    fr.wasm = 0x11;
    assert_int_equal(rt_resume_frames(&inst, &s, area, 1, stack + size, &err), GATE_ERR_SNAPSHOT);
    free(stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arguments_and_results),
        cmocka_unit_test(resume_rebuilt_frames),
        cmocka_unit_test(pinned_registers),
        cmocka_unit_test(trap_returns_from_the_entry),
    };
    return cmocka_run_group_tests_name("aarch64 entry", tests, setup, teardown);
}

#else

static void aarch64_hosts_only(void **state)
{
    (void)state;
    skip();     /* runs under qemu-aarch64 in make check-arm64 */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(aarch64_hosts_only) };
    return cmocka_run_group_tests_name("aarch64 entry (aarch64 hosts only)", tests, NULL, NULL);
}

#endif
