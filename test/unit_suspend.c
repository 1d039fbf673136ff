/* unit_suspend.c - stopping a running call at a safe point and resuming
   it where it stopped: from another thread, from a deadline, repeatedly,
   deep in recursion; the results equal an uninterrupted run. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "../runtime/runtime.h"
#include "data/run_wasm.h"

static gate_engine *eng;
static gate_module *mod;

static int setup(void **state)
{
    (void)state;
    gate_error e;
    eng = gate_engine_new(NULL, &e);
    mod = gate_module_new(eng, run_wasm, sizeof run_wasm, &e);
    return mod ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gate_module_free(mod);
    gate_engine_free(eng);
    return 0;
}

typedef struct stopper {
    gate_instance *inst;
    int delay_us, times;
    volatile int done;
} stopper;

static void *stop_thread(void *p)
{
    stopper *s = p;
    for (int i = 0; i < s->times && !s->done; i++) {
        usleep((useconds_t)s->delay_us);
        gate_request_stop(s->inst);
    }
    return NULL;
}

/* spin(depth, iters): the reference value */
static int64_t spin_ref(int depth, int64_t iters)
{
    return iters * 3 + (int64_t)depth * (depth + 1) / 2 + depth;
}

static void stop_from_another_thread(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_instance *in = gate_instance_new(mod, NULL, NULL, &e);
    assert_non_null(in);
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 50 },
                      { .type = GATE_I64, .of.i64 = unit_busy(400000000) } }, r;
    stopper s = { in, 20000, 1000, 0 };
    pthread_t t;
    pthread_create(&t, NULL, stop_thread, &s);
    gate_status st = gate_call(in, "spin", a, 2, &r, 1, &e);
    int stops = 0;
    while (st == GATE_SUSPENDED) {
        stops++;
        assert_true(gate_is_suspended(in));
        /* the stopped state: 51 frames of spin, the innermost in its loop */
        assert_int_equal(in->susp.nframes, 51);
        assert_int_equal(in->susp.frames[50].func, in->susp.frames[0].func);
        /* another call is refused while suspended */
        gate_val x[2] = { { .type = GATE_I32, .of.i32 = 1 }, { .type = GATE_I32, .of.i32 = 2 } };
        gate_val xr;
        assert_int_equal(gate_call(in, "add", x, 2, &xr, 1, &e), GATE_ERR_STATE);
        st = gate_resume(in, &r, 1, &e);
        if (st != GATE_OK && st != GATE_SUSPENDED)
            printf("  resume: %s\n", e.message);
    }
    s.done = 1;
    pthread_join(t, NULL);
    assert_int_equal(st, GATE_OK);
    assert_true(stops >= 2);
    assert_false(gate_is_suspended(in));
    assert_true(r.of.i64 == spin_ref(50, unit_busy(400000000)));
    printf("  stopped and resumed %d times\n", stops);
    gate_instance_free(in);
}

static void deadline(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_instance *in = gate_instance_new(mod, NULL, NULL, &e);
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 3 },
                      { .type = GATE_I64, .of.i64 = unit_busy(2000000000) } }, r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(gate_set_deadline(in, 20 * 1000 * 1000), GATE_OK);
    gate_status st = gate_call(in, "spin", a, 2, &r, 1, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(st, GATE_SUSPENDED);
    /* no timing threshold: only that it stopped well before the end */
    assert_true(in->susp.nframes == 4);
    /* without a new deadline, it runs to the end */
    st = gate_resume(in, &r, 1, &e);
    assert_int_equal(st, GATE_OK);
    assert_true(r.of.i64 == spin_ref(3, unit_busy(2000000000)));
    (void)t1;
    gate_instance_free(in);
}

static void stop_before_a_call_and_misuse(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_instance *in = gate_instance_new(mod, NULL, NULL, &e);
    gate_val r;
    /* not suspended: resume is an error */
    assert_int_equal(gate_resume(in, &r, 1, &e), GATE_ERR_STATE);
    /* a request made between calls stops the next call at its entry */
    gate_request_stop(in);
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 2 }, { .type = GATE_I32, .of.i32 = 3 } };
    assert_int_equal(gate_call(in, "add", a, 2, &r, 1, &e), GATE_SUSPENDED);
    assert_int_equal(in->susp.nframes, 1);
    assert_int_equal(in->susp.frames[0].nslots, 2);        /* the two params */
    assert_int_equal(in->susp.frames[0].slots[0], 2);
    assert_int_equal(gate_resume(in, &r, 1, &e), GATE_OK);
    assert_int_equal(r.of.i32, 5);
    /* freeing a suspended instance frees its frames (checked by ASan) */
    gate_request_stop(in);
    gate_val s2[2] = { { .type = GATE_I32, .of.i32 = 10 }, { .type = GATE_I64, .of.i64 = 10 } };
    assert_int_equal(gate_call(in, "spin", s2, 2, &r, 1, &e), GATE_SUSPENDED);
    gate_instance_free(in);
}

/* Fuel is deterministic: the same program uses the same fuel, stops at
   the same place, and finishes with the same result after refills. */
static void fuel(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;
    gate_engine *fe = gate_engine_new(&cfg, &e);
    gate_module *fm = gate_module_new(fe, run_wasm, sizeof run_wasm, &e);
    gate_instance *in = gate_instance_new(fm, NULL, NULL, &e);
    assert_non_null(in);
    gate_val a = { .type = GATE_I32, .of.i32 = 1000 }, r;
    /* measure: sum(1000) = one entry + 1001 loop headers */
    assert_int_equal(gate_set_fuel(in, 1000000), GATE_OK);
    assert_int_equal(gate_call(in, "sum", &a, 1, &r, 1, &e), GATE_OK);
    uint64_t used = 1000000 - gate_get_fuel(in);
    assert_int_equal(used, 1002);
    /* budgets of 100: stops every 100 units, at the same places each time */
    uint32_t where[2][16];
    memset(where, 0, sizeof where);
    for (int run = 0; run < 2; run++) {
        int stops = 0;
        gate_set_fuel(in, 100);
        gate_status st = gate_call(in, "sum", &a, 1, &r, 1, &e);
        while (st == GATE_SUSPENDED) {
            assert_int_equal(in->susp.reason, RT_STOP_FUEL);
            if (stops < 16)
                where[run][stops] = in->susp.frames[0].slots[1];   /* local $i */
            stops++;
            gate_set_fuel(in, 100);
            st = gate_resume(in, &r, 1, &e);
        }
        assert_int_equal(st, GATE_OK);
        assert_true(r.of.i64 == 499500);
        assert_int_equal(stops, 10);                 /* 1002 units / 100 */
    }
    assert_memory_equal(where[0], where[1], sizeof where[0]);
    /* without fuel compiled in, setting it is refused */
    gate_instance *plain = gate_instance_new(mod, NULL, NULL, &e);
    assert_int_equal(gate_set_fuel(plain, 10), GATE_ERR_STATE);
    gate_instance_free(plain);
    gate_instance_free(in);
    gate_module_free(fm);
    gate_engine_free(fe);
}

/* Fork: children start from the parent's state, diverge independently,
   share unchanged pages; a stopped parent's children resume on their own. */
static void fork_instances(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_instance *p = gate_instance_new(mod, NULL, NULL, &e);
    gate_val st[2] = { { .type = GATE_I32, .of.i32 = 64 }, { .type = GATE_I32, .of.i32 = 7 } };
    assert_int_equal(gate_call(p, "store32", st, 2, NULL, 0, &e), GATE_OK);
    gate_instance *kids[8];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 8; i++) {
        kids[i] = gate_instance_fork(p, &e);
        assert_non_null(kids[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("  8 forks in %.1f us (the first one makes the memory template)\n",
           ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3);
    for (int i = 0; i < 8; i++) {
        uint32_t v = 0;
        assert_int_equal(gate_memory_read(kids[i], 64, &v, 4), GATE_OK);
        assert_int_equal(v, 7);                       /* the parent's state */
        st[1].of.i32 = 100 + i;
        assert_int_equal(gate_call(kids[i], "store32", st, 2, NULL, 0, &e), GATE_OK);
    }
    for (int i = 0; i < 8; i++) {
        uint32_t v = 0;
        gate_memory_read(kids[i], 64, &v, 4);
        assert_int_equal(v, 100 + i);                 /* each its own copy */
    }
    uint32_t pv = 0;
    gate_memory_read(p, 64, &pv, 4);
    assert_int_equal(pv, 7);                          /* parent untouched */
    for (int i = 0; i < 8; i++)
        gate_instance_free(kids[i]);
    /* fork a stopped parent: every child finishes the call on its own */
    gate_request_stop(p);
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 5 },
                      { .type = GATE_I64, .of.i64 = 1000 } }, r;
    assert_int_equal(gate_call(p, "spin", a, 2, &r, 1, &e), GATE_SUSPENDED);
    for (int i = 0; i < 3; i++) {
        gate_instance *k = gate_instance_fork(p, &e);
        assert_non_null(k);
        assert_true(gate_is_suspended(k));
        assert_int_equal(gate_resume(k, &r, 1, &e), GATE_OK);
        assert_true(r.of.i64 == spin_ref(5, 1000));
        gate_instance_free(k);
    }
    assert_int_equal(gate_resume(p, &r, 1, &e), GATE_OK);
    assert_true(r.of.i64 == spin_ref(5, 1000));
    gate_instance_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stop_from_another_thread),
        cmocka_unit_test(deadline),
        cmocka_unit_test(stop_before_a_call_and_misuse),
        cmocka_unit_test(fuel),
        cmocka_unit_test(fork_instances),
    };
    return cmocka_run_group_tests_name("suspend", tests, setup, teardown);
}
