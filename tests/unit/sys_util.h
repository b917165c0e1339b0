/*
 * sys_util.h - system-mode fixtures for the segmentation and event suites
 * (test_idt.c, test_seg.c, test_syscall.c): a GDT, IDT and TSS built in RAM
 * and a CPU put into long mode (or 32-bit protected mode) at CPL 0 with
 * those tables loaded, the way a kernel leaves them after boot.
 *
 *   0x1000 GDT    0x08 code64 DPL0   0x10 data DPL0    0x18 code32 DPL3
 *                 0x20 data DPL3     0x28 code64 DPL3  0x30 TSS (16 bytes)
 *                 0x40 code32 DPL0   0x48 data DPL0, limit 0xfff
 *                 0x50 data DPL0 expand-down, limit 0xfff
 *                 0x58 data DPL0 read-only       0x60 code16 DPL0
 *                 0x68 call gate (filled by tests)  0x78 data DPL0 not present
 *   0x2000 IDT    (gates filled by tests)
 *   0x3000 TSS    RSP0 / ESP0 = 0x90000 (SS0 0x10), IST1 = 0xa0000
 *   0x10000 code (ut_run), handlers from 0x20000, ring-3 stack 0x80000
 *
 * SYSCALL/SYSRET use the Linux layout: STAR[47:32] = 0x08, STAR[63:48] = 0x18.
 */
#ifndef NESTLAB_SYS_UTIL_H
#define NESTLAB_SYS_UTIL_H

#include <string.h>

#include "arch.h"
#include "snippet.h"

#define SY_GDT   0x1000ull
#define SY_IDT   0x2000ull
#define SY_TSS   0x3000ull
#define SY_HND   0x20000ull
#define SY_RSP0  0x90000ull
#define SY_IST1  0xa0000ull
#define SY_USTK  0x80000ull
#define SY_KSTK  0x70000ull

static inline void sy_put(struct cpu *c, uint64_t pa, const void *p, size_t n)
{
	cpu_phys_write(c, pa, p, n);
}

static inline void sy_desc(struct cpu *c, uint16_t sel, uint64_t d)
{
	sn_poke(c, SY_GDT + (sel & ~7u), 8, d);
}

/* A segment descriptor from its parts (SDM Vol. 3 Figure 3-8). */
static inline uint64_t sy_mkdesc(uint32_t base, uint32_t limit, uint16_t attr)
{
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)(attr & 0xff) << 40) | ((uint64_t)(limit >> 16 & 0xf) << 48) |
	       ((uint64_t)(attr >> 12 & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

/* Interrupt gate (type 0xE) or trap gate (0xF): 16 bytes in long mode. */
static inline void sy_gate64(struct cpu *c, int vec, uint64_t off, int type, int dpl, int ist)
{
	uint64_t lo = (off & 0xffff) | (0x08ull << 16) | ((uint64_t)ist << 32) |
		      ((uint64_t)(0x80 | dpl << 5 | type) << 40) | ((off >> 16 & 0xffff) << 48);
	sn_poke(c, SY_IDT + 16 * (uint64_t)vec, 8, lo);
	sn_poke(c, SY_IDT + 16 * (uint64_t)vec + 8, 8, off >> 32);
}

/* 32-bit gate (8 bytes) to selector sel. */
static inline void sy_gate32(struct cpu *c, int vec, uint32_t off, uint16_t sel, int type, int dpl)
{
	uint64_t d = (off & 0xffff) | ((uint64_t)sel << 16) |
		     ((uint64_t)(0x80 | dpl << 5 | type) << 40) | ((uint64_t)(off >> 16) << 48);
	sn_poke(c, SY_IDT + 8 * (uint64_t)vec, 8, d);
}

static inline void sy_gdt(struct cpu *c, bool tss64)
{
	sy_desc(c, 0x08, sy_mkdesc(0, 0xfffff, 0xa09b));
	sy_desc(c, 0x10, sy_mkdesc(0, 0xfffff, 0xc093));
	sy_desc(c, 0x18, sy_mkdesc(0, 0xfffff, 0xc0fb));
	sy_desc(c, 0x20, sy_mkdesc(0, 0xfffff, 0xc0f3));
	sy_desc(c, 0x28, sy_mkdesc(0, 0xfffff, 0xa0fb));
	sy_desc(c, 0x30, sy_mkdesc((uint32_t)SY_TSS, 0x67, 0x89));
	sy_desc(c, 0x38, 0);
	sy_desc(c, 0x40, sy_mkdesc(0, 0xfffff, 0xc09b));
	sy_desc(c, 0x48, sy_mkdesc(0, 0xfff, 0x4093));
	sy_desc(c, 0x50, sy_mkdesc(0, 0xfff, 0x4097));
	sy_desc(c, 0x58, sy_mkdesc(0, 0xfffff, 0xc091));
	sy_desc(c, 0x60, sy_mkdesc(0, 0xffff, 0x009b));
	sy_desc(c, 0x78, sy_mkdesc(0, 0xfffff, 0xc013));
	c->gdtr.base = SY_GDT;
	c->gdtr.limit = 0xff;
	c->idtr.base = SY_IDT;
	c->idtr.limit = tss64 ? 0xfff : 0x7ff;
	/* TSS: 64-bit RSP0 at +4, IST1 at +0x24; 32-bit ESP0 +4, SS0 +8. */
	if (tss64) {
		sn_poke(c, SY_TSS + 4, 8, SY_RSP0);
		sn_poke(c, SY_TSS + 0x24, 8, SY_IST1);
	} else {
		sn_poke(c, SY_TSS + 4, 4, SY_RSP0);
		sn_poke(c, SY_TSS + 8, 2, 0x10);
	}
	c->tr = (struct cpu_segment){ 0x30, 0x8b, 0x67, SY_TSS };
}

static inline void sy_seg(struct cpu *c, int s, uint16_t sel, uint16_t attr)
{
	c->seg[s] = (struct cpu_segment){ sel, attr, 0xffffffff, 0 };
}

/* Long mode, CPL 0, flat kernel segments, tables loaded, delivery on. */
static inline struct cpu *sy_cpu64(void)
{
	struct cpu *c = sn_cpu();
	c->exceptions_stop = false;
	sy_gdt(c, true);
	sy_seg(c, SEG_CS, 0x08, 0xa09b);
	for (int s = 0; s < 6; s++)
		if (s != SEG_CS)
			sy_seg(c, s, 0x10, 0xc093);
	c->cr0 = CR0_PE | CR0_ET;
	c->efer = EFER_LME | EFER_LMA | EFER_SCE;
	c->msr.star = (0x18ull << 48) | (0x08ull << 32);
	c->gpr[R_RSP] = SY_KSTK;
	cpu_update_mode(c);
	return c;
}

/* 32-bit protected mode, CPL 0, paging off, tables loaded (32-bit TSS). */
static inline struct cpu *sy_cpu32(void)
{
	struct cpu *c = sn_cpu();
	c->exceptions_stop = false;
	c->efer = 0;
	sy_gdt(c, false);
	sy_seg(c, SEG_CS, 0x40, 0xc09b);
	for (int s = 0; s < 6; s++)
		if (s != SEG_CS)
			sy_seg(c, s, 0x10, 0xc093);
	c->cr0 = CR0_PE | CR0_ET;
	c->gpr[R_RSP] = SY_KSTK;
	cpu_update_mode(c);
	return c;
}

/* Run code at UT_CODE until HLT (at CPL 0) or the budget; the stop reason. */
static inline enum cpu_stop sy_run(struct cpu *c, const uint8_t *code, size_t len)
{
	c->halted = false;
	return ut_run(c, code, len, 10000);
}
#define SY_RUN(c, code) sy_run((c), (code), sizeof(code))

#endif
