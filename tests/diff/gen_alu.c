/*
 * gen_alu.c - generators for MOV, the ALU (ADD..CMP, TEST), INC/DEC/NEG/
 * NOT, shifts and rotates, SHLD/SHRD, and LOCK misuse.  (gen_data.c has
 * MUL/DIV, bit scans and the moves; gen_bits.c bit tests, exchanges, flag
 * instructions and NOPs.)
 *
 * Each generator states the flags its instruction reads, defines and leaves
 * undefined, from the "Flags Affected" section of the instruction's page in
 * SDM Vol. 2.  Where that depends on a count, the count is an immediate or
 * is loaded into CL by a MOV in the same item, so it is known here.
 *
 * Undefined RESULTS are avoided, not masked (SDM Vol. 2):
 *   - SHLD/SHRD 16-bit with a masked count above 16: result undefined;
 *     counts are kept to 0..16.
 */
#include "gen_int.h"

#define FL_LOGIC_DEF (FL_ALL & ~FL_AF)

bool gen_mov(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true), form = (int)gr(g, 5);
	enc_init(&r);
	noise(g, &r);
	switch (form) {
	case 0: /* 88/89 E, G */
		pick_E(g, it, &e, size, true);
		set_size(&r, size);
		opc(&r, 1, size == 1 ? 0x88 : 0x89, 0);
		modrm(&r, pick_reg_sz(g, size), true, size, &e);
		break;
	case 1: /* 8A/8B G, E */
		pick_E(g, it, &e, size, false);
		set_size(&r, size);
		opc(&r, 1, size == 1 ? 0x8a : 0x8b, 0);
		modrm(&r, pick_wreg_sz(g, size), true, size, &e);
		break;
	case 2: /* C6/C7 /0 E, imm */
		pick_E(g, it, &e, size, true);
		set_size(&r, size);
		opc(&r, 1, size == 1 ? 0xc6 : 0xc7, 0);
		modrm(&r, 0, false, size, &e);
		imm_z(g, &r, size);
		break;
	case 3: /* B0+r / B8+r imm8/16/32/64 */
		set_size(&r, size);
		opc(&r, 1, size == 1 ? 0xb0 : 0xb8, 0);
		r.oreg = pick_wreg_sz(g, size);
		r.oreg_byte = size == 1;
		r.immsz = size;
		r.imm = gen_value(g, size);
		break;
	default: { /* A0-A3 moffs: MOV AL/AX/EAX/RAX <-> [abs] */
		int off = 64 + (int)gr(g, SEQ_PAGE - 128);
		bool store = gchance(g, 2);
		set_size(&r, size);
		opc(&r, 1, (uint8_t)((store ? 0xa2 : 0xa0) + (size != 1)), 0);
		r.immsz = 8;
		r.imm = SEQ_DATA + (uint64_t)off;
		if (gchance(g, 4)) {
			add_pfx(&r, 0x67);          /* 32-bit moffs */
			r.immsz = 4;
		}
		break;
	}
	}
	return emit(it, &r, GC_mov, 0, 0, 0);
}

bool gen_definer(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, false);
	enc_init(&r);
	set_size(&r, size);
	pick_E(g, it, &e, size, false);
	if (gchance(g, 2)) {
		opc(&r, 1, 0x39, 0);                  /* CMP Ev, Gv */
		modrm(&r, pick_reg(g), true, size, &e);
	} else {
		opc(&r, 1, 0x83, 0);                  /* CMP Ev, Ib */
		modrm(&r, 7, false, size, &e);
		r.immsz = 1;
		r.imm = gen_value(g, 1);
	}
	return emit(it, &r, GC_alu, 0, FL_ALL, 0);
}

bool gen_alu(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int op = (int)gr(g, 9);           /* 0-7 ADD..CMP, 8 TEST */
	int size = pick_size(g, true), form = (int)gr(g, 5);
	bool logic = op == 1 || op == 4 || op == 6 || op == 8;
	bool writes = op != 7 && op != 8;
	uint16_t rd = (op == 2 || op == 3) ? FL_CF : 0;
	enc_init(&r);
	noise(g, &r);
	if (form == 4 && size == 1)
		form = 3;
	if (op == 8 && form >= 3)
		form = form == 3 ? 3 : 1;
	pick_E(g, it, &e, size, writes && form != 1);
	if (writes && form != 1 && form != 2)
		maybe_lock(g, &r, &e);
	set_size(&r, size);
	switch (form) {
	case 0: /* E, G */
		opc(&r, 1, op == 8 ? (uint8_t)(0x84 + (size != 1)) :
		    (uint8_t)(op * 8 + (size != 1)), 0);
		modrm(&r, pick_reg_sz(g, size), true, size, &e);
		break;
	case 1: /* G, E (TEST has only E, G: the same thing) */
		opc(&r, 1, op == 8 ? (uint8_t)(0x84 + (size != 1)) :
		    (uint8_t)(op * 8 + 2 + (size != 1)), 0);
		modrm(&r, writes ? pick_wreg_sz(g, size) : pick_reg_sz(g, size), true, size, &e);
		break;
	case 2: /* AL/rAX, imm */
		opc(&r, 1, op == 8 ? (uint8_t)(0xa8 + (size != 1)) :
		    (uint8_t)(op * 8 + 4 + (size != 1)), 0);
		imm_z(g, &r, size);
		break;
	case 3: /* 80/81 /op E, imm   (TEST: F6/F7 /0) */
		opc(&r, 1, op == 8 ? (uint8_t)(0xf6 + (size != 1)) : (uint8_t)(0x80 + (size != 1)), 0);
		/* TEST also answers to /1 (AMD documents it; Intel executes it;
		 * Unicorn 2.0.1 raises #UD: not generated for it) */
		modrm(&r, op == 8 ? (int)gr(g, g->o->for_unicorn ? 1 : 2) : op, false, size, &e);
		imm_z(g, &r, size);
		break;
	default: /* 83 /op E, imm8 sign-extended */
		opc(&r, 1, 0x83, 0);
		modrm(&r, op, false, size, &e);
		r.immsz = 1;
		r.imm = gen_value(g, 1);
		break;
	}
	return emit(it, &r, GC_alu, rd, logic ? FL_LOGIC_DEF : FL_ALL, logic ? FL_AF : 0);
}

/* LOCK where the SDM does not allow it raises #UD ("LOCK - Assert LOCK#
 * Signal Prefix": only ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B/16B DEC
 * INC NEG NOT OR SBB SUB XOR XADD XCHG, and only with a memory
 * destination).  Unicorn 2.0.1 executes these; native runs only. */
bool gen_badlock(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true), form = (int)gr(g, 5);
	enc_init(&r);
	add_pfx(&r, 0xf0);
	set_size(&r, size);
	switch (form) {
	case 0: /* CMP E, G / E, imm with a memory destination */
	case 1:
		pick_mem(g, it, &e, size, true);
		if (form == 0) {
			opc(&r, 1, (uint8_t)(0x38 + (size != 1)), 0);
			modrm(&r, pick_reg_sz(g, size), true, size, &e);
		} else {
			opc(&r, 1, (uint8_t)(0x80 + (size != 1)), 0);
			modrm(&r, 7, false, size, &e);
			imm_z(g, &r, size);
		}
		break;
	case 2: /* ADD/OR/... with a register destination */
		e = op_reg(pick_wreg_sz(g, size));
		opc(&r, 1, (uint8_t)(gr(g, 7) * 8 + (size != 1)), 0);
		modrm(&r, pick_reg_sz(g, size), true, size, &e);
		break;
	case 3: /* MOV to memory */
		pick_mem(g, it, &e, size, true);
		opc(&r, 1, size == 1 ? 0x88 : 0x89, 0);
		modrm(&r, pick_reg_sz(g, size), true, size, &e);
		break;
	default: /* TEST memory, imm */
		pick_mem(g, it, &e, size, true);
		opc(&r, 1, size == 1 ? 0xf6 : 0xf7, 0);
		modrm(&r, 0, false, size, &e);
		imm_z(g, &r, size);
		break;
	}
	/* flags as if it ran (it must not): CMP/ADD-like define all */
	if (!emit(it, &r, GC_badlock, 0, FL_ALL & ~FL_AF, FL_AF))
		return false;
	it->in[it->n - 1].may_fault = true;
	return true;
}

bool gen_unary(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int op = (int)gr(g, 4);          /* INC DEC NOT NEG */
	int size = pick_size(g, true);
	static const uint16_t def[4] = { FL_ALL & ~FL_CF, FL_ALL & ~FL_CF, 0, FL_ALL };
	enc_init(&r);
	noise(g, &r);
	pick_E(g, it, &e, size, true);
	if (op != 3 || !g->o->for_unicorn)       /* Unicorn: LOCK NEG (gen.c) */
		maybe_lock(g, &r, &e);
	set_size(&r, size);
	if (op < 2) {
		opc(&r, 1, size == 1 ? 0xfe : 0xff, 0);
		modrm(&r, op, false, size, &e);
	} else {
		opc(&r, 1, size == 1 ? 0xf6 : 0xf7, 0);
		modrm(&r, op, false, size, &e);
	}
	return emit(it, &r, GC_unary, 0, def[op], 0);
}

/* A count for a shift or rotate: mostly small, sometimes at and past the
 * operand width, sometimes with bits above the count mask. */
static int pick_count(struct gen *g, int size)
{
	switch (gr(g, 4)) {
	case 0: return (int)gr(g, 3);
	case 1: return (int)gr(g, (uint32_t)size * 8 + 3);
	case 2: return (int)gr(g, 256);
	default: return (int)gr(g, 9);
	}
}

/* Shift/rotate E by 1, CL or imm8 (D0/D1, D2/D3, C0/C1 /digit). */
static bool emit_grp2(struct gen *g, struct item *it, int digit, int size, int count,
		      int cls, uint16_t rd, uint16_t def, uint16_t undef)
{
	struct enc_req r;
	struct x86_op e;
	int form = count == 1 ? (int)gr(g, 3) : 1 + (int)gr(g, 2);
	enc_init(&r);
	noise(g, &r);
	if (form == 1 && !emit_mov_imm(g, it, 1, 1, (uint64_t)count))   /* mov cl, count */
		return false;
	pick_E(g, it, &e, size, true);
	if (e.kind == XOP_REG && e.reg == 1 && size == 1 && form == 1)
		e.reg = 0;                /* keep CL: the count is about CL */
	set_size(&r, size);
	opc(&r, 1, (uint8_t)((form == 0 ? 0xd0 : form == 1 ? 0xd2 : 0xc0) + (size != 1)), 0);
	modrm(&r, digit, false, size, &e);
	if (form == 2) {
		r.immsz = 1;
		r.imm = (uint64_t)count;
	}
	return emit(it, &r, cls, rd, def, undef);
}

bool gen_shift(struct gen *g, struct item *it)
{
	static const int digit[4] = { 4, 5, 7, 6 };   /* SHL SHR SAR, SAL alias /6 */
	int size = pick_size(g, true), k = (int)gr(g, 4);
	int count = pick_count(g, size);
	int masked = count & (size == 8 ? 0x3f : 0x1f);
	uint16_t def = 0, undef = 0;
	/* SDM SAL/SAR/SHL/SHR "Flags Affected": count 0 affects nothing; else
	 * SF ZF PF from the result, AF undefined, OF only for 1-bit shifts,
	 * CF undefined for SHL/SHR when the count >= the operand width. */
	if (masked) {
		def = FL_SF | FL_ZF | FL_PF | FL_CF;
		undef = FL_AF;
		if (masked == 1)
			def |= FL_OF;
		else
			undef |= FL_OF;
		if (digit[k] != 7 && masked >= size * 8) {
			def &= (uint16_t)~FL_CF;
			undef |= FL_CF;
		}
	}
	return emit_grp2(g, it, digit[k], size, count, GC_shift, 0, def, undef);
}

bool gen_rotate(struct gen *g, struct item *it)
{
	int digit = (int)gr(g, 4);        /* ROL ROR RCL RCR */
	int size = pick_size(g, true), count = pick_count(g, size);
	int masked = count & (size == 8 ? 0x3f : 0x1f);
	uint16_t rd = 0, def = 0, undef = 0;
	/* SDM RCL/RCR/ROL/ROR: a masked count of 0 affects no flags; CF takes
	 * the last bit rotated; OF is defined for a masked count of 1 only. */
	if (masked) {
		def = FL_CF;
		if (masked == 1)
			def |= FL_OF;
		else
			undef = FL_OF;
		if (digit >= 2)
			rd = FL_CF;
	}
	return emit_grp2(g, it, digit, size, count, GC_rotate, rd, def, undef);
}

bool gen_shd(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, false), right = (int)gr(g, 2), viacl = (int)gr(g, 2);
	int count = size == 2 ? (int)gr(g, 17) + (gchance(g, 4) ? 32 : 0) : pick_count(g, size);
	int masked = count & (size == 8 ? 0x3f : 0x1f);
	uint16_t def = 0, undef = 0;
	/* SDM SHLD/SHRD: count 0 affects nothing; else CF SF ZF PF defined,
	 * AF undefined, OF defined only for a count of 1.  A count above the
	 * operand size (16-bit only) leaves result and flags undefined. */
	if (masked) {
		def = FL_CF | FL_SF | FL_ZF | FL_PF | (masked == 1 ? FL_OF : 0);
		undef = FL_AF | (masked == 1 ? 0 : FL_OF);
	}
	enc_init(&r);
	noise(g, &r);
	if (viacl && !emit_mov_imm(g, it, 1, 1, (uint64_t)count))
		return false;
	pick_E(g, it, &e, size, true);
	if (g->o->for_unicorn && !viacl && e.kind == XOP_MEM && e.m.rip)
		return false;                    /* Unicorn gap, see gen.c */
	set_size(&r, size);
	opc(&r, 2, 0x0f, (uint8_t)((right ? 0xac : 0xa4) + viacl));
	modrm(&r, pick_reg(g), true, size, &e);
	if (!viacl) {
		r.immsz = 1;
		r.imm = (uint64_t)count;
	}
	return emit(it, &r, GC_shd, 0, def, undef);
}
