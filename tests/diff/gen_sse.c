/*
 * gen_sse.c - the x87/MMX/SSE state of a sequence and the generator of
 * class `sse`: MMX and SSE/SSE2/SSE3 moves, shuffles and integer SIMD.
 *
 * State: the XMM registers get lanes that matter to SIMD code (zero, all
 * ones, sign bits, saturation edges, small numbers, and the singles and
 * doubles that float code trips on: ±0, ±1, ±inf, QNaN, SNaN, denormals,
 * the largest finite value); MXCSR starts at its reset value 0x1f80; the
 * x87 registers hold random bits with every tag empty (MMX reads them).
 *
 * Forms come from one table (SDM Vol. 2 Appendix A, Tables ):
 * mandatory prefix, opcode, operand shape, memory size and whether a
 * 16-byte memory operand must be aligned.  Memory operands are placed at
 * exact offsets of the data page (mem_at), 16-byte aligned for the aligned
 * forms except now and then on purpose (then #GP(0) ends the run; not in
 * sequences Unicorn runs: Unicorn 2.0.1 never checks SSE alignment).  No
 * noise prefix may be a 66, F2 or F3: those select the form.
 */
#include "gen_int.h"

/* ---- state -------------------------------------------------------------------- */

static uint32_t lane32(struct gen *g)
{
	static const uint32_t v[] = {
		0, 0xffffffffu, 0x80000000u, 0x7fffffffu, 0x00008000u, 0x7fff7fffu,
		0x80808080u, 0x7f7f7f7fu, 0x00ff00ffu, 1, 2,
		0x3f800000u, 0xbf800000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u,
		0x7fa00000u, 0x00000001u, 0x807fffffu, 0x00800000u, 0x7f7fffffu, 0x40490fdbu,
	};
	if (gchance(g, 2))
		return v[gr(g, sizeof v / sizeof v[0])];
	return (uint32_t)rng_next(&g->r);
}

static uint64_t lane64(struct gen *g)
{
	static const uint64_t v[] = {
		0x3ff0000000000000ull, 0xbff0000000000000ull, 0x7ff0000000000000ull,
		0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
		0x7ff4000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull,
		0x0010000000000000ull, 0x7fefffffffffffffull, 0x400921fb54442d18ull,
		0x8000000000000000ull, 0,
	};
	if (gchance(g, 2))
		return v[gr(g, sizeof v / sizeof v[0])];
	return (uint64_t)lane32(g) << 32 | lane32(g);
}

void gen_fpu_state(struct gen *g, struct seq_fpu *f)
{
	memset(f, 0, sizeof *f);
	f->fcw = 0x037f;
	f->mxcsr = 0x1f80;
	for (int k = 0; k < 8; k++)
		for (int b = 0; b < 10; b++)
			f->st[k][b] = (uint8_t)rng_next(&g->r);
	for (int k = 0; k < 16; k++) {
		uint64_t q[2];
		for (int h = 0; h < 2; h++)
			q[h] = gchance(g, 3) ? lane64(g) : (uint64_t)lane32(g) << 32 | lane32(g);
		memcpy(f->xmm[k], q, 16);
	}
}

/* FXSAVE image (SDM Vol. 1 Table 10-2): the fields the executors use. */
void seq_fpu_to_fx(const struct seq_fpu *f, uint8_t img[512])
{
	memset(img, 0, 512);
	memcpy(img + 0, &f->fcw, 2);
	memcpy(img + 2, &f->fsw, 2);
	img[4] = f->ftw;
	memcpy(img + 24, &f->mxcsr, 4);
	for (int k = 0; k < 8; k++)
		memcpy(img + 32 + 16 * k, f->st[k], 10);
	for (int k = 0; k < 16; k++)
		memcpy(img + 160 + 16 * k, f->xmm[k], 16);
}

void seq_fpu_from_fx(struct seq_fpu *f, const uint8_t img[512])
{
	memcpy(&f->fcw, img + 0, 2);
	memcpy(&f->fsw, img + 2, 2);
	f->ftw = img[4];
	memcpy(&f->mxcsr, img + 24, 4);
	for (int k = 0; k < 8; k++)
		memcpy(f->st[k], img + 32 + 16 * k, 10);
	for (int k = 0; k < 16; k++)
		memcpy(f->xmm[k], img + 160 + 16 * k, 16);
}

/* ---- forms ---------------------------------------------------------------------- */

enum shape {
	S_XW,        /* xmm, xmm/m  (ModRM.reg is the destination) */
	S_WX,        /* xmm/m, xmm  (a store: r/m is the destination) */
	S_PQ,        /* mm, mm/m64 */
	S_QP,        /* mm/m64, mm */
	S_SHX,       /* xmm (r/m), imm8 with ModRM.reg = /digit */
	S_SHP,       /* mm (r/m), imm8 with /digit */
	S_GX,        /* r32/64 (reg), xmm (r/m register) */
	S_GP,        /* r32/64 (reg), mm (r/m register) */
	S_XE,        /* xmm (reg), r/m32/64 (REX.W: 64) */
	S_EX,        /* r/m32/64, xmm (reg) */
	S_PE,        /* mm, r/m32/64 */
	S_EP,        /* r/m32/64, mm */
	S_XP,        /* xmm, mm register (MOVQ2DQ) */
	S_PX,        /* mm, xmm register (MOVDQ2Q) */
	S_NONE,      /* no operands (EMMS) */
	S_MG,        /* m32/64, r32/64 (MOVNTI) */
};

/* Operand-memory rules: mem bytes (0: register only), M_ONLY memory only,
 * ALIGN 16-byte aligned, IMM an imm8 follows, DIG(n) /n in ModRM.reg. */
#define M_ONLY 0x100
#define ALIGN  0x200
#define IMM    0x400
#define DIG(n) (0x800 | (n) << 12)

struct sse_form { uint8_t pfx, op; uint8_t shape; uint16_t rule; };

#define A16 (16 | ALIGN)
static const struct sse_form forms[] = {
	/* loads and register moves */
	{ 0, 0x10, S_XW, 16 }, { 0x66, 0x10, S_XW, 16 }, { 0xf3, 0x10, S_XW, 4 },
	{ 0xf2, 0x10, S_XW, 8 }, { 0, 0x28, S_XW, A16 }, { 0x66, 0x28, S_XW, A16 },
	{ 0x66, 0x6f, S_XW, A16 }, { 0xf3, 0x6f, S_XW, 16 }, { 0xf3, 0x7e, S_XW, 8 },
	{ 0, 0x12, S_XW, 8 }, { 0x66, 0x12, S_XW, 8 | M_ONLY }, { 0, 0x16, S_XW, 8 },
	{ 0x66, 0x16, S_XW, 8 | M_ONLY }, { 0xf2, 0xf0, S_XW, 16 | M_ONLY },
	{ 0xf3, 0x12, S_XW, A16 }, { 0xf3, 0x16, S_XW, A16 }, { 0xf2, 0x12, S_XW, 8 },
	/* stores */
	{ 0, 0x11, S_WX, 16 }, { 0x66, 0x11, S_WX, 16 }, { 0xf3, 0x11, S_WX, 4 },
	{ 0xf2, 0x11, S_WX, 8 }, { 0, 0x29, S_WX, A16 }, { 0x66, 0x29, S_WX, A16 },
	{ 0x66, 0x7f, S_WX, A16 }, { 0xf3, 0x7f, S_WX, 16 }, { 0x66, 0xd6, S_WX, 8 },
	{ 0, 0x13, S_WX, 8 | M_ONLY }, { 0x66, 0x13, S_WX, 8 | M_ONLY },
	{ 0, 0x17, S_WX, 8 | M_ONLY }, { 0x66, 0x17, S_WX, 8 | M_ONLY },
	{ 0, 0x2b, S_WX, A16 | M_ONLY }, { 0x66, 0x2b, S_WX, A16 | M_ONLY },
	{ 0x66, 0xe7, S_WX, A16 | M_ONLY },
	/* logic, unpacks and shuffles in the float domain */
	{ 0, 0x14, S_XW, A16 }, { 0x66, 0x14, S_XW, A16 }, { 0, 0x15, S_XW, A16 },
	{ 0x66, 0x15, S_XW, A16 }, { 0, 0x54, S_XW, A16 }, { 0x66, 0x54, S_XW, A16 },
	{ 0, 0x55, S_XW, A16 }, { 0x66, 0x55, S_XW, A16 }, { 0, 0x56, S_XW, A16 },
	{ 0x66, 0x56, S_XW, A16 }, { 0, 0x57, S_XW, A16 }, { 0x66, 0x57, S_XW, A16 },
	{ 0, 0xc6, S_XW, A16 | IMM }, { 0x66, 0xc6, S_XW, A16 | IMM },
	{ 0x66, 0x70, S_XW, A16 | IMM }, { 0xf3, 0x70, S_XW, A16 | IMM },
	{ 0xf2, 0x70, S_XW, A16 | IMM }, { 0x66, 0x6c, S_XW, A16 }, { 0x66, 0x6d, S_XW, A16 },
	/* shifts by imm8 */
	{ 0x66, 0x71, S_SHX, IMM | DIG(2) }, { 0x66, 0x71, S_SHX, IMM | DIG(4) },
	{ 0x66, 0x71, S_SHX, IMM | DIG(6) }, { 0x66, 0x72, S_SHX, IMM | DIG(2) },
	{ 0x66, 0x72, S_SHX, IMM | DIG(4) }, { 0x66, 0x72, S_SHX, IMM | DIG(6) },
	{ 0x66, 0x73, S_SHX, IMM | DIG(2) }, { 0x66, 0x73, S_SHX, IMM | DIG(3) },
	{ 0x66, 0x73, S_SHX, IMM | DIG(6) }, { 0x66, 0x73, S_SHX, IMM | DIG(7) },
	{ 0, 0x71, S_SHP, IMM | DIG(2) }, { 0, 0x71, S_SHP, IMM | DIG(4) },
	{ 0, 0x71, S_SHP, IMM | DIG(6) }, { 0, 0x72, S_SHP, IMM | DIG(2) },
	{ 0, 0x72, S_SHP, IMM | DIG(4) }, { 0, 0x72, S_SHP, IMM | DIG(6) },
	{ 0, 0x73, S_SHP, IMM | DIG(2) }, { 0, 0x73, S_SHP, IMM | DIG(6) },
	/* general registers */
	{ 0x66, 0x6e, S_XE, 0 }, { 0x66, 0x7e, S_EX, 0 }, { 0, 0x6e, S_PE, 0 },
	{ 0, 0x7e, S_EP, 0 }, { 0x66, 0xd7, S_GX, 0 }, { 0, 0xd7, S_GP, 0 },
	{ 0, 0x50, S_GX, 0 }, { 0x66, 0x50, S_GX, 0 }, { 0x66, 0xc5, S_GX, IMM },
	{ 0, 0xc5, S_GP, IMM }, { 0x66, 0xc4, S_XE, IMM | 2 }, { 0, 0xc4, S_PE, IMM | 2 },
	{ 0, 0xc3, S_MG, M_ONLY },
	/* MMX moves and the MMX/XMM bridges */
	{ 0, 0x6f, S_PQ, 8 }, { 0, 0x7f, S_QP, 8 }, { 0, 0xe7, S_QP, 8 | M_ONLY },
	{ 0, 0x70, S_PQ, 8 | IMM }, { 0xf3, 0xd6, S_XP, 0 }, { 0xf2, 0xd6, S_PX, 0 },
	{ 0, 0x77, S_NONE, 0 },
};

/* The integer operations with an MMX (NP) and an SSE2 (66) form. */
static const uint8_t int_ops[] = {
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
	0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb,
	0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9,
	0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
};

/* A memory operand of `size` bytes in the data page; `align`: 16-aligned
 * (and, one time in 40, deliberately not). */
static void sse_mem(struct gen *g, struct x86_op *op, int size, bool align)
{
	int off;
	if (align) {
		off = 64 + 16 * (int)gr(g, (SEQ_PAGE - 128) / 16);
		if (!g->o->for_unicorn && gchance(g, 40))   /* Unicorn: no #GP */
			off += 1 + (int)gr(g, 15);
	} else {
		off = 64 + (int)gr(g, SEQ_PAGE - 128 - (uint32_t)size);
	}
	mem_at(g, op, off);
}

/* Encode form f into `it`; false if the operands could not be made. */
static bool emit_form(struct gen *g, struct item *it, const struct sse_form *f)
{
	struct enc_req r;
	struct x86_op e;
	enc_init(&r);
	static const uint8_t seg[4] = { 0x26, 0x2e, 0x36, 0x3e };
	if (gchance(g, 12))
		add_pfx(&r, seg[gr(g, 4)]);
	if (f->pfx)
		add_pfx(&r, f->pfx);
	if (gchance(g, 12))
		r.rex40 = true;
	opc(&r, 2, 0x0f, f->op);
	int size = f->rule & 0xff, reg;
	bool mem_ok = size != 0 || (f->rule & M_ONLY);
	bool use_mem = (f->rule & M_ONLY) || (mem_ok && gchance(g, 3));
	bool xmm_rm = f->shape == S_XW || f->shape == S_WX || f->shape == S_GX ||
		      f->shape == S_SHX || f->shape == S_PX;
	int nregs = xmm_rm ? 16 : 8;
	bool gpr = f->shape == S_XE || f->shape == S_EX || f->shape == S_PE || f->shape == S_EP;
	int gsize = gchance(g, 2) ? 8 : 4;
	if (gpr && !(f->rule & IMM) && gsize == 8)
		r.rexw = true;
	if (gpr) {
		if (use_mem)
			sse_mem(g, &e, (f->rule & 0xff) ? (f->rule & 0xff) : gsize, false);
		else
			e = op_reg(f->shape == S_EX || f->shape == S_EP ? pick_wreg(g) : pick_reg(g));
	} else if (f->shape == S_MG) {
		sse_mem(g, &e, gsize, false);
		r.rexw = gsize == 8;
	} else if (use_mem) {
		sse_mem(g, &e, size ? size : 16, (f->rule & ALIGN) != 0);
	} else {
		e = op_reg((int)gr(g, (uint32_t)nregs));
	}
	switch (f->shape) {
	case S_SHX: case S_SHP:
		reg = f->rule >> 12 & 7;
		modrm(&r, reg, false, 4, &e);
		break;
	case S_GX: case S_GP:
		reg = pick_wreg(g);
		modrm(&r, reg, true, 4, &e);
		break;
	case S_MG:
		modrm(&r, pick_reg(g), true, 4, &e);
		break;
	case S_NONE:
		break;
	default:
		reg = (int)gr(g, f->shape == S_XW || f->shape == S_WX || f->shape == S_XE ||
				   f->shape == S_EX || f->shape == S_XP ? 16 : 8);
		modrm(&r, reg, true, 4, &e);
		break;
	}
	if (f->rule & IMM) {
		r.immsz = 1;
		r.imm = gchance(g, 2) ? gr(g, 256) : gr(g, 20);
	}
	return emit(it, &r, GC_sse, 0, 0, 0);
}

bool gen_sse(struct gen *g, struct item *it)
{
	uint32_t nf = sizeof forms / sizeof forms[0];
	uint32_t ni = sizeof int_ops / sizeof int_ops[0];
	uint32_t k = gr(g, nf + 2 * ni);
	struct sse_form f;
	if (k < nf) {
		f = forms[k];
	} else {
		k -= nf;
		f = (struct sse_form){ k < ni ? 0x66 : 0, int_ops[k % ni],
				       k < ni ? S_XW : S_PQ, k < ni ? A16 : 8 };
	}
	if (f.shape == S_NONE) {
		struct enc_req r;
		enc_init(&r);
		opc(&r, 2, 0x0f, f.op);
		return emit(it, &r, GC_sse, 0, 0, 0);
	}
	if (!emit_form(g, it, &f))
		return false;
	it->in[it->n - 1].may_fault = true;    /* misaligned on purpose */
	return true;
}
