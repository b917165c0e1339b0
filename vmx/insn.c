/*
 * insn.c - the VMX instructions (SDM Vol. 3C chapter 31, each
 * instruction's "Operation"):
 *
 *   F3 0F C7 /6  VMXON m64      0F 01 C4  VMXOFF     66 0F C7 /6  VMCLEAR m64
 *   NP 0F C7 /6  VMPTRLD m64    NP 0F C7 /7  VMPTRST m64
 *   NP 0F 78     VMREAD Ey, Gy  NP 0F 79  VMWRITE Gy, Ey
 *   0F 01 C2/C3  VMLAUNCH / VMRESUME (entry.c)   0F 01 C1  VMCALL
 *   66 0F 38 80  INVEPT Gy, Mdq                  66 0F 38 81  INVVPID Gy, Mdq
 *
 * Each begins with the same tests, in this order (31.3 and each
 * instruction): #UD for a register operand, outside protected mode, in
 * virtual-8086 or compatibility mode, or outside VMX operation; a VM exit
 * in non-root operation; #GP(0) above CPL 0.  They end with one of
 * (31.2 "Conventions"):
 *
 *   VMsucceed        CF PF AF ZF SF OF := 0
 *   VMfailInvalid    CF := 1, the others 0         (no current VMCS)
 *   VMfailValid(n)   ZF := 1, the others 0, VM-instruction error := n
 */
#include "arch.h"
#include "flags.h"
#include "mem.h"
#include "vmx.h"

void vmx_succeed(struct cpu *c)
{
	cpu_flags_update(c, FLAGS_ARITH, 0);
}

static void fail_invalid(struct cpu *c)
{
	cpu_flags_update(c, FLAGS_ARITH, FLAG_CF);
}

/* VMfail(n): VMfailValid with a current VMCS, else VMfailInvalid. */
void vmx_fail(struct cpu *c, struct vmx *s, unsigned err)
{
	if (s->current == VMCS_NONE) {
		fail_invalid(c);
		return;
	}
	cpu_flags_update(c, FLAGS_ARITH, FLAG_ZF);
	s->f[F_VM_INSTRUCTION_ERROR] = err;
}

static bool compat_or_v86(const struct cpu *c)
{
	return (c->rflags & FLAG_VM) || ((c->efer & EFER_LMA) && c->mode != CPU_MODE64);
}

/* The exit reasons of the VMX instructions in non-root operation (26.1.2). */
static uint32_t insn_exit_reason(enum virt_insn w)
{
	switch (w) {
	case VIRT_I_VMXON: return VMX_EXIT_VMXON;
	case VIRT_I_VMXOFF: return VMX_EXIT_VMXOFF;
	case VIRT_I_VMCLEAR: return VMX_EXIT_VMCLEAR;
	case VIRT_I_VMPTRLD: return VMX_EXIT_VMPTRLD;
	case VIRT_I_VMPTRST: return VMX_EXIT_VMPTRST;
	case VIRT_I_VMREAD: return VMX_EXIT_VMREAD;
	case VIRT_I_VMWRITE: return VMX_EXIT_VMWRITE;
	case VIRT_I_VMLAUNCH: return VMX_EXIT_VMLAUNCH;
	case VIRT_I_VMRESUME: return VMX_EXIT_VMRESUME;
	case VIRT_I_VMCALL: return VMX_EXIT_VMCALL;
	case VIRT_I_INVEPT: return VMX_EXIT_INVEPT;
	case VIRT_I_INVVPID: return VMX_EXIT_INVVPID;
	default: return VMX_EXIT_VMFUNC;
	}
}

/* The common prologue; false if the instruction is done (it cannot be). */
static void prologue(struct cpu *c, struct vmx *s, enum virt_insn w, const struct insn *i,
		     bool mem_operand)
{
	if ((mem_operand && !(i->flags & I_MEM)) || !(c->cr0 & CR0_PE) || !(c->cr4 & CR4_VMXE) ||
	    compat_or_v86(c))
		cpu_ud(c);
	if (w != VIRT_I_VMXON && !s->on)
		cpu_ud(c);
	if (s->guest)
		vmx_exit_now(c, insn_exit_reason(w), i && (i->flags & I_MEM) ? (uint64_t)(int64_t)i->disp : 0,
			     true);
	if (c->cpl > 0)
		cpu_gp0(c);
}

/* A 4 KiB-aligned physical address within MAXPHYADDR. */
static bool region_ok(uint64_t pa)
{
	return !(pa & 0xfff) && vmx_pa_ok(pa);
}

static uint32_t mem_revision(struct cpu *c, uint64_t pa)
{
	uint32_t v = 0;
	if (cpu_phys_read(c, pa, &v, 4) < 0)
		return ~0u;
	return v;
}

static void do_vmxon(struct cpu *c, struct vmx *s, const struct insn *i)
{
	if (!(i->flags & I_MEM) || !(c->cr0 & CR0_PE) || !(c->cr4 & CR4_VMXE) || compat_or_v86(c))
		cpu_ud(c);
	if (s->on) {
		prologue(c, s, VIRT_I_VMXON, i, true);    /* non-root: exit; CPL > 0: #GP */
		vmx_fail(c, s, VMXERR_VMXON_IN_ROOT);
		return;
	}
	/* 31 VMXON: CPL, CR0/CR4 fixed bits, IA32_FEATURE_CONTROL, then A20M. */
	uint64_t fc = s->feature_control;
	if (c->cpl > 0 || (~c->cr0 & vmx_cr0_fixed0()) || (c->cr4 & ~vmx_cr4_fixed1(c)) ||
	    !(fc & FEATURE_CONTROL_LOCK) || !(fc & FEATURE_CONTROL_VMXON))
		cpu_gp0(c);
	uint64_t pa = read_E(c, i, 8);
	if (!region_ok(pa) || (mem_revision(c, pa) & 0x7fffffffu) != VMX_REVISION ||
	    (mem_revision(c, pa) >> 31)) {
		fail_invalid(c);
		return;
	}
	s->on = true;
	s->vmxon_ptr = pa;
	s->current = VMCS_NONE;
	c->cr0_locked1 = vmx_cr0_fixed0();
	c->cr4_locked1 = vmx_cr4_fixed0();
	vmx_succeed(c);
}

static void do_vmxoff(struct cpu *c, struct vmx *s)
{
	s->on = false;
	c->cr0_locked1 = c->cr4_locked1 = 0;
	vmx_succeed(c);
}

static void do_vmclear(struct cpu *c, struct vmx *s, const struct insn *i)
{
	uint64_t pa = read_E(c, i, 8);
	if (!region_ok(pa)) {
		vmx_fail(c, s, VMXERR_VMCLEAR_BAD_ADDR);
		return;
	}
	if (pa == s->vmxon_ptr) {
		vmx_fail(c, s, VMXERR_VMCLEAR_VMXON_PTR);
		return;
	}
	if (pa == s->current) {
		vmcs_store(c, s);
		s->current = VMCS_NONE;
	}
	vmcs_set_mem_launch(c, pa, 0);
	vmx_succeed(c);
}

static void do_vmptrld(struct cpu *c, struct vmx *s, const struct insn *i)
{
	uint64_t pa = read_E(c, i, 8);
	if (!region_ok(pa)) {
		vmx_fail(c, s, VMXERR_VMPTRLD_BAD_ADDR);
		return;
	}
	if (pa == s->vmxon_ptr) {
		vmx_fail(c, s, VMXERR_VMPTRLD_VMXON_PTR);
		return;
	}
	uint32_t rev = mem_revision(c, pa);
	if (rev != VMX_REVISION) {       /* bit 31 (shadow VMCS) unsupported: also wrong */
		vmx_fail(c, s, VMXERR_VMPTRLD_BAD_REVISION);
		return;
	}
	if (s->current != VMCS_NONE && s->current != pa)
		vmcs_store(c, s);
	if (s->current != pa)
		vmcs_load(c, s, pa);
	vmx_succeed(c);
}

static void do_vmptrst(struct cpu *c, struct vmx *s, const struct insn *i)
{
	write_E(c, i, 8, s->current);
	vmx_succeed(c);
}

/* VMREAD Ey, Gy: Gy names the field; Ey gets it (32 or 64 bits by mode). */
static void do_vmread(struct cpu *c, struct vmx *s, const struct insn *i)
{
	if (s->current == VMCS_NONE) {
		fail_invalid(c);
		return;
	}
	int size = c->mode == CPU_MODE64 ? 8 : 4;
	uint64_t enc = reg_read(c, i->reg, size);
	int k = vmcs_index(enc);
	if (k < 0) {
		vmx_fail(c, s, VMXERR_BAD_COMPONENT);
		return;
	}
	uint64_t v = (enc & 1) ? s->f[k] >> 32 : s->f[k];
	if (i->flags & I_MEM)
		write_E(c, i, size, v);
	else
		reg_write(c, i->rm, size, v);
	vmx_succeed(c);
}

static void do_vmwrite(struct cpu *c, struct vmx *s, const struct insn *i)
{
	if (s->current == VMCS_NONE) {
		fail_invalid(c);
		return;
	}
	int size = c->mode == CPU_MODE64 ? 8 : 4;
	uint64_t v = (i->flags & I_MEM) ? read_E(c, i, size) : reg_read(c, i->rm, size);
	uint64_t enc = reg_read(c, i->reg, size);
	int k = vmcs_index(enc);
	if (k < 0) {
		vmx_fail(c, s, VMXERR_BAD_COMPONENT);
		return;
	}
	if (vmcs_read_only((uint32_t)enc)) {
		vmx_fail(c, s, VMXERR_WRITE_READ_ONLY);
		return;
	}
	if (enc & 1)
		s->f[k] = (s->f[k] & 0xffffffffull) | (v << 32);
	else
		s->f[k] = vmcs_mask_value((uint32_t)enc, v);
	vmx_succeed(c);
}

/* INVEPT / INVVPID: type in Gy, 128-bit descriptor in memory (31.3).
 * The software TLB is flushed whole for every valid type: more than asked,
 * always permitted (29.4.3.1). */
static void do_invept(struct cpu *c, struct vmx *s, const struct insn *i, bool vpid)
{
	uint64_t type = reg_read(c, i->reg, c->mode == CPU_MODE64 ? 8 : 4);
	uint64_t lin = insn_lin_chk(c, i, 16, false);
	uint64_t lo = mem_read(c, lin, 8), hi = mem_read(c, lin + 8, 8);
	uint64_t cap = vmx_cap(s, 0x48c);
	bool ok;
	if (!vpid) {
		ok = (type == 1 && (cap & EPT_CAP_INVEPT_CTX) && vmx_eptp_ok(s, lo)) ||
		     (type == 2 && (cap & EPT_CAP_INVEPT_ALL));
	} else {
		uint16_t id = (uint16_t)lo;
		bool rsvd = (lo >> 16) != 0;
		ok = !rsvd && ((type == 0 && id && (hi >> 47 == 0 || hi >> 47 == 0x1ffff)) ||
			       (type == 1 && id) || type == 2 || (type == 3 && id));
	}
	if (!ok) {
		vmx_fail(c, s, VMXERR_BAD_INVEPT_INVVPID);
		return;
	}
	cpu_tlb_flush(c);
	vmx_succeed(c);
}

void vmx_insn(struct cpu *c, enum virt_insn w, const struct insn *i)
{
	struct vmx *s = vmx_of(c);
	switch (w) {
	case VIRT_I_VMXON:
		do_vmxon(c, s, i);
		return;
	case VIRT_I_VMCALL:
		if (!s->on)
			cpu_ud(c);
		if (s->guest)     /* at any CPL (26.1.2) */
			vmx_exit_now(c, VMX_EXIT_VMCALL, 0, true);
		if (compat_or_v86(c))
			cpu_ud(c);
		if (c->cpl > 0)
			cpu_gp0(c);
		vmx_fail(c, s, VMXERR_VMCALL_IN_ROOT);   /* no dual-monitor treatment */
		return;
	case VIRT_I_INVEPT:
	case VIRT_I_INVVPID:
		if (!(vmx_cap(s, 0x48c) & (w == VIRT_I_INVEPT ? EPT_CAP_INVEPT : VPID_CAP_INVVPID)))
			cpu_ud(c);
		break;
	case VIRT_I_VMXOFF:
	case VIRT_I_VMCLEAR:
	case VIRT_I_VMPTRLD:
	case VIRT_I_VMPTRST:
	case VIRT_I_VMREAD:
	case VIRT_I_VMWRITE:
	case VIRT_I_VMLAUNCH:
	case VIRT_I_VMRESUME:
		break;
	default:              /* VMFUNC (not offered) and the SVM instructions */
		cpu_ud(c);
	}
	bool mem = w == VIRT_I_VMCLEAR || w == VIRT_I_VMPTRLD || w == VIRT_I_VMPTRST ||
		   w == VIRT_I_INVEPT || w == VIRT_I_INVVPID;
	prologue(c, s, w, i, mem);
	switch (w) {
	case VIRT_I_VMXOFF: do_vmxoff(c, s); break;
	case VIRT_I_VMCLEAR: do_vmclear(c, s, i); break;
	case VIRT_I_VMPTRLD: do_vmptrld(c, s, i); break;
	case VIRT_I_VMPTRST: do_vmptrst(c, s, i); break;
	case VIRT_I_VMREAD: do_vmread(c, s, i); break;
	case VIRT_I_VMWRITE: do_vmwrite(c, s, i); break;
	case VIRT_I_VMLAUNCH: vmx_vmentry(c, s, true); break;
	case VIRT_I_VMRESUME: vmx_vmentry(c, s, false); break;
	case VIRT_I_INVEPT: do_invept(c, s, i, false); break;
	case VIRT_I_INVVPID: do_invept(c, s, i, true); break;
	default: break;
	}
}
