/* svm_defs.h - AMD-V constants in the manual's order.
 *
 * Everything here is from the AMD64 Architecture Programmer's Manual,
 * Volume 2 (System Programming), chapter 15 "Secure Virtual Machine" and
 * appendixes B (VMCB layout) and C (exit codes).  svm.c uses these names
 * and nothing else, so a reader can lay the APM beside it.
 */
#ifndef SVM_DEFS_H
#define SVM_DEFS_H

#include "hv.h"

/* MSRs (APM Vol. 2 15.30 "SVM-Related MSRs"). */
#define MSR_VM_CR       0xc0010114u   /* bit 4 SVMDIS: firmware switched SVM off */
#define MSR_VM_HSAVE_PA 0xc0010117u   /* host state save area, 4 KiB aligned */
#define VM_CR_SVMDIS    (1ULL << 4)
#define EFER_SVME       (1ULL << 12)  /* EFER bit 12 (15.4 "Enabling SVM") */

/* CPUID Fn8000_000A (15.4, Appendix E of Vol. 3): SVM revision and features. */
#define SVM_FEAT_NP       (1u << 0)   /* nested paging */
#define SVM_FEAT_NRIPS    (1u << 3)   /* next RIP saved on #VMEXIT */
#define SVM_FEAT_DECODE   (1u << 7)   /* decode assists (EXITINFO1 names the GPR) */

/* One segment in the state-save area (table B-2): the hidden part of a
 * segment register.  attrib packs descriptor bits 47:40 and 55:52:
 *
 *   11 10  9  8   7  6 5  4  3    0
 *  +--+--+--+---+---+----+--+------+
 *  |G |DB|L |AVL| P | DPL|S | type |
 *  +--+--+--+---+---+----+--+------+
 */
struct vmcb_seg {
    uint16_t sel, attrib;
    uint32_t limit;
    uint64_t base;
};
#define SVM_ATTR_L (1u << 9)

/* The VMCB (Appendix B): a 4 KiB page, control area then state-save area. */
struct vmcb {
    /* Control area, table B-1 */
    uint32_t intercept_cr;        /* 000h  bits 15:0 CRn reads, 31:16 CRn writes */
    uint32_t intercept_dr;        /* 004h */
    uint32_t intercept_exc;       /* 008h  bit n: exception vector n */
    uint32_t intercept_misc1;     /* 00Ch  bit n: exit code 60h + n (INTR .. SHUTDOWN) */
    uint32_t intercept_misc2;     /* 010h  bit n: exit code 80h + n (VMRUN ..) */
    uint8_t  rsvd1[0x03c - 0x014];
    uint16_t pause_filter_thresh; /* 03Ch */
    uint16_t pause_filter_count;  /* 03Eh */
    uint64_t iopm_base_pa;        /* 040h  12 KiB I/O permission map */
    uint64_t msrpm_base_pa;       /* 048h  8 KiB MSR permission map */
    uint64_t tsc_offset;          /* 050h */
    uint32_t guest_asid;          /* 058h */
    uint8_t  tlb_control;         /* 05Ch */
    uint8_t  rsvd2[3];
    uint64_t vintr;               /* 060h  V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING */
    uint64_t interrupt_shadow;    /* 068h  bit 0: guest is in an STI/MOV SS shadow */
    uint64_t exitcode;            /* 070h */
    uint64_t exitinfo1;           /* 078h */
    uint64_t exitinfo2;           /* 080h */
    uint64_t exitintinfo;         /* 088h  event being delivered at #VMEXIT */
    uint64_t np_enable;           /* 090h  bit 0: nested paging */
    uint8_t  rsvd3[0x0a8 - 0x098];
    uint64_t eventinj;            /* 0A8h  event to inject at VMRUN */
    uint64_t n_cr3;               /* 0B0h  nested page table root */
    uint64_t lbr_virt;            /* 0B8h */
    uint32_t vmcb_clean;          /* 0C0h  0: the CPU reloads everything */
    uint32_t rsvd4;
    uint64_t next_rip;            /* 0C8h  (NRIPS) */
    uint8_t  insn_len;            /* 0D0h  (decode assists) */
    uint8_t  insn_bytes[15];
    uint8_t  rsvd5[0x400 - 0x0e0];
    /* State-save area, table B-2 */
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;   /* 400h..49Fh */
    uint8_t  rsvd6[0x4cb - 0x4a0];
    uint8_t  cpl;                 /* 4CBh */
    uint32_t rsvd7;
    uint64_t efer;                /* 4D0h */
    uint8_t  rsvd8[0x548 - 0x4d8];
    uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;                  /* 548h..578h */
    uint8_t  rsvd9[0x5d8 - 0x580];
    uint64_t rsp;                 /* 5D8h */
    uint8_t  rsvd10[0x5f8 - 0x5e0];
    uint64_t rax;                 /* 5F8h */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;            /* 600h..620h */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip, cr2;          /* 628h..640h */
    uint8_t  rsvd11[0x668 - 0x648];
    uint64_t g_pat;               /* 668h */
    uint8_t  rsvd12[0x1000 - 0x670];
};
_Static_assert(offsetof(struct vmcb, exitcode) == 0x070, "VMCB control area");
_Static_assert(offsetof(struct vmcb, eventinj) == 0x0a8, "VMCB control area");
_Static_assert(offsetof(struct vmcb, next_rip) == 0x0c8, "VMCB control area");
_Static_assert(offsetof(struct vmcb, es) == 0x400, "VMCB state-save area");
_Static_assert(offsetof(struct vmcb, efer) == 0x4d0, "VMCB state-save area");
_Static_assert(offsetof(struct vmcb, cr4) == 0x548, "VMCB state-save area");
_Static_assert(offsetof(struct vmcb, rax) == 0x5f8, "VMCB state-save area");
_Static_assert(offsetof(struct vmcb, g_pat) == 0x668, "VMCB state-save area");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

/* VINTR field (offset 060h, 15.21.1 "Virtual interrupts"). */
#define VINTR_V_IRQ          (1ULL << 8)
#define VINTR_PRIO_SHIFT     16
#define VINTR_V_IGN_TPR      (1ULL << 20)
#define VINTR_MASKING        (1ULL << 24)

/* EVENTINJ and EXITINTINFO (15.20 "Event Injection"). */
#define EVENT_TYPE_INTR      (0u << 8)
#define EVENT_TYPE_EXC       (3u << 8)
#define EVENT_ERR_VALID      (1u << 11)
#define EVENT_VALID          (1u << 31)

/* EXITINFO1 for IOIO (15.10.2, figure 15-2). */
#define IOIO_TYPE_IN         (1u << 0)
#define IOIO_STR             (1u << 2)
#define IOIO_SIZE_SHIFT      4           /* bits 6:4 = SZ32 SZ16 SZ8 */
#define IOIO_PORT_SHIFT      16

/* #VMEXIT codes (Appendix C, table C-1), in the manual's order. */
#define SVM_EXIT_CODES(X)                                                     \
    X(0x000, CR0_READ) X(0x003, CR3_READ) X(0x004, CR4_READ)                  \
    X(0x010, CR0_WRITE) X(0x013, CR3_WRITE) X(0x014, CR4_WRITE)               \
    X(0x040, EXCP_DE) X(0x046, EXCP_UD) X(0x04d, EXCP_GP) X(0x04e, EXCP_PF)   \
    X(0x060, INTR) X(0x061, NMI) X(0x062, SMI) X(0x063, INIT)                 \
    X(0x064, VINTR) X(0x065, CR0_SEL_WRITE) X(0x06e, RDTSC) X(0x072, CPUID)   \
    X(0x074, IRET) X(0x075, SWINT) X(0x077, PAUSE) X(0x078, HLT)              \
    X(0x079, INVLPG) X(0x07a, INVLPGA) X(0x07b, IOIO) X(0x07c, MSR) X(0x07d, TASK_SWITCH)       \
    X(0x07f, SHUTDOWN) X(0x080, VMRUN) X(0x081, VMMCALL) X(0x082, VMLOAD)     \
    X(0x083, VMSAVE) X(0x084, STGI) X(0x085, CLGI) X(0x086, SKINIT)          \
    X(0x089, WBINVD)           \
    X(0x08d, XSETBV) X(0x400, NPF)
#define SVM_EXIT_INVALID     (~0ULL)     /* VMRUN refused the VMCB (15.5.1) */

enum svm_exit_code {
#define X(code, name) SVM_EXIT_##name = code,
    SVM_EXIT_CODES(X)
#undef X
};

/* Intercept bits in intercept_misc1 / misc2 are exit code - 60h / - 80h. */
#define SVM_MISC1(code)      (1u << ((code) - 0x60))
#define SVM_MISC2(code)      (1u << ((code) - 0x80))

#endif
