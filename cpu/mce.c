/*
 * mce.c - the machine-check architecture and the platform MSRs that kernels
 * read at boot, as a processor with no machine errors to report has them.
 *
 * Every Nestlab model reports MCE and MCA in CPUID.1:EDX (bits 7 and 14),
 * as every x86-64 processor does, and Linux, Xen and the BSDs read these
 * registers unconditionally early in boot.  The banks exist and stay empty:
 * nothing in an emulated machine ever goes wrong in hardware, so no
 * MCi_STATUS.VAL is ever set and #MC is never raised.  msr.c hands every
 * MSR it does not keep itself to cpu_msr_mce() first.
 *
 *   MSR            access  value / rule (SDM Vol. 3 15.3, Vol. 4 Table 2-2)
 *   17h  PLATFORM_ID   R   0 (platform ID 0 in bits 52:50); Intel models only
 *   8Bh  BIOS_SIGN_ID  R/W microcode revision in bits 63:32; any write is
 *                          accepted (the update-trigger sequence of SDM 9.11.7)
 *   179h MCG_CAP       R   count = 4 banks (bits 7:0), MCG_CTL_P (bit 8)
 *   17Ah MCG_STATUS    R/W RIPV, EIPV, MCIP (bits 2:0); other bits #GP
 *   17Bh MCG_CTL       R/W all ones or all zeros, else #GP (MCG_CTL_P = 1)
 *   400h+4i MCi_CTL    R/W all ones or all zeros (bit 10 may be 0: AMD GART)
 *   401h+4i MCi_STATUS R/W 0; writing a nonzero value is #GP (SDM 15.3.2.2)
 *   402h+4i MCi_ADDR   R/W 0 (ADDRV is never set); a nonzero write is #GP
 *   403h+4i MCi_MISC   R/W 0 (MISCV is never set); a nonzero write is #GP
 *
 * A bank number >= count is no MSR at all: #GP, as on hardware.
 */
#include "arch.h"
#include "cpu.h"
#include "cr.h"
#include "model.h"

#define MSR_IA32_PLATFORM_ID  0x00000017
#define MSR_IA32_BIOS_SIGN_ID 0x0000008b
#define MSR_IA32_MCG_CAP      0x00000179
#define MSR_IA32_MCG_STATUS   0x0000017a
#define MSR_IA32_MCG_CTL      0x0000017b
#define MSR_IA32_MC0_CTL      0x00000400

#define MCE_BANKS        4
#define MCG_CAP_CTL_P    (1ull << 8)
#define MCG_STATUS_BITS  0x7ull             /* RIPV, EIPV, MCIP */
#define MICROCODE_REV    (1ull << 32)       /* revision 1, as QEMU reports */

/* All ones or all zeros: what MCG_CTL and MCi_CTL accept.  Bit 10 of
 * MC4_CTL is the GART error bit software may leave clear on AMD. */
static bool ctl_ok(uint64_t v)
{
	return v == 0 || (v | (1ull << 10)) == ~0ull;
}

static bool bank_msr(uint32_t msr)
{
	return msr >= MSR_IA32_MC0_CTL && msr < MSR_IA32_MC0_CTL + 4 * MCE_BANKS;
}

static bool vendor_amd(const struct cpu *c)
{
	uint32_t r[4];
	cpu_model_cpuid(c->model, 0, 0, r);
	return r[1] == 0x68747541u;               /* "Auth" of AuthenticAMD */
}

/* Returns false if msr is not one of these (msr.c then tries the machine,
 * then raises #GP); raises #GP itself for a value the register refuses. */
bool cpu_msr_mce(struct cpu *c, uint32_t msr, uint64_t *v, bool write)
{
	struct cpu_mce *m = &c->mce;
	if (bank_msr(msr)) {
		unsigned bank = (msr - MSR_IA32_MC0_CTL) / 4, reg = msr & 3;
		if (!write) {
			*v = reg == 0 ? m->bank_ctl[bank] : 0;
			return true;
		}
		if (reg == 0 ? !ctl_ok(*v) : *v != 0)
			cpu_gp0(c);
		if (reg == 0)
			m->bank_ctl[bank] = *v;
		return true;
	}
	switch (msr) {
	case MSR_IA32_PLATFORM_ID:
		if (vendor_amd(c))
			return false;                /* Intel only */
		if (write)
			cpu_gp0(c);
		*v = 0;
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		if (!write)
			*v = MICROCODE_REV;
		return true;
	case MSR_IA32_MCG_CAP:
		if (write)
			cpu_gp0(c);
		*v = MCE_BANKS | MCG_CAP_CTL_P;
		return true;
	case MSR_IA32_MCG_STATUS:
		if (!write) {
			*v = m->mcg_status;
			return true;
		}
		if (*v & ~MCG_STATUS_BITS)
			cpu_gp0(c);
		m->mcg_status = *v;
		return true;
	case MSR_IA32_MCG_CTL:
		if (!write) {
			*v = m->mcg_ctl;
			return true;
		}
		if (!ctl_ok(*v))
			cpu_gp0(c);
		m->mcg_ctl = *v;
		return true;
	default:
		return false;
	}
}
