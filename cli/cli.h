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
int cli_outcome(gate_instance *inst, gate_module *mod, gate_status st, const gate_error *err,
                const char *snapshot, const gate_val *res, uint32_t nres);
void cli_stop_on_signals(gate_instance *inst);
bool cli_duration(const char *s, uint64_t *ns);
/* A module from wasm bytes or an AOT object (by its magic). */
gate_module *cli_load(gate_engine *eng, const uint8_t *bytes, size_t len, gate_error *err);
/* The target (GATE_TARGET_X86_64/ARM64) of the AOT object at path, from
   its header; -1 with a message when it is not one. */
int cli_object_target(const char *path);
/* Writes a file atomically: temporary file, fsync, rename. */
bool cli_write_atomic(const char *path, const uint8_t *bytes, size_t len);

#endif
