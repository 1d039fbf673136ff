/*
 * gate.h - the kernel services of a libgate world, for programs built with
 * clang --target=wasm32-wasi (docs/world.md).  They are imports of module
 * "gate"; a process gets only what its grants allow (GATE_ENOTCAPABLE).
 */
#ifndef GATE_GUEST_H
#define GATE_GUEST_H

#include <stdint.h>

#define GATE_IMPORT(n) __attribute__((import_module("gate"), import_name(n)))

enum {
    GATE_ENOPROC = 1,       /* no such process, or it ended */
    GATE_EAGAIN = 2,        /* its mailbox is full, or the budget is spent */
    GATE_ENOTCAPABLE = 3,   /* not granted */
    GATE_EFAULT = 4,
    GATE_ETIMEDOUT = 5,
    GATE_E2BIG = 6          /* the message is larger than the buffer */
};
#define GATE_TAG_ANY 0xffffffffu
#define GATE_MSG_DOWN 0xffff0001u   /* a monitored process ended */
#define GATE_MSG_STREAM 0xffff0002u /* a stream was opened to it: id, writer */
#define GATE_FOREVER (-1ll)

typedef struct gate_msg_info {
    uint32_t from, tag, len;
} gate_msg_info;

/* A monitored process's end, the payload of a GATE_MSG_DOWN message. */
typedef struct gate_down {
    uint32_t pid, status, exit_code, trap_code;
} gate_down;
#define GATE_STATUS_OK 0
#define GATE_STATUS_TRAPPED 1
#define GATE_STATUS_EXITED 2

GATE_IMPORT("self") int32_t gate_self(void);
GATE_IMPORT("send") int32_t gate_send(uint32_t pid, uint32_t tag, const void *data, uint32_t len);
/* The same, moving whole pages (data and len 4 KiB-aligned, 1 MiB or more;
   smaller ones are copied) instead of copying; the sender's range reads as
   zeros afterwards either way. */
GATE_IMPORT("send_move") int32_t gate_send_move(uint32_t pid, uint32_t tag, void *data, uint32_t len);
/* The first message (of tag, or GATE_TAG_ANY) into buf; parks until one
   comes or timeout_ns passes (GATE_FOREVER: no timeout). */
GATE_IMPORT("recv") int32_t gate_recv(void *buf, uint32_t cap, uint32_t tag, int64_t timeout_ns,
                                      gate_msg_info *info);
/* The number of subscribers it reached, or -GATE_E*. */
GATE_IMPORT("publish") int32_t gate_publish(const char *topic, uint32_t topic_len, uint32_t tag,
                                            const void *data, uint32_t len);
GATE_IMPORT("subscribe") int32_t gate_subscribe(const char *topic, uint32_t topic_len);
GATE_IMPORT("unsubscribe") int32_t gate_unsubscribe(const char *topic, uint32_t topic_len);
GATE_IMPORT("monitor") int32_t gate_monitor(uint32_t pid);
/* A monitor both ways (needs the monitor grant). */
GATE_IMPORT("link") int32_t gate_link(uint32_t pid);
GATE_IMPORT("kill") int32_t gate_kill(uint32_t pid);
/* A registered module by name: its pid, or -GATE_E*. */
GATE_IMPORT("spawn") int32_t gate_spawn(const char *name, uint32_t name_len);

/* A bounded byte stream to pid (told by a GATE_MSG_STREAM message): its
   id, or -GATE_E*.  A write parks while it is full, a read while it is
   empty; read returns 0 at the end (closed by the writer, all read). */
GATE_IMPORT("stream_open") int32_t gate_stream_open(uint32_t pid);
GATE_IMPORT("stream_write") int32_t gate_stream_write(int32_t id, const void *p, uint32_t len,
                                                      int64_t timeout_ns);
GATE_IMPORT("stream_read") int32_t gate_stream_read(int32_t id, void *p, uint32_t cap,
                                                    int64_t timeout_ns);
GATE_IMPORT("stream_close") int32_t gate_stream_close(int32_t id);

/* What runs, and what the registry offers (with the "list" grant): as
   many records as fit; the number there are, or -GATE_E*. */
typedef struct gate_proc_rec {
    uint32_t pid, state;        /* state: 0 new, 1 runnable, 2 running, 3 waiting, ... */
    char name[64];
} gate_proc_rec;
typedef struct gate_module_rec {
    char name[64], version[32];
} gate_module_rec;
GATE_IMPORT("procs") int32_t gate_procs(gate_proc_rec *out, uint32_t cap_bytes);
GATE_IMPORT("modules") int32_t gate_modules(gate_module_rec *out, uint32_t cap_bytes);

#endif
