/*
 * fxsave.c - FXSAVE and FXRSTOR: the 512-byte image of the x87 and SSE
 * state (SDM Vol. 1 10.5.1, Tables 10-2 and 10-3; Vol. 2 FXSAVE).
 *
 *   0F AE /0  FXSAVE m512byte        REX.W 0F AE /0  FXSAVE64
 *   0F AE /1  FXRSTOR m512byte       REX.W 0F AE /1  FXRSTOR64
 *
 * Nestlab executes no x87 or SSE instruction; it keeps their state in
 * c->fpu so that a kernel can save and restore it across task switches,
 * and these two instructions move it.  The image:
 *
 *   byte  0      2      4    5    6      8            16           24      28
 *         FCW    FSW    FTW  0    FOP    FIP          FDP          MXCSR   MXCSR_MASK
 *                       (abridged)       FXSAVE64: 64-bit FIP, FDP
 *                                        otherwise: FIP[31:0] FCS, FDP[31:0] FDS
 *   32 + 16n   ST(n)/MM(n), 10 bytes used      n = 0..7
 *   160 + 16n  XMMn                            n = 0..15 in 64-bit mode, else 0..7
 *   416..511   not written (464..511 belong to software)
 *
 * The legacy form keeps bits 47:32 of the stored instruction and data
 * pointers in the FCS and FDS fields, so an image restored and saved again
 * is the same image.
 *
 * Checks, in order: CR0.EM or CR0.TS -> #NM; the segment limit and rights
 * for 512 bytes (outside 64-bit mode); a linear address not 16-byte
 * aligned -> #GP(0); then page faults on any byte of the image (all taken
 * before anything is written or loaded); FXRSTOR with MXCSR bits outside
 * MXCSR_MASK -> #GP(0).
 */
#include "arch.h"
#include "mem.h"

/* MXCSR bits that exist: flags, masks, rounding, FZ and DAZ (bit 6). */
#define MXCSR_MASK 0x0000ffffu
#define FX_SIZE 512

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static void st16(uint8_t *p, uint64_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint64_t v) { st16(p, v); st16(p + 2, v >> 16); }
static void st64(uint8_t *p, uint64_t v) { st32(p, v); st32(p + 4, v >> 32); }

/* The bytes of the image this form touches: XMM8-15 only in 64-bit mode. */
static int fx_bytes(const struct cpu *c)
{
	return c->mode == CPU_MODE64 ? 416 : 288;
}

/* #NM; the segment check of all 512 bytes; #GP(0) for alignment.
 * Returns the image's linear address. */
static uint64_t fx_start(struct cpu *c, const struct insn *i, bool write)
{
	if (c->cr0 & (CR0_EM | CR0_TS))
		cpu_exception_noerr(c, VEC_NM);
	uint64_t lin = insn_lin_chk(c, i, FX_SIZE, write);
	if (lin & 15)
		cpu_gp0(c);
	return lin;
}

/* The next linear address, wrapped to 32 bits outside 64-bit mode. */
static uint64_t fx_at(const struct cpu *c, uint64_t lin, int off)
{
	uint64_t a = lin + (uint64_t)off;
	return c->mode == CPU_MODE64 ? a : (uint32_t)a;
}

static void fx_build(const struct cpu *c, const struct insn *i, uint8_t *img)
{
	const struct cpu_fpu *f = &c->fpu;
	st16(img + 0, f->fcw);
	st16(img + 2, f->fsw);
	img[4] = f->ftw;
	img[5] = 0;
	st16(img + 6, f->fop);
	if (i->osize == 8) {               /* FXSAVE64 */
		st64(img + 8, f->fip);
		st64(img + 16, f->fdp);
	} else {
		st32(img + 8, f->fip);
		st32(img + 12, f->fip >> 32);  /* FCS, and 2 bytes of 0 */
		st32(img + 16, f->fdp);
		st32(img + 20, f->fdp >> 32);  /* FDS, and 2 bytes of 0 */
		st16(img + 14, 0);
		st16(img + 22, 0);
	}
	st32(img + 24, f->mxcsr);
	st32(img + 28, MXCSR_MASK);
	for (int n = 0; n < 8; n++) {
		memcpy(img + 32 + 16 * n, f->st[n], 10);
		memset(img + 32 + 16 * n + 10, 0, 6);
	}
	for (int n = 0; n < (fx_bytes(c) - 160) / 16; n++)
		memcpy(img + 160 + 16 * n, f->xmm[n].b, 16);
}

void op_fxsave_M(struct cpu *c, const struct insn *i)
{
	uint64_t lin = fx_start(c, i, true);
	int n = fx_bytes(c);
	/* Both pages the image may touch, before the first byte is written;
	 * a fault on the second reports its first byte in CR2. */
	mem_translate(c, lin, ACC_WRITE, NULL);
	uint64_t last = fx_at(c, lin, n - 1);
	if ((last ^ lin) & ~0xfffull)
		mem_translate(c, last & ~0xfffull, ACC_WRITE, NULL);
	uint8_t img[FX_SIZE];
	fx_build(c, i, img);
	for (int k = 0; k < n; k += 8)
		mem_write(c, fx_at(c, lin, k), 8, ld64(img + k));
}

void op_fxrstor_M(struct cpu *c, const struct insn *i)
{
	uint64_t lin = fx_start(c, i, false);
	int n = fx_bytes(c);
	uint8_t img[FX_SIZE];
	for (int k = 0; k < n; k += 8)
		st64(img + k, mem_read(c, fx_at(c, lin, k), 8));
	uint32_t mxcsr = ld32(img + 24);
	if (mxcsr & ~MXCSR_MASK)
		cpu_gp0(c);
	struct cpu_fpu *f = &c->fpu;
	f->fcw = ld16(img + 0);
	f->fsw = ld16(img + 2);
	f->ftw = img[4];
	f->fop = ld16(img + 6) & 0x7ff;    /* the opcode has 11 bits */
	if (i->osize == 8) {
		f->fip = ld64(img + 8);
		f->fdp = ld64(img + 16);
	} else {
		f->fip = ld32(img + 8) | (uint64_t)ld16(img + 12) << 32;
		f->fdp = ld32(img + 16) | (uint64_t)ld16(img + 20) << 32;
	}
	f->mxcsr = mxcsr;
	f->mxcsr_mask = MXCSR_MASK;
	for (int k = 0; k < 8; k++)
		memcpy(f->st[k], img + 32 + 16 * k, 10);
	for (int k = 0; k < (n - 160) / 16; k++)
		memcpy(f->xmm[k].b, img + 160 + 16 * k, 16);
}
