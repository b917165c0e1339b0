/* hvm.h - what the two hardware backends (vmx.c, svm.c) share.
 *
 * Under VT-x and AMD-V the guest runs unmodified, in ring 0 of its own
 * world: it owns its page tables, IDT and control registers, and believes it
 * has a PC.  What nesthv must supply is the same for both backends, so it is
 * written once, here and in hvm.c / hvm_dev.c / vcpu.c:
 *
 *   guest memory   one contiguous run of host frames; guest-physical address
 *                  g lives at host-physical mem_pa + g.  EPT (vmx.c) and NPT
 *                  (svm.c) map exactly [0, mem_size); anything else the guest
 *                  touches is MMIO and exits (the local APIC page).
 *   control state  CR0, CR4 and EFER as the guest believes they are.  Both
 *                  backends make every write to them exit, so these fields
 *                  are the truth and the backend only copies them into the
 *                  VMCS / VMCB ("dirty"), adding the bits the hardware needs
 *                  (VMX: CR0.NE, CR4.VMXE; SVM: EFER.SVME).
 *   devices        a COM1 16550 that prints what the guest writes, the
 *                  debug-exit port 0xF4 (the guest's shutdown), a masked
 *                  8259 pair, and a local APIC whose timer is driven by
 *                  nesthv's own tick (hvm_dev.c).
 *   boot           the guest is a Multiboot 1 kernel: nesthv is its boot
 *                  loader and starts it as GRUB would, in 32-bit protected
 *                  mode with paging off (Multiboot spec 0.6.96, 3.2) - which
 *                  VMX can run only with "unrestricted guest".
 *
 * The backend's job is then only: translate exits into struct hv_exit, keep
 * regs/cr3/long_mode up to date at each exit, and inject events.
 */
#ifndef HVM_H
#define HVM_H

#include "hv_vcpu.h"

#define HVM_MEM_SIZE   (8ULL << 20)        /* guest RAM: 8 MiB */
#define HVM_MEM_SIZE_HOST (48ULL << 20)    /* for a guest with modules (nesthv as L1) */
#define HVM_MBI_GPA    0x9000ULL           /* Multiboot info we build for it */
#define HVM_LAPIC_GPA  0xfee00000ULL

/* Architectural bits the common code reasons about (SDM Vol. 3A 2.5, 2.2.1). */
#define CR0_PE   (1ULL << 0)
#define CR0_NE   (1ULL << 5)
#define CR0_PG   (1ULL << 31)
#define CR4_PAE  (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define MSR_EFER 0xc0000080u

struct hvm_lapic {                 /* xAPIC registers nesthv models (SDM 3A 11.4) */
    uint32_t svr, lvt_timer, dcr, icr;
    uint64_t period_ticks, countdown;  /* in nesthv ticks (10 ms) */
    bool irr;                      /* the timer vector is pending */
};

struct hvm_com1 { uint8_t ier, lcr, mcr, scr, dll, dlm; };

struct hvm_shadow;                 /* shadow.c: shadow paging (npt=0 / ept=0) */
struct hvm_shadow_counts {         /* printed at shutdown */
    uint64_t faults, fills, reflected, mmio, invlpg, flushes, pool_flushes, max_tables;
};

struct hvm_guest {
    uint64_t mem_pa, mem_size;     /* host-physical base, bytes */
    struct hv_regs regs;           /* rip, rflags, rsp and the 15 GPRs */
    uint64_t cr0, cr3, cr4, efer;  /* the guest's view */
    bool ctl_dirty;                /* cr0/cr4/efer changed: backend reloads them */
    bool long_mode;                /* executing 64-bit code (EFER.LMA && CS.L) */
    unsigned cpl;                  /* privilege level at the exit (for the trace) */
    struct hvm_lapic lapic;
    struct hvm_com1 com1;
    uint8_t pic_mask[2];
    struct hvm_shadow *shadow;     /* NULL: EPT/NPT translate guest-physical */
    bool nested_svm;               /* nested=1: SVM in CPUID, EFER.SVME, VM_CR ... */
    uint64_t hsave_pa;             /* ... and VM_HSAVE_PA (nested_svm.c) */
    uint64_t cr2;                  /* shadow paging: the guest's CR2 to load ... */
    bool cr2_dirty;                /* ... before the next entry */
    void *arch;                    /* struct hv_vmx_vcpu / struct hv_svm_vcpu */
};

/* hvm.c: guest memory and the Multiboot boot of the guest */
void hvm_create(struct hv_vcpu *v, const struct hv_module *m);
void *hvm_gpa_ptr(struct hv_vcpu *v, uint64_t gpa, uint64_t len);   /* NULL: not RAM */
int hvm_read_gva(struct hv_vcpu *v, uint64_t gva, void *dst, uint64_t n);
void hvm_build_nested_tables(struct hv_vcpu *v, uint64_t *root_pa, bool ept);

/* shadow.c: shadow paging.  The backend runs the guest with
 * hvm_shadow_root() as CR3 (flushing the guest's TLB when told), calls
 * hvm_shadow_mode_changed() when CR0/CR3/CR4/EFER changed, and turns #PF
 * exits into HV_EXIT_EXCEPTION vector 14 for vcpu.c, which asks
 * hvm_shadow_page_fault() what they mean. */
enum hvm_shadow_result { HVM_SHADOW_FIXED, HVM_SHADOW_REFLECT, HVM_SHADOW_MMIO };
void hvm_shadow_create(struct hv_vcpu *v);
bool hvm_shadow_mode_changed(struct hv_vcpu *v, const char **why);
uint64_t hvm_shadow_root(struct hv_vcpu *v, bool *tlb_flush);
enum hvm_shadow_result hvm_shadow_page_fault(struct hv_vcpu *v, uint64_t gva, uint32_t error,
                                             uint64_t *gpa, uint32_t *guest_error);
void hvm_shadow_invlpg(struct hv_vcpu *v, uint64_t gva, bool all);
void hvm_shadow_print(struct hv_vcpu *v);

/* hvm_insn.c: the few instructions the common handlers must decode */
struct hvm_insn {
    enum { HVM_MOV_TO_CR, HVM_MOV_FROM_CR, HVM_INVLPG, HVM_STORE, HVM_LOAD, HVM_STORE_IMM } op;
    unsigned len, size, reg, cr;   /* size in bytes; reg/cr numbers */
    uint64_t imm;
};
bool hvm_decode(struct hv_vcpu *v, struct hvm_insn *d, const char **why);
uint64_t *hvm_gpr(struct hv_vcpu *v, unsigned reg);

/* hvm_dev.c: the virtual PC */
bool hvm_io(struct hv_vcpu *v, unsigned port, unsigned size, bool is_write, uint32_t *val);
bool hvm_lapic_access(struct hv_vcpu *v, uint64_t off, bool is_write, uint32_t *val);
void hvm_timer_tick(struct hv_vcpu *v);
void hvm_deliver_events(struct hv_vcpu *v);
void hvm_hypercall(struct hv_vcpu *v);

#endif
