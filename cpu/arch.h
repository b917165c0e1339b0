/*
 * arch.h - architectural constants shared across the CPU: control-register
 * and EFER bits, MSR numbers, segment access-rights bits, paging bits.
 * Grouped and ordered as the manuals list them; each group cites its table.
 */
#ifndef NESTLAB_ARCH_H
#define NESTLAB_ARCH_H

/* CR0 (SDM Vol. 3 2.5, Figure 2-7) */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

/* CR4 (SDM Vol. 3 2.5, Figure 2-7) */
#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_VMXE       (1ull << 13)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)

/* IA32_EFER (SDM Vol. 4 Table 2-2, MSR C000_0080H) */
#define EFER_SCE   (1ull << 0)
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define EFER_NXE   (1ull << 11)
#define EFER_SVME  (1ull << 12)

/* MSR numbers (SDM Vol. 4 Table 2-2; APM Vol. 2 Appendix A) */
#define MSR_IA32_TSC            0x00000010
#define MSR_IA32_APIC_BASE      0x0000001b
#define MSR_IA32_FEATURE_CONTROL 0x0000003a
#define MSR_IA32_SYSENTER_CS    0x00000174
#define MSR_IA32_SYSENTER_ESP   0x00000175
#define MSR_IA32_SYSENTER_EIP   0x00000176
#define MSR_IA32_MISC_ENABLE    0x000001a0
#define MSR_IA32_PAT            0x00000277
#define MSR_X2APIC_FIRST        0x00000800
#define MSR_X2APIC_LAST         0x000008ff
#define MSR_IA32_EFER           0xc0000080
#define MSR_IA32_STAR           0xc0000081
#define MSR_IA32_LSTAR          0xc0000082
#define MSR_IA32_CSTAR          0xc0000083
#define MSR_IA32_FMASK          0xc0000084
#define MSR_IA32_FS_BASE        0xc0000100
#define MSR_IA32_GS_BASE        0xc0000101
#define MSR_IA32_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC_AUX        0xc0000103

/* Segment access rights as struct cpu_segment.attr keeps them: the VMCS
 * guest access-rights layout (SDM Vol. 3 Table 25-2), i.e. descriptor bits
 * 40-47 in bits 7:0 and descriptor bits 52-55 in bits 15:12.  An unusable
 * (null-loaded) segment has P = 0. */
#define SEG_ATTR_TYPE   0x000f
#define SEG_ATTR_S      (1u << 4)     /* code/data (1) or system (0) */
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3)
#define SEG_ATTR_P      (1u << 7)
#define SEG_ATTR_AVL    (1u << 12)
#define SEG_ATTR_L      (1u << 13)    /* 64-bit code segment */
#define SEG_ATTR_DB     (1u << 14)    /* default size / big */
#define SEG_ATTR_G      (1u << 15)

/* Page-table entry bits (SDM Vol. 3 Tables 4-19 .. 4-20) */
#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)

/* #PF error code (SDM Vol. 3 Figure 4-12) */
#define PFEC_P    (1u << 0)
#define PFEC_W    (1u << 1)
#define PFEC_U    (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I    (1u << 4)

#endif
