/* hv_svm.h - the AMD-V backend's internal interface (svm.c, nested_svm.c).
 *
 * struct hv_svm_vcpu is per guest, allocated when it is created (never a
 * file-scope VMCB).  In the Turtles naming, vmcb is vmcb01: the VMCB with
 * which this nesthv (L0) runs its guest (L1).  With nested=1 the guest may
 * run a guest of its own (L2): its VMCB (vmcb12) lives in L1's memory, and
 * L0 runs L2 on vmcb02, built from vmcb12 at each VMRUN L1 executes
 * (nested_svm.c).
 */
#ifndef HV_SVM_H
#define HV_SVM_H

#include "hvm.h"
#include "svm_defs.h"

#define SVM_NR_SLOTS 0x92        /* exits by code; 90h = NPF, 91h = invalid */

struct hv_svm_nested {
    bool enabled;                /* nested=1: SVM offered to the guest */
    bool in_l2;                  /* vmcb02 is the one VMRUN runs */
    bool gif;                    /* L1's global interrupt flag (15.17) */
    uint64_t vmcb12_gpa;         /* the VMCB of L1's last VMRUN */
    struct vmcb *vmcb02;
    uint64_t vmcb02_pa;
    uint64_t l1_rip, l1_rsp, l1_rflags, l1_rax;   /* L1 at its VMRUN */
    uint64_t vmrun, l2_exits[SVM_NR_SLOTS], reflected, l1_insns[8];
};

struct hv_svm_vcpu {
    struct vmcb *vmcb;           /* vmcb01 */
    uint64_t vmcb_pa, host_save_pa;
    uint32_t features;           /* CPUID 8000_000Ah EDX */
    uint64_t reasons[SVM_NR_SLOTS];
    struct hv_svm_nested nested;
};

/* hvm_entry.S */
void hv_svm_run(uint64_t vmcb_pa, struct hv_regs *regs, uint64_t host_save_pa);

/* svm.c */
const char *hv_svm_exit_name(uint64_t code);
unsigned hv_svm_reason_slot(uint64_t code);

/* nested_svm.c */
void hv_svm_nested_create(struct hv_vcpu *v, struct hv_svm_vcpu *s);
bool hv_svm_nested_l1_exit(struct hv_vcpu *v, struct hv_svm_vcpu *s, uint64_t code,
                           struct hv_exit *e);
void hv_svm_nested_run_l2(struct hv_vcpu *v, struct hv_svm_vcpu *s, struct hv_exit *e);
bool hv_svm_nested_deliver(struct hv_vcpu *v, struct hv_svm_vcpu *s);
void hv_svm_nested_print(struct hv_svm_vcpu *s);

#endif
