/*
 * snippet.h - helpers for the suites that run real instruction bytes
 * through the decoder and the run loop (test_move.c, test_stack.c,
 * test_control.c, test_string.c, test_system.c).
 *
 * A snippet is copied to UT_CODE with a HLT appended and run at CPL 0 until
 * the HLT (or an exception: ut_cpu() sets exceptions_stop).  Data lives at
 * SN_DATA; the stack at 3 MiB (ut_cpu).  Helpers switch the CPU into 32- or
 * 16-bit code with a flat 4 GiB segment set, which is all the instruction
 * core needs (descriptor loads arrive with the system-mode work).
 */
#ifndef NESTLAB_SNIPPET_H
#define NESTLAB_SNIPPET_H

#include <string.h>

#include "flags.h"
#include "unit_util.h"

#define SN_DATA 0x200000ull

/* A fresh flat 64-bit CPU at CPL 0 (HLT is privileged). */
static inline struct cpu *sn_cpu(void)
{
	struct cpu *c = ut_cpu();
	c->cpl = 0;
	return c;
}

/* 32-bit (or 16-bit) code, flat segments; the stack is 32-bit when
 * stack32, else 16-bit (SS.B, attr bit 14). */
static inline void sn_mode(struct cpu *c, enum cpu_mode m, bool stack32)
{
	c->efer = 0;
	for (int s = 0; s < 6; s++)
		c->seg[s].attr = 0x93 | (m == CPU_MODE32 ? 0x4000 : 0);
	c->seg[SEG_CS].attr = 0x9b | (m == CPU_MODE32 ? 0x4000 : 0);
	c->seg[SEG_SS].attr = (uint16_t)(0x93 | (stack32 ? 0x4000 : 0));
	cpu_set_mode(c, m);
}

/* Run `code` followed by HLT; returns how the run stopped. */
static inline enum cpu_stop sn_run(struct cpu *c, const uint8_t *code, size_t len)
{
	uint8_t buf[512];
	if (len + 1 > sizeof buf)
		return CPU_STOP_ERROR;
	memcpy(buf, code, len);
	buf[len] = 0xf4;
	c->halted = false;
	return ut_run(c, buf, len + 1, 100000);
}
#define SN_RUN(c, code) sn_run((c), (code), sizeof(code))

/* Real mode: code at UT_CODE = CS:0 with CS = UT_CODE >> 4, flags 0x2. */
static inline enum cpu_stop sn_run_real(struct cpu *c, const uint8_t *code, size_t len)
{
	sn_mode(c, CPU_MODE16, false);
	c->cr0 = 0;
	c->seg[SEG_CS].sel = (uint16_t)(UT_CODE >> 4);
	c->seg[SEG_CS].base = UT_CODE;
	c->seg[SEG_CS].limit = 0xffff;
	uint8_t buf[512];
	if (len + 1 > sizeof buf)
		return CPU_STOP_ERROR;
	memcpy(buf, code, len);
	buf[len] = 0xf4;
	cpu_phys_write(c, UT_CODE, buf, len + 1);
	c->rip = 0;
	c->halted = false;
	return cpu_run(c, 100000);
}

/* Guest memory, little-endian. */
static inline uint64_t sn_peek(struct cpu *c, uint64_t pa, int size)
{
	uint64_t v = 0;
	cpu_phys_read(c, pa, &v, (size_t)size);
	return v;
}
static inline void sn_poke(struct cpu *c, uint64_t pa, int size, uint64_t v)
{
	cpu_phys_write(c, pa, &v, (size_t)size);
}

/* Address of the byte after the snippet (where the appended HLT is). */
#define SN_END(code) (UT_CODE + sizeof(code))

#endif
