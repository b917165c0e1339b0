/*
 * cr.c - control and debug registers, and the instructions that manage
 * caches and the TLB:
 *
 *   0F 20 /r  MOV r, CRn      0F 22 /r  MOV CRn, r     (CR0, CR2, CR3, CR4, CR8)
 *   0F 21 /r  MOV r, DRn      0F 23 /r  MOV DRn, r     (DR0-DR7)
 *   0F 06     CLTS            0F 01 /6  LMSW Ew        0F 01 /4  SMSW Ew
 *   0F 01 /7  INVLPG m        0F 08     INVD           0F 09     WBINVD
 *   0F AE /7  CLFLUSH m8      0F AE E8  LFENCE   0F AE F0  MFENCE   0F AE F8  SFENCE
 *
 * All but SMSW and CLFLUSH need CPL 0 (#GP(0) otherwise, and always in
 * virtual-8086 mode).  Writing CR0, CR3 and CR4 is where paging is switched
 * on and off and where long mode becomes active (SDM Vol. 3 9.8.5):
 *
 *   EFER.LME = 1, CR4.PAE = 1, then CR0.PG := 1   ->  EFER.LMA = 1
 *   (compatibility mode until a far jump loads a CS with L = 1)
 *   CR0.PG := 0 from compatibility mode           ->  EFER.LMA = 0
 *
 * and where the TLB is flushed (SDM Vol. 3 4.10.4.1): MOV to CR3 drops every
 * entry but the global ones; changing CR0.PG, CR0.WP, CR4.PAE, CR4.PSE or
 * CR4.PGE drops everything.  With PAE paging, the four PDPTEs are loaded
 * when CR3 is written and when those bits change (SDM Vol. 3 4.4.1).
 *
 * Debug registers hold what software writes (DR6/DR7 with their fixed
 * bits), DR4/DR5 alias DR6/DR7 unless CR4.DE, and DR7.GD makes the next
 * MOV DRn raise #DB.  The breakpoints DR7 enables are acted on in debug.c;
 * every write here that can change them calls cpu_dbg_update().
 */
#include "arch.h"
#include "cr.h"
#include "debug.h"
#include "flags.h"
#include "mem.h"
#include "model.h"
#include "paging.h"
#include "virt.h"


/* CPL 0 only; virtual-8086 mode runs at CPL 3 (SDM Vol. 2, each insn). */
static void need_cpl0(struct cpu *c)
{
	if ((c->rflags & FLAG_VM) || ((c->cr0 & CR0_PE) && c->cpl > 0))
		cpu_gp0(c);
}

/* ---- CR0, CR3, CR4, CR8 ----------------------------------------------------------- */

/* The checks of MOV to CR0 (SDM Vol. 2 "MOV-Move to/from Control
 * Registers", Vol. 3 2.5 and 9.8.5): #GP(0), or the value to load.  With
 * PAE paging switched on it loads the PDPTEs, as the instruction does. */
uint64_t cpu_cr0_check(struct cpu *c, uint64_t v)
{
	uint64_t old = c->cr0;
	if (v >> 32)
		cpu_gp0(c);                  /* bits 63:32 reserved */
	v = (v & CR0_DEFINED) | CR0_ET;      /* ET is hardwired to 1 */
	if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
		cpu_gp0(c);
	if (~v & c->cr0_locked1)
		cpu_gp0(c);                  /* VMX operation: IA32_VMX_CR0_FIXED0 (SDM Vol. 3 24.8) */
	bool pg_on = (v & CR0_PG) && !(old & CR0_PG), pg_off = !(v & CR0_PG) && (old & CR0_PG);
	/* Activating long mode needs PAE; leaving it must start from
	 * compatibility mode (SDM Vol. 3 9.8.5, 9.8.5.4). */
	if (pg_on && (c->efer & EFER_LME) && !(c->cr4 & CR4_PAE))
		cpu_gp0(c);
	if (pg_off && c->mode == CPU_MODE64)
		cpu_gp0(c);
	bool pae_paging = (v & CR0_PG) && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LME);
	if (pae_paging && ((v ^ old) & (CR0_PG | CR0_CD | CR0_NW)) &&
	    !paging_load_pdptes(c, c->cr3))
		cpu_gp0(c);
	return v;
}

/* Load CR0 with no checks, and do what changing it does: EFER.LMA follows
 * PG when LME is set, the TLB and the code size. */
void cpu_cr0_commit(struct cpu *c, uint64_t v)
{
	uint64_t old = c->cr0;
	bool pg_on = (v & CR0_PG) && !(old & CR0_PG), pg_off = !(v & CR0_PG) && (old & CR0_PG);
	c->cr0 = v;
	if (pg_on && (c->efer & EFER_LME))
		c->efer |= EFER_LMA;
	if (pg_off)
		c->efer &= ~EFER_LMA;
	if ((v ^ old) & (CR0_PG | CR0_WP | CR0_PE))
		cpu_tlb_flush(c);
	if ((v ^ old) & (CR0_PG | CR0_PE))
		cpu_update_mode(c);      /* real/protected, LMA: the code size */
	c->block_break = true;
}

void cpu_write_cr0(struct cpu *c, uint64_t v)
{
	cpu_cr0_commit(c, cpu_cr0_check(c, v));
}

/* A world switch (VM entry or exit) has loaded CR0, CR3, CR4, EFER, the
 * segment registers and CPL itself, with its own checks: forget every
 * translation and chain and recompute the code size. */
void cpu_system_state_loaded(struct cpu *c)
{
	cpu_tlb_flush(c);
	cpu_update_mode(c);
	c->block_break = true;
}

void cpu_write_cr3(struct cpu *c, uint64_t v)
{
	/* 64-bit mode: bits 63:MAXPHYADDR are reserved (no PCIDs here). */
	if (c->mode == CPU_MODE64 && (v & ~PG_PHYS_MASK))
		cpu_gp0(c);
	if (paging_mode(c) == PG_PAE && !paging_load_pdptes(c, v))
		cpu_gp0(c);
	c->cr3 = v;
	cpu_tlb_flush_nonglobal(c);
	c->block_break = true;
}

/* Register `reg` (0 EAX .. 3 EDX) of CPUID leaf 7 subleaf 0, or 0 when the
 * model's basic leaves stop below 7. */
static uint32_t leaf7(const struct cpu *c, int reg)
{
	uint32_t r[4];
	if (!c->model)
		return 0;
	cpu_model_cpuid(c->model, 0, 0, r);
	if (r[0] < 7)
		return 0;
	cpu_model_cpuid(c->model, 7, 0, r);
	return r[reg];
}

/* What CPUID lets software switch on (model.c): time-stamp disable,
 * debugging extensions, 4 MiB pages, PAE, machine-check enable, global
 * pages, FXSAVE/FXRSTOR and SIMD-exception reporting, UMIP, SMEP and SMAP
 * if leaf 7 offers them, and VMXE on a model with VMX.  Everything else is
 * reserved: #GP. */
uint64_t cpu_cr4_valid(const struct cpu *c)
{
	uint64_t ok = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_OSFXSR |
		      CR4_OSXMMEXCPT;
	if (leaf7(c, 2) & (1u << 2))
		ok |= CR4_UMIP;                  /* CPUID.7.0:ECX.UMIP */
	if (leaf7(c, 1) & (1u << 7))
		ok |= CR4_SMEP;                  /* CPUID.7.0:EBX.SMEP */
	if (leaf7(c, 1) & (1u << 20))
		ok |= CR4_SMAP;                  /* CPUID.7.0:EBX.SMAP */
	if (c->model && c->model->has_vmx)
		ok |= CR4_VMXE;
	return ok;
}

/* The checks of MOV to CR4: #GP(0), or the value to load. */
uint64_t cpu_cr4_check(struct cpu *c, uint64_t v)
{
	const uint64_t paging_bits = CR4_PAE | CR4_PSE | CR4_PGE;
	if (v & ~cpu_cr4_valid(c))
		cpu_gp0(c);
	if (~v & c->cr4_locked1)
		cpu_gp0(c);                  /* VMX operation: CR4.VMXE stays 1 (SDM Vol. 3 24.8) */
	if (!(v & CR4_PAE) && (c->efer & EFER_LMA))
		cpu_gp0(c);                  /* long mode needs PAE */
	bool pae_paging = (c->cr0 & CR0_PG) && (v & CR4_PAE) && !(c->efer & EFER_LMA);
	if (pae_paging && ((v ^ c->cr4) & paging_bits) && !paging_load_pdptes(c, c->cr3))
		cpu_gp0(c);
	return v;
}

void cpu_cr4_commit(struct cpu *c, uint64_t v)
{
	uint64_t chg = v ^ c->cr4;
	c->cr4 = v;
	if (chg & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP))   /* rights the TLB caches */
		cpu_tlb_flush(c);
	if (chg & CR4_DE)
		cpu_dbg_update(c);       /* I/O breakpoints exist only with DE */
	c->block_break = true;
}

void cpu_write_cr4(struct cpu *c, uint64_t v)
{
	cpu_cr4_commit(c, cpu_cr4_check(c, v));
}

/* CR8 is the task-priority register's bits 7:4 (SDM Vol. 3 10.8.6.1): the
 * local APIC model reads its TPR from c->cr8.  Leaving the block lets a
 * lowered priority admit a pending interrupt at once. */
void cpu_write_cr8(struct cpu *c, uint64_t v)
{
	if (v & ~0xfull)
		cpu_gp0(c);
	c->cr8 = v;
	c->block_break = true;
}

/* The checks come in QEMU's order: privilege, then the register number. */
void op_mov_Rd_Cd(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	need_cpl0(c);
	switch (i->reg) {
	case 0: v = c->cr0; break;
	case 2: v = c->cr2; break;
	case 3: v = c->cr3; break;
	case 4: v = c->cr4; break;
	case 8: v = c->cr8; break;
	default: cpu_ud(c);          /* CR1, CR5-CR7, CR9-CR15 */
	}
	virt_hook(c, CR_READ, i, (uint64_t)i->reg);
	if (unlikely(c->icpt & ICPT(CR_SHADOW)) && (i->reg == 0 || i->reg == 4))
		v = c->vops->cr_read(c, i->reg, v);
	reg_write(c, i->rm, i->osize, v);
}

void op_mov_Cd_Rd(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	if (i->reg > 8 || !((1u << i->reg) & 0x11d))
		cpu_ud(c);
	uint64_t v = reg_read(c, i->rm, i->osize);
	if (unlikely(c->icpt & ICPT(CR_WRITE))) {
		if (c->vops->cr_write)       /* VMX: exit, or the value with host-owned bits kept */
			v = c->vops->cr_write(c, i, i->reg, v);
		else                         /* SVM: CR write intercepts */
			virt_intercept(c, VIRT_CR_WRITE, i, i->reg);
	}
	switch (i->reg) {
	case 0: cpu_write_cr0(c, v); break;
	case 2: c->cr2 = v; break;
	case 3: cpu_write_cr3(c, v); break;
	case 4: cpu_write_cr4(c, v); break;
	case 8: cpu_write_cr8(c, v); break;
	default: cpu_ud(c);
	}
}

/* ---- CLTS, LMSW, SMSW -------------------------------------------------------------- */

void op_clts(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	virt_hook(c, CLTS, i, 0);
	uint64_t v = c->cr0 & ~CR0_TS;
	if (unlikely(c->icpt & ICPT(CR_WRITE)) && c->vops->cr_write)
		v = c->vops->cr_write(c, NULL, 0, v);   /* a host-owned TS stays */
	c->cr0 = v;
}

/* LMSW loads PE, MP, EM, TS; it can set PE but never clear it (SDM Vol. 2). */
void op_lmsw_Ew(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	uint64_t v = read_E(c, i, 2);
	virt_hook(c, LMSW, i, v);
	uint64_t n = (c->cr0 & ~0xfull) | (v & 0xf) | (c->cr0 & CR0_PE);
	if (unlikely(c->icpt & ICPT(CR_WRITE)) && c->vops->cr_write)
		n = c->vops->cr_write(c, NULL, 0, n);
	cpu_write_cr0(c, n);
}

/* SMSW stores CR0: 16 bits to memory, the operand size to a register.
 * Not privileged, except with CR4.UMIP (not offered by CPUID here). */
void op_smsw_Ew(struct cpu *c, const struct insn *i)
{
	if ((c->cr4 & CR4_UMIP) && (c->cr0 & CR0_PE) && c->cpl > 0)
		cpu_gp0(c);
	virt_hook(c, SMSW, i, 0);
	uint64_t v = c->cr0;
	if (unlikely(c->icpt & ICPT(CR_SHADOW)))
		v = c->vops->cr_read(c, 0, v);
	write_E(c, i, i->flags & I_MEM ? 2 : i->osize, v);
}

/* ---- debug registers ----------------------------------------------------------------- */

/* DR4/DR5 are DR6/DR7 unless CR4.DE (SDM Vol. 3 17.2.2); DR8-15 do not
 * exist.  DR7.GD: the access raises #DB with DR6.BD set, and GD clears so
 * the handler can use the registers (SDM Vol. 3 17.2.4). */
static int dr_index(struct cpu *c, const struct insn *i)
{
	int n = i->reg;
	if (n > 7 || ((n == 4 || n == 5) && (c->cr4 & CR4_DE)))
		cpu_ud(c);
	if (c->dr[7] & DR7_GD) {
		c->dr[6] |= DR6_BD;
		c->dr[7] &= ~DR7_GD;
		cpu_exception_noerr(c, VEC_DB);
	}
	return n == 4 || n == 5 ? n + 2 : n;
}

void op_mov_Rd_Dd(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	virt_hook(c, DR, i, (uint64_t)i->reg);
	int n = dr_index(c, i);
	uint64_t v = c->dr[n];
	if (n == 6)
		v = (v & DR6_WRITABLE) | DR6_FIXED1;
	else if (n == 7)
		v = (v & DR7_WRITABLE) | DR7_FIXED1;
	reg_write(c, i->rm, i->osize, v);
}

void op_mov_Dd_Rd(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	virt_hook(c, DR, i, (uint64_t)i->reg | 0x10);
	int n = dr_index(c, i);
	uint64_t v = reg_read(c, i->rm, i->osize);
	if (n >= 6 && (v >> 32))
		cpu_gp0(c);              /* DR6/DR7 bits 63:32 (64-bit mode) */
	if (n == 6)
		v = (v & DR6_WRITABLE) | DR6_FIXED1;
	else if (n == 7)
		v = (v & DR7_WRITABLE) | DR7_FIXED1;
	c->dr[n] = v;
	if (n != 6)
		cpu_dbg_update(c);
}

/* ---- caches and the TLB ---------------------------------------------------------------- */

/* INVLPG m: drop the TLB entries of the page holding the linear address
 * (all its 4 KiB pieces if it is a large page, global or not).  A
 * non-canonical address is no error: nothing is dropped (SDM Vol. 2). */
void op_invlpg_Mb(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	uint64_t lin = insn_lin(c, i);
	virt_hook(c, INVLPG, i, lin);
	if (c->mode == CPU_MODE64 && (uint64_t)((int64_t)(lin << 16) >> 16) != lin)
		return;
	cpu_tlb_invlpg(c, lin);
}

/* No cache is modelled, so INVD and WBINVD have nothing to write back or
 * throw away; they keep their privilege check. */
void op_invd(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	virt_hook(c, INVD, i, 0);
}

void op_wbinvd(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	virt_hook(c, WBINVD, i, 0);
}

/* CLFLUSH faults like a one-byte load (SDM Vol. 2 CLFLUSH); the translation
 * is the whole effect, and an MMIO address is not read.  (The SDM also lets
 * it name an execute-only code segment, which the load check here refuses.) */
void op_clflush_Mb(struct cpu *c, const struct insn *i)
{
	mem_translate(c, insn_lin_chk(c, i, 1, false), ACC_READ, NULL);
}

/* LFENCE, MFENCE, SFENCE order loads and stores (SDM Vol. 2).  Nestlab runs
 * one instruction at a time with no store buffer, so every access is
 * already globally visible in program order and a fence has nothing to
 * wait for.  They are SSE2 instructions, and SSE2 is part of every x86-64
 * processor (software such as an x2APIC IPI helper fences without asking
 * CPUID), so they execute in every model, at any CPL. */
void op_lfence(struct cpu *c, const struct insn *i) { (void)c; (void)i; }
void op_mfence(struct cpu *c, const struct insn *i) { (void)c; (void)i; }
void op_sfence(struct cpu *c, const struct insn *i) { (void)c; (void)i; }
