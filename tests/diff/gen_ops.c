/*
 * gen_ops.c - choosing operands and emitting instructions for the
 * generators: interesting values, operand sizes, registers (with the
 * protected ones left alone), memory operands that land in the data or
 * stack page, harmless noise prefixes, and emit(), which encodes one
 * instruction into an item with its flag facts.
 */
#include <stdio.h>

#include "gen_int.h"

uint32_t gr(struct gen *g, uint32_t n)
{
	return rng_below(&g->r, n);
}

bool gchance(struct gen *g, int one_in)
{
	return gr(g, (uint32_t)one_in) == 0;
}

/* Values that find bugs: edges of every size, small numbers, random bits. */
uint64_t gen_value(struct gen *g, int size)
{
	static const uint64_t edge[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
		0x80000000, 0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull,
		~0ull, ~1ull, 0x100000000ull, 0x0f0f0f0f0f0f0f0full,
	};
	uint64_t v;
	switch (gr(g, 6)) {
	case 0: v = edge[gr(g, sizeof edge / sizeof edge[0])]; break;
	case 1: v = gr(g, 64); break;
	case 2: v = (uint64_t)-(int64_t)gr(g, 64); break;
	case 3: v = 1ull << gr(g, 64); break;
	default: v = rng_next(&g->r); break;
	}
	return size == 8 ? v : v & ((1ull << (size * 8)) - 1);
}

int pick_size(struct gen *g, bool with_byte)
{
	static const int sz[4] = { 1, 2, 4, 8 };
	return with_byte ? sz[gr(g, 4)] : sz[1 + gr(g, 3)];
}

void add_pfx(struct enc_req *r, uint8_t p)
{
	r->pfx[r->npfx++] = p;
}

void set_size(struct enc_req *r, int size)
{
	if (size == 2)
		add_pfx(r, 0x66);
	if (size == 8)
		r->rexw = true;
}

/* Harmless extra prefixes: a null segment override (ignored in 64-bit
 * mode, SDM Vol. 1 3.3.7.1), an empty REX, a 66 next to REX.W (REX.W
 * wins), or a REX that a legacy prefix follows (ignored: REX must come
 * last, SDM Vol. 2 2.2.1).  noise() runs
 * before the size prefix is added, so the ignored REX lands in front. */
void noise(struct gen *g, struct enc_req *r)
{
	static const uint8_t seg[4] = { 0x26, 0x2e, 0x36, 0x3e };
	if (r->npfx < 5 && gchance(g, 12))
		add_pfx(r, seg[gr(g, 4)]);
	if (gchance(g, 12))
		r->rex40 = true;
	if (gchance(g, 16))
		r->w66 = true;
	if (!g->o->for_unicorn && gchance(g, 16))     /* Unicorn gap, see gen.c */
		r->junk_rex = (uint8_t)(0x40 + gr(g, 16));
}

bool reg_writable(struct gen *g, int reg, int size)
{
	int full = size == 1 ? reg8_parent(reg) : reg;
	return !(g->prot & (1u << full));
}

int pick_reg(struct gen *g)
{
	return (int)gr(g, 16);
}

int pick_wreg(struct gen *g)
{
	for (;;) {
		int r = (int)gr(g, 16);
		if (!(g->prot & (1u << r)))
			return r;
	}
}

/* Byte registers: AL..BL, AH..BH (no REX), SPL..DIL and R8B..R15B (REX). */
int pick_reg_sz(struct gen *g, int size)
{
	if (size == 1 && gchance(g, 5))
		return R8_AH + (int)gr(g, 4);
	return pick_reg(g);
}

int pick_wreg_sz(struct gen *g, int size)
{
	for (;;) {
		int r = pick_reg_sz(g, size);
		if (reg_writable(g, r, size))
			return r;
	}
}

void mem_at(struct gen *g, struct x86_op *op, int off)
{
	memset(op, 0, sizeof *op);
	op->kind = XOP_MEM;
	op->m.base = op->m.index = NOREG;
	switch (gr(g, 4)) {
	case 0:
		op->m.rip = true;
		op->m.rip_off = off;
		break;
	case 1:
		op->m.disp = (int32_t)(SEQ_DATA + (uint64_t)off);
		op->m.junk_scale = (int)gr(g, 4);
		break;
	default:
		op->m.base = g->B;
		op->m.disp = off - g->boff;
		op->m.disp32 = gchance(g, 4);
		break;
	}
	op->m.a32 = gchance(g, 8);
}

/* [T + disp] through a temporary base register T loaded by a MOV in the
 * same item (T is protected until the item ends).  With a 32-bit address
 * size, T gets junk in its upper half and disp is arbitrary, so the sum
 * wraps modulo 2^32 onto the data page (SDM Vol. 1 3.3.7: the effective
 * address is truncated to the address size). */
static int pick_mem_temp(struct gen *g, struct item *it, struct x86_op *op, int size)
{
	int t;
	do
		t = pick_wreg(g);
	while (t <= 2);                  /* not RAX RCX RDX: implicit operands */
	int off = 64 + (int)gr(g, SEQ_PAGE - 128 - (uint32_t)size);
	bool a32 = gchance(g, 2);
	int32_t disp = a32 ? (int32_t)rng_next(&g->r) : (int32_t)gr(g, 256) - 128;
	uint64_t tv = SEQ_DATA + (uint64_t)off - (uint64_t)(int64_t)disp;
	if (a32)
		tv = (uint32_t)tv | (rng_next(&g->r) << 32);
	if (!emit_mov_imm(g, it, t, 8, tv))
		return -1;
	g->prot |= 1u << t;
	memset(op, 0, sizeof *op);
	op->kind = XOP_MEM;
	op->m.base = t;
	op->m.index = NOREG;
	op->m.disp = disp;
	op->m.a32 = a32;
	return off;
}

int pick_mem(struct gen *g, struct item *it, struct x86_op *op, int size, bool stack_ok)
{
	memset(op, 0, sizeof *op);
	op->kind = XOP_MEM;
	op->m.base = op->m.index = NOREG;
	int form = (int)gr(g, 12), off;
	if (form >= 10 && !g->no_temp && it->n + 2 < ITEM_MAX_INSNS &&
	    (off = pick_mem_temp(g, it, op, size)) >= 0)
		return off;
	form %= 10;
	if (form == 9 && stack_ok && g->nbr == 0) {
		/* [rsp + disp8] in the stack page (SIB with base RSP) */
		int rsp = SEQ_RSP0_OFF + g->depth;
		int lo = 32 - rsp, hi = (int)SEQ_PAGE - 32 - size - rsp;
		if (lo < -128) lo = -128;
		if (hi > 127) hi = 127;
		if (lo <= hi) {
			op->m.base = 4;
			op->m.disp = lo + (int)gr(g, (uint32_t)(hi - lo + 1));
			if (op->m.disp < it->rsp_low) it->rsp_low = op->m.disp;
			if (op->m.disp + size > it->rsp_high) it->rsp_high = op->m.disp + size;
			return -1;
		}
	}
	switch (form) {
	case 0: case 1: case 2:       /* [B + disp8] */
		op->m.base = g->B;
		op->m.disp = (int32_t)gr(g, 256) - 128;
		if (form == 2)
			op->m.disp = 0;
		off = g->boff + op->m.disp;
		break;
	case 3: case 4: case 5:       /* [B + X*s + disp] */
		op->m.base = g->B;
		op->m.index = g->X;
		op->m.scale = (int)gr(g, 4);
		op->m.disp = (int32_t)gr(g, 256) - 128;
		op->m.disp32 = form == 5;
		off = g->boff + (g->xval << op->m.scale) + op->m.disp;
		break;
	case 6:                       /* [X*s + disp32] */
		op->m.index = g->X;
		op->m.scale = (int)gr(g, 4);
		off = 64 + (int)gr(g, SEQ_PAGE - 128 - (uint32_t)size);
		op->m.disp = (int32_t)(SEQ_DATA + (uint64_t)off) - (g->xval << op->m.scale);
		break;
	default:                      /* [rip + disp32] or [disp32] */
		off = 64 + (int)gr(g, SEQ_PAGE - 128 - (uint32_t)size);
		mem_at(g, op, off);
		return off;
	}
	op->m.a32 = gchance(g, 8);
	if (op->m.index == NOREG && gchance(g, 4))
		op->m.junk_scale = (int)gr(g, 4);    /* SIB without index: ignored */
	return off;
}

void pick_E(struct gen *g, struct item *it, struct x86_op *op, int size, bool write)
{
	if (gchance(g, 3)) {
		pick_mem(g, it, op, size, true);
		return;
	}
	*op = op_reg(write ? pick_wreg_sz(g, size) : pick_reg_sz(g, size));
}

bool emit(struct item *it, const struct enc_req *r, int cls, uint16_t rd, uint16_t def,
	  uint16_t undef)
{
	if (it->n >= ITEM_MAX_INSNS)
		return false;
	struct ginsn *gi = &it->in[it->n];
	memset(gi, 0, sizeof *gi);
	if (enc_encode(r, &gi->e) != ENC_OK)
		return false;
	if (r->modrm && r->rm.kind == XOP_MEM && r->rm.m.rip) {
		if (r->fix)
			return false;        /* one fixup per instruction */
		gi->rip_off = r->rm.m.rip_off;
	}
	gi->cls = (uint8_t)cls;
	gi->rd = rd;
	gi->def = def;
	gi->undef = undef;
	it->n++;
	return true;
}

/* MOV reg, imm (B8+r, or C7 /0 with a sign-extended imm32 for 64 bits). */
bool emit_mov_imm(struct gen *g, struct item *it, int reg, int size, uint64_t v)
{
	struct enc_req r;
	enc_init(&r);
	(void)g;
	if (size == 8 && (int64_t)v == (int32_t)v) {
		r.rexw = true;
		r.opc[0] = 0xc7;
		r.nopc = 1;
		r.modrm = true;
		r.rm = op_reg(reg);
		r.immsz = 4;
		r.imm = v;
	} else {
		set_size(&r, size);
		r.opc[0] = size == 1 ? 0xb0 : 0xb8;
		r.nopc = 1;
		r.oreg = reg;
		r.oreg_byte = size == 1;
		r.immsz = size;
		r.imm = v;
	}
	return emit(it, &r, GC_mov, 0, 0, 0);
}

void opc(struct enc_req *r, int n, uint8_t a, uint8_t b)
{
	r->nopc = n;
	r->opc[0] = a;
	r->opc[1] = b;
}

/* ModRM with a register (or /digit) and the E operand. */
void modrm(struct enc_req *r, int reg, bool is_reg, int size, const struct x86_op *e)
{
	r->modrm = true;
	r->reg = reg;
	r->reg_is_reg = is_reg;
	r->reg_byte = is_reg && size == 1;
	r->rm = *e;
	r->rm_byte = size == 1;
}

void imm_z(struct gen *g, struct enc_req *r, int size)
{
	r->immsz = size == 8 ? 4 : size;
	r->imm = gen_value(g, r->immsz);
}

void maybe_lock(struct gen *g, struct enc_req *r, const struct x86_op *e)
{
	if (e->kind == XOP_MEM && gchance(g, 3))
		add_pfx(r, 0xf0);
}

/* Flags each condition code reads (SDM Vol. 1 Table B-1). */
uint16_t cc_reads(int cc)
{
	static const uint16_t t[8] = {
		FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF,
		FL_ZF | FL_SF | FL_OF,
	};
	return t[(cc >> 1) & 7];
}
