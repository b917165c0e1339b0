/*
 * unit_util.h - helpers shared by the CUnit suites: a CPU with a few MiB of
 * RAM in flat 64-bit mode, a way to run a byte string, and a main() body.
 */
#ifndef NESTLAB_UNIT_UTIL_H
#define NESTLAB_UNIT_UTIL_H

#include <CUnit/Basic.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

#define UT_CODE 0x10000ull     /* where ut_run() puts code */
#define UT_RAM  (4ull << 20)

/* A fresh CPU (static storage; one at a time), flat 64-bit, RSP at 3 MiB. */
struct cpu *ut_cpu(void);
/* Copy code to UT_CODE, start there, run at most max instructions. */
enum cpu_stop ut_run(struct cpu *c, const void *code, size_t len, uint64_t max);
/* Register the suite's tests (NULL-terminated {name, fn} pairs) and run them. */
struct ut_case { const char *name; void (*fn)(void); };
int ut_main(const char *suite, const struct ut_case *cases);

#endif
