/*
 * sse_move.c - MMX and SSE/SSE2/SSE3 data movement: loads, stores and
 * register moves of whole and partial registers, MOVD/MOVQ to and from
 * general registers, shuffles, inserts and extracts, sign-mask moves,
 * non-temporal stores, EMMS, and LDMXCSR/STMXCSR (SDM Vol. 2, each
 * instruction; Vol. 1 10.4.1, 11.4.1, 12.3).
 *
 * What a move leaves in the rest of an XMM register is the point of most
 * of these forms and is written next to each: MOVSS/MOVSD from memory
 * zero bits 127:32 (127:64), between registers they keep them; MOVLPS and
 * friends replace one half.  Nothing here rounds or inspects a value, so
 * no MXCSR flag changes (SDM Vol. 1 11.5: data movement raises no SIMD
 * floating-point exception).
 */
#include "sse.h"

/* ---- whole registers: MOVUPS/MOVAPS/MOVDQU/MOVDQA, LDDQU, MOVNT* --------- */

static void load_x(struct cpu *c, const struct insn *i, bool align)
{
	sse_check(c);
	union cpu_vec v;
	sse_read_W(c, i, 16, align, &v);
	c->fpu.xmm[i->reg] = v;
}

static void store_x(struct cpu *c, const struct insn *i, bool align)
{
	sse_check(c);
	if (i->flags & I_MEM)
		sse_store(c, i, 16, align, &c->fpu.xmm[i->reg]);
	else
		c->fpu.xmm[i->rm] = c->fpu.xmm[i->reg];
}

#define LOAD_STORE(ld, st, align) \
	void op_##ld(struct cpu *c, const struct insn *i) { load_x(c, i, align); } \
	void op_##st(struct cpu *c, const struct insn *i) { store_x(c, i, align); }
LOAD_STORE(movups_Vx_Wx, movups_Wx_Vx, false)
LOAD_STORE(movupd_Vx_Wx, movupd_Wx_Vx, false)
LOAD_STORE(movaps_Vx_Wx, movaps_Wx_Vx, true)
LOAD_STORE(movapd_Vx_Wx, movapd_Wx_Vx, true)
LOAD_STORE(movdqa_Vx_Wx, movdqa_Wx_Vx, true)
LOAD_STORE(movdqu_Vx_Wx, movdqu_Wx_Vx, false)
/* Non-temporal stores (memory forms only: opcodes.def F_MEM). */
void op_movntps_Mx_Vx(struct cpu *c, const struct insn *i) { store_x(c, i, true); }
void op_movntpd_Mx_Vx(struct cpu *c, const struct insn *i) { store_x(c, i, true); }
void op_movntdq_Mx_Vx(struct cpu *c, const struct insn *i) { store_x(c, i, true); }
void op_lddqu_Vx_Mx(struct cpu *c, const struct insn *i) { load_x(c, i, false); }

/* ---- scalars: MOVSS, MOVSD ------------------------------------------------ */

static void load_scalar(struct cpu *c, const struct insn *i, int size)
{
	sse_check(c);
	union cpu_vec *d = &c->fpu.xmm[i->reg];
	if (i->flags & I_MEM) {                      /* upper bits cleared */
		sse_load(c, i, size, false, d);
		return;
	}
	memcpy(d->b, c->fpu.xmm[i->rm].b, (size_t)size);   /* upper bits kept */
}

static void store_scalar(struct cpu *c, const struct insn *i, int size)
{
	sse_check(c);
	if (i->flags & I_MEM)
		sse_store(c, i, size, false, &c->fpu.xmm[i->reg]);
	else
		memcpy(c->fpu.xmm[i->rm].b, c->fpu.xmm[i->reg].b, (size_t)size);
}

void op_movss_Vx_Wss(struct cpu *c, const struct insn *i) { load_scalar(c, i, 4); }
void op_movsd_Vx_Wsd(struct cpu *c, const struct insn *i) { load_scalar(c, i, 8); }
void op_movss_Wss_Vss(struct cpu *c, const struct insn *i) { store_scalar(c, i, 4); }
void op_movsd_Wsd_Vsd(struct cpu *c, const struct insn *i) { store_scalar(c, i, 8); }

/* ---- halves: MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVHLPS/MOVLHPS, MOVQ ----------- */

/* A quadword into half `h` of XMM reg: from memory or (hl) from the other
 * half of an XMM register. */
static void load_half(struct cpu *c, const struct insn *i, int h)
{
	sse_check(c);
	union cpu_vec v;
	if (i->flags & I_MEM)
		sse_load(c, i, 8, false, &v);
	else
		v.q[0] = c->fpu.xmm[i->rm].q[1 - h];     /* MOVHLPS (h 0), MOVLHPS (h 1) */
	c->fpu.xmm[i->reg].q[h] = v.q[0];
}

static void store_half(struct cpu *c, const struct insn *i, int h)
{
	sse_check(c);
	union cpu_vec v = { .q = { c->fpu.xmm[i->reg].q[h], 0 } };
	sse_store(c, i, 8, false, &v);
}

void op_movlps_Vq_Mq(struct cpu *c, const struct insn *i) { load_half(c, i, 0); }
void op_movlpd_Vq_Mq(struct cpu *c, const struct insn *i) { load_half(c, i, 0); }
void op_movhps_Vq_Mq(struct cpu *c, const struct insn *i) { load_half(c, i, 1); }
void op_movhpd_Vq_Mq(struct cpu *c, const struct insn *i) { load_half(c, i, 1); }
void op_movlps_Mq_Vq(struct cpu *c, const struct insn *i) { store_half(c, i, 0); }
void op_movlpd_Mq_Vq(struct cpu *c, const struct insn *i) { store_half(c, i, 0); }
void op_movhps_Mq_Vq(struct cpu *c, const struct insn *i) { store_half(c, i, 1); }
void op_movhpd_Mq_Vq(struct cpu *c, const struct insn *i) { store_half(c, i, 1); }

/* F3 0F 7E MOVQ xmm, xmm/m64 and 66 0F D6 MOVQ xmm/m64, xmm: bits 127:64
 * of an XMM destination are cleared. */
void op_movq_Vx_Wq(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec v;
	sse_read_W(c, i, 8, false, &v);
	c->fpu.xmm[i->reg] = (union cpu_vec){ .q = { v.q[0], 0 } };
}

void op_movq_Wq_Vq(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec v = { .q = { c->fpu.xmm[i->reg].q[0], 0 } };
	if (i->flags & I_MEM)
		sse_store(c, i, 8, false, &v);
	else
		c->fpu.xmm[i->rm] = v;
}

/* SSE3 duplicating loads (MOVSLDUP, MOVSHDUP: even or odd singles;
 * MOVDDUP: the low double, 8 bytes from memory). */
void op_movsldup_Vx_Wx(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec v;
	sse_read_W(c, i, 16, true, &v);
	c->fpu.xmm[i->reg] = (union cpu_vec){ .d = { v.d[0], v.d[0], v.d[2], v.d[2] } };
}

void op_movshdup_Vx_Wx(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec v;
	sse_read_W(c, i, 16, true, &v);
	c->fpu.xmm[i->reg] = (union cpu_vec){ .d = { v.d[1], v.d[1], v.d[3], v.d[3] } };
}

void op_movddup_Vx_Wq(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	union cpu_vec v;
	sse_read_W(c, i, 8, false, &v);
	c->fpu.xmm[i->reg] = (union cpu_vec){ .q = { v.q[0], v.q[0] } };
}

/* ---- MMX moves; MOVD/MOVQ with general registers -------------------------- */

void op_movq_Pq_Qq(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	mmx_set(c, i->reg, mmx_read_Q(c, i));
}

void op_movq_Qq_Pq(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	uint64_t v = mmx_get(c, i->reg);
	if (i->flags & I_MEM)
		mem_write(c, insn_lin_chk(c, i, 8, true), 8, v);
	else
		mmx_set(c, i->rm, v);
}

void op_movntq_Mq_Pq(struct cpu *c, const struct insn *i) { op_movq_Qq_Pq(c, i); }

/* 0F 6E / 0F 7E: 32 bits, or 64 with REX.W (osize 8), zero-extended. */
void op_movd_Pq_Ey(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	mmx_set(c, i->reg, read_E(c, i, i->osize == 8 ? 8 : 4));
}

void op_movd_Ey_Pq(struct cpu *c, const struct insn *i)
{
	mmx_check(c);
	write_E(c, i, i->osize == 8 ? 8 : 4, mmx_get(c, i->reg));
}

void op_movd_Vx_Ey(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	uint64_t v = read_E(c, i, i->osize == 8 ? 8 : 4);
	c->fpu.xmm[i->reg] = (union cpu_vec){ .q = { v, 0 } };
}

void op_movd_Ey_Vx(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	write_E(c, i, i->osize == 8 ? 8 : 4, c->fpu.xmm[i->reg].q[0]);
}

/* MOVQ2DQ xmm, mm and MOVDQ2Q mm, xmm: both are MMX instructions too. */
void op_movq2dq_Vx_Nq(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	mmx_check(c);
	c->fpu.xmm[i->reg] = (union cpu_vec){ .q = { mmx_get(c, i->rm), 0 } };
}

void op_movdq2q_Pq_Ux(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	mmx_check(c);
	mmx_set(c, i->reg, c->fpu.xmm[i->rm].q[0]);
}

/* MOVNTI m32/m64, r: a plain store (SSE2, but no SSE state: no #NM). */
void op_movnti_My_Gy(struct cpu *c, const struct insn *i)
{
	int size = i->osize == 8 ? 8 : 4;
	write_E(c, i, size, read_G(c, i, size));
}

/* EMMS: every x87 tag empty (SDM Vol. 2 EMMS). */
void op_emms(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (c->cr0 & CR0_EM)
		cpu_ud(c);
	if (c->cr0 & CR0_TS)
		cpu_exception_noerr(c, VEC_NM);
	if (c->fpu.fsw & FSW_ES)
		cpu_exception_noerr(c, VEC_MF);
	c->fpu.ftw = 0;
}

/* ---- LDMXCSR / STMXCSR (SDM Vol. 2; reserved bits -> #GP(0)) ------------- */

void op_ldmxcsr_Md(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	uint32_t v = (uint32_t)read_E(c, i, 4);
	if (v & ~MXCSR_VALID)
		cpu_gp0(c);
	c->fpu.mxcsr = v;
}

void op_stmxcsr_Md(struct cpu *c, const struct insn *i)
{
	sse_check(c);
	write_E(c, i, 4, c->fpu.mxcsr);
}
