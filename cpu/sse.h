/*
 * sse.h - what the MMX and SSE handlers share (sse_move.c, sse_int.c,
 * sse_fp.c, sse_cvt.c): the checks every form makes before it touches
 * state, and reading and writing their operands.
 *
 * Checks (SDM Vol. 3 2.5 CR0.EM/TS, CR4.OSFXSR; Vol. 2 2.8 exception
 * classes; Vol. 3 Table 12-1 for MMX):
 *
 *   SSE form   CR0.EM = 1 -> #UD;  CR4.OSFXSR = 0 -> #UD;  CR0.TS = 1 -> #NM
 *   MMX form   CR0.EM = 1 -> #UD;  CR0.TS = 1 -> #NM;  an x87 exception
 *              pending (FSW.ES) -> #MF; then the x87 stack is made MMX:
 *              TOP = 0 and every tag valid (Vol. 1 9.5.1)
 *
 * Operands: V/P = the ModRM.reg XMM/MMX register, W/Q = ModRM r/m, a
 * register or memory.  A 16-byte memory operand of a form that is not an
 * "unaligned" one (MOVUPS, MOVDQU, LDDQU ...) must be 16-byte aligned, else
 * #GP(0) (Vol. 1 11.4.1).  Stores check both pages of an operand that
 * crosses one before writing the first byte, as every other multi-part
 * store here does.
 */
#ifndef NESTLAB_SSE_H
#define NESTLAB_SSE_H

#include "arch.h"
#include "mem.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "union cpu_vec lanes assume a little-endian host");

/* MXCSR (SDM Vol. 1 10.2.3, Figure 10-3). */
#define MXCSR_IE   (1u << 0)
#define MXCSR_DE   (1u << 1)
#define MXCSR_ZE   (1u << 2)
#define MXCSR_OE   (1u << 3)
#define MXCSR_UE   (1u << 4)
#define MXCSR_PE   (1u << 5)
#define MXCSR_DAZ  (1u << 6)
#define MXCSR_MASKS_SHIFT 7          /* IM DM ZM OM UM PM: bits 12:7 */
#define MXCSR_RC_SHIFT 13            /* 00 nearest, 01 down, 10 up, 11 zero */
#define MXCSR_FZ   (1u << 15)
#define MXCSR_FLAGS 0x3fu
#define MXCSR_VALID 0x0000ffffu      /* MXCSR_MASK as FXSAVE reports it */

/* x87 status word bits the MMX check needs (SDM Vol. 1 8.1.3). */
#define FSW_ES      (1u << 7)
#define FSW_TOP     (7u << 11)

static inline void sse_check(struct cpu *c)
{
	if (unlikely((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR)))
		cpu_ud(c);
	if (unlikely(c->cr0 & CR0_TS))
		cpu_exception_noerr(c, VEC_NM);
}

static inline void mmx_check(struct cpu *c)
{
	if (unlikely(c->cr0 & CR0_EM))
		cpu_ud(c);
	if (unlikely(c->cr0 & CR0_TS))
		cpu_exception_noerr(c, VEC_NM);
	if (unlikely(c->fpu.fsw & FSW_ES))
		cpu_exception_noerr(c, VEC_MF);
	c->fpu.fsw &= (uint16_t)~FSW_TOP;
	c->fpu.ftw = 0xff;               /* abridged: all eight valid */
}

/* Linear address plus k, wrapped to 32 bits outside 64-bit mode. */
static inline uint64_t sse_at(const struct cpu *c, uint64_t lin, int k)
{
	uint64_t a = lin + (uint64_t)k;
	return c->mode == CPU_MODE64 ? a : (uint32_t)a;
}

/* Read `size` (1..16) bytes of the memory operand into v (the rest zero). */
static inline void sse_load(struct cpu *c, const struct insn *i, int size, bool align,
			    union cpu_vec *v)
{
	uint64_t lin = insn_lin_chk(c, i, size, false);
	if (align && (lin & 15))
		cpu_gp0(c);
	v->q[0] = v->q[1] = 0;
	if (size == 16) {
		v->q[0] = mem_read(c, lin, 8);
		v->q[1] = mem_read(c, sse_at(c, lin, 8), 8);
	} else {
		v->q[0] = mem_read(c, lin, size);
	}
}

static inline void sse_store(struct cpu *c, const struct insn *i, int size, bool align,
			     const union cpu_vec *v)
{
	uint64_t lin = insn_lin_chk(c, i, size, true);
	if (align && (lin & 15))
		cpu_gp0(c);
	if (size <= 8) {
		mem_write(c, lin, size, v->q[0]);
		return;
	}
	uint64_t last = sse_at(c, lin, size - 1);
	if ((last ^ lin) & ~0xfffull) {
		mem_translate(c, lin, ACC_WRITE, NULL);
		mem_translate(c, last & ~0xfffull, ACC_WRITE, NULL);   /* CR2: the page's first byte */
	}
	mem_write(c, lin, 8, v->q[0]);
	mem_write(c, sse_at(c, lin, 8), 8, v->q[1]);
}

/* W operand: XMM r/m, or `size` bytes of memory. */
static inline void sse_read_W(struct cpu *c, const struct insn *i, int size, bool align,
			      union cpu_vec *v)
{
	if (i->flags & I_MEM)
		sse_load(c, i, size, align, v);
	else
		*v = c->fpu.xmm[i->rm];
}

/* MMX registers: bytes 0-7 of ST(n)'s physical register; a write sets the
 * exponent bytes 8-9 to all ones (SDM Vol. 1 9.5.1). */
static inline uint64_t mmx_get(const struct cpu *c, int n)
{
	uint64_t v;
	memcpy(&v, c->fpu.st[n & 7], 8);
	return v;
}

static inline void mmx_set(struct cpu *c, int n, uint64_t v)
{
	memcpy(c->fpu.st[n & 7], &v, 8);
	c->fpu.st[n & 7][8] = 0xff;
	c->fpu.st[n & 7][9] = 0xff;
}

/* Q operand: MMX r/m or 8 bytes of memory (no alignment rule). */
static inline uint64_t mmx_read_Q(struct cpu *c, const struct insn *i)
{
	if (i->flags & I_MEM)
		return mem_read(c, insn_lin_chk(c, i, 8, false), 8);
	return mmx_get(c, i->rm);
}

#endif
