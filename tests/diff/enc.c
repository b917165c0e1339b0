/*
 * enc.c - the x86-64 encoder behind the differential tests (see enc.h).
 *
 * It implements the general ModRM/SIB rules of SDM Vol. 2 2.1-2.2 and
 * nothing instruction-specific: the generator supplies opcode bytes, the
 * /digit or register for ModRM.reg, and the r/m operand.  Special cases the
 * rules imply, and that this file handles:
 *
 *   r/m = 100 (RSP, R12) as a base needs a SIB byte   (Table 2-2 note 1)
 *   r/m = 101 (RBP, R13) with mod 00 means disp32/RIP  -> use mod 01, disp8 0
 *   SIB base = 101 with mod 00 means "no base, disp32"
 *   SIB index = 100 without REX.X means "no index"     (RSP cannot be an index)
 */
#include <string.h>

#include "enc.h"

void enc_init(struct enc_req *r)
{
	memset(r, 0, sizeof *r);
	r->oreg = NOREG;
	r->rm.kind = XOP_NONE;
}

struct x86_op op_reg(int reg)
{
	struct x86_op o;
	memset(&o, 0, sizeof o);
	o.kind = XOP_REG;
	o.reg = reg;
	o.m.base = o.m.index = NOREG;
	return o;
}

/* SPL, BPL, SIL, DIL and R8B-R15B exist only with a REX prefix. */
bool reg8_needs_rex(int reg)
{
	return reg >= 4 && reg < 16;
}

bool reg8_is_high(int reg)
{
	return reg >= R8_AH;
}

int reg8_parent(int reg)
{
	return reg >= R8_AH ? reg - R8_AH : reg;
}

static void put(struct enc_out *o, uint8_t v)
{
	o->b[o->len++] = v;
}

static void put_n(struct enc_out *o, uint64_t v, int n)
{
	for (int k = 0; k < n; k++)
		put(o, (uint8_t)(v >> (8 * k)));
}

static bool fits8(int32_t v)
{
	return v >= -128 && v <= 127;
}

/* REX bits and high-byte-register use of one register operand. */
static void note_reg(int reg, bool is_byte, int rexbit, uint8_t *rex, bool *need, bool *high)
{
	if (is_byte && reg8_is_high(reg)) {
		*high = true;
		return;
	}
	if (reg >= 8)
		*rex |= (uint8_t)rexbit;
	if (is_byte && reg8_needs_rex(reg))
		*need = true;
}

/* ModRM (+SIB +disp) for the r/m operand; `regf` is the 3-bit reg field. */
static void put_modrm(struct enc_out *o, int regf, const struct x86_op *rm)
{
	regf &= 7;
	if (rm->kind == XOP_REG) {
		put(o, (uint8_t)(0xc0 | regf << 3 | (reg8_parent(rm->reg) & 7)));
		return;
	}
	const struct x86_mem *m = &rm->m;
	if (m->rip) {
		put(o, (uint8_t)(regf << 3 | 5));
		o->fix = FIX_RIPDATA;
		o->fix_off = o->len;
		put_n(o, 0, 4);
		return;
	}
	if (m->base == NOREG) {
		/* SIB with base 101 and mod 00: [index*scale + disp32] */
		int idx = m->index == NOREG ? 4 : (m->index & 7);
		int ss = m->index == NOREG ? m->junk_scale : m->scale;
		put(o, (uint8_t)(regf << 3 | 4));
		put(o, (uint8_t)(ss << 6 | idx << 3 | 5));
		put_n(o, (uint32_t)m->disp, 4);
		return;
	}
	int mod;
	if (m->disp32 || !fits8(m->disp))
		mod = 2;
	else if (m->disp != 0 || (m->base & 7) == 5)
		mod = 1;
	else
		mod = 0;
	bool sib = m->index != NOREG || (m->base & 7) == 4;
	if (sib) {
		int idx = m->index == NOREG ? 4 : (m->index & 7);
		int ss = m->index == NOREG ? m->junk_scale : m->scale;
		put(o, (uint8_t)(mod << 6 | regf << 3 | 4));
		put(o, (uint8_t)(ss << 6 | idx << 3 | (m->base & 7)));
	} else {
		put(o, (uint8_t)(mod << 6 | regf << 3 | (m->base & 7)));
	}
	if (mod == 1)
		put(o, (uint8_t)m->disp);
	else if (mod == 2)
		put_n(o, (uint32_t)m->disp, 4);
}

int enc_encode(const struct enc_req *r, struct enc_out *o)
{
	uint8_t rex = r->rexw ? 0x08 : 0;
	bool need = r->rex40 || r->rexw, high = false;

	memset(o, 0, sizeof *o);
	if (r->modrm && r->reg_is_reg)
		note_reg(r->reg, r->reg_byte, 0x04, &rex, &need, &high);
	if (r->modrm && r->rm.kind == XOP_REG)
		note_reg(r->rm.reg, r->rm_byte, 0x01, &rex, &need, &high);
	if (r->modrm && r->rm.kind == XOP_MEM && !r->rm.m.rip) {
		if (r->rm.m.base != NOREG && r->rm.m.base >= 8)
			rex |= 0x01;
		if (r->rm.m.index != NOREG && r->rm.m.index >= 8)
			rex |= 0x02;
		if (r->rm.m.index == 4)
			return ENC_CONFLICT;        /* RSP cannot be an index */
	}
	if (r->oreg != NOREG)
		note_reg(r->oreg, r->oreg_byte, 0x01, &rex, &need, &high);
	if (rex)
		need = true;
	if (need && high)
		return ENC_CONFLICT;

	bool legacy = r->npfx > 0 || (r->modrm && r->rm.kind == XOP_MEM && r->rm.m.a32);
	if (r->junk_rex && legacy)
		put(o, r->junk_rex);
	for (int k = 0; k < r->npfx; k++)
		put(o, r->pfx[k]);
	if (r->modrm && r->rm.kind == XOP_MEM && r->rm.m.a32)
		put(o, 0x67);
	if (r->w66 && r->rexw)
		put(o, 0x66);
	if (need)
		put(o, (uint8_t)(0x40 | rex));
	for (int k = 0; k < r->nopc; k++) {
		uint8_t b = r->opc[k];
		if (k == r->nopc - 1 && r->oreg != NOREG)
			b = (uint8_t)(b | (reg8_parent(r->oreg) & 7));
		put(o, b);
	}
	if (r->modrm)
		put_modrm(o, r->reg_is_reg ? reg8_parent(r->reg) : r->reg, &r->rm);
	if (r->immsz) {
		if (r->fix) {
			o->fix = r->fix;
			o->fix_off = o->len;
		}
		put_n(o, r->imm, r->immsz);
	}
	if (r->imm2sz)
		put_n(o, r->imm2, r->imm2sz);
	if (o->len > 15)
		return ENC_CONFLICT;
	return ENC_OK;
}
