/*
 * bit.c - single-bit instructions (BT BTS BTR BTC) and bit scans (BSF BSR,
 * TZCNT LZCNT, POPCNT).
 *
 * BT and friends with a register bit offset and a memory operand address a
 * bit string, not just the operand (SDM Vol. 2 "BT", Table 3-2 "Range of
 * Bit Positions"): the offset is a SIGNED number of the operand size, so
 *
 *     bt dword [rbx], eax      with EAX = -1  tests bit 31 of [rbx - 4]
 *                              with EAX = 35  tests bit 3 of [rbx + 4]
 *
 *     address = EA + (offset >> log2(bits)) * (bits / 8)    (arithmetic >>)
 *     bit     = offset & (bits - 1)
 *
 * computed at the address size like any effective address.  With a register
 * operand, or an immediate offset, the offset is taken modulo the operand
 * size.  We access the operand-size unit that holds the bit.
 *
 * Flags: BT* set CF to the selected bit; ZF is unchanged; OF SF AF PF are
 * undefined and we leave them unchanged.  The bit scans are described at
 * their handlers.
 */
#include "flags.h"
#include "mem.h"
#include "opsize.h"

enum bt_kind { B_BT, B_BTS, B_BTR, B_BTC };

static inline uint64_t bt_apply(int k, uint64_t v, uint64_t mask)
{
	switch (k) {
	case B_BTS: return v | mask;
	case B_BTR: return v & ~mask;
	case B_BTC: return v ^ mask;
	default:    return v;
	}
}

static inline void bt_set_cf(struct cpu *c, uint64_t v, uint64_t mask)
{
	cpu_flags_update(c, FLAG_CF, (v & mask) ? FLAG_CF : 0);
}

/* Register operand, or memory with the offset already reduced (Ib forms). */
static inline void bt_in_operand(struct cpu *c, const struct insn *i, int k, int size, uint64_t bit)
{
	uint64_t mask = 1ull << (bit & (uint64_t)(size * 8 - 1));
	if (!(i->flags & I_MEM)) {
		uint64_t v = reg_read(c, i->rm, size);
		if (k != B_BT)
			reg_write(c, i->rm, size, bt_apply(k, v, mask));
		bt_set_cf(c, v, mask);
		return;
	}
	uint64_t lin = insn_lin_chk(c, i, size, k != B_BT);
	uint64_t v = mem_read(c, lin, size);
	if (k != B_BT)
		mem_write(c, lin, size, bt_apply(k, v, mask));
	bt_set_cf(c, v, mask);
}

/* Ev, Gv: memory operands take the signed offset as a bit-string index. */
static inline void bt_Gv(struct cpu *c, const struct insn *i, int k, int size)
{
	uint64_t off = reg_read(c, i->reg, size);
	if (!(i->flags & I_MEM)) {
		bt_in_operand(c, i, k, size, off);
		return;
	}
	int shift = size == 8 ? 6 : size == 4 ? 5 : 4;        /* log2(bits) */
	int64_t unit = (int64_t)sext_size(off, size) >> shift;  /* floor division */
	uint64_t ea = cpu_ea(c, i) + (uint64_t)unit * (uint64_t)size;
	if (i->asize == 4)
		ea = (uint32_t)ea;
	else if (i->asize == 2)
		ea = (uint16_t)ea;
	uint64_t lin = seg_linear(c, i->seg, ea, size, k != B_BT);
	uint64_t mask = 1ull << (off & (uint64_t)(size * 8 - 1));
	uint64_t v = mem_read(c, lin, size);
	if (k != B_BT)
		mem_write(c, lin, size, bt_apply(k, v, mask));
	bt_set_cf(c, v, mask);
}

void op_bt_Ev_Gv(struct cpu *c, const struct insn *i)  { BY_OSIZE(i, bt_Gv(c, i, B_BT, SZ)); }
void op_bts_Ev_Gv(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bt_Gv(c, i, B_BTS, SZ)); }
void op_btr_Ev_Gv(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bt_Gv(c, i, B_BTR, SZ)); }
void op_btc_Ev_Gv(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bt_Gv(c, i, B_BTC, SZ)); }
/* 0F BA /4-/7 Ib: the immediate is taken modulo the operand size. */
void op_bt_Ev_Ib(struct cpu *c, const struct insn *i)  { BY_OSIZE(i, bt_in_operand(c, i, B_BT, SZ, i->imm)); }
void op_bts_Ev_Ib(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bt_in_operand(c, i, B_BTS, SZ, i->imm)); }
void op_btr_Ev_Ib(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bt_in_operand(c, i, B_BTR, SZ, i->imm)); }
void op_btc_Ev_Ib(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bt_in_operand(c, i, B_BTC, SZ, i->imm)); }

/*
 * BSF/BSR: index of the lowest/highest set bit.  A zero source sets ZF and
 * leaves the destination unchanged (AMD APM documents it; Intel says
 * "undefined" but its processors do the same).  We do not write the
 * destination at all then, so a 32-bit destination keeps its upper half:
 * that is what AMD processors do (checked on the host, an AMD EPYC).  Intel
 * processors and QEMU clear the upper half there, so the differential tests
 * must not compare RAX after BSF/BSR r32 of zero.  Only ZF is defined; we set
 * SF and PF from the source and clear CF OF AF (QEMU's values).
 */
static inline void bit_scan(struct cpu *c, const struct insn *i, int size, bool reverse)
{
	uint64_t s = read_E(c, i, size);
	if (s)
		reg_write(c, i->reg, size, reverse ? 63 - __builtin_clzll(s) : __builtin_ctzll(s));
	lf_logic(c, s, size);
}

void op_bsf_Gv_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bit_scan(c, i, SZ, false)); }
void op_bsr_Gv_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, bit_scan(c, i, SZ, true)); }

/*
 * TZCNT/LZCNT (F3 0F BC/BD): the count of trailing/leading zero bits, the
 * operand size when the source is 0.  CF = (source == 0), ZF = (result ==
 * 0); OF SF AF PF undefined: we clear them.
 */
static inline void zero_count(struct cpu *c, const struct insn *i, int size, bool leading)
{
	int bits = size * 8;
	uint64_t s = read_E(c, i, size);
	uint64_t n = !s ? (uint64_t)bits
		   : leading ? (uint64_t)(__builtin_clzll(s) - (64 - bits))
			     : (uint64_t)__builtin_ctzll(s);
	reg_write(c, i->reg, size, n);
	cpu_flags_update(c, FLAGS_ARITH, (s ? 0 : FLAG_CF) | (n ? 0 : FLAG_ZF));
}

void op_tzcnt_Gv_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, zero_count(c, i, SZ, false)); }
void op_lzcnt_Gv_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, zero_count(c, i, SZ, true)); }

/* POPCNT (F3 0F B8): ZF = (source == 0), OF SF AF CF PF cleared (SDM). */
static inline void pop_count(struct cpu *c, const struct insn *i, int size)
{
	uint64_t s = read_E(c, i, size);
	reg_write(c, i->reg, size, (uint64_t)__builtin_popcountll(s));
	cpu_flags_update(c, FLAGS_ARITH, s ? 0 : FLAG_ZF);
}

void op_popcnt_Gv_Ev(struct cpu *c, const struct insn *i) { BY_OSIZE(i, pop_count(c, i, SZ)); }
