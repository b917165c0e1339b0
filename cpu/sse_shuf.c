/*
 * sse_shuf.c - MMX and SSE/SSE2 shuffles, word inserts and extracts,
 * sign-mask extraction and the byte-masked stores (SDM Vol. 2: PSHUFW,
 * PSHUFD, PSHUFHW, PSHUFLW, SHUFPS, SHUFPD, PINSRW, PEXTRW, PMOVMSKB,
 * MOVMSKPS, MOVMSKPD, MASKMOVQ, MASKMOVDQU).
 *
 * The imm8 of a shuffle is read as 2-bit (or, for SHUFPD, 1-bit) lane
 * selectors, lowest destination lane first.  Like the moves, none of these
 * looks at a value as a number: no MXCSR flag changes.
 */
#include "sse.h"

/* Four 16-bit (or 32-bit) lanes picked from src by imm8's 2-bit fields. */
static void shuf4(uint8_t *dst, const uint8_t *src, unsigned imm, size_t esize)
{
	uint8_t r[16];
	for (unsigned k = 0; k < 4; k++)
		memcpy(r + k * esize, src + ((imm >> (2 * k)) & 3) * esize, esize);
	memcpy(dst, r, 4 * esize);
}

void op_pshufw_Pq_Qq_Ib(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	uint64_t s = mmx_read_Q(c, i), d;
	shuf4((uint8_t *)&d, (const uint8_t *)&s, (uint8_t)i->imm, 2);
	mmx_set(c, i->reg, d);
}

void op_pshufd_Vx_Wx_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec s;
	sse_read_W(c, i, 16, true, &s);
	shuf4(c->fpu.xmm[i->reg].b, s.b, (uint8_t)i->imm, 4);
}

/* PSHUFHW / PSHUFLW: the high (low) four words shuffled, the other half
 * copied. */
static void pshuf_half(struct cpu *c, const struct insn *i, int h)
{
	sse_check(c);
	union cpu_vec s;
	sse_read_W(c, i, 16, true, &s);
	shuf4(s.b + 8 * h, s.b + 8 * h, (uint8_t)i->imm, 2);
	c->fpu.xmm[i->reg] = s;
}
void op_pshufhw_Vx_Wx_Ib(struct cpu *c, const struct insn *i) { pshuf_half(c, i, 1); }
void op_pshuflw_Vx_Wx_Ib(struct cpu *c, const struct insn *i) { pshuf_half(c, i, 0); }

/* SHUFPS: lanes 0-1 from the destination, 2-3 from the source. */
void op_shufps_Vx_Wx_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec s, *d = &c->fpu.xmm[i->reg];
	sse_read_W(c, i, 16, true, &s);
	unsigned m = (uint8_t)i->imm;
	union cpu_vec r = { .d = { d->d[m & 3], d->d[(m >> 2) & 3],
				   s.d[(m >> 4) & 3], s.d[(m >> 6) & 3] } };
	*d = r;
}

void op_shufpd_Vx_Wx_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec s, *d = &c->fpu.xmm[i->reg];
	sse_read_W(c, i, 16, true, &s);
	unsigned m = (uint8_t)i->imm;
	union cpu_vec r = { .q = { d->q[m & 1], s.q[(m >> 1) & 1] } };
	*d = r;
}

/* ---- PINSRW / PEXTRW -------------------------------------------------------- */

void op_pinsrw_Pq_Ew_Ib(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	uint16_t w = (uint16_t)read_E(c, i, 2);
	uint64_t v = mmx_get(c, i->reg);
	int sh = 16 * (i->imm & 3);
	mmx_set(c, i->reg, (v & ~(0xffffull << sh)) | (uint64_t)w << sh);
}

void op_pinsrw_Vx_Ew_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	uint16_t w = (uint16_t)read_E(c, i, 2);
	c->fpu.xmm[i->reg].w[i->imm & 7] = w;
}

/* The general-register destination is 32 bits, zero-extended (64 with
 * REX.W: the same value). */
static void write_gd(struct cpu *c, const struct insn *i, uint32_t v)
{
	reg_write(c, i->reg, i->osize == 8 ? 8 : 4, v);
}

void op_pextrw_Gd_Nq_Ib(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	write_gd(c, i, (uint16_t)(mmx_get(c, i->rm) >> (16 * (i->imm & 3))));
}

void op_pextrw_Gd_Ux_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	write_gd(c, i, c->fpu.xmm[i->rm].w[i->imm & 7]);
}

/* ---- sign masks -------------------------------------------------------------- */

static uint32_t byte_signs(const uint8_t *b, int n)
{
	uint32_t m = 0;
	for (int k = 0; k < n; k++)
		m |= (uint32_t)(b[k] >> 7) << k;
	return m;
}

void op_pmovmskb_Gd_Nq(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	uint64_t v = mmx_get(c, i->rm);
	write_gd(c, i, byte_signs((const uint8_t *)&v, 8));
}

void op_pmovmskb_Gd_Ux(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	write_gd(c, i, byte_signs(c->fpu.xmm[i->rm].b, 16));
}

void op_movmskps_Gd_Ux(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	const union cpu_vec *x = &c->fpu.xmm[i->rm];
	uint32_t m = 0;
	for (int k = 0; k < 4; k++)
		m |= (x->d[k] >> 31) << k;
	write_gd(c, i, m);
}

void op_movmskpd_Gd_Ux(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	const union cpu_vec *x = &c->fpu.xmm[i->rm];
	write_gd(c, i, (uint32_t)(x->q[0] >> 63 | (x->q[1] >> 63) << 1));
}

/* ---- MASKMOVQ / MASKMOVDQU: bytes with the mask's top bit set go to
 * DS:rDI (segment override allowed).  Every page is checked before the
 * first byte is written. ------------------------------------------------------ */

static void maskmov(struct cpu *c, const struct insn *i, const uint8_t *data,
		    const uint8_t *mask, int n)
{
	uint64_t off = reg_read(c, R_RDI, i->asize);
	uint64_t lin = seg_linear(c, i->seg, off, n, true);
	if (!byte_signs(mask, n))
		return;
	uint64_t last = sse_at(c, lin, n - 1);
	mem_translate(c, lin, ACC_WRITE, NULL);
	if ((last ^ lin) & ~0xfffull)
		mem_translate(c, last & ~0xfffull, ACC_WRITE, NULL);
	for (int k = 0; k < n; k++)
		if (mask[k] & 0x80)
			mem_write(c, sse_at(c, lin, k), 1, data[k]);
}

void op_maskmovq_Pq_Nq(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	uint64_t d = mmx_get(c, i->reg), m = mmx_get(c, i->rm);
	maskmov(c, i, (const uint8_t *)&d, (const uint8_t *)&m, 8);
}

void op_maskmovdqu_Vx_Ux(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec d = c->fpu.xmm[i->reg], m = c->fpu.xmm[i->rm];
	maskmov(c, i, d.b, m.b, 16);
}
