/*
 * sse_int.c - integer SIMD: the MMX instructions and their SSE2 forms on
 * XMM registers (SDM Vol. 1 9.4 and 11.4.3; Vol. 2 each instruction).
 *
 * Every operation here exists twice, as opcodes.def lists it:
 *
 *   NP 0F xx /r   op mm, mm/m64          op_<name>_Pq_Qq   (MMX, 8 bytes)
 *   66 0F xx /r   op xmm, xmm/m128       op_<name>_Vx_Wx   (SSE2, 16 bytes,
 *                                                          m128 aligned)
 *
 * so each is written once, as a lane function over union cpu_vec that is
 * told how many bytes the register has (vi_* below), and the two handlers
 * come from one macro.  No floating point is involved: results are exact
 * integer arithmetic, with wrap-around or signed/unsigned saturation as the
 * instruction says.  Shifts by immediate (0F 71-73) and the byte shifts of
 * a whole XMM register are at the end.
 */
#include "sse.h"

typedef void (*vec_fn)(union cpu_vec *d, const union cpu_vec *s, int n);

/* ---- saturation (SDM Vol. 1 4.6.1) -------------------------------------- */

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
#define SAT_S8(v)  ((uint8_t)clamp((v), -128, 127))
#define SAT_U8(v)  ((uint8_t)clamp((v), 0, 255))
#define SAT_S16(v) ((uint16_t)clamp((v), -32768, 32767))
#define SAT_U16(v) ((uint16_t)clamp((v), 0, 65535))

/* Lane-by-lane: for each lane k of `f` (b/w/d/q), a and b are the lanes of
 * destination and source as type T, and the lane becomes `expr`. */
#define LANE_OP(fn, f, T, UT, expr)                                          \
	static void fn(union cpu_vec *d, const union cpu_vec *s, int n)      \
	{                                                                    \
		for (int k = 0; k < n / (int)sizeof(UT); k++) {             \
			T a = (T)d->f[k], b = (T)s->f[k];                    \
			d->f[k] = (UT)(expr);                                \
		}                                                            \
	}

LANE_OP(vi_paddb, b, uint8_t, uint8_t, a + b)
LANE_OP(vi_paddw, w, uint16_t, uint16_t, a + b)
LANE_OP(vi_paddd, d, uint32_t, uint32_t, a + b)
LANE_OP(vi_paddq, q, uint64_t, uint64_t, a + b)
LANE_OP(vi_psubb, b, uint8_t, uint8_t, a - b)
LANE_OP(vi_psubw, w, uint16_t, uint16_t, a - b)
LANE_OP(vi_psubd, d, uint32_t, uint32_t, a - b)
LANE_OP(vi_psubq, q, uint64_t, uint64_t, a - b)
LANE_OP(vi_paddsb, b, int8_t, uint8_t, SAT_S8(a + b))
LANE_OP(vi_paddsw, w, int16_t, uint16_t, SAT_S16(a + b))
LANE_OP(vi_psubsb, b, int8_t, uint8_t, SAT_S8(a - b))
LANE_OP(vi_psubsw, w, int16_t, uint16_t, SAT_S16(a - b))
LANE_OP(vi_paddusb, b, int, uint8_t, SAT_U8(a + b))
LANE_OP(vi_paddusw, w, int, uint16_t, SAT_U16(a + b))
LANE_OP(vi_psubusb, b, int, uint8_t, SAT_U8(a - b))
LANE_OP(vi_psubusw, w, int, uint16_t, SAT_U16(a - b))
LANE_OP(vi_pcmpeqb, b, uint8_t, uint8_t, a == b ? 0xff : 0)
LANE_OP(vi_pcmpeqw, w, uint16_t, uint16_t, a == b ? 0xffff : 0)
LANE_OP(vi_pcmpeqd, d, uint32_t, uint32_t, a == b ? 0xffffffffu : 0)
LANE_OP(vi_pcmpgtb, b, int8_t, uint8_t, a > b ? 0xff : 0)
LANE_OP(vi_pcmpgtw, w, int16_t, uint16_t, a > b ? 0xffff : 0)
LANE_OP(vi_pcmpgtd, d, int32_t, uint32_t, a > b ? 0xffffffffu : 0)
LANE_OP(vi_pand, q, uint64_t, uint64_t, a & b)
LANE_OP(vi_pandn, q, uint64_t, uint64_t, ~a & b)
LANE_OP(vi_por, q, uint64_t, uint64_t, a | b)
LANE_OP(vi_pxor, q, uint64_t, uint64_t, a ^ b)
LANE_OP(vi_pmullw, w, int32_t, uint16_t, (int16_t)a * (int16_t)b)
LANE_OP(vi_pmulhw, w, int16_t, uint16_t, ((int32_t)a * b) >> 16)
LANE_OP(vi_pmulhuw, w, uint32_t, uint16_t, (a * b) >> 16)
LANE_OP(vi_pavgb, b, unsigned, uint8_t, (a + b + 1) >> 1)
LANE_OP(vi_pavgw, w, unsigned, uint16_t, (a + b + 1) >> 1)
LANE_OP(vi_pminub, b, uint8_t, uint8_t, a < b ? a : b)
LANE_OP(vi_pmaxub, b, uint8_t, uint8_t, a > b ? a : b)
LANE_OP(vi_pminsw, w, int16_t, uint16_t, a < b ? a : b)
LANE_OP(vi_pmaxsw, w, int16_t, uint16_t, a > b ? a : b)

/* PMULUDQ: the even doublewords, multiplied to quadwords. */
static void vi_pmuludq(union cpu_vec *d, const union cpu_vec *s, int n)
{
	for (int k = 0; k < n / 8; k++)
		d->q[k] = (uint64_t)d->d[2 * k] * s->d[2 * k];
}

/* PMADDWD: pairs of signed word products summed to doublewords; only
 * 8000h * 8000h twice wraps (to 80000000h, SDM Vol. 2 PMADDWD). */
static void vi_pmaddwd(union cpu_vec *d, const union cpu_vec *s, int n)
{
	for (int k = 0; k < n / 4; k++) {
		int64_t v = (int64_t)(int16_t)d->w[2 * k] * (int16_t)s->w[2 * k] +
			    (int64_t)(int16_t)d->w[2 * k + 1] * (int16_t)s->w[2 * k + 1];
		d->d[k] = (uint32_t)v;
	}
}

/* PSADBW: per 8 bytes, the sum of absolute differences in the low word. */
static void vi_psadbw(union cpu_vec *d, const union cpu_vec *s, int n)
{
	for (int k = 0; k < n / 8; k++) {
		unsigned sum = 0;
		for (int j = 0; j < 8; j++) {
			int x = d->b[8 * k + j] - s->b[8 * k + j];
			sum += (unsigned)(x < 0 ? -x : x);
		}
		d->q[k] = sum;
	}
}

/* ---- packs and unpacks ------------------------------------------------------ */

/* PACK*: the destination's lanes narrowed into the low half, the source's
 * into the high half. */
#define PACK_OP(fn, wf, WT, nf, sat)                                         \
	static void fn(union cpu_vec *d, const union cpu_vec *s, int n)      \
	{                                                                    \
		union cpu_vec r = { .q = { 0, 0 } };                         \
		int m = n / (int)sizeof d->wf[0];                            \
		for (int k = 0; k < m; k++) {                                \
			r.nf[k] = sat((int64_t)(WT)d->wf[k]);                \
			r.nf[m + k] = sat((int64_t)(WT)s->wf[k]);            \
		}                                                            \
		*d = r;                                                      \
	}
PACK_OP(vi_packsswb, w, int16_t, b, SAT_S8)
PACK_OP(vi_packuswb, w, int16_t, b, SAT_U8)
PACK_OP(vi_packssdw, d, int32_t, w, SAT_S16)

/* PUNPCKL* and PUNPCKH*: interleave the low (or high) halves, destination first. */
static void unpack(union cpu_vec *d, const union cpu_vec *s, int n, int esize, bool high)
{
	union cpu_vec r;
	int m = n / esize / 2, from = high ? m : 0;
	for (int k = 0; k < m; k++) {
		memcpy(r.b + 2 * k * esize, d->b + (from + k) * esize, (size_t)esize);
		memcpy(r.b + (2 * k + 1) * esize, s->b + (from + k) * esize, (size_t)esize);
	}
	memcpy(d->b, r.b, (size_t)n);
}
#define UNPACK_OP(fn, esize, high) \
	static void fn(union cpu_vec *d, const union cpu_vec *s, int n) { unpack(d, s, n, esize, high); }
UNPACK_OP(vi_punpcklbw, 1, false)
UNPACK_OP(vi_punpcklwd, 2, false)
UNPACK_OP(vi_punpckldq, 4, false)
UNPACK_OP(vi_punpcklqdq, 8, false)
UNPACK_OP(vi_punpckhbw, 1, true)
UNPACK_OP(vi_punpckhwd, 2, true)
UNPACK_OP(vi_punpckhdq, 4, true)
UNPACK_OP(vi_punpckhqdq, 8, true)

/* ---- shifts: the count is the whole low quadword of the source ---------- */

static void shift_lanes(union cpu_vec *d, uint64_t cnt, int n, int bits, int kind)
{
	for (int k = 0; k < n * 8 / bits; k++) {
		uint64_t v = 0, m = bits == 64 ? ~0ull : (1ull << bits) - 1;
		memcpy(&v, d->b + k * bits / 8, (size_t)bits / 8);
		if (kind == 2) {          /* arithmetic: counts past the width fill with the sign */
			int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);
			v = (uint64_t)(sv >> (cnt >= (uint64_t)bits ? bits - 1 : (int)cnt)) & m;
		} else if (cnt >= (uint64_t)bits) {
			v = 0;
		} else {
			v = (kind == 0 ? v << cnt : v >> cnt) & m;
		}
		memcpy(d->b + k * bits / 8, &v, (size_t)bits / 8);
	}
}
#define SHIFT_OP(fn, bits, kind) \
	static void fn(union cpu_vec *d, const union cpu_vec *s, int n) \
	{ shift_lanes(d, s->q[0], n, bits, kind); }
SHIFT_OP(vi_psllw, 16, 0)
SHIFT_OP(vi_pslld, 32, 0)
SHIFT_OP(vi_psllq, 64, 0)
SHIFT_OP(vi_psrlw, 16, 1)
SHIFT_OP(vi_psrld, 32, 1)
SHIFT_OP(vi_psrlq, 64, 1)
SHIFT_OP(vi_psraw, 16, 2)
SHIFT_OP(vi_psrad, 32, 2)

/* ---- the two handler shapes ------------------------------------------------- */

static void mmx_binop(struct cpu *c, const struct insn *i, vec_fn fn)
{
	mmx_check(c);
	union cpu_vec d = { .q = { 0, 0 } }, s = { .q = { 0, 0 } };
	s.q[0] = mmx_read_Q(c, i);
	d.q[0] = mmx_get(c, i->reg);
	fn(&d, &s, 8);
	mmx_set(c, i->reg, d.q[0]);
}

static void sse_binop(struct cpu *c, const struct insn *i, vec_fn fn)
{
	sse_check(c);
	union cpu_vec s;
	sse_read_W(c, i, 16, true, &s);
	fn(&c->fpu.xmm[i->reg], &s, 16);
}

#define MMX_SSE(name) \
	void op_##name##_Pq_Qq(struct cpu *c, const struct insn *i) { mmx_binop(c, i, vi_##name); } \
	void op_##name##_Vx_Wx(struct cpu *c, const struct insn *i) { sse_binop(c, i, vi_##name); }
#define SSE_ONLY(name) \
	void op_##name##_Vx_Wx(struct cpu *c, const struct insn *i) { sse_binop(c, i, vi_##name); }

MMX_SSE(punpcklbw) MMX_SSE(punpcklwd) MMX_SSE(punpckldq) MMX_SSE(packsswb)
MMX_SSE(pcmpgtb) MMX_SSE(pcmpgtw) MMX_SSE(pcmpgtd) MMX_SSE(packuswb)
MMX_SSE(punpckhbw) MMX_SSE(punpckhwd) MMX_SSE(punpckhdq) MMX_SSE(packssdw)
SSE_ONLY(punpcklqdq) SSE_ONLY(punpckhqdq)
MMX_SSE(pcmpeqb) MMX_SSE(pcmpeqw) MMX_SSE(pcmpeqd)
MMX_SSE(psrlw) MMX_SSE(psrld) MMX_SSE(psrlq) MMX_SSE(paddq) MMX_SSE(pmullw)
MMX_SSE(psubusb) MMX_SSE(psubusw) MMX_SSE(pminub) MMX_SSE(pand)
MMX_SSE(paddusb) MMX_SSE(paddusw) MMX_SSE(pmaxub) MMX_SSE(pandn)
MMX_SSE(pavgb) MMX_SSE(psraw) MMX_SSE(psrad) MMX_SSE(pavgw) MMX_SSE(pmulhuw) MMX_SSE(pmulhw)
MMX_SSE(psubsb) MMX_SSE(psubsw) MMX_SSE(pminsw) MMX_SSE(por)
MMX_SSE(paddsb) MMX_SSE(paddsw) MMX_SSE(pmaxsw) MMX_SSE(pxor)
MMX_SSE(psllw) MMX_SSE(pslld) MMX_SSE(psllq) MMX_SSE(pmuludq) MMX_SSE(pmaddwd) MMX_SSE(psadbw)
MMX_SSE(psubb) MMX_SSE(psubw) MMX_SSE(psubd) MMX_SSE(psubq)
MMX_SSE(paddb) MMX_SSE(paddw) MMX_SSE(paddd)

/* ---- shifts by imm8: groups 12-14 (0F 71-73, register forms only) -------- */

#define SHIFT_IMM(name)                                                            \
	void op_##name##_Nq_Ib(struct cpu *c, const struct insn *i)               \
	{                                                                          \
		mmx_check(c);                                                      \
		union cpu_vec d = { .q = { mmx_get(c, i->rm), 0 } };               \
		union cpu_vec s = { .q = { (uint8_t)i->imm, 0 } };                 \
		vi_##name(&d, &s, 8);                                              \
		mmx_set(c, i->rm, d.q[0]);                                         \
	}                                                                          \
	void op_##name##_Ux_Ib(struct cpu *c, const struct insn *i)               \
	{                                                                          \
		sse_check(c);                                                      \
		union cpu_vec s = { .q = { (uint8_t)i->imm, 0 } };                 \
		vi_##name(&c->fpu.xmm[i->rm], &s, 16);                             \
	}
SHIFT_IMM(psrlw) SHIFT_IMM(psraw) SHIFT_IMM(psllw)
SHIFT_IMM(psrld) SHIFT_IMM(psrad) SHIFT_IMM(pslld)
SHIFT_IMM(psrlq) SHIFT_IMM(psllq)

/* PSRLDQ / PSLLDQ: the whole register by bytes; counts above 15 clear it. */
void op_psrldq_Ux_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec *x = &c->fpu.xmm[i->rm], r = { .q = { 0, 0 } };
	unsigned n = (uint8_t)i->imm;
	for (unsigned k = 0; n < 16 && k < 16 - n; k++)
		r.b[k] = x->b[k + n];
	*x = r;
}

void op_pslldq_Ux_Ib(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec *x = &c->fpu.xmm[i->rm], r = { .q = { 0, 0 } };
	unsigned n = (uint8_t)i->imm;
	for (unsigned k = n; k < 16; k++)
		r.b[k] = x->b[k - n];
	*x = r;
}

/* ---- the same bit operations in the floating-point domain (SSE/SSE2 logic
 * and unpacks: no value is inspected, so no MXCSR flag) ------------------------ */
#define ALIAS(name, fn) \
	void op_##name##_Vx_Wx(struct cpu *c, const struct insn *i) { sse_binop(c, i, fn); }
ALIAS(andps, vi_pand) ALIAS(andpd, vi_pand) ALIAS(andnps, vi_pandn) ALIAS(andnpd, vi_pandn)
ALIAS(orps, vi_por) ALIAS(orpd, vi_por) ALIAS(xorps, vi_pxor) ALIAS(xorpd, vi_pxor)
ALIAS(unpcklps, vi_punpckldq) ALIAS(unpckhps, vi_punpckhdq)
ALIAS(unpcklpd, vi_punpcklqdq) ALIAS(unpckhpd, vi_punpckhqdq)
