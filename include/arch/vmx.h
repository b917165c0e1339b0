/*
 * include/arch/vmx.h - Intel VT-x architectural constants, written once
 * for everyone: the emulated model (vmx/), the CPU core, nesthv and the UI.
 * No includes, no types beyond integer constants and X-macros, so any of
 * them (hosted or freestanding) can include it.  AMD-V's go beside it in
 * include/arch/svm.h.
 *
 * Order and names follow the Intel SDM Vol. 3C/3D: capability MSRs
 * (Appendix A), VMCS field encodings (Appendix B), exit reasons (Appendix
 * C), VM-instruction errors (31.4), control bits (25.6 - 25.8).  Each list
 * is an X-macro, so one line gives the C name, the number and the
 * printable name.
 */
#ifndef NESTLAB_ARCH_VMX_H
#define NESTLAB_ARCH_VMX_H

/* ---- MSRs (SDM Vol. 4 Table 2-2; Vol. 3D Appendix A) ------------------------------ */
#define VMX_MSRS(X)                                                                  \
	X(IA32_FEATURE_CONTROL,          0x03a)  /* bit 0 lock, bit 2 VMXON outside SMX */ \
	X(IA32_VMX_BASIC,                0x480)  /* A.1 */                           \
	X(IA32_VMX_PINBASED_CTLS,        0x481)  /* A.3.1 */                         \
	X(IA32_VMX_PROCBASED_CTLS,       0x482)  /* A.3.2 */                         \
	X(IA32_VMX_EXIT_CTLS,            0x483)  /* A.4 */                           \
	X(IA32_VMX_ENTRY_CTLS,           0x484)  /* A.5 */                           \
	X(IA32_VMX_MISC,                 0x485)  /* A.6 */                           \
	X(IA32_VMX_CR0_FIXED0,           0x486)  /* A.7 */                           \
	X(IA32_VMX_CR0_FIXED1,           0x487)                                      \
	X(IA32_VMX_CR4_FIXED0,           0x488)  /* A.8 */                           \
	X(IA32_VMX_CR4_FIXED1,           0x489)                                      \
	X(IA32_VMX_VMCS_ENUM,            0x48a)  /* A.9 */                           \
	X(IA32_VMX_PROCBASED_CTLS2,      0x48b)  /* A.3.3 */                         \
	X(IA32_VMX_EPT_VPID_CAP,         0x48c)  /* A.10 */                          \
	X(IA32_VMX_TRUE_PINBASED_CTLS,   0x48d)                                      \
	X(IA32_VMX_TRUE_PROCBASED_CTLS,  0x48e)                                      \
	X(IA32_VMX_TRUE_EXIT_CTLS,       0x48f)                                      \
	X(IA32_VMX_TRUE_ENTRY_CTLS,      0x490)                                      \
	X(IA32_VMX_VMFUNC,               0x491)

#define FEATURE_CONTROL_LOCK          (1ull << 0)
#define FEATURE_CONTROL_VMXON_SMX     (1ull << 1)
#define FEATURE_CONTROL_VMXON         (1ull << 2)

#define VMX_BASIC_REVISION_MASK       0x7fffffffull
#define VMX_BASIC_INSOUTS_INFO        (1ull << 54)
#define VMX_BASIC_TRUE_CTLS           (1ull << 55)

#define EPT_CAP_EXEC_ONLY   (1ull << 0)
#define EPT_CAP_WALK4       (1ull << 6)
#define EPT_CAP_UC          (1ull << 8)
#define EPT_CAP_WB          (1ull << 14)
#define EPT_CAP_2M          (1ull << 16)
#define EPT_CAP_1G          (1ull << 17)
#define EPT_CAP_INVEPT      (1ull << 20)
#define EPT_CAP_AD          (1ull << 21)
#define EPT_CAP_INVEPT_CTX  (1ull << 25)
#define EPT_CAP_INVEPT_ALL  (1ull << 26)
#define VPID_CAP_INVVPID    (1ull << 32)
#define VPID_CAP_ADDR       (1ull << 40)
#define VPID_CAP_CTX        (1ull << 41)
#define VPID_CAP_ALL        (1ull << 42)
#define VPID_CAP_CTX_GLOBAL (1ull << 43)

/* ---- VM-execution, exit and entry controls (SDM Vol. 3C 25.6 - 25.8) ------------ */
#define PIN_EXTINT_EXITING       (1u << 0)
#define PIN_NMI_EXITING          (1u << 3)
#define PIN_VIRTUAL_NMIS         (1u << 5)
#define PIN_PREEMPTION_TIMER     (1u << 6)
#define PIN_POSTED_INTERRUPTS    (1u << 7)

#define PROC_INTR_WINDOW         (1u << 2)
#define PROC_TSC_OFFSETTING      (1u << 3)
#define PROC_HLT_EXITING         (1u << 7)
#define PROC_INVLPG_EXITING      (1u << 9)
#define PROC_MWAIT_EXITING       (1u << 10)
#define PROC_RDPMC_EXITING       (1u << 11)
#define PROC_RDTSC_EXITING       (1u << 12)
#define PROC_CR3_LOAD_EXITING    (1u << 15)
#define PROC_CR3_STORE_EXITING   (1u << 16)
#define PROC_CR8_LOAD_EXITING    (1u << 19)
#define PROC_CR8_STORE_EXITING   (1u << 20)
#define PROC_TPR_SHADOW          (1u << 21)
#define PROC_NMI_WINDOW          (1u << 22)
#define PROC_MOV_DR_EXITING      (1u << 23)
#define PROC_UNCOND_IO_EXITING   (1u << 24)
#define PROC_USE_IO_BITMAPS      (1u << 25)
#define PROC_MTF                 (1u << 27)
#define PROC_USE_MSR_BITMAPS     (1u << 28)
#define PROC_MONITOR_EXITING     (1u << 29)
#define PROC_PAUSE_EXITING       (1u << 30)
#define PROC_SECONDARY           (1u << 31)

#define PROC2_VIRT_APIC_ACCESS   (1u << 0)
#define PROC2_ENABLE_EPT         (1u << 1)
#define PROC2_DESC_EXITING       (1u << 2)
#define PROC2_ENABLE_RDTSCP      (1u << 3)
#define PROC2_VIRT_X2APIC        (1u << 4)
#define PROC2_ENABLE_VPID        (1u << 5)
#define PROC2_WBINVD_EXITING     (1u << 6)
#define PROC2_UNRESTRICTED       (1u << 7)

#define EXIT_SAVE_DEBUG_CTLS     (1u << 2)
#define EXIT_HOST_64BIT          (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL    (1u << 12)
#define EXIT_ACK_INTERRUPT       (1u << 15)
#define EXIT_SAVE_PAT            (1u << 18)
#define EXIT_LOAD_PAT            (1u << 19)
#define EXIT_SAVE_EFER           (1u << 20)
#define EXIT_LOAD_EFER           (1u << 21)
#define EXIT_SAVE_TIMER          (1u << 22)

#define ENTRY_LOAD_DEBUG_CTLS    (1u << 2)
#define ENTRY_IA32E_GUEST        (1u << 9)
#define ENTRY_SMM                (1u << 10)
#define ENTRY_DUAL_MONITOR       (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL   (1u << 13)
#define ENTRY_LOAD_PAT           (1u << 14)
#define ENTRY_LOAD_EFER          (1u << 15)

/* Interruption information (25.8.3 entry, 28.2.2 exit, IDT-vectoring). */
#define INTR_INFO_VECTOR         0xffu
#define INTR_INFO_TYPE_SHIFT     8
#define INTR_INFO_TYPE_MASK      (7u << 8)
#define INTR_TYPE_EXT            (0u << 8)
#define INTR_TYPE_NMI            (2u << 8)
#define INTR_TYPE_HW_EXC         (3u << 8)
#define INTR_TYPE_SOFT_INT       (4u << 8)
#define INTR_TYPE_PRIV_SOFT      (5u << 8)
#define INTR_TYPE_SOFT_EXC       (6u << 8)
#define INTR_TYPE_OTHER          (7u << 8)
#define INTR_INFO_ERR_VALID      (1u << 11)
#define INTR_INFO_NMI_UNBLOCK    (1u << 12)
#define INTR_INFO_VALID          (1u << 31)

/* Guest interruptibility state (25.4.2, Table 25-3) and activity state. */
#define INTR_BLOCK_STI           (1u << 0)
#define INTR_BLOCK_MOV_SS        (1u << 1)
#define INTR_BLOCK_SMI           (1u << 2)
#define INTR_BLOCK_NMI           (1u << 3)
#define ACTIVITY_ACTIVE          0
#define ACTIVITY_HLT             1
#define ACTIVITY_SHUTDOWN        2
#define ACTIVITY_WAIT_SIPI       3

/* Access rights (25.4.1, Table 25-2): bit 16 = unusable. */
#define VMX_AR_UNUSABLE          (1u << 16)

/* EPT entries and EPTP (29.3.2, 25.6.11). */
#define EPT_R                    (1ull << 0)
#define EPT_W                    (1ull << 1)
#define EPT_X                    (1ull << 2)
#define EPT_MT_SHIFT             3
#define EPT_IGNORE_PAT           (1ull << 6)
#define EPT_LARGE                (1ull << 7)
#define EPT_A                    (1ull << 8)
#define EPT_D                    (1ull << 9)
#define EPTP_MT_MASK             0x7ull
#define EPTP_WALK_MASK           (0x7ull << 3)
#define EPTP_AD                  (1ull << 6)

/* EPT-violation exit qualification (28.2.1, Table 28-7). */
#define EPT_Q_READ               (1ull << 0)
#define EPT_Q_WRITE              (1ull << 1)
#define EPT_Q_FETCH              (1ull << 2)
#define EPT_Q_READABLE           (1ull << 3)
#define EPT_Q_WRITABLE           (1ull << 4)
#define EPT_Q_EXECUTABLE         (1ull << 5)
#define EPT_Q_GLA_VALID          (1ull << 7)
#define EPT_Q_GLA_FINAL          (1ull << 8)
#define EPT_Q_NMI_UNBLOCK        (1ull << 12)

/* ---- VMCS field encodings (Appendix B), in its order ----------------------------
 * encoding: bit 0 access (1 = high half of a 64-bit field), 9:1 index,
 * 11:10 type (0 control, 1 read-only data, 2 guest, 3 host), 14:13 width
 * (0 16-bit, 1 64-bit, 2 32-bit, 3 natural). */
#define VMCS_FIELDS(X)                                                               \
	X(VPID, 0x0000)                                                              \
	X(GUEST_ES_SEL, 0x0800) X(GUEST_CS_SEL, 0x0802) X(GUEST_SS_SEL, 0x0804)      \
	X(GUEST_DS_SEL, 0x0806) X(GUEST_FS_SEL, 0x0808) X(GUEST_GS_SEL, 0x080a)      \
	X(GUEST_LDTR_SEL, 0x080c) X(GUEST_TR_SEL, 0x080e)                            \
	X(HOST_ES_SEL, 0x0c00) X(HOST_CS_SEL, 0x0c02) X(HOST_SS_SEL, 0x0c04)         \
	X(HOST_DS_SEL, 0x0c06) X(HOST_FS_SEL, 0x0c08) X(HOST_GS_SEL, 0x0c0a)         \
	X(HOST_TR_SEL, 0x0c0c)                                                       \
	X(IO_BITMAP_A, 0x2000) X(IO_BITMAP_B, 0x2002) X(MSR_BITMAP, 0x2004)          \
	X(EXIT_MSR_STORE_ADDR, 0x2006) X(EXIT_MSR_LOAD_ADDR, 0x2008)                 \
	X(ENTRY_MSR_LOAD_ADDR, 0x200a) X(EXECUTIVE_VMCS_PTR, 0x200c)                 \
	X(TSC_OFFSET, 0x2010) X(VIRTUAL_APIC_ADDR, 0x2012)                           \
	X(APIC_ACCESS_ADDR, 0x2014) X(EPT_POINTER, 0x201a)                           \
	X(GUEST_PHYSICAL_ADDRESS, 0x2400)                                            \
	X(VMCS_LINK_POINTER, 0x2800) X(GUEST_IA32_DEBUGCTL, 0x2802)                  \
	X(GUEST_IA32_PAT, 0x2804) X(GUEST_IA32_EFER, 0x2806)                         \
	X(GUEST_PDPTE0, 0x280a) X(GUEST_PDPTE1, 0x280c)                              \
	X(GUEST_PDPTE2, 0x280e) X(GUEST_PDPTE3, 0x2810)                              \
	X(HOST_IA32_PAT, 0x2c00) X(HOST_IA32_EFER, 0x2c02)                           \
	X(PIN_BASED_CONTROLS, 0x4000) X(PROC_BASED_CONTROLS, 0x4002)                 \
	X(EXCEPTION_BITMAP, 0x4004) X(PF_ERROR_MASK, 0x4006)                         \
	X(PF_ERROR_MATCH, 0x4008) X(CR3_TARGET_COUNT, 0x400a)                        \
	X(EXIT_CONTROLS, 0x400c) X(EXIT_MSR_STORE_COUNT, 0x400e)                     \
	X(EXIT_MSR_LOAD_COUNT, 0x4010) X(ENTRY_CONTROLS, 0x4012)                     \
	X(ENTRY_MSR_LOAD_COUNT, 0x4014) X(ENTRY_INTR_INFO, 0x4016)                   \
	X(ENTRY_EXCEPTION_ERROR, 0x4018) X(ENTRY_INSN_LEN, 0x401a)                   \
	X(TPR_THRESHOLD, 0x401c) X(PROC_BASED_CONTROLS2, 0x401e)                     \
	X(VM_INSTRUCTION_ERROR, 0x4400) X(EXIT_REASON, 0x4402)                       \
	X(EXIT_INTR_INFO, 0x4404) X(EXIT_INTR_ERROR, 0x4406)                         \
	X(IDT_VECTORING_INFO, 0x4408) X(IDT_VECTORING_ERROR, 0x440a)                 \
	X(EXIT_INSN_LEN, 0x440c) X(EXIT_INSN_INFO, 0x440e)                           \
	X(GUEST_ES_LIMIT, 0x4800) X(GUEST_CS_LIMIT, 0x4802)                          \
	X(GUEST_SS_LIMIT, 0x4804) X(GUEST_DS_LIMIT, 0x4806)                          \
	X(GUEST_FS_LIMIT, 0x4808) X(GUEST_GS_LIMIT, 0x480a)                          \
	X(GUEST_LDTR_LIMIT, 0x480c) X(GUEST_TR_LIMIT, 0x480e)                        \
	X(GUEST_GDTR_LIMIT, 0x4810) X(GUEST_IDTR_LIMIT, 0x4812)                      \
	X(GUEST_ES_AR, 0x4814) X(GUEST_CS_AR, 0x4816) X(GUEST_SS_AR, 0x4818)         \
	X(GUEST_DS_AR, 0x481a) X(GUEST_FS_AR, 0x481c) X(GUEST_GS_AR, 0x481e)         \
	X(GUEST_LDTR_AR, 0x4820) X(GUEST_TR_AR, 0x4822)                              \
	X(GUEST_INTERRUPTIBILITY, 0x4824) X(GUEST_ACTIVITY_STATE, 0x4826)            \
	X(GUEST_SMBASE, 0x4828) X(GUEST_SYSENTER_CS, 0x482a)                         \
	X(GUEST_PREEMPTION_TIMER, 0x482e)                                            \
	X(HOST_SYSENTER_CS, 0x4c00)                                                  \
	X(CR0_GUEST_HOST_MASK, 0x6000) X(CR4_GUEST_HOST_MASK, 0x6002)                \
	X(CR0_READ_SHADOW, 0x6004) X(CR4_READ_SHADOW, 0x6006)                        \
	X(CR3_TARGET0, 0x6008) X(CR3_TARGET1, 0x600a)                                \
	X(CR3_TARGET2, 0x600c) X(CR3_TARGET3, 0x600e)                                \
	X(EXIT_QUALIFICATION, 0x6400) X(IO_RCX, 0x6402) X(IO_RSI, 0x6404)            \
	X(IO_RDI, 0x6406) X(IO_RIP, 0x6408) X(GUEST_LINEAR_ADDRESS, 0x640a)          \
	X(GUEST_CR0, 0x6800) X(GUEST_CR3, 0x6802) X(GUEST_CR4, 0x6804)               \
	X(GUEST_ES_BASE, 0x6806) X(GUEST_CS_BASE, 0x6808)                            \
	X(GUEST_SS_BASE, 0x680a) X(GUEST_DS_BASE, 0x680c)                            \
	X(GUEST_FS_BASE, 0x680e) X(GUEST_GS_BASE, 0x6810)                            \
	X(GUEST_LDTR_BASE, 0x6812) X(GUEST_TR_BASE, 0x6814)                          \
	X(GUEST_GDTR_BASE, 0x6816) X(GUEST_IDTR_BASE, 0x6818)                        \
	X(GUEST_DR7, 0x681a) X(GUEST_RSP, 0x681c) X(GUEST_RIP, 0x681e)               \
	X(GUEST_RFLAGS, 0x6820) X(GUEST_PENDING_DBG, 0x6822)                         \
	X(GUEST_SYSENTER_ESP, 0x6824) X(GUEST_SYSENTER_EIP, 0x6826)                  \
	X(HOST_CR0, 0x6c00) X(HOST_CR3, 0x6c02) X(HOST_CR4, 0x6c04)                  \
	X(HOST_FS_BASE, 0x6c06) X(HOST_GS_BASE, 0x6c08) X(HOST_TR_BASE, 0x6c0a)      \
	X(HOST_GDTR_BASE, 0x6c0c) X(HOST_IDTR_BASE, 0x6c0e)                          \
	X(HOST_SYSENTER_ESP, 0x6c10) X(HOST_SYSENTER_EIP, 0x6c12)                    \
	X(HOST_RSP, 0x6c14) X(HOST_RIP, 0x6c16)

enum vmcs_encoding {
#define X(name, enc) VMCS_##name = enc,
	VMCS_FIELDS(X)
#undef X
};

/* ---- basic exit reasons (Appendix C) -------------------------------------------- */
#define VMX_EXIT_REASONS(X)                                                          \
	X(0, EXCEPTION_NMI) X(1, EXTERNAL_INTERRUPT) X(2, TRIPLE_FAULT)              \
	X(3, INIT) X(4, SIPI) X(5, IO_SMI) X(6, OTHER_SMI) X(7, INTERRUPT_WINDOW)    \
	X(8, NMI_WINDOW) X(9, TASK_SWITCH) X(10, CPUID) X(11, GETSEC) X(12, HLT)     \
	X(13, INVD) X(14, INVLPG) X(15, RDPMC) X(16, RDTSC) X(17, RSM)               \
	X(18, VMCALL) X(19, VMCLEAR) X(20, VMLAUNCH) X(21, VMPTRLD)                  \
	X(22, VMPTRST) X(23, VMREAD) X(24, VMRESUME) X(25, VMWRITE) X(26, VMXOFF)    \
	X(27, VMXON) X(28, CR_ACCESS) X(29, DR_ACCESS) X(30, IO_INSTRUCTION)         \
	X(31, RDMSR) X(32, WRMSR) X(33, ENTRY_FAIL_GUEST_STATE)                      \
	X(34, ENTRY_FAIL_MSR_LOADING) X(36, MWAIT) X(37, MONITOR_TRAP_FLAG)          \
	X(39, MONITOR) X(40, PAUSE) X(41, ENTRY_FAIL_MACHINE_CHECK)                  \
	X(43, TPR_BELOW_THRESHOLD) X(44, APIC_ACCESS) X(45, VIRTUALIZED_EOI)         \
	X(46, GDTR_IDTR_ACCESS) X(47, LDTR_TR_ACCESS) X(48, EPT_VIOLATION)           \
	X(49, EPT_MISCONFIG) X(50, INVEPT) X(51, RDTSCP) X(52, PREEMPTION_TIMER)     \
	X(53, INVVPID) X(54, WBINVD) X(55, XSETBV) X(56, APIC_WRITE)                 \
	X(57, RDRAND) X(58, INVPCID) X(59, VMFUNC) X(60, ENCLS) X(61, RDSEED)        \
	X(62, PML_FULL) X(63, XSAVES) X(64, XRSTORS)

enum vmx_exit_reason {
#define X(n, name) VMX_EXIT_##name = n,
	VMX_EXIT_REASONS(X)
#undef X
	VMX_NR_EXIT_REASONS = 65
};
#define VMX_EXIT_REASON_ENTRY_FAIL (1u << 31)

/* ---- VM-instruction error numbers (SDM Vol. 3C 31.4, Table 31-1) ------------------ */
#define VMX_INSN_ERRORS(X)                                                           \
	X(1, VMCALL_IN_ROOT, "VMCALL executed in VMX root operation")                \
	X(2, VMCLEAR_BAD_ADDR, "VMCLEAR with invalid physical address")              \
	X(3, VMCLEAR_VMXON_PTR, "VMCLEAR with VMXON pointer")                        \
	X(4, VMLAUNCH_NOT_CLEAR, "VMLAUNCH with non-clear VMCS")                     \
	X(5, VMRESUME_NOT_LAUNCHED, "VMRESUME with non-launched VMCS")               \
	X(6, VMRESUME_AFTER_VMXOFF, "VMRESUME after VMXOFF")                         \
	X(7, ENTRY_BAD_CONTROLS, "VM entry with invalid control field(s)")           \
	X(8, ENTRY_BAD_HOST_STATE, "VM entry with invalid host-state field(s)")      \
	X(9, VMPTRLD_BAD_ADDR, "VMPTRLD with invalid physical address")              \
	X(10, VMPTRLD_VMXON_PTR, "VMPTRLD with VMXON pointer")                       \
	X(11, VMPTRLD_BAD_REVISION, "VMPTRLD with incorrect VMCS revision identifier") \
	X(12, BAD_COMPONENT, "VMREAD/VMWRITE from/to unsupported VMCS component")    \
	X(13, WRITE_READ_ONLY, "VMWRITE to read-only VMCS component")                \
	X(15, VMXON_IN_ROOT, "VMXON executed in VMX root operation")                 \
	X(16, ENTRY_BAD_EXECUTIVE, "VM entry with invalid executive-VMCS pointer")   \
	X(17, ENTRY_NON_LAUNCHED_EXECUTIVE, "VM entry with non-launched executive VMCS") \
	X(18, ENTRY_EXECUTIVE_NOT_VMXON, "VM entry with executive-VMCS pointer not VMXON pointer") \
	X(19, VMCALL_NON_CLEAR, "VMCALL with non-clear VMCS")                        \
	X(20, VMCALL_BAD_EXIT_CTLS, "VMCALL with invalid VM-exit control fields")    \
	X(22, VMCALL_BAD_MSEG, "VMCALL with incorrect MSEG revision identifier")     \
	X(23, VMXOFF_DUAL_MONITOR, "VMXOFF under dual-monitor treatment of SMIs and SMM") \
	X(24, VMCALL_BAD_SMM_FEATURES, "VMCALL with invalid SMM-monitor features")   \
	X(25, ENTRY_BAD_EXECUTIVE_CTLS, "VM entry with invalid VM-execution control fields in executive VMCS") \
	X(26, ENTRY_MOV_SS_BLOCKING, "VM entry with events blocked by MOV SS")       \
	X(28, BAD_INVEPT_INVVPID, "Invalid operand to INVEPT/INVVPID")

enum vmx_insn_error {
#define X(n, name, text) VMXERR_##name = n,
	VMX_INSN_ERRORS(X)
#undef X
};

#endif
