/* vmx_check.c - after a failed VM entry, name the rule the VMCS broke.
 *
 * The hardware is terse.  A VM entry fails in one of two ways (SDM Vol. 3C
 * chapter 26):
 *
 *   - VMLAUNCH/VMRESUME itself fails (RFLAGS.CF/ZF) and the VM-instruction
 *     error field holds a number: 7 "invalid control field(s)" (26.2.1),
 *     8 "invalid host-state field(s)" (26.2.2-26.2.4), ...
 *   - or the checks on the guest state (26.3.1) fail *after* the entry
 *     began, which looks like a VM exit whose reason has bit 31 set: 33
 *     "invalid guest state", 34 "MSR loading", with an exit qualification
 *     (27.8: 0 = no detail, 2 = PDPTE loading, 3 = NMI injection, 4 = VMCS
 *     link pointer).
 *
 * Neither says *which* field.  So nesthv re-checks the VMCS against the
 * rules it knows it must follow - the ones a hypervisor like this one can
 * get wrong - and prints the first one broken, in the manual's words and
 * with its section.  A student who changes setup_guest_state() in vmx.c
 * and breaks a rule is told which one.
 */
#include "hvm.h"
#include "hv_vmx.h"

static const char *insn_error_name(uint64_t n)
{
    switch (n) {
#define X(num, text) case num: return text;
    VMX_INSN_ERRORS(X)
#undef X
    }
    return "reserved error number";
}

/* Is value allowed by a capability MSR (low half: must be 1, high: may be 1)? */
static bool ctl_ok(uint32_t msr, uint32_t value)
{
    uint64_t cap = hv_rdmsr(msr);
    return (value & (uint32_t)cap) == (uint32_t)cap && !(value & ~(uint32_t)(cap >> 32));
}

static bool fixed_ok(uint64_t v, uint64_t f0, uint64_t f1)
{
    return (v & f0) == f0 && !(v & ~f1);
}

static const char *check_controls(struct hv_vmx_vcpu *x)
{
    bool t = x->basic & VMX_BASIC_TRUE_CTLS;
    uint32_t proc2 = (uint32_t)hv_vmread(PROC_BASED_CONTROLS2);
    if (!ctl_ok(t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
                (uint32_t)hv_vmread(PIN_BASED_CONTROLS)))
        return "26.2.1.1: pin-based VM-execution controls must respect IA32_VMX_(TRUE_)PINBASED_CTLS";
    if (!ctl_ok(t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
                (uint32_t)hv_vmread(PROC_BASED_CONTROLS)))
        return "26.2.1.1: primary processor-based controls must respect IA32_VMX_(TRUE_)PROCBASED_CTLS";
    if (!ctl_ok(MSR_IA32_VMX_PROCBASED_CTLS2, proc2))
        return "26.2.1.1: secondary processor-based controls must respect IA32_VMX_PROCBASED_CTLS2";
    if ((proc2 & PROC2_UNRESTRICTED) && !(proc2 & PROC2_ENABLE_EPT))
        return "26.2.1.1: \"unrestricted guest\" requires \"enable EPT\"";
    uint64_t eptp = hv_vmread(EPT_POINTER);
    if ((proc2 & PROC2_ENABLE_EPT) && (((eptp & 7) != 0 && (eptp & 7) != 6) || (eptp >> 3 & 7) != 3))
        return "26.2.1.1: EPTP memory type must be UC (0) or WB (6), walk length - 1 must be 3";
    if ((proc2 & PROC2_ENABLE_VPID) && hv_vmread(VPID) == 0)
        return "26.2.1.1: with \"enable VPID\", the VPID must not be 0000H";
    if (!ctl_ok(t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
                (uint32_t)hv_vmread(EXIT_CONTROLS)))
        return "26.2.1.2: VM-exit controls must respect IA32_VMX_(TRUE_)EXIT_CTLS";
    if (!ctl_ok(t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
                (uint32_t)hv_vmread(ENTRY_CONTROLS)))
        return "26.2.1.3: VM-entry controls must respect IA32_VMX_(TRUE_)ENTRY_CTLS";
    return NULL;
}

static const char *check_host(struct hv_vmx_vcpu *x)
{
    if (!fixed_ok(hv_vmread(HOST_CR0), x->cr0_fixed0, x->cr0_fixed1))
        return "26.2.2: HOST_CR0 must respect IA32_VMX_CR0_FIXED0/FIXED1";
    if (!fixed_ok(hv_vmread(HOST_CR4), x->cr4_fixed0, x->cr4_fixed1))
        return "26.2.2: HOST_CR4 must respect IA32_VMX_CR4_FIXED0/FIXED1";
    static const uint32_t sel[] = { HOST_ES_SEL, HOST_CS_SEL, HOST_SS_SEL, HOST_DS_SEL,
                                    HOST_FS_SEL, HOST_GS_SEL, HOST_TR_SEL };
    for (unsigned i = 0; i < sizeof sel / sizeof sel[0]; i++)
        if (hv_vmread(sel[i]) & 7)
            return "26.2.3: host selector fields must have RPL = 0 and TI = 0";
    if (!hv_vmread(HOST_CS_SEL) || !hv_vmread(HOST_TR_SEL))
        return "26.2.3: HOST_CS_SEL and HOST_TR_SEL must not be 0000H";
    if ((hv_vmread(EXIT_CONTROLS) & EXIT_HOST_64BIT) && !(hv_vmread(HOST_CR4) & CR4_PAE))
        return "26.2.4: with \"host address-space size\", HOST_CR4.PAE must be 1";
    return NULL;
}

static const char *check_guest(struct hv_vmx_vcpu *x)
{
    uint64_t cr0 = hv_vmread(GUEST_CR0), cr4 = hv_vmread(GUEST_CR4), efer = hv_vmread(GUEST_IA32_EFER);
    bool ug = hv_vmread(PROC_BASED_CONTROLS2) & PROC2_UNRESTRICTED;
    bool ia32e = hv_vmread(ENTRY_CONTROLS) & ENTRY_IA32E_GUEST;
    uint32_t cs = (uint32_t)hv_vmread(GUEST_CS_AR), tr = (uint32_t)hv_vmread(GUEST_TR_AR);
    if (!fixed_ok(cr0, x->cr0_fixed0 & (ug ? ~(CR0_PE | CR0_PG) : ~0ULL), x->cr0_fixed1))
        return "26.3.1.1: GUEST_CR0 must respect IA32_VMX_CR0_FIXED0/FIXED1 "
               "(PE and PG free with unrestricted guest)";
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
        return "26.3.1.1: GUEST_CR0.PG = 1 requires GUEST_CR0.PE = 1";
    if (!fixed_ok(cr4, x->cr4_fixed0, x->cr4_fixed1))
        return "26.3.1.1: GUEST_CR4 must respect IA32_VMX_CR4_FIXED0/FIXED1";
    if (ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)))
        return "26.3.1.1: \"IA-32e mode guest\" requires GUEST_CR0.PG = 1 and GUEST_CR4.PAE = 1";
    if ((hv_vmread(ENTRY_CONTROLS) & ENTRY_LOAD_EFER) &&
        (!!(efer & EFER_LMA) != ia32e || ((cr0 & CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME))))
        return "26.3.1.1: GUEST_IA32_EFER.LMA must equal \"IA-32e mode guest\", and LME "
               "when CR0.PG = 1";
    if (tr & (1u << 16) || (ia32e ? (tr & 15) != 11 : (tr & 15) != 3 && (tr & 15) != 11))
        return "26.3.1.2: TR must be usable, type 11 (busy 64-bit TSS) in IA-32e mode, "
               "else 3 or 11";
    if (ug ? !(cs & 1) || ((cs & 15) != 3 && (cs & 8) == 0) : !(cs & 8))
        return "26.3.1.2: CS type must be an accessed code segment (9, 11, 13, 15; "
               "or 3 with unrestricted guest)";
    if (ia32e && (cs & (1u << 13)) && (cs & (1u << 14)))
        return "26.3.1.2: in IA-32e mode, CS.L and CS.D/B must not both be 1";
    if (hv_vmread(VMCS_LINK_POINTER) != ~0ULL)
        return "26.3.1.5: the VMCS link pointer must be FFFFFFFF_FFFFFFFFH (no shadow VMCS)";
    uint64_t rf = hv_vmread(GUEST_RFLAGS);
    if (!(rf & 2) || (rf & 0xffffffffffc08028ULL))
        return "26.3.1.4: GUEST_RFLAGS bit 1 must be 1 and reserved bits 0";
    return NULL;
}

void hv_vmx_explain_entry_failure(struct hv_vmx_vcpu *x, uint32_t reason, uint64_t qual)
{
    if (reason == 0) {
        uint64_t err = hv_vmread(VM_INSTRUCTION_ERROR);
        hv_printf("nesthv: vmx: VM entry failed: VM-instruction error %lu (%s)\n",
                  err, insn_error_name(err));
    } else {
        hv_printf("nesthv: vmx: VM entry failed: exit reason %u (%s), exit qualification %lu\n",
                  reason & 0xffff, hv_vmx_exit_name(reason & 0xffff), qual);
    }
    const char *rule = check_controls(x);
    if (!rule)
        rule = check_host(x);
    if (!rule)
        rule = check_guest(x);
    if (rule)
        hv_printf("nesthv: vmx: broken rule: SDM Vol. 3C %s\n", rule);
    else
        hv_printf("nesthv: vmx: none of nesthv's checks (vmx_check.c) fails; see SDM Vol. 3C "
                  "chapter 26 for the full list\n");
    hv_printf("nesthv: vmx: GUEST_CR0 %lx GUEST_CR4 %lx GUEST_IA32_EFER %lx GUEST_CS_AR %lx "
              "GUEST_RIP %lx ENTRY_CONTROLS %lx\n", hv_vmread(GUEST_CR0), hv_vmread(GUEST_CR4),
              hv_vmread(GUEST_IA32_EFER), hv_vmread(GUEST_CS_AR), hv_vmread(GUEST_RIP),
              hv_vmread(ENTRY_CONTROLS));
}
