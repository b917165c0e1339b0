/*
 * debug.c - the guest's debug registers at work (SDM Vol. 3 Chapter 18):
 * DR0-DR3 breakpoints as DR7 enables them, DR6 status, single-step with
 * RFLAGS.TF, and RFLAGS.RF.  MOV DRn itself, with DR7.GD, is in cr.c.
 *
 *   DR7:  31..16: R/W and LEN for DR0..DR3 (4 bits each)   7..0: L0 G0 .. L3 G3
 *         R/W 00 execute (LEN must be 00), 01 data write, 11 data read or
 *         write, 10 I/O read or write (only with CR4.DE; else undefined)
 *         LEN 00 1 byte, 01 2 bytes, 11 4 bytes, 10 8 bytes; DRn's low
 *         address bits are ignored to the length (an aligned range)
 *
 * Two classes of #DB (SDM Vol. 3 18.3, Table 18-2):
 *
 *   fault  instruction breakpoint: before the instruction runs, RIP on it;
 *          RF = 1 suppresses it for one instruction, so a handler can IRET
 *          back to the breakpoint with RF set in the image (18.3.1.1)
 *   trap   data and I/O breakpoints, single-step: after the instruction,
 *          RIP on the next one; all conditions of one instruction come as
 *          one #DB with their DR6 bits together
 *
 * The processor clears RF once an instruction completes (IRET loads it):
 * clearing it as the instruction starts, after the breakpoint check, is the
 * same thing seen from outside.  The single-step trap follows TF as it was
 * when the instruction started: none after the POPF or IRET that sets TF,
 * one after the POPF that clears it.  MOV SS and POP SS hold every debug
 * trap back until the next instruction is done (SDM Vol. 2 MOV: "the
 * processor inhibits ... debug exceptions"), so the #DB of MOV SS; MOV ESP
 * comes after both.  An instruction that raises an event of its own (INT n,
 * INT3, INT1, a fault) reports no single-step trap: the handler starts with
 * TF clear, and stepping resumes after its IRET.  A repeated string
 * instruction runs one element per step, so a trap comes after the element
 * that caused it with RIP still on the instruction, whose later elements
 * run with RF set (string.c: no instruction breakpoint in the middle).
 *
 * A trap is raised as the #DB "fault" of the next instruction, before it
 * starts (insn_rip = RIP), so it goes through the same unwind and delivery
 * as every exception (and the same VM-exit hooks).
 */
#include "arch.h"
#include "dcache.h"
#include "debug.h"
#include "mem.h"

/* Bytes covered by LEN (00 1, 01 2, 10 8, 11 4). */
static uint64_t dr_len(uint64_t dr7, int n)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };
	return len[DR7_LEN(dr7, n)];
}

/* Does [a, a+size) meet breakpoint n's aligned range? */
static bool dr_overlaps(const struct cpu *c, int n, uint64_t a, uint64_t size)
{
	uint64_t len = dr_len(c->dr[7], n), lo = c->dr[n] & ~(len - 1);
	return a < lo + len && lo < a + size;
}

void cpu_dbg_update(struct cpu *c)
{
	uint32_t old = c->dbg_active, act = 0;
	uint64_t dr7 = c->dr[7];
	for (int n = 0; n < 4; n++) {
		if (!DR7_EN(dr7, n))
			continue;
		switch (DR7_RW(dr7, n)) {
		case DR7_RW_EXEC: act |= DBG_EXEC; break;
		case DR7_RW_IO: act |= (c->cr4 & CR4_DE) ? DBG_IO : 0; break;
		default: act |= DBG_DATA; break;
		}
	}
	c->dbg_active = act;
	/* Watched pages lose (or get back) their fast TLB entries. */
	if ((old | act) & DBG_DATA)
		cpu_tlb_flush(c);
	c->block_break = true;
}

bool dbg_page_watched(const struct cpu *c, uint64_t page)
{
	uint64_t dr7 = c->dr[7];
	for (int n = 0; n < 4; n++) {
		unsigned rw = DR7_RW(dr7, n);
		if (DR7_EN(dr7, n) && (rw == DR7_RW_WRITE || rw == DR7_RW_RW) &&
		    dr_overlaps(c, n, page, 4096))
			return true;
	}
	return false;
}

void dbg_data_access(struct cpu *c, uint64_t lin, int size, bool write)
{
	uint64_t dr7 = c->dr[7];
	for (int n = 0; n < 4; n++) {
		unsigned rw = DR7_RW(dr7, n);
		if (DR7_EN(dr7, n) && (rw == DR7_RW_RW || (rw == DR7_RW_WRITE && write)) &&
		    dr_overlaps(c, n, lin, (uint64_t)size))
			c->dbg_hits |= 1u << n;
	}
}

/* I/O breakpoints match port addresses in DRn bits 15:0 (SDM Vol. 3
 * 18.2.4: R/W 10 with CR4.DE = 1). */
void dbg_io_access(struct cpu *c, uint16_t port, int size)
{
	uint64_t dr7 = c->dr[7];
	if (!(c->dbg_active & DBG_IO))
		return;
	for (int n = 0; n < 4; n++) {
		if (!DR7_EN(dr7, n) || DR7_RW(dr7, n) != DR7_RW_IO)
			continue;
		uint64_t len = dr_len(dr7, n), lo = (c->dr[n] & 0xffff) & ~(len - 1);
		if (port < lo + len && lo < (uint64_t)port + (uint64_t)size)
			c->dbg_hits |= 1u << n;
	}
}

/* Instruction breakpoints at the linear address CS.base + RIP. */
static uint32_t exec_hits(const struct cpu *c)
{
	uint64_t lin = c->mode == CPU_MODE64 ? c->rip : (uint32_t)(c->seg[SEG_CS].base + c->rip);
	uint64_t dr7 = c->dr[7];
	uint32_t hits = 0;
	for (int n = 0; n < 4; n++)
		if (DR7_EN(dr7, n) && DR7_RW(dr7, n) == DR7_RW_EXEC && c->dr[n] == lin)
			hits |= 1u << n;
	return hits;
}

/* #DB with these DR6 bits: B0-B3 say what hit this time (the older ones
 * are cleared, as QEMU does; the SDM lets the processor clear them), BD,
 * BS and BT accumulate until software clears them. */
static _Noreturn void raise_db(struct cpu *c, uint64_t bits)
{
	c->dr[6] = (c->dr[6] & ~DR6_B0_3) | bits;
	cpu_exception_noerr(c, VEC_DB);
}

void cpu_debug_step(struct cpu *c, const struct dblock *b0)
{
	uint64_t rip = c->rip;
	c->insn_rip = rip;
	if ((c->dbg_active & DBG_EXEC) && !(c->rflags & FLAG_RF)) {
		uint32_t hits = exec_hits(c);
		if (hits)
			raise_db(c, hits);                /* a fault: nothing ran */
	}
	const struct dblock *b = b0 ? b0 : dcache_lookup(c);
	const struct insn *i = b->insns;
	bool tf = (c->rflags & FLAG_TF) != 0;
	uint64_t deferred = c->dbg_deferred;
	c->dbg_deferred = 0;
	c->dbg_hits = 0;
	c->rflags &= ~FLAG_RF;                    /* a REP that yields sets it again */
	c->insn_rip = rip;
	c->rip = rip + i->len;
	i->handler(c, i);                         /* may unwind: a fault or INT n */
	c->icount++;
	uint64_t bits = c->dbg_hits | (tf ? DR6_BS : 0) | deferred;
	/* MOV SS / POP SS (the interrupt shadow of anything but STI). */
	if (c->intr_inhibit_until == c->icount + 1 && i->op != OP_sti) {
		c->dbg_deferred = bits;
		return;
	}
	if (bits) {
		c->insn_rip = c->rip;             /* reported on the next instruction */
		raise_db(c, bits);
	}
}
