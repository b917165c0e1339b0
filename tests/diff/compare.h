/*
 * compare.h - result comparison and sequence printing for the diff driver.
 */
#ifndef DIFF_COMPARE_H
#define DIFF_COMPARE_H

#include <stdio.h>

#include "exec.h"

/* The RFLAGS bits compared: CF 1 PF AF ZF SF TF IF DF OF IOPL NT AC ID. */
#define CMP_FLAGS 0x247fd7ull

/* Number of differences between a and b (0: equal), described in out. */
int compare_results(const struct seq_code *c, const struct xresult *a, const char *an,
		    const struct xresult *b, const char *bn, char *out, size_t outlen);
/* Initial registers and the code, disassembled with Capstone. */
void print_sequence(FILE *f, const struct seq *s, const struct seq_code *c);
const char *reg_name64(int r);

#endif
