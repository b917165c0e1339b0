/*
 * alu.c - the integer ALU: ADD OR ADC SBB AND SUB XOR CMP in their ten
 * encodings each, TEST, INC/DEC, NOT/NEG, and the BCD adjusts
 * (DAA DAS AAA AAS AAM AAD) with SALC.
 *
 * Every two-operand form funnels into one helper, alu_rm() (destination is
 * the ModRM r/m operand) or alu_reg() (destination is a register), with the
 * operation as a compile-time constant, so the compiler folds the
 * `switch (k)` away and each handler is a few instructions:
 *
 *     00-3F   op Eb,Gb | op Ev,Gv | op Gb,Eb | op Gv,Ev | op AL,Ib | op rAX,Iz
 *     80-83   op Eb,Ib | op Ev,Iz | op Eb,Ib (82, not in 64-bit) | op Ev,Ib
 *              (group 1: ModRM.reg selects the operation, decode.c did that)
 *
 * Flags are lazy (flags.h): ADD/ADC and SUB/SBB/CMP store the result and the
 * operands' carry-out vector; the logical operations store the result and
 * CF = OF = 0 (SDM Vol. 2 "AND": "The OF and CF flags are cleared; the SF,
 * ZF, and PF flags are set according to the result. The state of the AF
 * flag is undefined" - we give AF = 0, as QEMU and Bochs do).
 *
 * Memory destinations follow the rule of cpu.h: read, compute, write, and
 * only then touch flags or registers, so a faulting write leaves the
 * architectural state as it was (SDM Vol. 3 6.5, faults are restartable).
 */
#include "flags.h"
#include "mem.h"
#include "opsize.h"

enum alu_kind { K_ADD, K_OR, K_ADC, K_SBB, K_AND, K_SUB, K_XOR, K_CMP, K_TEST };

/* The result (unmasked: callers truncate when they store). */
OP_INLINE uint64_t alu_calc(const struct cpu *c, int k, uint64_t a, uint64_t b)
{
	switch (k) {
	case K_ADD: return a + b;
	case K_OR:  return a | b;
	case K_ADC: return a + b + cpu_cf(c);
	case K_SBB: return a - b - cpu_cf(c);
	case K_SUB:
	case K_CMP: return a - b;
	case K_XOR: return a ^ b;
	default:    return a & b;             /* AND, TEST */
	}
}

/* Flags of the operation.  The carry-out-vector formulas of lf_add/lf_sub
 * hold with a carry (borrow) in as well, because r already contains it. */
OP_INLINE void alu_flags(struct cpu *c, int k, uint64_t a, uint64_t b, uint64_t r, int size)
{
	switch (k) {
	case K_ADD:
	case K_ADC: lf_add(c, a, b, r, size); break;
	case K_SUB:
	case K_SBB:
	case K_CMP: lf_sub(c, a, b, r, size); break;
	default:    lf_logic(c, r, size); break;
	}
}

/* CMP and TEST only set flags: no write, so no zero-extension either. */
OP_INLINE bool alu_writes(int k)
{
	return k != K_CMP && k != K_TEST;
}

/* r/m = r/m op b, memory operand: one linear address for the read and the
 * write; flags only after the write, which may fault. */
OP_OUTLINE void alu_mem(struct cpu *c, const struct insn *i, int k, int size, uint64_t b)
{
	uint64_t lin = insn_lin_chk(c, i, size, alu_writes(k));
	uint64_t a = mem_read(c, lin, size);
	uint64_t r = alu_calc(c, k, a, b);
	if (alu_writes(k))
		mem_write(c, lin, size, r);
	alu_flags(c, k, a, b, r, size);
}

/* reg = reg op b: the G destination, the AL/rAX forms, and register r/m. */
OP_INLINE void alu_reg(struct cpu *c, int reg, int k, int size, uint64_t b)
{
	uint64_t a = reg_read(c, reg, size);
	uint64_t r = alu_calc(c, k, a, b);
	if (alu_writes(k))
		reg_write(c, reg, size, r);
	alu_flags(c, k, a, b, r, size);
}

OP_INLINE void alu_rm(struct cpu *c, const struct insn *i, int k, int size, uint64_t b)
{
	if (likely(!(i->flags & I_MEM)))
		alu_reg(c, i->rm, k, size, b);
	else
		alu_mem(c, i, k, size, b);
}

/* The E operand as a source, the memory read kept out of line. */
OP_OUTLINE uint64_t src_mem(struct cpu *c, const struct insn *i, int size)
{
	return mem_read(c, insn_lin_chk(c, i, size, false), size);
}

OP_INLINE uint64_t src_E(struct cpu *c, const struct insn *i, int size)
{
	return likely(!(i->flags & I_MEM)) ? reg_read(c, i->rm, size) : src_mem(c, i, size);
}

#define MASK(v, sz) ((v) & size_mask(sz))

#define ALU_HANDLERS(name, k) \
void op_##name##_Eb_Gb(struct cpu *c, const struct insn *i) \
{ alu_rm(c, i, k, 1, reg_read(c, i->reg, 1)); } \
void op_##name##_Ev_Gv(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, alu_rm(c, i, k, SZ, reg_read(c, i->reg, SZ))); } \
void op_##name##_Gb_Eb(struct cpu *c, const struct insn *i) \
{ alu_reg(c, i->reg, k, 1, src_E(c, i, 1)); } \
void op_##name##_Gv_Ev(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, alu_reg(c, i->reg, k, SZ, src_E(c, i, SZ))); } \
void op_##name##_AL_Ib(struct cpu *c, const struct insn *i) \
{ alu_reg(c, R_RAX, k, 1, MASK(i->imm, 1)); } \
void op_##name##_rAX_Iz(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, alu_reg(c, R_RAX, k, SZ, MASK(IMMZ(i), SZ))); } \
void op_##name##_Eb_Ib(struct cpu *c, const struct insn *i) \
{ alu_rm(c, i, k, 1, MASK(i->imm, 1)); } \
void op_##name##_Eb_Ib_82(struct cpu *c, const struct insn *i) \
{ alu_rm(c, i, k, 1, MASK(i->imm, 1)); } \
void op_##name##_Ev_Iz(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, alu_rm(c, i, k, SZ, MASK(IMMZ(i), SZ))); } \
void op_##name##_Ev_Ib(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, alu_rm(c, i, k, SZ, MASK(IMM8(i), SZ))); }

ALU_HANDLERS(add, K_ADD)
ALU_HANDLERS(or,  K_OR)
ALU_HANDLERS(adc, K_ADC)
ALU_HANDLERS(sbb, K_SBB)
ALU_HANDLERS(and, K_AND)
ALU_HANDLERS(sub, K_SUB)
ALU_HANDLERS(xor, K_XOR)
ALU_HANDLERS(cmp, K_CMP)

/* ---- TEST (84, 85, A8, A9, F6 /0 /1, F7 /0 /1): AND without the write --- */

void op_test_Eb_Gb(struct cpu *c, const struct insn *i)
{ alu_rm(c, i, K_TEST, 1, reg_read(c, i->reg, 1)); }
void op_test_Ev_Gv(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, alu_rm(c, i, K_TEST, SZ, reg_read(c, i->reg, SZ))); }
void op_test_AL_Ib(struct cpu *c, const struct insn *i)
{ alu_reg(c, R_RAX, K_TEST, 1, MASK(i->imm, 1)); }
void op_test_rAX_Iz(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, alu_reg(c, R_RAX, K_TEST, SZ, MASK(IMMZ(i), SZ))); }
void op_test_Eb_Ib(struct cpu *c, const struct insn *i)
{ alu_rm(c, i, K_TEST, 1, MASK(i->imm, 1)); }
/* F6 /1 and F7 /1: undocumented aliases of /0 that every x86 executes. */
void op_test_Eb_Ib_1(struct cpu *c, const struct insn *i)
{ alu_rm(c, i, K_TEST, 1, MASK(i->imm, 1)); }
void op_test_Ev_Iz(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, alu_rm(c, i, K_TEST, SZ, MASK(IMMZ(i), SZ))); }
void op_test_Ev_Iz_1(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, alu_rm(c, i, K_TEST, SZ, MASK(IMMZ(i), SZ))); }

/* ---- INC, DEC: flags as ADD/SUB 1, but CF is preserved (SDM "INC") ------- */

OP_INLINE void incdec_flags(struct cpu *c, uint64_t a, uint64_t r, int size, bool dec)
{
	uint64_t cf = cpu_cf(c);
	if (dec)
		lf_sub(c, a, 1, r, size);
	else
		lf_add(c, a, 1, r, size);
	/* aux holds CF in bit 63 and CF^OF in bit 62: flipping both together
	 * replaces CF with the old one and keeps OF. */
	if ((c->lf.aux >> 63) != cf)
		c->lf.aux ^= 3ull << 62;
}

OP_OUTLINE void incdec_mem(struct cpu *c, const struct insn *i, int size, bool dec)
{
	uint64_t lin = insn_lin_chk(c, i, size, true);
	uint64_t a = mem_read(c, lin, size);
	uint64_t r = dec ? a - 1 : a + 1;
	mem_write(c, lin, size, r);
	incdec_flags(c, a, r, size, dec);
}

OP_INLINE void incdec_reg(struct cpu *c, int reg, int size, bool dec)
{
	uint64_t a = reg_read(c, reg, size);
	uint64_t r = dec ? a - 1 : a + 1;
	reg_write(c, reg, size, r);
	incdec_flags(c, a, r, size, dec);
}

OP_INLINE void incdec_rm(struct cpu *c, const struct insn *i, int size, bool dec)
{
	if (likely(!(i->flags & I_MEM)))
		incdec_reg(c, i->rm, size, dec);
	else
		incdec_mem(c, i, size, dec);
}

void op_inc_Eb(struct cpu *c, const struct insn *i) { incdec_rm(c, i, 1, false); }
void op_dec_Eb(struct cpu *c, const struct insn *i) { incdec_rm(c, i, 1, true); }
void op_inc_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, incdec_rm(c, i, SZ, false)); }
void op_dec_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, incdec_rm(c, i, SZ, true)); }
/* 40+r / 48+r (outside 64-bit mode, where they are REX). */
void op_inc_Zv(struct cpu *c, const struct insn *i) { BY_OSIZE(i, incdec_reg(c, i->reg, SZ, false)); }
void op_dec_Zv(struct cpu *c, const struct insn *i) { BY_OSIZE(i, incdec_reg(c, i->reg, SZ, true)); }

/* ---- NOT (no flags), NEG (flags of 0 - src; CF = src != 0) ----------------- */

OP_OUTLINE void notneg_mem(struct cpu *c, const struct insn *i, int size, bool neg)
{
	uint64_t lin = insn_lin_chk(c, i, size, true);
	uint64_t a = mem_read(c, lin, size);
	uint64_t r = neg ? 0 - a : ~a;
	mem_write(c, lin, size, r);
	if (neg)
		lf_sub(c, 0, a, r, size);
}

OP_INLINE void notneg_rm(struct cpu *c, const struct insn *i, int size, bool neg)
{
	if (unlikely(i->flags & I_MEM)) {
		notneg_mem(c, i, size, neg);
		return;
	}
	uint64_t a = reg_read(c, i->rm, size);
	uint64_t r = neg ? 0 - a : ~a;
	reg_write(c, i->rm, size, r);
	if (neg)
		lf_sub(c, 0, a, r, size);
}

void op_not_Eb(struct cpu *c, const struct insn *i) { notneg_rm(c, i, 1, false); }
void op_not_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, notneg_rm(c, i, SZ, false)); }
void op_neg_Eb(struct cpu *c, const struct insn *i) { notneg_rm(c, i, 1, true); }
void op_neg_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, notneg_rm(c, i, SZ, true)); }

/* ---- BCD adjusts (not valid in 64-bit mode: the decoder gives #UD) --------- */

/* DAA/DAS, SDM Vol. 2 pseudocode.  OF is undefined; we clear it (QEMU does). */
static void decimal_adjust(struct cpu *c, bool sub)
{
	unsigned al = (uint8_t)c->gpr[R_RAX], old_al = al;
	bool old_cf = cpu_cf(c), cf = false, af = false;
	if ((al & 0x0f) > 9 || cpu_af(c)) {
		cf = old_cf || (sub ? al < 6 : al > 0xf9);   /* carry/borrow of +-6 */
		al = (al + (sub ? -6u : 6u)) & 0xff;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		al = (al + (sub ? -0x60u : 0x60u)) & 0xff;
		cf = true;
	} else if (!sub) {
		cf = false;          /* DAA has "ELSE CF <- 0"; DAS keeps the first CF */
	}
	reg_write(c, R_RAX, 1, al);
	lf_explicit(c, al, 1, cf, false, af);
}

void op_daa(struct cpu *c, const struct insn *i) { (void)i; decimal_adjust(c, false); }
void op_das(struct cpu *c, const struct insn *i) { (void)i; decimal_adjust(c, true); }

/* AAA/AAS: AX +- 106h on adjust (current SDM wording: the carry out of AL
 * reaches AH).  Only CF and AF are defined; OF SF ZF PF are left as they were. */
static void ascii_adjust(struct cpu *c, bool sub)
{
	uint64_t ax = (uint16_t)c->gpr[R_RAX];
	bool adj = (ax & 0x0f) > 9 || cpu_af(c);
	if (adj)
		ax = sub ? ax - 6 - 0x100 : ax + 0x106;
	ax = (ax & 0xff0f);
	reg_write(c, R_RAX, 2, ax);
	cpu_flags_update(c, FLAG_CF | FLAG_AF, adj ? FLAG_CF | FLAG_AF : 0);
}

void op_aaa(struct cpu *c, const struct insn *i) { (void)i; ascii_adjust(c, false); }
void op_aas(struct cpu *c, const struct insn *i) { (void)i; ascii_adjust(c, true); }

/* AAM imm8: AH = AL / imm8, AL = AL % imm8; #DE when imm8 is 0.  SF ZF PF
 * from AL; OF AF CF undefined (we clear them, as QEMU does). */
void op_aam_Ib(struct cpu *c, const struct insn *i)
{
	unsigned base = (uint8_t)i->imm, al = (uint8_t)c->gpr[R_RAX];
	if (base == 0)
		cpu_exception_noerr(c, VEC_DE);
	unsigned r = ((al / base) << 8) | (al % base);
	reg_write(c, R_RAX, 2, r);
	lf_logic(c, r & 0xff, 1);
}

/* AAD imm8: AL = (AL + AH * imm8) & FFh, AH = 0; flags as AAM. */
void op_aad_Ib(struct cpu *c, const struct insn *i)
{
	unsigned ax = (uint16_t)c->gpr[R_RAX];
	unsigned al = ((ax & 0xff) + (ax >> 8) * (uint8_t)i->imm) & 0xff;
	reg_write(c, R_RAX, 2, al);
	lf_logic(c, al, 1);
}

/* SALC (D6, undocumented by Intel, documented by AMD as invalid in 64-bit
 * mode): AL = CF ? FFh : 00h, no flags changed. */
void op_salc(struct cpu *c, const struct insn *i)
{
	(void)i;
	reg_write(c, R_RAX, 1, cpu_cf(c) ? 0xff : 0);
}
