/*
 * names.c - the names a student reads in nestlab's own messages: exception
 * vectors by their mnemonic (SDM Vol. 3 Table 6-1, the names nesthv's panic
 * dump uses too).  Numbers follow one rule everywhere: addresses, vectors,
 * ports and MSRs in hex with 0x, counts in decimal.
 */
#include <stdio.h>

#include "names.h"

#define EXC_NAMES(X) \
	X(0x00, "#DE", "divide error")         X(0x01, "#DB", "debug") \
	X(0x02, "NMI", "non-maskable interrupt") X(0x03, "#BP", "breakpoint") \
	X(0x04, "#OF", "overflow")             X(0x05, "#BR", "BOUND range exceeded") \
	X(0x06, "#UD", "invalid opcode")       X(0x07, "#NM", "device not available") \
	X(0x08, "#DF", "double fault")         X(0x0a, "#TS", "invalid TSS") \
	X(0x0b, "#NP", "segment not present")  X(0x0c, "#SS", "stack-segment fault") \
	X(0x0d, "#GP", "general protection")   X(0x0e, "#PF", "page fault") \
	X(0x10, "#MF", "x87 floating-point error") X(0x11, "#AC", "alignment check") \
	X(0x12, "#MC", "machine check")        X(0x13, "#XM", "SIMD floating-point") \
	X(0x14, "#VE", "virtualization exception") X(0x15, "#CP", "control protection")

const char *ui_exc_mnemonic(int vector)
{
	switch (vector) {
#define X(v, m, d) case v: return m;
	EXC_NAMES(X)
#undef X
	}
	return NULL;
}

const char *ui_exc_describe(int vector, char *buf, size_t n)
{
	switch (vector) {
#define X(v, m, d) case v: snprintf(buf, n, "%s %s (vector 0x%x)", m, d, v); return buf;
	EXC_NAMES(X)
#undef X
	}
	snprintf(buf, n, "vector 0x%x", (unsigned)vector);
	return buf;
}
