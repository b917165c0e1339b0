/*
 * syscall.c - the fast system calls: SYSCALL/SYSRET (AMD, long mode),
 * SYSENTER/SYSEXIT (Intel), and SWAPGS.
 *
 * They skip the descriptor tables: CS and SS get fixed flat caches and the
 * selectors come from MSRs (SDM Vol. 2 SYSCALL, SYSRET, SYSENTER, SYSEXIT):
 *
 *   IA32_STAR   63      48 47      32 31           0
 *              [ SYSRET CS][SYSCALL CS][ (legacy EIP)]
 *
 *   SYSCALL    CS = STAR[47:32] & ~3, SS = that + 8       (CPL 0)
 *              RCX = next RIP, R11 = RFLAGS, RFLAGS &= ~FMASK, RIP = LSTAR
 *   SYSRET     CS = STAR[63:48] + 16 | 3 (REX.W, 64-bit), or STAR[63:48] | 3
 *              (32-bit); SS = STAR[63:48] + 8 | 3; RIP = RCX, RFLAGS = R11
 *   SYSENTER   CS = SYSENTER_CS, SS = +8; RSP, RIP from SYSENTER_ESP/EIP
 *   SYSEXIT    CS = SYSENTER_CS + 16 | 3 (+32 with REX.W), SS = CS + 8;
 *              RIP = RDX, RSP = RCX
 *
 * Nestlab follows Intel where the vendors differ: SYSCALL/SYSRET are #UD
 * outside 64-bit mode, and SYSRET to a non-canonical RCX is #GP(0) raised
 * in ring 0 (the known hazard: the #GP handler runs on the user's RSP).
 */
#include "flags.h"
#include "seg.h"

/* Flat caches: base 0, limit 4 GiB, accessed; attr in the VMCS layout. */
#define ATTR_CODE64(dpl) (0xa09b | ((dpl) << 5))    /* G, L, P, S, type B */
#define ATTR_CODE32(dpl) (0xc09b | ((dpl) << 5))    /* G, D, P, S, type B */
#define ATTR_DATA(dpl)   (0xc093 | ((dpl) << 5))    /* G, B, P, S, type 3 */

static void load_flat(struct cpu *c, uint16_t cs_sel, uint16_t cs_attr, uint16_t ss_sel, int dpl)
{
	c->seg[SEG_SS] = (struct cpu_segment){ ss_sel, (uint16_t)ATTR_DATA(dpl), 0xffffffff, 0 };
	struct cpu_segment cs = { cs_sel, cs_attr, 0xffffffff, 0 };
	seg_commit_cs(c, &cs);
}

/* Tell the observer (event.h) that the instruction at insn_rip crossed from
 * CPL `cpl`; the CPU's state is already the new one. */
static void report(struct cpu *c, enum cpu_event_kind kind, int cpl)
{
	struct cpu_event e = { .kind = kind, .vector = -1, .rip = c->insn_rip, .cpl = cpl };
	cpu_event_emit(c, &e);
}

/* ---- SYSCALL / SYSRET ----------------------------------------------------------------- */

void op_syscall(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!(c->efer & EFER_SCE) || c->mode != CPU_MODE64)
		cpu_ud(c);
	uint64_t f = cpu_get_rflags(c);
	uint16_t sel = (uint16_t)(c->msr.star >> 32);
	c->gpr[R_RCX] = c->rip;
	c->gpr[R_R11] = f & ~FLAG_RF;
	cpu_set_rflags(c, f & ~(c->msr.sfmask | FLAG_RF));
	int cpl = c->cpl;
	load_flat(c, sel & 0xfffc, ATTR_CODE64(0), (uint16_t)((sel + 8) & 0xfffc), 0);
	c->rip = c->msr.lstar;
	report(c, CPU_EV_SYSCALL, cpl);
}

void op_sysret(struct cpu *c, const struct insn *i)
{
	if (!(c->efer & EFER_SCE) || c->mode != CPU_MODE64)
		cpu_ud(c);
	if (c->cpl != 0)
		cpu_gp0(c);
	bool to64 = i->osize == 8;
	if (to64 && !addr_canonical(c->gpr[R_RCX]))
		cpu_gp0(c);
	uint16_t base = (uint16_t)(c->msr.star >> 48);
	cpu_set_rflags(c, (c->gpr[R_R11] & 0x3c7fd7) | FLAG_FIXED1);
	uint16_t ss = (uint16_t)((base + 8) | 3);
	if (to64)
		load_flat(c, (uint16_t)((base + 16) | 3), ATTR_CODE64(3), ss, 3);
	else
		load_flat(c, (uint16_t)(base | 3), ATTR_CODE32(3), ss, 3);
	c->rip = to64 ? c->gpr[R_RCX] : (uint32_t)c->gpr[R_RCX];
	report(c, CPU_EV_SYSRET, 0);
}

/* ---- SYSENTER / SYSEXIT ---------------------------------------------------------------- */

void op_sysenter(struct cpu *c, const struct insn *i)
{
	(void)i;
	uint16_t sel = (uint16_t)c->msr.sysenter_cs;
	if (!(c->cr0 & CR0_PE) || (sel & 0xfffc) == 0)
		cpu_gp0(c);
	bool lm = seg_long(c);
	int cpl = c->cpl;
	uint64_t f = cpu_get_rflags(c);
	cpu_set_rflags(c, f & ~(FLAG_VM | FLAG_IF | FLAG_RF));
	load_flat(c, sel & 0xfffc, lm ? ATTR_CODE64(0) : ATTR_CODE32(0),
		  (uint16_t)((sel + 8) & 0xfffc), 0);
	c->gpr[R_RSP] = lm ? c->msr.sysenter_esp : (uint32_t)c->msr.sysenter_esp;
	c->rip = lm ? c->msr.sysenter_eip : (uint32_t)c->msr.sysenter_eip;
	report(c, CPU_EV_SYSCALL, cpl);
}

void op_sysexit(struct cpu *c, const struct insn *i)
{
	uint16_t sel = (uint16_t)c->msr.sysenter_cs;
	if (!seg_protected(c) || (sel & 0xfffc) == 0 || c->cpl != 0)
		cpu_gp0(c);
	bool to64 = i->osize == 8;
	if (to64 && (!addr_canonical(c->gpr[R_RCX]) || !addr_canonical(c->gpr[R_RDX])))
		cpu_gp0(c);
	if (to64)
		load_flat(c, (uint16_t)((sel + 32) | 3), ATTR_CODE64(3), (uint16_t)((sel + 40) | 3), 3);
	else
		load_flat(c, (uint16_t)((sel + 16) | 3), ATTR_CODE32(3), (uint16_t)((sel + 24) | 3), 3);
	c->gpr[R_RSP] = to64 ? c->gpr[R_RCX] : (uint32_t)c->gpr[R_RCX];
	c->rip = to64 ? c->gpr[R_RDX] : (uint32_t)c->gpr[R_RDX];
	report(c, CPU_EV_SYSRET, 0);
}

/* ---- SWAPGS ------------------------------------------------------------------------------ */

/* Exchange GS.base with IA32_KERNEL_GS_BASE (64-bit mode only: the decoder
 * gives #UD elsewhere); privileged. */
void op_swapgs(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (c->cpl != 0)
		cpu_gp0(c);
	uint64_t t = c->seg[SEG_GS].base;
	c->seg[SEG_GS].base = c->msr.kernel_gs_base;
	c->msr.kernel_gs_base = t;
}
