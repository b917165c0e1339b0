/*
 * iret.c - IRET, IRETD, IRETQ: return from an interrupt or exception
 * handler, in every mode (SDM Vol. 2 IRET "Operation"; APM Vol. 2 8.9.3).
 *
 *   real mode         pop IP, CS, FLAGS (or EIP, CS, EFLAGS); base = CS*16
 *   virtual-8086      the same when IOPL = 3, else #GP(0) (no CR4.VME here)
 *   protected         pop EIP, CS, EFLAGS; CS checked (RPL >= CPL); to an
 *                     outer ring also ESP, SS; data segments the outer ring
 *                     may not use become null.  EFLAGS.VM = 1 popped at
 *                     CPL 0 returns to virtual-8086 mode (pops ESP, SS, ES,
 *                     DS, FS, GS as well).  EFLAGS.NT = 1 asks for a task
 *                     return: not supported (no hardware task switching).
 *   IA-32e mode       the same, except that in 64-bit mode SS:RSP is always
 *                     popped, the new SS may be null when returning to
 *                     64-bit code below ring 3, and NT = 1 is #GP(0)
 *
 * Which EFLAGS bits the popped image may change depends on the CPL before
 * the return (SDM Vol. 2 IRET, and Table 4-15 of POPF):
 *
 *   always                  CF PF AF ZF SF TF DF OF NT RF AC ID
 *   CPL = 0                 + IOPL, VIF, VIP
 *   CPL <= IOPL             + IF
 *
 * As everywhere, everything is read and checked before anything changes.
 */
#include <stdio.h>

#include "flags.h"
#include "seg.h"
#include "stack.h"
#include "virt.h"

#define IRET_ALWAYS (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_TF | FLAG_DF | \
		     FLAG_OF | FLAG_NT | FLAG_RF | FLAG_AC | FLAG_ID)

static _Noreturn void unsupported(struct cpu *c, const char *what)
{
	snprintf(c->error, sizeof c->error, "%s at rip %#llx is not supported by nestlab",
		 what, (unsigned long long)c->insn_rip);
	cpu_exception_noerr(c, -1);
}

/* ---- real and virtual-8086 mode ------------------------------------------------------ */

static void iret_real(struct cpu *c, int os, bool v86)
{
	uint64_t old = cpu_get_rflags(c);
	if (v86 && ((old & FLAG_IOPL) >> 12) < 3)
		cpu_gp0(c);
	uint64_t sp = stack_sp(c);
	uint64_t ip = stack_read(c, &sp, os);
	uint16_t cs = (uint16_t)stack_read(c, &sp, os);
	uint64_t f = stack_read(c, &sp, os);
	if (ip > c->seg[SEG_CS].limit && os == 4)
		cpu_gp0(c);
	/* Real mode may change everything but VM, VIF, VIP; virtual-8086 mode
	 * not IOPL either. */
	uint64_t mask = os == 2 ? 0xffff : 0x3fffff & ~(FLAG_VM | FLAG_VIF | FLAG_VIP);
	if (v86)
		mask &= ~FLAG_IOPL;
	stack_commit(c, sp);
	cpu_set_rflags(c, (old & ~mask) | (f & mask));
	seg_real(c, SEG_CS, cs);
	c->rip = ip;
}

/* ---- protected mode: return to virtual-8086 mode ----------------------------------------- */

static void iret_to_v86(struct cpu *c, uint64_t sp, uint64_t ip, uint16_t cs, uint64_t f)
{
	uint64_t esp = stack_read(c, &sp, 4);
	uint16_t sel[5];    /* SS ES DS FS GS */
	for (int k = 0; k < 5; k++)
		sel[k] = (uint16_t)stack_read(c, &sp, 4);
	cpu_set_rflags(c, f);               /* VM = 1 from here on */
	static const int segs[5] = { SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (int k = 0; k < 5; k++)
		seg_real(c, segs[k], sel[k]);
	struct cpu_segment ncs = { cs, 0xfb, 0xffff, (uint64_t)cs << 4 };
	ncs.sel = (uint16_t)(cs | 3);       /* CPL 3; the selector itself is cs */
	seg_commit_cs(c, &ncs);
	c->seg[SEG_CS].sel = cs;
	c->cpl = 3;
	c->gpr[R_RSP] = (uint32_t)esp;
	c->rip = ip & 0xffff;
}

/* ---- protected and IA-32e mode ----------------------------------------------------------- */

static uint64_t iret_flags(struct cpu *c, uint64_t old, uint64_t f, int os)
{
	int iopl = (int)((old & FLAG_IOPL) >> 12);
	uint64_t mask = IRET_ALWAYS;
	if (c->cpl == 0)
		mask |= FLAG_IOPL | FLAG_VIF | FLAG_VIP;
	if (c->cpl <= iopl)
		mask |= FLAG_IF;
	if (os == 2)
		mask &= 0xffff;
	return (old & ~mask) | (f & mask);
}

static void iret_prot(struct cpu *c, int os)
{
	uint64_t old = cpu_get_rflags(c);
	bool lm = seg_long(c);
	if (old & FLAG_NT) {
		if (lm)
			cpu_gp0(c);
		unsupported(c, "IRET with EFLAGS.NT = 1 (a task return)");
	}
	uint64_t sp = stack_sp(c);
	uint64_t ip = stack_read(c, &sp, os);
	uint16_t cs_sel = (uint16_t)stack_read(c, &sp, os);
	uint64_t f = stack_read(c, &sp, os);
	if (!lm && (f & FLAG_VM) && c->cpl == 0 && os == 4) {
		iret_to_v86(c, sp, ip, cs_sel, f);
		return;
	}
	uint64_t d = seg_check_return_cs(c, cs_sel);
	int new_cpl = cs_sel & 3;
	bool to64 = lm && (d & (1ull << 53));
	bool pop_ss = c->mode == CPU_MODE64 || new_cpl > c->cpl;
	struct cpu_segment ss = c->seg[SEG_SS];
	uint64_t new_sp = 0;
	if (pop_ss) {
		new_sp = stack_read(c, &sp, os);
		seg_ret_ss(c, (uint16_t)stack_read(c, &sp, os), new_cpl, to64, &ss);
	}
	if (to64 ? !addr_canonical(ip) : ip > desc_limit(d))
		cpu_gp0(c);

	/* Commit. */
	f = iret_flags(c, old, f, os);
	if (!lm)
		f &= ~FLAG_VM;
	if (!pop_ss)
		stack_commit(c, sp);
	cpu_set_rflags(c, f);
	struct cpu_segment cs;
	seg_set_accessed(c, cs_sel, d);
	seg_from_desc(&cs, cs_sel, d | (1ull << 40));
	int old_cpl = c->cpl;
	seg_commit_cs(c, &cs);
	if (pop_ss) {
		c->seg[SEG_SS] = ss;
		if (to64)
			c->gpr[R_RSP] = new_sp;
		else if (ss.attr & SEG_ATTR_DB)
			c->gpr[R_RSP] = (uint32_t)new_sp;
		else
			c->gpr[R_RSP] = (c->gpr[R_RSP] & ~0xffffull) | (new_sp & 0xffff);
	}
	if (new_cpl > old_cpl)
		seg_null_inaccessible(c);
	c->rip = ip;
}

void op_iret(struct cpu *c, const struct insn *i)
{
	virt_hook(c, IRET, i, 0);
	int cpl = c->cpl;
	bool nmi = c->nmi_blocked;
	/* IRET ends NMI blocking, even when it faults (SDM Vol. 3 6.7.1). */
	c->nmi_blocked = false;
	if (!(c->cr0 & CR0_PE))
		iret_real(c, i->osize, false);
	else if (c->rflags & FLAG_VM)
		iret_real(c, i->osize, true);
	else
		iret_prot(c, i->osize);
	/* The observer (event.h) hears of IRETs that change CPL or end an NMI
	 * handler: the returns between worlds. */
	if (unlikely(c->observer) && (c->cpl != cpl || nmi)) {
		struct cpu_event e = { .kind = CPU_EV_IRET, .vector = -1, .rip = c->insn_rip, .cpl = cpl };
		cpu_event_emit(c, &e);
	}
}
