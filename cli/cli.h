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
/* A module from wasm bytes or an AOT object (by its magic). */
gate_module *cli_load(gate_engine *eng, const uint8_t *bytes, size_t len, gate_error *err);
/* Writes a file atomically: temporary file, fsync, rename. */
bool cli_write_atomic(const char *path, const uint8_t *bytes, size_t len);

#endif
