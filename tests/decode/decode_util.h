/*
 * decode_util.h - helpers shared by the decoder's CUnit tests: parse a hex
 * string, decode it with exactly its bytes available, and check the op name
 * and length (printing the encoding when they differ, so a failure names
 * the bytes at fault).
 */
#ifndef NESTLAB_DECODE_UTIL_H
#define NESTLAB_DECODE_UTIL_H

#include <stdint.h>

#include "cpu.h"
#include "insn.h"

#define M16 CPU_MODE16
#define M32 CPU_MODE32
#define M64 CPU_MODE64

/* Parse "0f 01 c1" into b[] (room for 32); returns the byte count. */
int parse_hex(const char *hex, uint8_t *b);
/* Decode `hex` with exactly its bytes as `avail`; returns insn_decode's. */
int dec(int mode, const char *hex, struct insn *in);
/* Decode; assert op name and length (CUnit); return the record. */
struct insn check(int mode, const char *hex, const char *op, int len);
/* Run the CUnit tests of `tests` as one suite; returns the exit status. */
struct decode_test { const char *name; void (*fn)(void); };
int run_decode_tests(const char *suite, const struct decode_test *tests, int n);

#endif
