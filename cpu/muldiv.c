/*
 * muldiv.c - MUL, IMUL (one-, two- and three-operand forms), DIV and IDIV.
 *
 * The one-operand forms use the accumulator pair of the operand size
 * (SDM Vol. 2 "MUL", "DIV"):
 *
 *     size  multiplicand/dividend   product / quotient:remainder
 *       8   AL        / AX          AX          AL = quot, AH = rem
 *      16   AX        / DX:AX       DX:AX       AX = quot, DX = rem
 *      32   EAX       / EDX:EAX     EDX:EAX     (upper halves of RAX/RDX cleared)
 *      64   RAX       / RDX:RAX     RDX:RAX     (128-bit arithmetic)
 *
 * Flags: MUL and IMUL set CF = OF = "the upper half is significant" (for
 * MUL: not zero; for IMUL: not the sign extension of the lower half).  SF,
 * ZF, AF and PF are undefined; we take SF ZF PF from the low half of the
 * product and clear AF, as QEMU does.  DIV and IDIV leave every flag
 * undefined; we leave them unchanged.
 *
 * #DE (vector 0) on a zero divisor and on a quotient that does not fit the
 * destination, including INT_MIN / -1 for IDIV.  A fault is raised before
 * any register is written.
 */
#include "flags.h"
#include "mem.h"
#include "opsize.h"

typedef unsigned __int128 u128;
typedef __int128 s128;


/* Store a double-width value into the accumulator pair of `size`. */
static inline void acc_pair_write(struct cpu *c, int size, uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		reg_write(c, R_RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
	} else {
		reg_write(c, R_RAX, size, lo);
		reg_write(c, R_RDX, size, hi);
	}
}

/* The dividend of `size` as a 128-bit value (AX, DX:AX, EDX:EAX, RDX:RAX). */
static inline u128 acc_pair_read(const struct cpu *c, int size)
{
	if (size == 1)
		return (uint16_t)c->gpr[R_RAX];
	int bits = size * 8;
	return ((u128)reg_read(c, R_RDX, size) << bits) | reg_read(c, R_RAX, size);
}

/* ---- MUL / IMUL, one operand --------------------------------------------- */

static inline void mul1(struct cpu *c, int size, uint64_t src, bool sign)
{
	int bits = size * 8;
	uint64_t a = reg_read(c, R_RAX, size);
	u128 p;
	bool big;
	if (sign) {
		s128 sp = (s128)(int64_t)sext_size(a, size) * (int64_t)sext_size(src, size);
		p = (u128)sp;
		big = sp != (int64_t)sext_size((uint64_t)sp, size);
	} else {
		p = (u128)a * src;
		big = (p >> bits) != 0;
	}
	uint64_t lo = (uint64_t)p & size_mask(size);
	uint64_t hi = (uint64_t)(p >> bits) & size_mask(size);
	acc_pair_write(c, size, lo, hi);
	lf_explicit(c, lo, size, big, big, false);
}

void op_mul_Eb(struct cpu *c, const struct insn *i) { mul1(c, 1, read_E(c, i, 1), false); }
void op_imul_Eb(struct cpu *c, const struct insn *i) { mul1(c, 1, read_E(c, i, 1), true); }
void op_mul_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, mul1(c, SZ, read_E(c, i, SZ), false)); }
void op_imul_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, mul1(c, SZ, read_E(c, i, SZ), true)); }

/* ---- IMUL Gv, Ev [, imm]: truncated signed product into Gv ---------------- */

static inline void imul2(struct cpu *c, const struct insn *i, int size, uint64_t b)
{
	int64_t a = (int64_t)sext_size(read_E(c, i, size), size);
	s128 p = (s128)a * (int64_t)sext_size(b, size);
	bool big = p != (int64_t)sext_size((uint64_t)p, size);
	reg_write(c, i->reg, size, (uint64_t)p);
	lf_explicit(c, (uint64_t)p, size, big, big, false);
}

void op_imul_Gv_Ev(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, imul2(c, i, SZ, reg_read(c, i->reg, SZ))); }
void op_imul_Gv_Ev_Iz(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, imul2(c, i, SZ, IMMZ(i))); }
void op_imul_Gv_Ev_Ib(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, imul2(c, i, SZ, IMM8(i))); }

/* ---- DIV / IDIV ------------------------------------------------------------ */

static inline void div1(struct cpu *c, int size, uint64_t d)
{
	int bits = size * 8;
	if (d == 0)
		cpu_exception_noerr(c, VEC_DE);
	u128 n = acc_pair_read(c, size);
	u128 q = n / d;
	if (q >> bits)
		cpu_exception_noerr(c, VEC_DE);
	acc_pair_write(c, size, (uint64_t)q, (uint64_t)(n % d));
}

static inline void idiv1(struct cpu *c, int size, uint64_t dv)
{
	int bits = size * 8;
	int64_t d = (int64_t)sext_size(dv, size);
	if (d == 0)
		cpu_exception_noerr(c, VEC_DE);
	u128 un = acc_pair_read(c, size);
	/* Sign-extend the 2*bits-wide dividend to 128 bits. */
	s128 n = (s128)(un << (128 - 2 * bits)) >> (128 - 2 * bits);
	/* The one quotient C cannot form: -2^127 / -1.  It does not fit any
	 * destination, so it is #DE like every other overflow. */
	if (d == -1 && n == (s128)((u128)1 << 127))
		cpu_exception_noerr(c, VEC_DE);
	s128 q = n / d, r = n % d;
	if (q != (int64_t)sext_size((uint64_t)q, size))
		cpu_exception_noerr(c, VEC_DE);
	acc_pair_write(c, size, (uint64_t)q, (uint64_t)r);
}

void op_div_Eb(struct cpu *c, const struct insn *i) { div1(c, 1, read_E(c, i, 1)); }
void op_idiv_Eb(struct cpu *c, const struct insn *i) { idiv1(c, 1, read_E(c, i, 1)); }
void op_div_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, div1(c, SZ, read_E(c, i, SZ))); }
void op_idiv_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, idiv1(c, SZ, read_E(c, i, SZ))); }
