/*
 * check.c - the checks VM entry makes before it loads anything (SDM Vol.
 * 3C 27.2 and 27.3.1), each one line through VMX_RULE with its condition
 * in the manual's words and its section.  The first that fails names the
 * outcome (27.1, 27.2, 27.3, 27.8):
 *
 *   VM-execution, exit, entry control fields (27.2.1)   VMfailValid(7)
 *   host-state area (27.2.2, 27.2.3)                     VMfailValid(8)
 *   guest-state area (27.3.1)                            VM exit 33 "VM-entry
 *                                                        failure due to invalid
 *                                                        guest state", qual 0
 *   PDPTEs (27.3.1.6)                                    exit 33, qual 2
 *
 * s->rule and s->section keep the rule for the UI, the event log and labs.
 */
#include "arch.h"
#include "mem.h"
#include "vmx.h"

#define VMX_RULE(kind, ok, sect, text)                                   \
	do {                                                             \
		if (!(ok)) {                                             \
			s->rule = text;                                  \
			s->section = "SDM " sect;                        \
			return kind;                                     \
		}                                                        \
	} while (0)

static bool canonical(uint64_t a)
{
	return addr_canonical(a);
}

static bool ctl_ok(uint32_t v, uint64_t cap)
{
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);
	return (v & must) == must && (v & ~may) == 0;
}

static bool list_ok(uint64_t addr, uint64_t count)
{
	return count == 0 || (!(addr & 0xf) && vmx_pa_ok(addr + count * 16 - 1));
}

/* 27.2.1: the control fields. */
static enum vmx_check_fail check_controls(struct cpu *c, struct vmx *s)
{
	(void)c;
	const uint64_t *f = s->f;
	uint32_t pin = (uint32_t)f[F_PIN_BASED_CONTROLS], proc = (uint32_t)f[F_PROC_BASED_CONTROLS];
	uint32_t proc2 = proc & PROC_SECONDARY ? (uint32_t)f[F_PROC_BASED_CONTROLS2] : 0;
	uint32_t ex = (uint32_t)f[F_EXIT_CONTROLS], en = (uint32_t)f[F_ENTRY_CONTROLS];
	const enum vmx_check_fail K = VMXC_CONTROLS;
	VMX_RULE(K, ctl_ok(pin, vmx_cap(s, 0x48d)), "27.2.1.1",
		 "reserved bits in the pin-based VM-execution controls must be set as IA32_VMX_TRUE_PINBASED_CTLS allows");
	VMX_RULE(K, ctl_ok(proc, vmx_cap(s, 0x48e)), "27.2.1.1",
		 "reserved bits in the primary processor-based VM-execution controls must be set as IA32_VMX_TRUE_PROCBASED_CTLS allows");
	VMX_RULE(K, ctl_ok(proc2, vmx_cap(s, 0x48b)), "27.2.1.1",
		 "reserved bits in the secondary processor-based VM-execution controls must be set as IA32_VMX_PROCBASED_CTLS2 allows");
	VMX_RULE(K, f[F_CR3_TARGET_COUNT] <= 4, "27.2.1.1",
		 "the CR3-target count must not be greater than 4");
	VMX_RULE(K, !(proc & PROC_USE_IO_BITMAPS) ||
		 (!(f[F_IO_BITMAP_A] & 0xfff) && vmx_pa_ok(f[F_IO_BITMAP_A]) &&
		  !(f[F_IO_BITMAP_B] & 0xfff) && vmx_pa_ok(f[F_IO_BITMAP_B])), "27.2.1.1",
		 "with use I/O bitmaps, each I/O-bitmap address must be 4-KByte aligned and within the physical-address width");
	VMX_RULE(K, !(proc & PROC_USE_MSR_BITMAPS) ||
		 (!(f[F_MSR_BITMAP] & 0xfff) && vmx_pa_ok(f[F_MSR_BITMAP])), "27.2.1.1",
		 "with use MSR bitmaps, the MSR-bitmap address must be 4-KByte aligned and within the physical-address width");
	VMX_RULE(K, !(proc2 & PROC2_ENABLE_EPT) || vmx_eptp_ok(s, f[F_EPT_POINTER]), "27.2.1.1",
		 "with enable EPT, the EPT pointer must be valid (memory type, page-walk length 4, A/D only if supported, reserved bits 0)");
	VMX_RULE(K, !(proc2 & PROC2_ENABLE_VPID) || (f[F_VPID] & 0xffff) != 0, "27.2.1.1",
		 "with enable VPID, the VPID must not be 0000H");
	VMX_RULE(K, !(proc2 & PROC2_UNRESTRICTED) || (proc2 & PROC2_ENABLE_EPT), "27.2.1.1",
		 "unrestricted guest requires enable EPT");
	VMX_RULE(K, (pin & PIN_PREEMPTION_TIMER) || !(ex & EXIT_SAVE_TIMER), "27.2.1.2",
		 "save VMX-preemption timer value requires activate VMX-preemption timer");
	VMX_RULE(K, ctl_ok(ex, vmx_cap(s, 0x48f)), "27.2.1.2",
		 "reserved bits in the VM-exit controls must be set as IA32_VMX_TRUE_EXIT_CTLS allows");
	VMX_RULE(K, list_ok(f[F_EXIT_MSR_STORE_ADDR], f[F_EXIT_MSR_STORE_COUNT]) &&
		 list_ok(f[F_EXIT_MSR_LOAD_ADDR], f[F_EXIT_MSR_LOAD_COUNT]), "27.2.1.2",
		 "VM-exit MSR-store and MSR-load addresses must be 16-byte aligned and the lists within the physical-address width");
	VMX_RULE(K, ctl_ok(en, vmx_cap(s, 0x490)), "27.2.1.3",
		 "reserved bits in the VM-entry controls must be set as IA32_VMX_TRUE_ENTRY_CTLS allows");
	VMX_RULE(K, list_ok(f[F_ENTRY_MSR_LOAD_ADDR], f[F_ENTRY_MSR_LOAD_COUNT]), "27.2.1.3",
		 "the VM-entry MSR-load address must be 16-byte aligned and the list within the physical-address width");
	uint32_t info = (uint32_t)f[F_ENTRY_INTR_INFO];
	if (!(info & INTR_INFO_VALID))
		return VMXC_OK;
	unsigned type = (info >> 8) & 7, vec = info & 0xff;
	VMX_RULE(K, type != 1 && type != 7, "27.2.1.3",
		 "VM-entry interruption-information: the interruption type must not be 1 (reserved) or 7 (other event, only with monitor trap flag)");
	VMX_RULE(K, type != 2 || vec == 2, "27.2.1.3",
		 "VM-entry interruption-information: an NMI must have vector 2");
	VMX_RULE(K, type != 3 || vec <= 31, "27.2.1.3",
		 "VM-entry interruption-information: a hardware exception must have a vector of at most 31");
	bool pe = (f[F_GUEST_CR0] & CR0_PE) || !(proc2 & PROC2_UNRESTRICTED);
	bool errvec = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
	VMX_RULE(K, !!(info & INTR_INFO_ERR_VALID) == (type == 3 && errvec && pe), "27.2.1.3",
		 "VM-entry interruption-information: deliver error code must be 1 exactly for a hardware exception that has one, with CR0.PE = 1");
	VMX_RULE(K, (info & 0x7ffff000u) == 0, "27.2.1.3",
		 "VM-entry interruption-information: reserved bits 30:12 must be 0");
	VMX_RULE(K, !(info & INTR_INFO_ERR_VALID) || (f[F_ENTRY_EXCEPTION_ERROR] & 0xffff8000u) == 0,
		 "27.2.1.3", "VM-entry exception error code: bits 31:15 must be 0");
	VMX_RULE(K, (type != 4 && type != 5 && type != 6) ||
		 (f[F_ENTRY_INSN_LEN] >= 1 && f[F_ENTRY_INSN_LEN] <= 15), "27.2.1.3",
		 "VM-entry instruction length must be 1 to 15 for a software interrupt, privileged software exception or software exception");
	return VMXC_OK;
}

/* 27.2.2 and 27.2.3: host control registers, MSRs, selectors, bases. */
static enum vmx_check_fail check_host(struct cpu *c, struct vmx *s)
{
	const uint64_t *f = s->f;
	const enum vmx_check_fail K = VMXC_HOST;
	uint32_t ex = (uint32_t)f[F_EXIT_CONTROLS];
	bool h64 = (ex & EXIT_HOST_64BIT) != 0;
	uint64_t cr0 = f[F_HOST_CR0], cr4 = f[F_HOST_CR4];
	VMX_RULE(K, (cr0 & vmx_cr0_fixed0()) == vmx_cr0_fixed0() && !(cr0 >> 32), "27.2.2",
		 "the CR0 field must not set any bit to a value not supported in VMX operation (IA32_VMX_CR0_FIXED0/1)");
	VMX_RULE(K, (cr4 & vmx_cr4_fixed0()) == vmx_cr4_fixed0() && !(cr4 & ~vmx_cr4_fixed1(c)), "27.2.2",
		 "the CR4 field must not set any bit to a value not supported in VMX operation (IA32_VMX_CR4_FIXED0/1)");
	VMX_RULE(K, vmx_pa_ok(f[F_HOST_CR3]), "27.2.2",
		 "bits of the CR3 field beyond the processor's physical-address width must be 0");
	VMX_RULE(K, canonical(f[F_HOST_SYSENTER_ESP]) && canonical(f[F_HOST_SYSENTER_EIP]), "27.2.2",
		 "the IA32_SYSENTER_ESP and IA32_SYSENTER_EIP fields must each contain a canonical address");
	if (ex & EXIT_LOAD_EFER) {
		uint64_t e = f[F_HOST_IA32_EFER];
		VMX_RULE(K, !(e & ~0xd01ull), "27.2.2", "with load IA32_EFER, reserved bits of the IA32_EFER field must be 0");
		VMX_RULE(K, !!(e & EFER_LMA) == h64 && !!(e & EFER_LME) == h64, "27.2.2",
			 "with load IA32_EFER, bits LMA and LME of the IA32_EFER field must each equal host address-space size");
	}
	static const int sels[] = { F_HOST_ES_SEL, F_HOST_CS_SEL, F_HOST_SS_SEL, F_HOST_DS_SEL,
				    F_HOST_FS_SEL, F_HOST_GS_SEL, F_HOST_TR_SEL };
	for (unsigned k = 0; k < sizeof sels / sizeof sels[0]; k++)
		VMX_RULE(K, (f[sels[k]] & 7) == 0, "27.2.3",
			 "in the selector field for each of ES, CS, SS, DS, FS, GS and TR, the RPL (bits 1:0) and the TI flag (bit 2) must be 0");
	VMX_RULE(K, f[F_HOST_CS_SEL] != 0, "27.2.3", "the selector field for CS cannot be 0000H");
	VMX_RULE(K, f[F_HOST_TR_SEL] != 0, "27.2.3", "the selector field for TR cannot be 0000H");
	VMX_RULE(K, h64 || f[F_HOST_SS_SEL] != 0, "27.2.3",
		 "the selector field for SS cannot be 0000H if host address-space size is 0");
	VMX_RULE(K, canonical(f[F_HOST_FS_BASE]) && canonical(f[F_HOST_GS_BASE]) &&
		 canonical(f[F_HOST_GDTR_BASE]) && canonical(f[F_HOST_IDTR_BASE]) &&
		 canonical(f[F_HOST_TR_BASE]), "27.2.3",
		 "the base-address fields for FS, GS, GDTR, IDTR and TR must contain canonical addresses");
	bool lma = (c->efer & EFER_LMA) != 0;
	VMX_RULE(K, !lma || h64, "27.2.4",
		 "if the logical processor is in IA-32e mode, the host address-space size VM-exit control must be 1");
	VMX_RULE(K, lma || (!h64 && !(f[F_ENTRY_CONTROLS] & ENTRY_IA32E_GUEST)), "27.2.4",
		 "outside IA-32e mode, the IA-32e mode guest VM-entry control and the host address-space size VM-exit control must be 0");
	VMX_RULE(K, !h64 || (cr4 & CR4_PAE), "27.2.4", "with host address-space size 1, bit 5 of the CR4 field (PAE) must be 1");
	VMX_RULE(K, h64 ? canonical(f[F_HOST_RIP]) : !(f[F_HOST_RIP] >> 32), "27.2.4",
		 "the RIP field must be canonical with host address-space size 1, and have bits 63:32 clear with 0");
	return VMXC_OK;
}

static bool limit_g_ok(uint32_t limit, uint32_t ar)
{
	bool g = (ar & SEG_ATTR_G) != 0;
	if ((limit & 0xfff) != 0xfff && g)
		return false;
	if ((limit & 0xfff00000u) && !g)
		return false;
	return true;
}

/* 27.3.1.2: segment registers (the rules for protected/long mode; with
 * unrestricted guest the real-mode forms are accepted as the SDM says). */
static enum vmx_check_fail check_segments(struct vmx *s, bool ia32e, bool ug)
{
	const uint64_t *f = s->f;
	const enum vmx_check_fail K = VMXC_GUEST;
	uint32_t cs = (uint32_t)f[F_GUEST_CS_AR], ss = (uint32_t)f[F_GUEST_SS_AR];
	uint32_t tr = (uint32_t)f[F_GUEST_TR_AR], ldtr = (uint32_t)f[F_GUEST_LDTR_AR];
	bool v86 = (f[F_GUEST_RFLAGS] & FLAG_VM) != 0;
	VMX_RULE(K, !(f[F_GUEST_TR_SEL] & 4), "27.3.1.2", "TR: the TI flag (bit 2) must be 0");
	VMX_RULE(K, (ldtr & VMX_AR_UNUSABLE) || !(f[F_GUEST_LDTR_SEL] & 4), "27.3.1.2",
		 "LDTR: if usable, the TI flag (bit 2) must be 0");
	if (v86)
		return VMXC_OK;         /* virtual-8086 rules: base = sel << 4, limit FFFFH, AR F3H */
	VMX_RULE(K, ug || (f[F_GUEST_SS_SEL] & 3) == (f[F_GUEST_CS_SEL] & 3), "27.3.1.2",
		 "SS: the RPL must equal the RPL of CS (unless unrestricted guest)");
	VMX_RULE(K, canonical(f[F_GUEST_TR_BASE]) && canonical(f[F_GUEST_FS_BASE]) &&
		 canonical(f[F_GUEST_GS_BASE]) && canonical(f[F_GUEST_LDTR_BASE]), "27.3.1.2",
		 "the base addresses of TR, FS, GS and (if usable) LDTR must be canonical");
	VMX_RULE(K, !(f[F_GUEST_CS_BASE] >> 32), "27.3.1.2", "CS: bits 63:32 of the base address must be 0");
	unsigned ct = cs & 15;
	VMX_RULE(K, ct == 9 || ct == 11 || ct == 13 || ct == 15 || (ug && ct == 3), "27.3.1.2",
		 "CS: the type must be 9, 11, 13 or 15 (accessed code), or 3 with unrestricted guest");
	VMX_RULE(K, (cs & SEG_ATTR_S) && (cs & SEG_ATTR_P), "27.3.1.2", "CS: S (bit 4) and P (bit 7) must be 1");
	VMX_RULE(K, !(cs & 0xfffe0f00u), "27.3.1.2", "CS: reserved bits 11:8 and 31:17 of the access rights must be 0");
	VMX_RULE(K, (ct != 9 && ct != 11) || SEG_ATTR_DPL(cs) == SEG_ATTR_DPL(ss), "27.3.1.2",
		 "CS: for a non-conforming code segment the DPL must equal the DPL of SS");
	VMX_RULE(K, (ct != 13 && ct != 15) || SEG_ATTR_DPL(cs) <= SEG_ATTR_DPL(ss), "27.3.1.2",
		 "CS: for a conforming code segment the DPL must not be greater than the DPL of SS");
	VMX_RULE(K, ct != 3 || SEG_ATTR_DPL(cs) == 0, "27.3.1.2", "CS: with type 3 (unrestricted guest) the DPL must be 0");
	VMX_RULE(K, !ia32e || !(cs & SEG_ATTR_L) || !(cs & SEG_ATTR_DB), "27.3.1.2",
		 "CS: in IA-32e mode with L = 1, D/B must be 0");
	VMX_RULE(K, limit_g_ok((uint32_t)f[F_GUEST_CS_LIMIT], cs), "27.3.1.2",
		 "CS: G must be 0 if any of limit bits 11:0 is 0, and 1 if any of limit bits 31:20 is 1");
	if (!(ss & VMX_AR_UNUSABLE)) {
		unsigned t = ss & 15;
		VMX_RULE(K, t == 3 || t == 7, "27.3.1.2", "SS: if usable, the type must be 3 or 7 (read/write, accessed)");
		VMX_RULE(K, (ss & SEG_ATTR_S) && (ss & SEG_ATTR_P), "27.3.1.2", "SS: if usable, S and P must be 1");
		VMX_RULE(K, limit_g_ok((uint32_t)f[F_GUEST_SS_LIMIT], ss), "27.3.1.2",
			 "SS: G must be consistent with the limit (bits 11:0 all 1 if G, bits 31:20 all 0 if not)");
	}
	VMX_RULE(K, ug || SEG_ATTR_DPL(ss) == (f[F_GUEST_SS_SEL] & 3), "27.3.1.2",
		 "SS: the DPL must equal the RPL of the selector (unless unrestricted guest)");
	VMX_RULE(K, (ct != 3 && (f[F_GUEST_CR0] & CR0_PE)) || SEG_ATTR_DPL(ss) == 0, "27.3.1.2",
		 "SS: the DPL must be 0 if CS has type 3 or CR0.PE is 0");
	static const int ar[] = { F_GUEST_DS_AR, F_GUEST_ES_AR, F_GUEST_FS_AR, F_GUEST_GS_AR };
	static const int lim[] = { F_GUEST_DS_LIMIT, F_GUEST_ES_LIMIT, F_GUEST_FS_LIMIT, F_GUEST_GS_LIMIT };
	for (unsigned k = 0; k < 4; k++) {
		uint32_t a = (uint32_t)f[ar[k]];
		if (a & VMX_AR_UNUSABLE)
			continue;
		VMX_RULE(K, (a & 1) && (!(a & 8) || (a & 2)), "27.3.1.2",
			 "DS, ES, FS, GS: if usable, the type must be accessed, and readable if code");
		VMX_RULE(K, (a & SEG_ATTR_S) && (a & SEG_ATTR_P), "27.3.1.2",
			 "DS, ES, FS, GS: if usable, S and P must be 1");
		VMX_RULE(K, !(a & 0xfffe0f00u), "27.3.1.2",
			 "DS, ES, FS, GS: reserved bits 11:8 and 31:17 of the access rights must be 0");
		VMX_RULE(K, limit_g_ok((uint32_t)f[lim[k]], a), "27.3.1.2",
			 "DS, ES, FS, GS: G must be consistent with the limit");
	}
	unsigned tt = tr & 15;
	VMX_RULE(K, tt == 11 || (!ia32e && tt == 3), "27.3.1.2",
		 "TR: the type must be 11 (busy 32/64-bit TSS), or 3 (busy 16-bit TSS) outside IA-32e mode");
	VMX_RULE(K, !(tr & SEG_ATTR_S) && (tr & SEG_ATTR_P) && !(tr & VMX_AR_UNUSABLE), "27.3.1.2",
		 "TR: S must be 0, P must be 1, and TR must be usable");
	VMX_RULE(K, limit_g_ok((uint32_t)f[F_GUEST_TR_LIMIT], tr), "27.3.1.2", "TR: G must be consistent with the limit");
	VMX_RULE(K, (ldtr & VMX_AR_UNUSABLE) || ((ldtr & 15) == 2 && !(ldtr & SEG_ATTR_S) && (ldtr & SEG_ATTR_P)),
		 "27.3.1.2", "LDTR: if usable, the type must be 2 (LDT), S 0 and P 1");
	return VMXC_OK;
}

/* 27.3.1.1, 27.3.1.3 - 27.3.1.5: registers, RIP/RFLAGS, non-register state. */
static enum vmx_check_fail check_guest(struct cpu *c, struct vmx *s)
{
	const uint64_t *f = s->f;
	const enum vmx_check_fail K = VMXC_GUEST;
	uint32_t proc2 = f[F_PROC_BASED_CONTROLS] & PROC_SECONDARY ? (uint32_t)f[F_PROC_BASED_CONTROLS2] : 0;
	uint32_t en = (uint32_t)f[F_ENTRY_CONTROLS];
	bool ug = (proc2 & PROC2_UNRESTRICTED) != 0, ia32e = (en & ENTRY_IA32E_GUEST) != 0;
	uint64_t cr0 = f[F_GUEST_CR0], cr4 = f[F_GUEST_CR4];
	uint64_t fixed0 = vmx_cr0_fixed0() & ~(ug ? (CR0_PE | CR0_PG) : 0);
	VMX_RULE(K, (cr0 & fixed0) == fixed0 && !(cr0 >> 32), "27.3.1.1",
		 "the CR0 field must not set any bit to a value not supported in VMX operation (PE and PG free with unrestricted guest)");
	VMX_RULE(K, !(cr0 & CR0_PG) || (cr0 & CR0_PE), "27.3.1.1", "if CR0.PG is 1, CR0.PE must be 1");
	VMX_RULE(K, (cr4 & vmx_cr4_fixed0()) == vmx_cr4_fixed0() && !(cr4 & ~vmx_cr4_fixed1(c)), "27.3.1.1",
		 "the CR4 field must not set any bit to a value not supported in VMX operation (IA32_VMX_CR4_FIXED0/1)");
	VMX_RULE(K, !ia32e || ((cr0 & CR0_PG) && (cr4 & CR4_PAE)), "27.3.1.1",
		 "with IA-32e mode guest, CR0.PG and CR4.PAE must be 1");
	VMX_RULE(K, vmx_pa_ok(f[F_GUEST_CR3]), "27.3.1.1", "bits of CR3 beyond the physical-address width must be 0");
	VMX_RULE(K, !(en & ENTRY_LOAD_DEBUG_CTLS) || !(f[F_GUEST_DR7] >> 32), "27.3.1.1",
		 "with load debug controls, bits 63:32 of the DR7 field must be 0");
	VMX_RULE(K, canonical(f[F_GUEST_SYSENTER_ESP]) && canonical(f[F_GUEST_SYSENTER_EIP]), "27.3.1.1",
		 "the IA32_SYSENTER_ESP and IA32_SYSENTER_EIP fields must be canonical");
	if (en & ENTRY_LOAD_EFER) {
		uint64_t e = f[F_GUEST_IA32_EFER];
		VMX_RULE(K, !(e & ~0xd01ull), "27.3.1.1", "with load IA32_EFER, reserved bits of the IA32_EFER field must be 0");
		VMX_RULE(K, !!(e & EFER_LMA) == ia32e, "27.3.1.1",
			 "with load IA32_EFER, IA32_EFER.LMA must equal the IA-32e mode guest VM-entry control");
		VMX_RULE(K, !(cr0 & CR0_PG) || !!(e & EFER_LME) == !!(e & EFER_LMA), "27.3.1.1",
			 "with load IA32_EFER and CR0.PG = 1, IA32_EFER.LME must equal IA32_EFER.LMA");
	}
	enum vmx_check_fail r = check_segments(s, ia32e, ug);
	if (r != VMXC_OK)
		return r;
	VMX_RULE(K, canonical(f[F_GUEST_GDTR_BASE]) && canonical(f[F_GUEST_IDTR_BASE]), "27.3.1.3",
		 "the GDTR and IDTR base addresses must be canonical");
	VMX_RULE(K, !(f[F_GUEST_GDTR_LIMIT] >> 16) && !(f[F_GUEST_IDTR_LIMIT] >> 16), "27.3.1.3",
		 "bits 31:16 of the GDTR and IDTR limit fields must be 0");
	bool l = ia32e && (f[F_GUEST_CS_AR] & SEG_ATTR_L);
	VMX_RULE(K, l ? canonical(f[F_GUEST_RIP]) : !(f[F_GUEST_RIP] >> 32), "27.3.1.4",
		 "RIP: bits 63:32 must be 0 unless IA-32e mode guest with CS.L = 1, where it must be canonical");
	uint64_t fl = f[F_GUEST_RFLAGS];
	VMX_RULE(K, !(fl & 0xffffffffffc08028ull) && (fl & 2), "27.3.1.4",
		 "RFLAGS: reserved bits 63:22, 15, 5 and 3 must be 0 and bit 1 must be 1");
	VMX_RULE(K, !(fl & FLAG_VM) || (!ia32e && (cr0 & CR0_PE)), "27.3.1.4",
		 "RFLAGS.VM must be 0 with IA-32e mode guest or CR0.PE = 0");
	uint32_t info = (uint32_t)f[F_ENTRY_INTR_INFO];
	bool inj = (info & INTR_INFO_VALID) != 0;
	unsigned itype = (info >> 8) & 7;
	VMX_RULE(K, !inj || itype != 0 || (fl & FLAG_IF), "27.3.1.4",
		 "RFLAGS.IF must be 1 when an external interrupt is injected");
	uint64_t act = f[F_GUEST_ACTIVITY_STATE], intr = f[F_GUEST_INTERRUPTIBILITY];
	VMX_RULE(K, act == ACTIVITY_ACTIVE || act == ACTIVITY_HLT, "27.3.1.5",
		 "the activity state must be one IA32_VMX_MISC reports as supported (active or HLT)");
	VMX_RULE(K, act != ACTIVITY_HLT || SEG_ATTR_DPL(f[F_GUEST_SS_AR]) == 0, "27.3.1.5",
		 "the activity state HLT requires SS.DPL = 0");
	VMX_RULE(K, !(intr & ~0x1full), "27.3.1.5", "interruptibility state: reserved bits 31:5 must be 0");
	VMX_RULE(K, (intr & 3) != 3, "27.3.1.5", "interruptibility state: blocking by STI and by MOV SS cannot both be 1");
	VMX_RULE(K, !(intr & INTR_BLOCK_STI) || (fl & FLAG_IF), "27.3.1.5",
		 "interruptibility state: blocking by STI must be 0 if RFLAGS.IF is 0");
	VMX_RULE(K, !(inj && itype == 0) || !(intr & 3), "27.3.1.5",
		 "interruptibility state: blocking by STI and MOV SS must be 0 when an external interrupt is injected");
	VMX_RULE(K, !(inj && itype == 2) || !(intr & INTR_BLOCK_MOV_SS), "27.3.1.5",
		 "interruptibility state: blocking by MOV SS must be 0 when an NMI is injected");
	VMX_RULE(K, !(f[F_GUEST_PENDING_DBG] & ~0x1500full), "27.3.1.5",
		 "pending debug exceptions: reserved bits 63:17, 13 and 11:4 must be 0");
	VMX_RULE(K, f[F_VMCS_LINK_POINTER] == ~0ull, "27.3.1.5",
		 "the VMCS link pointer must be FFFFFFFF_FFFFFFFFH (VMCS shadowing is not supported)");
	return VMXC_OK;
}

enum vmx_check_fail vmx_check_entry(struct cpu *c, struct vmx *s, uint64_t *qual)
{
	enum vmx_check_fail r;
	*qual = 0;
	s->rule = s->section = NULL;
	if ((r = check_controls(c, s)) != VMXC_OK || (r = check_host(c, s)) != VMXC_OK)
		return r;
	if ((r = check_guest(c, s)) != VMXC_OK)
		return r;
	/* 27.3.1.6: PAE paging without EPT loads the PDPTEs from CR3. */
	const uint64_t *f = s->f;
	bool pae = (f[F_GUEST_CR0] & CR0_PG) && (f[F_GUEST_CR4] & CR4_PAE) &&
		   !(f[F_ENTRY_CONTROLS] & ENTRY_IA32E_GUEST);
	uint32_t proc2 = f[F_PROC_BASED_CONTROLS] & PROC_SECONDARY ? (uint32_t)f[F_PROC_BASED_CONTROLS2] : 0;
	if (pae) {
		const uint64_t rsvd = ~((1ull << 40) - 1) | 0x1e6ull;
		for (int n = 0; n < 4; n++) {
			uint64_t e = f[F_GUEST_PDPTE0 + n];
			if (!(proc2 & PROC2_ENABLE_EPT))
				cpu_phys_read(c, (f[F_GUEST_CR3] & 0xffffffe0ull) + 8 * (uint64_t)n, &e, 8);
			if ((e & 1) && (e & rsvd)) {
				*qual = 2;
				s->rule = "PDPTEs: a present PDPTE must have its reserved bits 0";
				s->section = "SDM 27.3.1.6";
				return VMXC_GUEST;
			}
		}
	}
	return VMXC_OK;
}
