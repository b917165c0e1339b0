/*
 * gen_data.c - generators for MUL/IMUL/DIV/IDIV, BSF/BSR, POPCNT,
 * LZCNT/TZCNT, CMOVcc, SETcc, MOVZX/MOVSX/MOVSXD, LEA, BSWAP and CBW..CQO.
 *
 * Flags come from each instruction's "Flags Affected" in SDM Vol. 2.
 * Undefined RESULTS are avoided, not masked:
 *   - BSF/BSR with a zero source: destination undefined (AMD: unchanged);
 *     a BTS sets a bit of the source first.
 *   - BSWAP with a 16-bit operand: undefined; only 32/64.
 * DIV/IDIV may raise #DE (divisor 0, quotient too large) by design; most
 * get a setup (high half zero, or CBW/CWD/CDQ/CQO) so that runs go on.
 */
#include "gen_int.h"

bool gen_mul(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true), form = (int)gr(g, 4);
	enc_init(&r);
	noise(g, &r);
	if (size == 1)
		form = form & 1;
	if (form < 2) {            /* F6/F7 /4 MUL, /5 IMUL: rDX:rAX = rAX * E */
		pick_E(g, it, &e, size, false);
		set_size(&r, size);
		opc(&r, 1, size == 1 ? 0xf6 : 0xf7, 0);
		modrm(&r, 4 + form, false, size, &e);
	} else {                   /* IMUL Gv, Ev (0F AF) / Gv, Ev, imm (6B/69) */
		pick_E(g, it, &e, size, false);
		set_size(&r, size);
		if (form == 2) {
			opc(&r, 2, 0x0f, 0xaf);
		} else if (gchance(g, 2)) {
			opc(&r, 1, 0x6b, 0);
			r.immsz = 1;
			r.imm = gen_value(g, 1);
		} else {
			opc(&r, 1, 0x69, 0);
			imm_z(g, &r, size);
		}
		modrm(&r, pick_wreg(g), true, size, &e);
	}
	/* SDM MUL/IMUL: CF and OF defined; SF ZF AF PF undefined. */
	return emit(it, &r, GC_mul, 0, FL_CF | FL_OF, FL_SF | FL_ZF | FL_AF | FL_PF);
}

bool gen_div(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, true), sign = (int)gr(g, 2), setup = (int)gr(g, 8);
	enc_init(&r);
	noise(g, &r);
	if (setup) {
		/* make a quotient overflow (#DE) rarer: high half zero or the
		 * sign extension of the low half */
		struct enc_req s;
		enc_init(&s);
		if (!sign) {
			if (!emit_mov_imm(g, it, size == 1 ? R8_AH : 2, size == 1 ? 1 : size == 8 ? 4 : size, 0))
				return false;
		} else {
			set_size(&s, size == 1 ? 2 : size);
			opc(&s, 1, size == 1 ? 0x98 : 0x99, 0);    /* CBW / CWD CDQ CQO */
			if (!emit(it, &s, GC_conv, 0, 0, 0))
				return false;
		}
	}
	pick_E(g, it, &e, size, false);
	set_size(&r, size);
	opc(&r, 1, size == 1 ? 0xf6 : 0xf7, 0);
	modrm(&r, 6 + sign, false, size, &e);
	if (!emit(it, &r, GC_div, 0, 0, FL_ALL))     /* SDM DIV/IDIV: all undefined */
		return false;
	it->in[it->n - 1].may_fault = true;
	return true;
}

bool gen_bscan(struct gen *g, struct item *it)
{
	struct enc_req r, b;
	struct x86_op e;
	int size = pick_size(g, false);
	enc_init(&r);
	enc_init(&b);
	noise(g, &r);
	pick_E(g, it, &e, size, false);
	if (e.kind == XOP_MEM || reg_writable(g, e.reg, size)) {
		/* BTS E, k: the source is not zero (SDM: BSF/BSR dest undefined) */
		set_size(&b, size);
		opc(&b, 2, 0x0f, 0xba);
		modrm(&b, 5, false, size, &e);
		b.immsz = 1;
		b.imm = gr(g, (uint32_t)size * 8);
		if (!emit(it, &b, GC_bt, 0, FL_CF, FL_OF | FL_SF | FL_AF | FL_PF))
			return false;
	}
	set_size(&r, size);
	opc(&r, 2, 0x0f, (uint8_t)(0xbc + gr(g, 2)));
	modrm(&r, pick_wreg(g), true, size, &e);
	/* SDM BSF/BSR: ZF defined; CF OF SF AF PF undefined. */
	return emit(it, &r, GC_bscan, 0, FL_ZF, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
}

static bool gen_f3_0f(struct gen *g, struct item *it, uint8_t op, int cls, uint16_t def,
		      uint16_t undef)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, false);
	enc_init(&r);
	pick_E(g, it, &e, size, false);
	add_pfx(&r, 0xf3);
	set_size(&r, size);
	opc(&r, 2, 0x0f, op);
	modrm(&r, pick_wreg(g), true, size, &e);
	return emit(it, &r, cls, 0, def, undef);
}

bool gen_popcnt(struct gen *g, struct item *it)
{
	/* SDM POPCNT: ZF from the source, OF SF AF CF PF cleared. */
	return gen_f3_0f(g, it, 0xb8, GC_popcnt, FL_ALL, 0);
}

bool gen_lzcnt(struct gen *g, struct item *it)
{
	/* SDM LZCNT/TZCNT: CF and ZF defined; OF SF PF AF undefined. */
	return gen_f3_0f(g, it, gchance(g, 2) ? 0xbd : 0xbc, GC_lzcnt, FL_CF | FL_ZF,
			 FL_OF | FL_SF | FL_PF | FL_AF);
}

bool gen_cmov(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, false), cc = (int)gr(g, 16);
	enc_init(&r);
	noise(g, &r);
	pick_E(g, it, &e, size, false);
	set_size(&r, size);
	opc(&r, 2, 0x0f, (uint8_t)(0x40 + cc));
	modrm(&r, pick_wreg(g), true, size, &e);
	return emit(it, &r, GC_cmov, cc_reads(cc), 0, 0);
}

bool gen_setcc(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int cc = (int)gr(g, 16);
	enc_init(&r);
	noise(g, &r);
	pick_E(g, it, &e, 1, true);
	opc(&r, 2, 0x0f, (uint8_t)(0x90 + cc));
	modrm(&r, 0, false, 1, &e);
	return emit(it, &r, GC_setcc, cc_reads(cc), 0, 0);
}

bool gen_movx(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int form = (int)gr(g, 5);
	enc_init(&r);
	noise(g, &r);
	if (form == 4) {              /* MOVSXD Gq, Ed (REX.W 63 /r); without
					 * REX.W a plain 32-bit move */
		pick_E(g, it, &e, 4, false);
		r.rexw = !gchance(g, 4);
		opc(&r, 1, 0x63, 0);
		modrm(&r, pick_wreg(g), true, 4, &e);
		return emit(it, &r, GC_movx, 0, 0, 0);
	}
	int ssize = form & 1 ? 2 : 1;       /* source byte or word */
	int dsize = ssize == 1 ? pick_size(g, false) : (gchance(g, 2) ? 4 : 8);
	pick_E(g, it, &e, ssize, false);
	set_size(&r, dsize);
	opc(&r, 2, 0x0f, (uint8_t)((form & 2 ? 0xbe : 0xb6) + (ssize == 2)));
	modrm(&r, pick_wreg(g), true, dsize, &e);
	r.rm_byte = ssize == 1;
	r.reg_byte = false;
	return emit(it, &r, GC_movx, 0, 0, 0);
}

bool gen_lea(struct gen *g, struct item *it)
{
	struct enc_req r;
	struct x86_op e;
	int size = pick_size(g, false);
	enc_init(&r);
	memset(&e, 0, sizeof e);
	/* LEA computes without accessing memory: any base, index, scale and
	 * displacement, 32- or 64-bit address size, even RIP-relative. */
	e.kind = XOP_MEM;
	e.m.base = gchance(g, 6) ? NOREG : pick_reg(g);
	do
		e.m.index = gchance(g, 3) ? NOREG : pick_reg(g);
	while (e.m.index == 4);
	e.m.scale = (int)gr(g, 4);
	e.m.disp = (int32_t)gen_value(g, gchance(g, 2) ? 1 : 4);
	if (e.m.disp >= -128 && e.m.disp < 128)
		e.m.disp = (int8_t)e.m.disp;
	e.m.disp32 = gchance(g, 4);
	e.m.a32 = gchance(g, 4);
	if (gchance(g, 8)) {
		e.m.base = e.m.index = NOREG;
		e.m.rip = true;
		e.m.rip_off = (int32_t)gr(g, SEQ_PAGE);
	}
	set_size(&r, size);
	opc(&r, 1, 0x8d, 0);
	modrm(&r, pick_wreg(g), true, size, &e);
	return emit(it, &r, GC_lea, 0, 0, 0);
}

bool gen_bswap(struct gen *g, struct item *it)
{
	struct enc_req r;
	enc_init(&r);
	set_size(&r, gchance(g, 2) ? 4 : 8);
	opc(&r, 2, 0x0f, 0xc8);
	r.oreg = pick_wreg(g);
	return emit(it, &r, GC_bswap, 0, 0, 0);
}

bool gen_conv(struct gen *g, struct item *it)
{
	struct enc_req r;
	enc_init(&r);
	set_size(&r, pick_size(g, false));    /* CBW CWDE CDQE / CWD CDQ CQO */
	opc(&r, 1, (uint8_t)(0x98 + gr(g, 2)), 0);
	return emit(it, &r, GC_conv, 0, 0, 0);
}
