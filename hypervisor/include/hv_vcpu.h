/* hv_vcpu.h - the common vCPU, exit kinds and the backend interface.
 *
 * Every backend runs a guest until something needs the hypervisor and then
 * describes that "something" as one struct hv_exit.  The loop in vcpu.c is
 * the same for all of them:
 *
 *     for (;;) {
 *         backend->run(vcpu, &exit);     // pv.c, vmx.c, svm.c
 *         hv_handle_exit(vcpu, &exit);   // one handler per exit kind
 *     }
 *
 * What each backend translates into these kinds:
 *   PV:  hypercall (INT 0x82), traps from ring 3 (exceptions, INT 0x80),
 *        interrupts taken while the guest ran, and the #GP a privileged
 *        instruction raises in ring 3, decoded into HLT / IO / MSR / CR /
 *        PRIV.
 *   VMX: the basic exit reason (SDM Vol. 3D, Appendix C) - e.g. 10 CPUID,
 *        12 HLT, 30 I/O, 31/32 MSR, 28 CR access, 48 EPT violation, 18 VMCALL.
 *   SVM: the EXITCODE (APM Vol. 2, Appendix C) - e.g. 0x72 CPUID, 0x78 HLT,
 *        0x7b IOIO, 0x7c MSR, 0x400 NPF, 0x81 VMMCALL.
 */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include "hv_cpu.h"
#include "hv_mm.h"

enum hv_exit_kind {
    HV_EXIT_HYPERCALL,     /* guest asked for a service (pv/include/nestpv.h) */
    HV_EXIT_EXCEPTION,     /* fault/trap in the guest: vector, error, cr2 */
    HV_EXIT_SOFTINT,       /* INT n the guest's kernel should see (system call) */
    HV_EXIT_INTERRUPT,     /* a physical interrupt arrived while the guest ran */
    HV_EXIT_CPUID,
    HV_EXIT_HLT,
    HV_EXIT_IO,            /* port, size, is_write */
    HV_EXIT_MSR,           /* msr, is_write */
    HV_EXIT_CR,            /* cr, is_write */
    HV_EXIT_PRIV,          /* another privileged instruction: insn names it */
    HV_EXIT_NPF,           /* nested page fault / MMIO (VMX, SVM) */
    HV_EXIT_INTR_WINDOW,   /* the guest can take an interrupt now (VMX, SVM) */
    HV_EXIT_SHUTDOWN,      /* triple fault in the guest (VMX, SVM) */
    HV_EXIT_ENTRY_FAIL,    /* VM entry refused; the backend printed why */
    HV_EXIT_INVLPG,        /* shadow paging: linear (if linear_valid) */
    HV_EXIT_NESTED,        /* emulated SVM instruction / exit reflected to L1:
                              the backend did it all */
    HV_EXIT_NR_KINDS
};

struct hv_exit {
    enum hv_exit_kind kind;
    unsigned vector;       /* EXCEPTION, SOFTINT, INTERRUPT */
    uint64_t error;        /* EXCEPTION error code */
    bool has_error;
    uint64_t cr2;          /* #PF linear address */
    unsigned port, size;   /* IO */
    uint32_t msr;          /* MSR */
    unsigned cr;           /* CR */
    bool is_write;
    const char *insn;      /* privileged instruction name, for the log */
    unsigned insn_len;
    uint64_t gpa;          /* NPF: guest-physical address */
    int gpr;               /* CR: the general register (0..15), -1 = decode it */
    bool is_string;        /* IO: INS/OUTS (not emulated) */
    const char *reason;    /* the architecture's name for the exit, for the log */
    uint64_t linear;       /* INVLPG: the address, when the CPU names it */
    bool linear_valid;
};

enum hv_vcpu_state { HV_VCPU_RUNNING, HV_VCPU_SHUTDOWN, HV_VCPU_CRASHED };

struct hv_vcpu;

struct hv_backend {
    const char *name;
    bool (*cpu_has)(const char *cmdline);        /* CPUID says the hardware can
                                                    (with the options asked for) */
    bool built;                                  /* this nesthv has the code */
    void (*create)(struct hv_vcpu *v, const struct hv_module *guest);
    void (*run)(struct hv_vcpu *v, struct hv_exit *e);
    void (*inject)(struct hv_vcpu *v, unsigned vector, bool has_error, uint64_t error);
    void (*deliver_events)(struct hv_vcpu *v);   /* pending virtual interrupts */
    void (*hypercall)(struct hv_vcpu *v);
    /* VMX/SVM only (hvm.c calls them; PV leaves them NULL): */
    bool (*irq_window_open)(struct hv_vcpu *v);  /* RFLAGS.IF and no STI/MOV SS shadow */
    void (*inject_irq)(struct hv_vcpu *v, unsigned vector);
    void (*request_irq_window)(struct hv_vcpu *v, bool on);
    void (*print_exit_reasons)(struct hv_vcpu *v);  /* at shutdown: by VMX reason / SVM code */
};

struct pv_domain;
struct hvm_guest;

struct hv_vcpu {
    const struct hv_backend *backend;
    struct hv_regs *regs;        /* the guest's registers */
    enum hv_vcpu_state state;
    int exit_status;             /* the guest's shutdown status */
    bool trace;                  /* "hvtrace" on the command line: log every exit */
    const char *cmdline;         /* nesthv's command line (test hooks "hvtest=...") */
    const struct hv_module *more_mods; /* modules after the guest's image: the */
    unsigned nr_more_mods;       /* guest's own (HVM: nesthv loads them for it) */
    uint64_t exits[HV_EXIT_NR_KINDS];
    struct pv_domain *pv;        /* PV backend state */
    struct hvm_guest *hvm;       /* VMX/SVM: guest memory, control state, devices */
};

/* vcpu.c */
void hv_vcpu_loop(struct hv_vcpu *v) __attribute__((noreturn));
void hv_guest_crash(struct hv_vcpu *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *hv_exit_name(enum hv_exit_kind k);

/* main.c: choosing the backend */
const struct hv_backend *hv_choose_backend(const char *cmdline);
bool hv_cmdline_has(const char *cmdline, const char *word);
/* A one-line note for each word of the command line nesthv does not use
 * with this backend (options.c). */
void hv_options_check(const char *cmdline, const char *backend);
bool hv_cpu_has_vmx(void);
bool hv_cpu_has_svm(void);
extern const struct hv_backend hv_backend_pv, hv_backend_vmx, hv_backend_svm;

#endif
