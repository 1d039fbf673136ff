/* cli.h - internal header of cli/: the commands of `gate`. */
#ifndef GATE_CLI_H
#define GATE_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "../runtime/runtime.h"

uint8_t *cli_read_file(const char *path, size_t *len);
void cli_report(const char *path, const gate_error *err);
int cli_run(int argc, char **argv);
int cli_compile(int argc, char **argv);
int cli_resume(int argc, char **argv);
int cli_world(int argc, char **argv);
int cli_init(int argc, char **argv);
int cli_outcome(const char *file, gate_instance *inst, gate_module *mod, gate_status st,
                const gate_error *err, const char *snapshot, const gate_val *res, uint32_t nres);
void cli_stop_on_signals(gate_instance *inst);
/* --sandbox (run.c): opens the snapshot's directory, then confines the
   process (gate_sandbox_enter); false with a message when it cannot. */
bool cli_sandbox(const char *snapshot);
bool cli_sandbox_default(void);
/* Saves inst to path (through the directory cli_sandbox opened, if any). */
bool cli_save_snapshot(gate_instance *inst, const char *path, gate_error *err);
bool cli_duration(const char *s, uint64_t *ns);
bool cli_deadline(gate_instance *inst, uint64_t ns);
/* A module from wasm bytes or an AOT object (by its magic). */
gate_module *cli_load(gate_engine *eng, const uint8_t *bytes, size_t len, gate_error *err);
/* The target (GATE_TARGET_X86_64/ARM64) of the AOT object at path, from
   its header; -1 with a message when it is not one. */
int cli_object_target(const char *path);
/* Writes a file atomically: temporary file, fsync, rename (gx_write_atomic);
   prints why not. */
bool cli_write_atomic(const char *path, const uint8_t *bytes, size_t len);

/* trust.c: the private directory, the object key, grants */
/* gate's private directory into buf, created and checked; NULL (with a
   message) when there is none fit for use. */
const char *cli_private(char *buf, size_t size);
/* dir, created if missing, is a directory of this user's with mode 0700. */
bool cli_private_dir(const char *dir);
/* The per-user object key (made on first use). */
bool cli_object_key(uint8_t key[32]);
/* Whether host (absolute, resolved) may be granted to a guest: not the
   private directory (or extra_private), nor inside or above it. */
bool cli_grant_ok(const char *host, const char *extra_private);
/* --dir HOST[::GUEST]: HOST resolved now (realpath), a directory, one a
   guest may be granted; *host and *copy are to be freed. */
bool cli_parse_dir(const char *val, char **host, char **guest, char **copy);
/* A TCP socket listening on HOST:PORT ([V6]:PORT), or -1 after saying why. */
int cli_tcp_listen(const char *val);
/* --stack-size BYTES (k/m suffixes) and --max-memory-pages N */
bool cli_parse_stack(const char *val, uint64_t *out);
bool cli_parse_pages(const char *val, uint32_t *out);
/* An engine for running programs: cfg plus the object key unless
   trust_any (--trust-object: any object with a good checksum runs). */
gate_engine *cli_engine(gate_config *cfg, bool trust_any, uint8_t key[32], gate_error *err);

#endif
