/*
 * caps.c - what the emulated VT-x offers, as software discovers it:
 * CPUID.1:ECX.VMX[bit 5], IA32_FEATURE_CONTROL, and the capability MSRs
 * 0x480-0x491 (SDM Vol. 3D Appendix A).  Every bit claimed here is
 * implemented by vmx/; docs/vmx-model.md lists the values.
 *
 * Controls (A.3-A.5): the low 32 bits are the allowed-0 settings (a 1 means
 * the control must be 1), the high 32 bits the allowed-1 settings.  The
 * TRUE_* MSRs (VMX_BASIC bit 55) let the default-1 controls that the model
 * can do without be 0, as on recent Intel parts.
 *
 * Also here: the ops table the CPU core finds through cpu/virt.h.
 */
#include <stdlib.h>

#include "arch.h"
#include "cr.h"
#include "model.h"
#include "paging.h"
#include "vmx.h"

/* Default-1 classes (A.2) and what the model implements on top. */
#define PIN_DEFAULT1    0x00000016u
#define PIN_ALLOWED1    (PIN_DEFAULT1 | PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER)
#define PROC_DEFAULT1   0x0401e172u
#define PROC_TRUE0      0x04006172u    /* CR3-load/store exiting may be 0 */
#define PROC_ALLOWED1   (PROC_DEFAULT1 | PROC_INTR_WINDOW | PROC_TSC_OFFSETTING |            \
			 PROC_HLT_EXITING | PROC_INVLPG_EXITING | PROC_MWAIT_EXITING |         \
			 PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING |     \
			 PROC_CR3_STORE_EXITING | PROC_CR8_LOAD_EXITING |                      \
			 PROC_CR8_STORE_EXITING | PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING | \
			 PROC_USE_IO_BITMAPS | PROC_MTF | PROC_USE_MSR_BITMAPS |               \
			 PROC_MONITOR_EXITING | PROC_PAUSE_EXITING | PROC_SECONDARY)
#define EXIT_DEFAULT1   0x00036dffu
#define EXIT_TRUE0      0x00036dfbu    /* save debug controls may be 0 */
#define EXIT_ALLOWED1   (EXIT_DEFAULT1 | EXIT_HOST_64BIT | EXIT_ACK_INTERRUPT | EXIT_SAVE_PAT | \
			 EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_TIMER)
#define ENTRY_DEFAULT1  0x000011ffu
#define ENTRY_TRUE0     0x000011fbu    /* load debug controls may be 0 */
#define ENTRY_ALLOWED1  (ENTRY_DEFAULT1 | ENTRY_IA32E_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)

bool vmx_pa_ok(uint64_t pa)
{
	return (pa >> PG_PHYS_BITS) == 0;
}

uint64_t vmx_cr0_fixed0(void)
{
	return CR0_PE | CR0_NE | CR0_PG;
}

uint64_t vmx_cr4_fixed0(void)
{
	return CR4_VMXE;
}

uint64_t vmx_cr4_fixed1(struct cpu *c)
{
	return cpu_cr4_valid(c) | CR4_VMXE;
}

static uint32_t proc2_allowed(const struct vmx *s)
{
	uint32_t p = PROC2_DESC_EXITING | PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING;
	if (s->features & VMXF_EPT)
		p |= PROC2_ENABLE_EPT;
	if (s->features & VMXF_VPID)
		p |= PROC2_ENABLE_VPID;
	if ((s->features & VMXF_UG) && (s->features & VMXF_EPT))
		p |= PROC2_UNRESTRICTED;   /* unrestricted guest needs EPT (26.2.1.1) */
	return p;
}

static uint64_t ctls(uint32_t must, uint32_t may)
{
	return (uint64_t)must | (uint64_t)may << 32;
}

uint64_t vmx_cap(const struct vmx *s, uint32_t msr)
{
	uint32_t pin1 = PIN_ALLOWED1 & ~((s->features & VMXF_TIMER) ? 0 : PIN_PREEMPTION_TIMER);
	uint32_t exit1 = EXIT_ALLOWED1 & ~((s->features & VMXF_TIMER) ? 0 : EXIT_SAVE_TIMER);
	switch (msr) {
	case 0x480:       /* BASIC: revision, 4 KiB region, WB, INS/OUTS info, TRUE_* */
		return VMX_REVISION | 4096ull << 32 | 6ull << 50 | VMX_BASIC_INSOUTS_INFO |
		       VMX_BASIC_TRUE_CTLS;
	case 0x481: return ctls(PIN_DEFAULT1, pin1);
	case 0x482: return ctls(PROC_DEFAULT1, PROC_ALLOWED1);
	case 0x483: return ctls(EXIT_DEFAULT1, exit1);
	case 0x484: return ctls(ENTRY_DEFAULT1, ENTRY_ALLOWED1);
	case 0x485:       /* MISC: timer rate 0 (one tick per TSC tick = retired
			   * instruction), EFER.LMA stored in IA-32e guest, HLT
			   * activity state, 4 CR3 targets, 512 MSRs per list */
		return 0 | 1u << 5 | 1u << 6 | 4u << 16;
	case 0x486: return vmx_cr0_fixed0();
	case 0x487: return 0xffffffffull;
	case 0x488: return vmx_cr4_fixed0();
	case 0x48a: return 0x2e;          /* highest index: 0x17 (preemption timer value) */
	case 0x48b: return ctls(0, proc2_allowed(s));
	case 0x48c: {
		uint64_t v = 0;
		if (s->features & VMXF_EPT)
			v |= EPT_CAP_EXEC_ONLY | EPT_CAP_WALK4 | EPT_CAP_UC | EPT_CAP_WB | EPT_CAP_2M |
			     EPT_CAP_1G | EPT_CAP_INVEPT | EPT_CAP_AD | EPT_CAP_INVEPT_CTX |
			     EPT_CAP_INVEPT_ALL;
		if (s->features & VMXF_VPID)
			v |= VPID_CAP_INVVPID | VPID_CAP_ADDR | VPID_CAP_CTX | VPID_CAP_ALL |
			     VPID_CAP_CTX_GLOBAL;
		return v;
	}
	case 0x48d: return ctls(PIN_DEFAULT1, pin1);
	case 0x48e: return ctls(PROC_TRUE0, PROC_ALLOWED1);
	case 0x48f: return ctls(EXIT_TRUE0, exit1);
	case 0x490: return ctls(ENTRY_TRUE0, ENTRY_ALLOWED1);
	default: return 0;
	}
}

/* The MSRs: FEATURE_CONTROL (writable until locked, SDM Vol. 3C 24.7) and
 * the read-only capability MSRs (#GP on a write, Vol. 4 Table 2-2).  0x491
 * (VMFUNC) exists only with "activate VM functions": not offered, #GP. */
static bool vmx_msr(struct cpu *c, uint32_t msr, uint64_t *v, bool write)
{
	struct vmx *s = vmx_of(c);
	if (msr == 0x3a) {
		if (!write) {
			*v = s->feature_control;
			return true;
		}
		if ((s->feature_control & FEATURE_CONTROL_LOCK) || (*v & ~0x7ull))
			cpu_gp0(c);
		s->feature_control = *v;
		return true;
	}
	if (msr < 0x480 || msr > 0x490)
		return false;
	if (write)
		cpu_gp0(c);
	*v = msr == 0x489 ? vmx_cr4_fixed1(c) : vmx_cap(s, msr);
	return true;
}

static void vmx_cpuid(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)c;
	(void)sub;
	if (leaf == 1)
		r[2] |= 1u << 5;             /* CPUID.1:ECX.VMX */
}

static int vmx_init(struct cpu *c)
{
	struct vmx *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->current = VMCS_NONE;
	s->features = VMXF_ALL & ~(c->model ? c->model->off : 0);   /* --cpu vmx,-ept ... */
	/* As firmware leaves it: locked, VMXON outside SMX allowed; with
	 * --cpu vmx,-lock unlocked, for the hypervisor to set (SDM 24.7). */
	if (s->features & VMXF_LOCK)
		s->feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON;
	s->mtf_at = ~0ull;
	c->virt = s;
	return 0;
}

static void vmx_fini(struct cpu *c)
{
	free(c->virt);
	c->virt = NULL;
}

const struct virt_ops virt_ops_vmx = {
	.name = "vmx",
	.init = vmx_init,
	.fini = vmx_fini,
	.cpuid = vmx_cpuid,
	.msr = vmx_msr,
	.insn = vmx_insn,
	.intercept = vmx_intercept,
	.cr_read = vmx_cr_read,
	.cr_write = vmx_cr_write,
	.gpa = vmx_gpa,
	.world_switch = vmx_world_switch,
};
