/* hv_vmx.h - the VT-x backend's internal interface (vmx.c, vmx_check.c).
 *
 * struct hv_vmx_vcpu (one per guest, allocated with it; its VMCS is vmcs01
 * in the Turtles naming, L0's VMCS for its guest L1) is what nesthv
 * remembers beside the VMCS: the capability MSRs it read once, the control
 * words it chose (so toggling interrupt-window exiting needs no VMREAD),
 * and the exit counts by reason.
 */
#ifndef HV_VMX_H
#define HV_VMX_H

#include "vmx_defs.h"

#define VMX_CR4_VMXE (1ULL << 13)   /* SDM 3C 24.7: set before VMXON */

struct hv_vmx_vcpu {
    uint64_t basic, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t vmcs_pa;
    uint32_t pin, proc, proc2, exit, entry;
    int launched;
    uint64_t reasons[VMX_NR_EXIT_REASONS];
};

uint64_t hv_vmread(uint32_t field);
void hv_vmwrite(uint32_t field, uint64_t value);
const char *hv_vmx_field_name(uint32_t enc);
const char *hv_vmx_exit_name(uint32_t reason);

/* vmx_check.c: after a failed VM entry, say which rule the VMCS breaks.
 * reason = 0: VMLAUNCH/VMRESUME itself failed (VM-instruction error);
 * else the exit reason with bit 31 set (SDM 3C 27.8). */
void hv_vmx_explain_entry_failure(struct hv_vmx_vcpu *x, uint32_t reason, uint64_t qual);

#endif
