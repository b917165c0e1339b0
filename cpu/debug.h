/*
 * debug.h - the processor's own debug facilities (SDM Vol. 3 Chapter 18):
 * the breakpoints of DR0-DR3 as DR7 enables them, DR6 status, single-step
 * (RFLAGS.TF) and the resume flag (RFLAGS.RF).
 *
 * These are the guest's architectural breakpoints.  The debugger's own
 * breakpoints (ui/, `nestlab step`) are a different thing and live there:
 * nothing here knows about them, and they never show in DR6.
 *
 * Cost when nothing is enabled: the run loop tests one word per block
 * (cpu_debug_slow), and the memory and I/O slow paths one field each.
 * While a breakpoint is enabled, or TF is set, the run loop executes
 * one instruction at a time through cpu_debug_step(); pages that hold a
 * data breakpoint never get a fast TLB entry, so every access to them
 * reaches mem.c's slow path, which calls dbg_data_access().
 */
#ifndef NESTLAB_DEBUG_H
#define NESTLAB_DEBUG_H

#include "cpu.h"

struct dblock;

/* DR6 bits (SDM Vol. 3 18.2.3, Figure 18-1). */
#define DR6_B0_3   0xfull
#define DR6_BD     (1ull << 13)    /* the next MOV DRn hit DR7.GD */
#define DR6_BS     (1ull << 14)    /* single step */
#define DR6_BT     (1ull << 15)    /* task switch with the TSS T bit */
#define DR6_FIXED1 0xffff0ff0ull   /* reserved bits that read as 1 */
#define DR6_WRITABLE 0x0000e00full
/* DR7 (SDM Vol. 3 18.2.4, Figure 18-2). */
#define DR7_FIXED1 0x400ull
#define DR7_WRITABLE 0xffff23ffull /* bits 11, 12, 14, 15 read as 0 */
#define DR7_GD     (1ull << 13)
#define DR7_RW(dr7, n)  ((unsigned)((dr7) >> (16 + 4 * (n))) & 3)
#define DR7_LEN(dr7, n) ((unsigned)((dr7) >> (18 + 4 * (n))) & 3)
#define DR7_EN(dr7, n)  (((dr7) >> (2 * (n))) & 3)    /* Ln | Gn */
enum { DR7_RW_EXEC = 0, DR7_RW_WRITE = 1, DR7_RW_IO = 2, DR7_RW_RW = 3 };

/* c->dbg_active: which kinds of breakpoint DR7 enables now. */
#define DBG_EXEC 1u
#define DBG_DATA 2u
#define DBG_IO   4u

/* Recompute c->dbg_active after DR0-DR3, DR7 or CR4.DE changed (MOV DRn,
 * MOV CR4, and whoever loads DR7 wholesale: VM entry and exit).  A change
 * of the data breakpoints flushes the TLB so that the pages they watch
 * lose their fast entries. */
void cpu_dbg_update(struct cpu *c);

/* Must the run loop go one instruction at a time through cpu_debug_step()?
 * (RF alone is exec.c's run_rf_insn: one instruction, RF cleared after.) */
static inline bool cpu_debug_slow(const struct cpu *c)
{
	return ((c->rflags & FLAG_TF) | c->dbg_active | c->dbg_deferred) != 0;
}

/* Run the first instruction of block b with the debug rules around it: an
 * instruction breakpoint is a fault before it (unless RF), data and I/O
 * breakpoints and single-step are a trap after it (SDM Vol. 3 18.3). */
void cpu_debug_step(struct cpu *c, const struct dblock *b);

/* Does a page (linear, 4 KiB aligned) hold a data breakpoint?  mem.c asks
 * before it fills a fast TLB entry, when c->dbg_active has DBG_DATA. */
bool dbg_page_watched(const struct cpu *c, uint64_t page);
/* A data access of `size` bytes at linear `lin` (mem.c's slow path), and an
 * I/O access to ports port..port+size-1 (io.c): record the breakpoints hit. */
void dbg_data_access(struct cpu *c, uint64_t lin, int size, bool write);
void dbg_io_access(struct cpu *c, uint16_t port, int size);

#endif
