/* unit_sandbox.c - gate_sandbox_enter: once entered, a system call outside
   the runtime's and WASI's set ends the process with status 159 and a
   message naming the call, whoever makes it (here a host function called
   from wasm); paths relative to the working directory or absolute through
   AT_FDCWD are refused too, while the program itself keeps running.  Each
   case runs in a child process, since the sandbox is for good. */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "../runtime/runtime.h"

/* (import "env" "f" (func)) (func (export "go") call 0) */
static const uint8_t wasm[] = {
    0, 'a', 's', 'm', 1, 0, 0, 0,
    1, 4, 1, 0x60, 0, 0,
    2, 9, 1, 3, 'e', 'n', 'v', 1, 'f', 0, 0,
    3, 2, 1, 0,
    7, 6, 1, 2, 'g', 'o', 0, 1,
    10, 6, 1, 4, 0, 0x10, 0, 0x0b,
};

static int what;        /* what the host function does: 0 nothing, 1 socket, 2 open */

static gate_status host_f(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ctx; (void)ud; (void)args; (void)res;
    if (what == 1)
        syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (what == 2)
        syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
    return GATE_OK;
}

/* Runs the module in a child that enters the sandbox first; its exit
   status, and its stderr in msg. */
static int in_child(int action, char *msg, size_t cap)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        gate_error e;
        gate_engine *eng = gate_engine_new(NULL, &e);
        gate_module *mod = gate_module_new(eng, wasm, sizeof wasm, &e);
        gate_imports *imp = gate_imports_new(eng);
        gate_imports_func_raw(imp, "env", "f", "v()", host_f, NULL, &e);
        gate_instance *in = mod ? gate_instance_new(mod, imp, NULL, &e) : NULL;
        if (!in)
            _exit(3);
        if (gate_sandbox_enter(NULL, 0, &e) != GATE_OK) {
            ssize_t w = write(2, e.message, strlen(e.message));
            (void)w;
            _exit(4);
        }
        what = action;
        gate_status st = gate_call(in, "go", NULL, 0, NULL, 0, &e);
        /* reached only when the call was allowed: the program went on */
        _exit(st == GATE_OK ? 0 : 5);
    }
    close(p[1]);
    /* read to the end (the child must never block on a full pipe) */
    size_t got = 0;
    char scratch[512];
    for (ssize_t n; (n = read(p[0], got < cap - 1 ? msg + got : scratch,
                              got < cap - 1 ? cap - 1 - got : sizeof scratch)) > 0;)
        if (got < cap - 1)
            got += (size_t)n;
    msg[got] = 0;
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void under_qemu_skip(void)
{
    const char *w = getenv("RUN_WRAP");
    if (w && *w) {
        /* qemu-user would have to apply an aarch64 filter to its own
           x86-64 system calls; it refuses (the CLI says so, exit 2) */
        printf("SKIPPED: qemu-user cannot install a guest's seccomp filter\n");
        skip();
    }
}

static void allowed_calls_go_on(void **state)
{
    (void)state;
    under_qemu_skip();
    char msg[256];
    assert_int_equal(in_child(0, msg, sizeof msg), 0);
}

static void forbidden_call_ends_the_process(void **state)
{
    (void)state;
    under_qemu_skip();
    char msg[256];
    assert_int_equal(in_child(1, msg, sizeof msg), 159);
    char want[80];
    snprintf(want, sizeof want, "gate: sandbox: forbidden system call %d", (int)SYS_socket);
    if (!strstr(msg, want))
        fail_msg("want \"%s\", got \"%s\"", want, msg);
}

static void path_without_a_directory_is_refused(void **state)
{
    (void)state;
    under_qemu_skip();
    char msg[256];
    assert_int_equal(in_child(2, msg, sizeof msg), 159);
    assert_non_null(strstr(msg, "forbidden system call"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allowed_calls_go_on),
        cmocka_unit_test(forbidden_call_ends_the_process),
        cmocka_unit_test(path_without_a_directory_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
