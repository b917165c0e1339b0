/*
 * hostref.h - helpers for the instruction-semantics suites (test_alu.c,
 * test_shift.c, test_muldiv.c, test_bit.c): run one handler on a hand-built
 * decoded record, and run the same instruction on the host CPU as the
 * reference.
 *
 * Handlers are called directly, not through the decoder: each test states
 * exactly which form it exercises (operand size, register or memory), and
 * the suites do not depend on decode.c.  hr_exec() sets c->unwind as
 * cpu_run() does, so a #DE or #GP raised inside a handler comes back as a
 * vector number.
 *
 * The host reference: these tests run on x86-64 hosts, and the same
 * instruction executed with inline assembly gives the true result and
 * RFLAGS.  Only the flags the SDM defines for that instruction are compared
 * (the host here is an AMD EPYC; undefined flags differ between vendors).
 * The asm moves RSP below the red zone before it pushes.
 */
#ifndef NESTLAB_HOSTREF_H
#define NESTLAB_HOSTREF_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "flags.h"
#include "insn.h"
#include "unit_util.h"

#define OP(name, map, byte, ext, pfx, flags) void op_##name(struct cpu *c, const struct insn *i);
#include "opcodes.def"
#undef OP

#define HR_DATA 0x200000ull           /* scratch data for memory operands */
#define HR_FLAGS_IN 0x202ull          /* IF and the fixed bit: what popfq keeps */

/* Run handler h on record i; returns the exception vector or -1. */
static inline int hr_exec(struct cpu *c, insn_handler_fn h, const struct insn *i)
{
	jmp_buf jb;
	c->unwind = &jb;
	c->exc_vector = -1;
	if (setjmp(jb)) {
		c->unwind = NULL;
		return c->exc_vector;
	}
	h(c, i);
	c->unwind = NULL;
	return -1;
}

/* Register form: reg = ModRM.reg, rm = ModRM.rm (register numbers). */
static inline struct insn hr_reg(int osize, int reg, int rm, uint64_t imm)
{
	struct insn i;
	memset(&i, 0, sizeof i);
	i.osize = (uint8_t)osize;
	i.asize = 8;
	i.mode = CPU_MODE64;
	i.seg = SEG_DS;
	i.reg = (uint8_t)reg;
	i.rm = (uint8_t)rm;
	i.base = i.index = REG_NONE;
	i.imm = imm;
	i.flags = I_REX;
	return i;
}

/* Memory form: [base + disp] (base REG_NONE: absolute disp). */
static inline struct insn hr_mem(int osize, int reg, int base, int32_t disp, uint64_t imm)
{
	struct insn i = hr_reg(osize, reg, 0, imm);
	i.flags |= I_MEM;
	i.base = (uint8_t)base;
	i.disp = disp;
	return i;
}

/* Boundary values for every operand size, then a fixed pseudo-random tail. */
static const uint64_t hr_edges[] = {
	0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x7fff, 0x8000,
	0x8001, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001,
	0xfffffffe, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
	0x8000000000000000ull, 0x8000000000000001ull, 0xfffffffffffffffeull,
	0xffffffffffffffffull, 0x0123456789abcdefull, 0xfedcba9876543210ull,
};
#define HR_NEDGES (sizeof hr_edges / sizeof hr_edges[0])
#define HR_NRAND 24

static inline uint64_t hr_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;   /* Knuth MMIX LCG */
	return *s ^ (*s >> 29);
}

/* The n-th test value: the edges, then HR_NRAND fixed pseudo-random ones. */
static inline uint64_t hr_value(unsigned n)
{
	if (n < HR_NEDGES)
		return hr_edges[n];
	uint64_t s = 0x9e3779b97f4a7c15ull * (n + 1);
	return hr_rand(&s);
}
#define HR_NVALUES (HR_NEDGES + HR_NRAND)

/* Compare result and flags; on a mismatch print the case once and fail. */
#define HR_CHECK(what, size, a, b, fin, got, want, gotf, wantf, fmask) do { \
	if ((got) != (want) || (((gotf) ^ (wantf)) & (fmask))) { \
		printf("\n  %s size %d a=%#llx b=%#llx flags_in=%#llx: got %#llx flags %#llx," \
		       " want %#llx flags %#llx (compared flags %#llx)\n", (what), (size), \
		       (unsigned long long)(a), (unsigned long long)(b), \
		       (unsigned long long)(fin), (unsigned long long)(got), \
		       (unsigned long long)(gotf), (unsigned long long)(want), \
		       (unsigned long long)(wantf), (unsigned long long)(fmask)); \
		CU_FAIL(what); \
		return; \
	} \
	CU_PASS(what); \
} while (0)

/* Host asm wrapper: set RFLAGS to fl, run `text`, read RFLAGS back into fl.
 * outs and ins are parenthesised operand lists: ([a] "+r"(a)), ([b] "r"(b)). */
#define HR_UNPAREN(...) __VA_ARGS__
#define HR_ASM(text, fl, outs, ins) \
	__asm__ volatile("sub $128, %%rsp\n\tpush %[fl]\n\tpopfq\n\t" text \
			 "\n\tpushfq\n\tpop %[fl]\n\tadd $128, %%rsp" \
			 : [fl] "+&r"(fl), HR_UNPAREN outs : HR_UNPAREN ins : "cc", "memory")

/* fn(size, a, b, &fl): run `mn b, a` (AT&T order: a is the destination) on
 * the host at operand size 2, 4 or 8, plus 1 when HR_BYTE(mn) is passed as
 * `byte` (leave it empty for instructions without a byte form). */
#define HR_BYTE(mn) \
	case 1: HR_ASM(mn "b %b[b], %b[a]", fl, ([a] "+q"(a)), ([b] "q"(b))); break;
#define HR_HOST2(fn, mn, byte) \
static uint64_t fn(int size, uint64_t a, uint64_t b, uint64_t *flp) \
{ \
	uint64_t fl = *flp; \
	switch (size) { \
	byte \
	case 2: HR_ASM(mn "w %w[b], %w[a]", fl, ([a] "+r"(a)), ([b] "r"(b))); break; \
	case 4: HR_ASM(mn "l %k[b], %k[a]", fl, ([a] "+r"(a)), ([b] "r"(b))); break; \
	default: HR_ASM(mn "q %q[b], %q[a]", fl, ([a] "+r"(a)), ([b] "r"(b))); break; \
	} \
	*flp = fl; \
	return a; \
}

/* The arithmetic flags a test compares. */
#define HR_ALL6  (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)
#define HR_NOAF  (HR_ALL6 & ~FLAG_AF)

#endif
