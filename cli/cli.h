/* cli.h - internal header of cli/: the commands of `gate`. */
#ifndef GATE_CLI_H
#define GATE_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "../runtime/runtime.h"

uint8_t *cli_read_file(const char *path, size_t *len);
void cli_report(const char *path, const gate_error *err);
int cli_run(int argc, char **argv);

#endif
