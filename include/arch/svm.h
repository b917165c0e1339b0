/*
 * include/arch/svm.h - AMD-V (SVM) architectural constants, written once and
 * shared by the emulated model (svm/), the CPU core's CPUID/MSR code, the
 * debugger views and nesthv.  It depends on nothing but <stdint.h> and
 * <stddef.h>, so freestanding and host code can both include it.
 *
 * Everything is from the AMD64 Architecture Programmer's Manual Vol. 2
 * ("APM"), chapter 15 "Secure Virtual Machine", Appendix B (the VMCB
 * layout) and Appendix C (the #VMEXIT codes), in the manual's order.
 *
 * One fact shapes the intercept constants: the five 32-bit intercept
 * vectors at VMCB offsets 000h..013h, read as one 160-bit string, have the
 * intercept for EXITCODE n at bit n for every n below 0A0h (CR reads 00h..,
 * CR writes 10h.., DR 20h..3Fh, exceptions 40h..5Fh, INTR 60h .., VMRUN
 * 80h ..).  SVM_ICPT_BIT(code) relies on it, as QEMU's intercept cache does.
 */
#ifndef NESTLAB_ARCH_SVM_H
#define NESTLAB_ARCH_SVM_H

#include <stddef.h>
#include <stdint.h>

/* ---- MSRs (APM 15.30 "SVM-Related MSRs") --------------------------------------------- */
#define MSR_AMD_VM_CR          0xc0010114u
#define MSR_AMD_IGNNE          0xc0010115u
#define MSR_AMD_SMM_CTL        0xc0010116u
#define MSR_AMD_VM_HSAVE_PA    0xc0010117u

/* VM_CR (APM 15.30.1) */
#define VM_CR_DPD      (1ull << 0)   /* debug port disable */
#define VM_CR_R_INIT   (1ull << 1)   /* INIT becomes #SX */
#define VM_CR_DIS_A20M (1ull << 2)
#define VM_CR_LOCK     (1ull << 3)   /* SVMDIS read-only */
#define VM_CR_SVMDIS   (1ull << 4)   /* EFER.SVME may not be set */

/* ---- CPUID (APM 15.4; APM Vol. 3 Appendix E.4.9 "Function 8000_000Ah") -------------- */
#define CPUID_80000001_ECX_SVM     (1u << 2)
#define CPUID_80000001_ECX_SKINIT  (1u << 12)
#define SVM_FEAT_NP           (1u << 0)    /* nested paging */
#define SVM_FEAT_LBRV         (1u << 1)    /* LBR virtualization */
#define SVM_FEAT_SVML         (1u << 2)    /* SVM lock */
#define SVM_FEAT_NRIPS        (1u << 3)    /* next RIP saved on #VMEXIT */
#define SVM_FEAT_TSCRATE      (1u << 4)    /* TSC ratio MSR */
#define SVM_FEAT_VMCBCLEAN    (1u << 5)    /* VMCB clean bits */
#define SVM_FEAT_FLUSHBYASID  (1u << 6)    /* TLB_CONTROL 3 and 7 */
#define SVM_FEAT_DECODEASSIST (1u << 7)    /* decode assists */
#define SVM_FEAT_PAUSEFILTER  (1u << 10)   /* PAUSE filter count */
#define SVM_FEAT_PFTHRESHOLD  (1u << 12)   /* PAUSE filter threshold */
#define SVM_FEAT_AVIC         (1u << 13)
#define SVM_FEAT_VMSAVEVIRT   (1u << 15)
#define SVM_FEAT_VGIF         (1u << 16)

/* ---- #VMEXIT codes (APM Appendix C, Table C-1), in the manual's order ----------------- */
#define SVM_EXIT_CODES(X)                                                       \
	X(0x000, CR0_READ)   X(0x001, CR1_READ)   X(0x002, CR2_READ)            \
	X(0x003, CR3_READ)   X(0x004, CR4_READ)   X(0x008, CR8_READ)            \
	X(0x010, CR0_WRITE)  X(0x011, CR1_WRITE)  X(0x012, CR2_WRITE)           \
	X(0x013, CR3_WRITE)  X(0x014, CR4_WRITE)  X(0x018, CR8_WRITE)           \
	X(0x020, DR0_READ)   X(0x027, DR7_READ)   X(0x030, DR0_WRITE)           \
	X(0x037, DR7_WRITE)                                                     \
	X(0x040, EXCP_DE)    X(0x041, EXCP_DB)    X(0x042, EXCP_NMI)            \
	X(0x043, EXCP_BP)    X(0x044, EXCP_OF)    X(0x045, EXCP_BR)             \
	X(0x046, EXCP_UD)    X(0x047, EXCP_NM)    X(0x048, EXCP_DF)             \
	X(0x04a, EXCP_TS)    X(0x04b, EXCP_NP)    X(0x04c, EXCP_SS)             \
	X(0x04d, EXCP_GP)    X(0x04e, EXCP_PF)    X(0x050, EXCP_MF)             \
	X(0x051, EXCP_AC)    X(0x052, EXCP_MC)    X(0x053, EXCP_XF)             \
	X(0x060, INTR)       X(0x061, NMI)        X(0x062, SMI)                 \
	X(0x063, INIT)       X(0x064, VINTR)      X(0x065, CR0_SEL_WRITE)       \
	X(0x066, IDTR_READ)  X(0x067, GDTR_READ)  X(0x068, LDTR_READ)           \
	X(0x069, TR_READ)    X(0x06a, IDTR_WRITE) X(0x06b, GDTR_WRITE)          \
	X(0x06c, LDTR_WRITE) X(0x06d, TR_WRITE)   X(0x06e, RDTSC)               \
	X(0x06f, RDPMC)      X(0x070, PUSHF)      X(0x071, POPF)                \
	X(0x072, CPUID)      X(0x073, RSM)        X(0x074, IRET)                \
	X(0x075, SWINT)      X(0x076, INVD)       X(0x077, PAUSE)               \
	X(0x078, HLT)        X(0x079, INVLPG)     X(0x07a, INVLPGA)             \
	X(0x07b, IOIO)       X(0x07c, MSR)        X(0x07d, TASK_SWITCH)         \
	X(0x07e, FERR_FREEZE) X(0x07f, SHUTDOWN)  X(0x080, VMRUN)               \
	X(0x081, VMMCALL)    X(0x082, VMLOAD)     X(0x083, VMSAVE)              \
	X(0x084, STGI)       X(0x085, CLGI)       X(0x086, SKINIT)              \
	X(0x087, RDTSCP)     X(0x088, ICEBP)      X(0x089, WBINVD)              \
	X(0x08a, MONITOR)    X(0x08b, MWAIT)      X(0x08c, MWAIT_CONDITIONAL)   \
	X(0x08d, XSETBV)     X(0x08e, RDPRU)      X(0x08f, EFER_WRITE_TRAP)     \
	X(0x400, NPF)

enum svm_exit_code {
#define X(code, name) SVM_EXIT_##name = code,
	SVM_EXIT_CODES(X)
#undef X
};
/* Ranges the table above lists by their first and last member only. */
#define SVM_EXIT_CR_READ(n)   (0x000 + (n))
#define SVM_EXIT_CR_WRITE(n)  (0x010 + (n))
#define SVM_EXIT_DR_READ(n)   (0x020 + (n))
#define SVM_EXIT_DR_WRITE(n)  (0x030 + (n))
#define SVM_EXIT_EXCP(v)      (0x040 + (v))
#define SVM_EXIT_INVALID      (~0ull)        /* VMRUN refused the VMCB (15.5.1) */
#define SVM_EXIT_BUSY         (~1ull)

/* ---- intercepts (APM Appendix B, Table B-1, offsets 000h..013h) ------------------------ */
#define SVM_ICPT_WORDS 5                     /* 160 bits, bit n = EXITCODE n */
#define SVM_ICPT_BIT(code) ((unsigned)(code))

/* ---- TLB_CONTROL (offset 05Ch, APM 15.16.1) ------------------------------------------- */
#define SVM_TLB_NOTHING          0
#define SVM_TLB_FLUSH_ALL        1
#define SVM_TLB_FLUSH_ASID       3
#define SVM_TLB_FLUSH_ASID_LOCAL 7

/* ---- VINTR (offset 060h, APM 15.21.1 "Virtual Interrupts") ----------------------------- */
#define SVM_VINTR_TPR_MASK     0xffull       /* V_TPR, bits 3:0 used */
#define SVM_VINTR_IRQ          (1ull << 8)   /* V_IRQ */
#define SVM_VINTR_VGIF         (1ull << 9)
#define SVM_VINTR_PRIO_SHIFT   16            /* V_INTR_PRIO, bits 19:16 */
#define SVM_VINTR_IGN_TPR      (1ull << 20)
#define SVM_VINTR_MASKING      (1ull << 24)  /* V_INTR_MASKING */
#define SVM_VINTR_VECTOR_SHIFT 32            /* V_INTR_VECTOR, bits 39:32 */

/* INTERRUPT_SHADOW (offset 068h, APM 15.21.5) */
#define SVM_INT_SHADOW         (1ull << 0)
#define SVM_GUEST_INT_MASK     (1ull << 1)   /* written on #VMEXIT: guest RFLAGS.IF */

/* NP_ENABLE (offset 090h, APM 15.25.3) */
#define SVM_NP_ENABLE          (1ull << 0)

/* ---- EVENTINJ and EXITINTINFO (APM 15.20, Figure 15-5) --------------------------------- */
#define SVM_EVT_VECTOR_MASK    0xffull
#define SVM_EVT_TYPE_SHIFT     8
#define SVM_EVT_TYPE_MASK      (7ull << 8)
#define SVM_EVT_TYPE_INTR      0           /* external or virtual interrupt */
#define SVM_EVT_TYPE_NMI       2
#define SVM_EVT_TYPE_EXCP      3           /* exception (fault or trap) */
#define SVM_EVT_TYPE_SOFT      4           /* software interrupt (INTn) */
#define SVM_EVT_EV             (1ull << 11)  /* error code valid */
#define SVM_EVT_V              (1ull << 31)  /* valid */
#define SVM_EVT_ERR_SHIFT      32

/* ---- EXITINFO1 for IOIO (APM 15.10.2, Figure 15-2) ------------------------------------- */
#define SVM_IOIO_TYPE_IN       (1ull << 0)
#define SVM_IOIO_STR           (1ull << 2)
#define SVM_IOIO_REP           (1ull << 3)
#define SVM_IOIO_SZ8           (1ull << 4)
#define SVM_IOIO_SZ16          (1ull << 5)
#define SVM_IOIO_SZ32          (1ull << 6)
#define SVM_IOIO_A16           (1ull << 7)
#define SVM_IOIO_A32           (1ull << 8)
#define SVM_IOIO_A64           (1ull << 9)
#define SVM_IOIO_SEG_SHIFT     10            /* effective segment (decode assists) */
#define SVM_IOIO_PORT_SHIFT    16

/* ---- EXITINFO1 for NPF (APM 15.25.6 "Nested versus Guest Page Faults") -------------- */
#define SVM_NPF_P              (1ull << 0)   /* the nested entry was present */
#define SVM_NPF_RW             (1ull << 1)   /* a write */
#define SVM_NPF_US             (1ull << 2)   /* a user access (always 1: 15.25.5) */
#define SVM_NPF_RSV            (1ull << 3)   /* a reserved bit was set */
#define SVM_NPF_ID             (1ull << 4)   /* an instruction fetch */
#define SVM_NPF_FINAL          (1ull << 32)  /* at the final guest-physical address */
#define SVM_NPF_GPT            (1ull << 33)  /* at a guest page-table access */

/* EXITINFO1 bit 63 with decode assists for MOV CRn (APM 15.33.1) */
#define SVM_CR_MOV             (1ull << 63)

/* ---- the VMCB (APM Appendix B) --------------------------------------------------------- */
/* One segment in the state-save area (Table B-2).  attrib packs descriptor
 * bits 47:40 in 7:0 and 55:52 in 11:8 (G, D/B, L, AVL). */
struct svm_vmcb_seg {
	uint16_t sel;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};
_Static_assert(sizeof(struct svm_vmcb_seg) == 16, "VMCB segment is 16 bytes");

struct svm_vmcb {
	/* Control area (Table B-1) */
	uint32_t icpt[SVM_ICPT_WORDS];  /* 000h CR, 004h DR, 008h exceptions, 00Ch, 010h */
	uint32_t icpt5;                 /* 014h  INVLPGB, INVPCID, ... (not modelled) */
	uint8_t  rsvd1[0x03c - 0x018];
	uint16_t pause_filter_thresh;   /* 03Ch */
	uint16_t pause_filter_count;    /* 03Eh */
	uint64_t iopm_base_pa;          /* 040h  12 KiB I/O permission map */
	uint64_t msrpm_base_pa;         /* 048h  8 KiB MSR permission map */
	uint64_t tsc_offset;            /* 050h */
	uint32_t guest_asid;            /* 058h */
	uint8_t  tlb_control;           /* 05Ch */
	uint8_t  rsvd2[3];
	uint64_t vintr;                 /* 060h  V_TPR V_IRQ V_INTR_PRIO V_IGN_TPR V_INTR_MASKING */
	uint64_t interrupt_shadow;      /* 068h */
	uint64_t exitcode;              /* 070h */
	uint64_t exitinfo1;             /* 078h */
	uint64_t exitinfo2;             /* 080h */
	uint64_t exitintinfo;           /* 088h */
	uint64_t np_enable;             /* 090h */
	uint64_t avic_apic_bar;         /* 098h */
	uint64_t ghcb_pa;               /* 0A0h */
	uint64_t eventinj;              /* 0A8h */
	uint64_t n_cr3;                 /* 0B0h  nested page table root */
	uint64_t lbr_virt;              /* 0B8h */
	uint32_t vmcb_clean;            /* 0C0h */
	uint32_t rsvd3;
	uint64_t next_rip;              /* 0C8h  (NRIPS) */
	uint8_t  insn_len;              /* 0D0h  bytes fetched (decode assists) */
	uint8_t  insn_bytes[15];        /* 0D1h */
	uint8_t  rsvd4[0x400 - 0x0e0];
	/* State-save area (Table B-2) */
	struct svm_vmcb_seg es, cs, ss, ds, fs, gs;     /* 400h .. 450h */
	struct svm_vmcb_seg gdtr, ldtr, idtr, tr;       /* 460h .. 490h */
	uint8_t  rsvd5[0x4cb - 0x4a0];
	uint8_t  cpl;                   /* 4CBh */
	uint32_t rsvd6;
	uint64_t efer;                  /* 4D0h */
	uint8_t  rsvd7[0x548 - 0x4d8];
	uint64_t cr4;                   /* 548h */
	uint64_t cr3;                   /* 550h */
	uint64_t cr0;                   /* 558h */
	uint64_t dr7;                   /* 560h */
	uint64_t dr6;                   /* 568h */
	uint64_t rflags;                /* 570h */
	uint64_t rip;                   /* 578h */
	uint8_t  rsvd8[0x5d8 - 0x580];
	uint64_t rsp;                   /* 5D8h */
	uint8_t  rsvd9[0x5f8 - 0x5e0];
	uint64_t rax;                   /* 5F8h */
	uint64_t star;                  /* 600h */
	uint64_t lstar;                 /* 608h */
	uint64_t cstar;                 /* 610h */
	uint64_t sfmask;                /* 618h */
	uint64_t kernel_gs_base;        /* 620h */
	uint64_t sysenter_cs;           /* 628h */
	uint64_t sysenter_esp;          /* 630h */
	uint64_t sysenter_eip;          /* 638h */
	uint64_t cr2;                   /* 640h */
	uint8_t  rsvd10[0x668 - 0x648];
	uint64_t g_pat;                 /* 668h */
	uint64_t dbgctl;                /* 670h */
	uint64_t br_from, br_to;        /* 678h, 680h */
	uint64_t lastexcp_from, lastexcp_to;   /* 688h, 690h */
	uint8_t  rsvd11[0x1000 - 0x698];
};
_Static_assert(offsetof(struct svm_vmcb, pause_filter_thresh) == 0x03c, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, iopm_base_pa) == 0x040, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, guest_asid) == 0x058, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, tlb_control) == 0x05c, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, vintr) == 0x060, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, exitcode) == 0x070, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, np_enable) == 0x090, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, eventinj) == 0x0a8, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, n_cr3) == 0x0b0, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, vmcb_clean) == 0x0c0, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, next_rip) == 0x0c8, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, insn_bytes) == 0x0d1, "Table B-1");
_Static_assert(offsetof(struct svm_vmcb, es) == 0x400, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, gdtr) == 0x460, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, tr) == 0x490, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, cpl) == 0x4cb, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, efer) == 0x4d0, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, cr4) == 0x548, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, rip) == 0x578, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, rsp) == 0x5d8, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, rax) == 0x5f8, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, kernel_gs_base) == 0x620, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, cr2) == 0x640, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, g_pat) == 0x668, "Table B-2");
_Static_assert(offsetof(struct svm_vmcb, lastexcp_to) == 0x690, "Table B-2");
_Static_assert(sizeof(struct svm_vmcb) == 4096, "the VMCB is one 4 KiB page");

/* Sizes of the permission maps (APM 15.10.1, 15.11). */
#define SVM_IOPM_SIZE  (3 * 4096)
#define SVM_MSRPM_SIZE (2 * 4096)

#endif
