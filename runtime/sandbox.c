/*
 * sandbox.c - the kernel-enforced ABI surface (gate_sandbox_enter): once
 * the host has loaded its modules, opened the preopens and made its
 * instances, untrusted programs need almost nothing from the kernel.  A
 * seccomp-bpf filter (libseccomp), installed with no_new_privs on every
 * thread of the process, allows only the system calls the runtime and
 * WASI make from then on; anything else raises SIGSYS, whose handler says
 * which call it was on stderr and ends the process with status 159
 * (128 + SIGSYS).  docs/wasi.md lists the set and why each is there.
 *
 * Path-taking calls are allowed only relative to a directory descriptor
 * (never AT_FDCWD): the WASI resolver opens everything beneath a preopen
 * (openat2 RESOLVE_BENEATH, or a component walk), and the sandboxed `gate`
 * writes snapshots through a descriptor of their directory opened before.
 * seccomp cannot read a path, so an absolute path given to openat with
 * any descriptor is not stopped by the filter itself; that is the
 * resolver's job (and the filter stops everything else an attacker who got
 * that far would want: exec, sockets, ptrace, new processes, mounts).
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "runtime.h"

/* Writes "gate: sandbox: forbidden system call N" and ends the process;
   async-signal-safe (no stdio, no malloc). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    char msg[96] = "gate: sandbox: forbidden system call ";
    size_t n = strlen(msg);
    int nr = si->si_syscall;
    char digits[12];
    int k = 0;
    unsigned v = nr < 0 ? 0u : (unsigned)nr;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < 11);
    while (k)
        msg[n++] = digits[--k];
    memcpy(msg + n, " (see docs/wasi.md)\n", 20);
    n += 20;
    ssize_t w = write(2, msg, n);
    (void)w;
    _exit(159);
}

/* The allowed calls, each with why (docs/wasi.md has the same list). */
static const int allowed[] = {
    /* WASI: descriptors */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
    SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close),
    SCMP_SYS(fstat), SCMP_SYS(fcntl), SCMP_SYS(getdents64), SCMP_SYS(fsync),
    SCMP_SYS(fdatasync), SCMP_SYS(ppoll), SCMP_SYS(fadvise64), SCMP_SYS(fallocate),
    SCMP_SYS(ftruncate),
    /* WASI sockets, on the sockets the host made (socket() stays forbidden) */
    SCMP_SYS(accept4), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(shutdown),
#ifdef __NR_poll
    SCMP_SYS(poll),
#endif
    /* memory: linear memory growth, the allocator, reservations */
    SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap),
    SCMP_SYS(madvise), SCMP_SYS(brk),
    /* traps, stop requests, the watchdog thread */
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack), SCMP_SYS(futex), SCMP_SYS(gettid), SCMP_SYS(getpid),
    SCMP_SYS(tgkill),
    /* a thread started just before (the watchdog) finishing its start */
    SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    /* clocks, randomness, yielding, sleeping (poll_oneoff) */
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep), SCMP_SYS(getrandom), SCMP_SYS(sched_yield),
    /* the end */
    SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* Path calls, each only with a directory descriptor (arg 0 != AT_FDCWD). */
static const int at_calls[] = {
    SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(newfstatat), SCMP_SYS(statx),
    SCMP_SYS(mkdirat), SCMP_SYS(unlinkat), SCMP_SYS(renameat), SCMP_SYS(renameat2),
    SCMP_SYS(readlinkat), SCMP_SYS(utimensat),
};

gate_status gate_sandbox_enter(const int *extra, size_t nextra, gate_error *err)
{
    if (err) {
        err->status = GATE_OK;
        err->offset = UINT64_MAX;
        err->func_index = GATE_NO_FUNC;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL)) {
        gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC, "sandbox: sigaction: %s",
                strerror(errno));
        return GATE_ERR_IO;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    const char *what = ctx ? NULL : "seccomp_init";
    int rc = 0;
    for (size_t i = 0; !what && i < sizeof allowed / sizeof allowed[0]; i++)
        if (allowed[i] >= 0 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0)))
            what = "a rule";
    for (size_t i = 0; !what && i < sizeof at_calls / sizeof at_calls[0]; i++)
        if (at_calls[i] >= 0 &&
            (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, at_calls[i], 1,
                                   SCMP_A0_32(SCMP_CMP_NE, (uint32_t)AT_FDCWD))))
            what = "a path rule";
    /* symlinkat(text, dirfd, name) and linkat(dirfd, name, dirfd2, name2):
       the directories are arguments 1, and 0 and 2 */
    if (!what && (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(symlinkat), 1,
                                        SCMP_A1_32(SCMP_CMP_NE, (uint32_t)AT_FDCWD))))
        what = "a path rule";
    if (!what && (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(linkat), 2,
                                        SCMP_A0_32(SCMP_CMP_NE, (uint32_t)AT_FDCWD),
                                        SCMP_A2_32(SCMP_CMP_NE, (uint32_t)AT_FDCWD))))
        what = "a path rule";
    for (size_t i = 0; !what && i < nextra; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, extra[i], 0)))
            what = "an extra call";
    /* every thread (the watchdog too), and never more privilege again */
    if (!what && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)))
        what = "thread sync";
    if (!what && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)))
        what = "no_new_privs";
    if (!what && (rc = seccomp_load(ctx)))
        what = "loading the filter";
    if (ctx)
        seccomp_release(ctx);
    if (what) {
        gx_fail(err, GATE_ERR_NOT_IMPLEMENTED, UINT64_MAX, GATE_NO_FUNC,
                "cannot enter the sandbox (%s: %s)", what, rc ? strerror(-rc) : "failed");
        return GATE_ERR_NOT_IMPLEMENTED;
    }
    return GATE_OK;
}
