/* vmx_defs.h - VT-x constants in the manual's order.
 *
 * From the Intel SDM Vol. 3C (chapters 25-30) and Vol. 3D Appendixes A-C.
 * Every list is an X-macro, so the same line gives the C name, the number
 * and the printable name (vmx.c prints fields, exit reasons and errors by
 * name: a student reads "GUEST_CR0", not "0x6800").
 */
#ifndef VMX_DEFS_H
#define VMX_DEFS_H

#include "hv.h"

/* VMX capability MSRs (SDM Vol. 3D Appendix A; Vol. 4 table 2-2). */
#define MSR_IA32_FEATURE_CONTROL    0x03a   /* bit 0 lock, bit 2 VMXON outside SMX */
#define MSR_IA32_VMX_BASIC          0x480   /* A.1: revision 30:0, bit 55 TRUE_* MSRs */
#define MSR_IA32_VMX_PINBASED_CTLS  0x481   /* A.3.1 */
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482   /* A.3.2 */
#define MSR_IA32_VMX_EXIT_CTLS      0x483   /* A.4 */
#define MSR_IA32_VMX_ENTRY_CTLS     0x484   /* A.5 */
#define MSR_IA32_VMX_MISC           0x485   /* A.6 */
#define MSR_IA32_VMX_CR0_FIXED0     0x486   /* A.7: bits that must be 1 */
#define MSR_IA32_VMX_CR0_FIXED1     0x487   /*      bits that may be 1 */
#define MSR_IA32_VMX_CR4_FIXED0     0x488   /* A.8 */
#define MSR_IA32_VMX_CR4_FIXED1     0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b  /* A.3.3 */
#define MSR_IA32_VMX_EPT_VPID_CAP   0x48c   /* A.10 */
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490
#define FEATURE_CONTROL_LOCK        (1ULL << 0)
#define FEATURE_CONTROL_VMXON       (1ULL << 2)
#define VMX_BASIC_TRUE_CTLS         (1ULL << 55)
#define EPT_CAP_WALK4               (1ULL << 6)
#define EPT_CAP_WB                  (1ULL << 14)

/* VMX controls (SDM 3C 25.6, 25.7, 25.8), the bits nesthv sets. */
#define PIN_EXTINT_EXITING     (1u << 0)
#define PIN_NMI_EXITING        (1u << 3)
#define PROC_INTR_WINDOW       (1u << 2)
#define PROC_HLT_EXITING       (1u << 7)
#define PROC_INVLPG_EXITING    (1u << 9)
#define PROC_CR3_LOAD_EXITING  (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_USE_IO_BITMAPS    (1u << 25)
#define PROC_USE_MSR_BITMAPS   (1u << 28)
#define PROC_SECONDARY         (1u << 31)
#define PROC2_ENABLE_EPT       (1u << 1)
#define PROC2_ENABLE_VPID      (1u << 5)
#define PROC2_UNRESTRICTED     (1u << 7)
#define EXIT_HOST_64BIT        (1u << 9)
#define EXIT_SAVE_EFER         (1u << 20)
#define EXIT_LOAD_EFER         (1u << 21)
#define ENTRY_IA32E_GUEST      (1u << 9)
#define ENTRY_LOAD_EFER        (1u << 15)

/* Interruption information (25.8.3 entry, 28.2.2 exit, IDT-vectoring). */
#define INTR_TYPE_EXT          (0u << 8)
#define INTR_TYPE_HW_EXC       (3u << 8)
#define INTR_ERR_VALID         (1u << 11)
#define INTR_VALID             (1u << 31)

/* VMCS field encodings (Appendix B), in its order: 16-bit, 64-bit,
 * 32-bit, natural width; within each, control, read-only, guest, host. */
#define VMCS_FIELDS(X)                                                        \
    X(VPID, 0x0000)                                                          \
    X(GUEST_ES_SEL, 0x0800) X(GUEST_CS_SEL, 0x0802) X(GUEST_SS_SEL, 0x0804)   \
    X(GUEST_DS_SEL, 0x0806) X(GUEST_FS_SEL, 0x0808) X(GUEST_GS_SEL, 0x080a)   \
    X(GUEST_LDTR_SEL, 0x080c) X(GUEST_TR_SEL, 0x080e)                         \
    X(HOST_ES_SEL, 0x0c00) X(HOST_CS_SEL, 0x0c02) X(HOST_SS_SEL, 0x0c04)      \
    X(HOST_DS_SEL, 0x0c06) X(HOST_FS_SEL, 0x0c08) X(HOST_GS_SEL, 0x0c0a)      \
    X(HOST_TR_SEL, 0x0c0c)                                                    \
    X(IO_BITMAP_A, 0x2000) X(IO_BITMAP_B, 0x2002) X(MSR_BITMAP, 0x2004)       \
    X(EPT_POINTER, 0x201a)                                                    \
    X(GUEST_PHYSICAL_ADDRESS, 0x2400)                                         \
    X(VMCS_LINK_POINTER, 0x2800) X(GUEST_IA32_DEBUGCTL, 0x2802)               \
    X(GUEST_IA32_EFER, 0x2806)                                                \
    X(HOST_IA32_EFER, 0x2c02)                                                 \
    X(PIN_BASED_CONTROLS, 0x4000) X(PROC_BASED_CONTROLS, 0x4002)              \
    X(EXCEPTION_BITMAP, 0x4004) X(PF_ERROR_MASK, 0x4006)                      \
    X(PF_ERROR_MATCH, 0x4008) X(CR3_TARGET_COUNT, 0x400a)                     \
    X(EXIT_CONTROLS, 0x400c) X(EXIT_MSR_STORE_COUNT, 0x400e)                  \
    X(EXIT_MSR_LOAD_COUNT, 0x4010) X(ENTRY_CONTROLS, 0x4012)                  \
    X(ENTRY_MSR_LOAD_COUNT, 0x4014) X(ENTRY_INTR_INFO, 0x4016)                \
    X(ENTRY_EXCEPTION_ERROR, 0x4018) X(ENTRY_INSN_LEN, 0x401a)                \
    X(PROC_BASED_CONTROLS2, 0x401e)                                           \
    X(VM_INSTRUCTION_ERROR, 0x4400) X(EXIT_REASON, 0x4402)                    \
    X(EXIT_INTR_INFO, 0x4404) X(EXIT_INTR_ERROR, 0x4406)                      \
    X(IDT_VECTORING_INFO, 0x4408) X(IDT_VECTORING_ERROR, 0x440a)              \
    X(EXIT_INSN_LEN, 0x440c)                                                  \
    X(GUEST_ES_LIMIT, 0x4800) X(GUEST_CS_LIMIT, 0x4802)                       \
    X(GUEST_SS_LIMIT, 0x4804) X(GUEST_DS_LIMIT, 0x4806)                       \
    X(GUEST_FS_LIMIT, 0x4808) X(GUEST_GS_LIMIT, 0x480a)                       \
    X(GUEST_LDTR_LIMIT, 0x480c) X(GUEST_TR_LIMIT, 0x480e)                     \
    X(GUEST_GDTR_LIMIT, 0x4810) X(GUEST_IDTR_LIMIT, 0x4812)                   \
    X(GUEST_ES_AR, 0x4814) X(GUEST_CS_AR, 0x4816) X(GUEST_SS_AR, 0x4818)      \
    X(GUEST_DS_AR, 0x481a) X(GUEST_FS_AR, 0x481c) X(GUEST_GS_AR, 0x481e)      \
    X(GUEST_LDTR_AR, 0x4820) X(GUEST_TR_AR, 0x4822)                           \
    X(GUEST_INTERRUPTIBILITY, 0x4824) X(GUEST_ACTIVITY_STATE, 0x4826)         \
    X(GUEST_SYSENTER_CS, 0x482a)                                              \
    X(HOST_SYSENTER_CS, 0x4c00)                                               \
    X(CR0_GUEST_HOST_MASK, 0x6000) X(CR4_GUEST_HOST_MASK, 0x6002)             \
    X(CR0_READ_SHADOW, 0x6004) X(CR4_READ_SHADOW, 0x6006)                     \
    X(EXIT_QUALIFICATION, 0x6400)                                             \
    X(GUEST_CR0, 0x6800) X(GUEST_CR3, 0x6802) X(GUEST_CR4, 0x6804)            \
    X(GUEST_ES_BASE, 0x6806) X(GUEST_CS_BASE, 0x6808)                         \
    X(GUEST_SS_BASE, 0x680a) X(GUEST_DS_BASE, 0x680c)                         \
    X(GUEST_FS_BASE, 0x680e) X(GUEST_GS_BASE, 0x6810)                         \
    X(GUEST_LDTR_BASE, 0x6812) X(GUEST_TR_BASE, 0x6814)                       \
    X(GUEST_GDTR_BASE, 0x6816) X(GUEST_IDTR_BASE, 0x6818)                     \
    X(GUEST_DR7, 0x681a) X(GUEST_RSP, 0x681c) X(GUEST_RIP, 0x681e)            \
    X(GUEST_RFLAGS, 0x6820) X(GUEST_PENDING_DBG, 0x6822)                      \
    X(GUEST_SYSENTER_ESP, 0x6824) X(GUEST_SYSENTER_EIP, 0x6826)               \
    X(HOST_CR0, 0x6c00) X(HOST_CR3, 0x6c02) X(HOST_CR4, 0x6c04)               \
    X(HOST_FS_BASE, 0x6c06) X(HOST_GS_BASE, 0x6c08) X(HOST_TR_BASE, 0x6c0a)   \
    X(HOST_GDTR_BASE, 0x6c0c) X(HOST_IDTR_BASE, 0x6c0e)                       \
    X(HOST_SYSENTER_ESP, 0x6c10) X(HOST_SYSENTER_EIP, 0x6c12)                 \
    X(HOST_RSP, 0x6c14) X(HOST_RIP, 0x6c16)

enum vmcs_field {
#define X(name, enc) name = enc,
    VMCS_FIELDS(X)
#undef X
};

/* Basic exit reasons (Appendix C). */
#define VMX_EXIT_REASONS(X)                                                   \
    X(0, EXCEPTION_NMI) X(1, EXTERNAL_INTERRUPT) X(2, TRIPLE_FAULT)           \
    X(3, INIT) X(4, SIPI) X(7, INTERRUPT_WINDOW) X(8, NMI_WINDOW)             \
    X(9, TASK_SWITCH) X(10, CPUID) X(12, HLT) X(13, INVD) X(14, INVLPG)       \
    X(15, RDPMC) X(16, RDTSC) X(18, VMCALL) X(19, VMCLEAR) X(20, VMLAUNCH)    \
    X(21, VMPTRLD) X(22, VMPTRST) X(23, VMREAD) X(24, VMRESUME)               \
    X(25, VMWRITE) X(26, VMXOFF) X(27, VMXON) X(28, CR_ACCESS)                \
    X(29, DR_ACCESS) X(30, IO_INSTRUCTION) X(31, RDMSR) X(32, WRMSR)          \
    X(33, ENTRY_FAIL_GUEST_STATE) X(34, ENTRY_FAIL_MSR_LOADING)               \
    X(36, MWAIT) X(37, MONITOR_TRAP_FLAG) X(39, MONITOR) X(40, PAUSE)         \
    X(41, ENTRY_FAIL_MACHINE_CHECK) X(43, TPR_BELOW_THRESHOLD)                \
    X(44, APIC_ACCESS) X(46, GDTR_IDTR_ACCESS) X(47, LDTR_TR_ACCESS)          \
    X(48, EPT_VIOLATION) X(49, EPT_MISCONFIG) X(50, INVEPT) X(51, RDTSCP)     \
    X(52, PREEMPTION_TIMER) X(53, INVVPID) X(54, WBINVD) X(55, XSETBV)

enum vmx_exit_reason {
#define X(n, name) VMX_EXIT_##name = n,
    VMX_EXIT_REASONS(X)
#undef X
    VMX_NR_EXIT_REASONS = 65
};
#define VMX_EXIT_REASON_ENTRY_FAIL (1u << 31)

/* VM-instruction error numbers (SDM 3C 31.4, table 31-1). */
#define VMX_INSN_ERRORS(X)                                                    \
    X(1, "VMCALL executed in VMX root operation")                            \
    X(2, "VMCLEAR with invalid physical address")                            \
    X(3, "VMCLEAR with VMXON pointer")                                       \
    X(4, "VMLAUNCH with non-clear VMCS")                                     \
    X(5, "VMRESUME with non-launched VMCS")                                  \
    X(6, "VMRESUME after VMXOFF")                                            \
    X(7, "VM entry with invalid control field(s)")                           \
    X(8, "VM entry with invalid host-state field(s)")                        \
    X(9, "VMPTRLD with invalid physical address")                            \
    X(10, "VMPTRLD with VMXON pointer")                                      \
    X(11, "VMPTRLD with incorrect VMCS revision identifier")                 \
    X(12, "VMREAD/VMWRITE from/to unsupported VMCS component")               \
    X(13, "VMWRITE to read-only VMCS component")                             \
    X(15, "VMXON executed in VMX root operation")                            \
    X(26, "VM entry with events blocked by MOV SS")                          \
    X(28, "Invalid operand to INVEPT/INVVPID")

#endif
