/* hvm_entry.S - the world switch for VMX and SVM, side by side.
 *
 * Neither VMRUN nor VMLAUNCH saves or loads the general registers (except
 * RAX/RSP/RIP/RFLAGS, which SVM keeps in the VMCB and VMX in the VMCS), so
 * these stubs move them between the CPU and struct hv_regs (hv_cpu.h):
 *
 *   offsets:  r15 0  r14 8  r13 16  r12 24  r11 32  r10 40  r9 48  r8 56
 *             rbp 64  rdi 72  rsi 80  rdx 88  rcx 96  rbx 104  rax 112
 *
 * hv_svm_run(vmcb_pa, regs, host_save_pa)         APM Vol. 2 15.5, 15.17
 *   VMSAVE the host's FS/GS/TR/LDTR/SYSCALL state, then with GIF = 0 (CLGI)
 *   and RFLAGS.IF = 1: VMLOAD, VMRUN, VMSAVE the guest's.  A physical
 *   interrupt during the guest causes #VMEXIT (INTR intercept) and stays
 *   pending: we return with IF = 0 and vcpu.c takes it when it chooses.
 *
 * hv_vmx_run(regs, launched) -> 0 after a VM exit, 1 if VMLAUNCH/VMRESUME
 *   failed (RFLAGS.CF or ZF: SDM Vol. 3C 31.2 "conventions").  HOST_RSP is
 *   written here, just before entry, and HOST_RIP is hv_vmx_exit (set once by
 *   vmx.c); a VM exit arrives there with the guest's registers live.
 */
#include "fs_regs.h"      /* PUSH_GPRS, PUSH_CALLEE_SAVED & co. */
        .text
        .code64

.macro LOAD_GUEST base           /* all but RAX and RSP */
        movq 104(\base), %rbx
        movq 96(\base), %rcx
        movq 88(\base), %rdx
        movq 64(\base), %rbp
        movq 56(\base), %r8
        movq 48(\base), %r9
        movq 40(\base), %r10
        movq 32(\base), %r11
        movq 24(\base), %r12
        movq 16(\base), %r13
        movq 8(\base), %r14
        movq 0(\base), %r15
.endm

.macro SAVE_GUEST base           /* all but RAX, RSP and \base itself */
        movq %rbx, 104(\base)
        movq %rcx, 96(\base)
        movq %rdx, 88(\base)
        movq %rbp, 64(\base)
        movq %rsi, 80(\base)
        movq %r8, 56(\base)
        movq %r9, 48(\base)
        movq %r10, 40(\base)
        movq %r11, 32(\base)
        movq %r12, 24(\base)
        movq %r13, 16(\base)
        movq %r14, 8(\base)
        movq %r15, 0(\base)
.endm

        .global hv_svm_run
hv_svm_run:
        PUSH_CALLEE_SAVED
        pushq %rdx                      /* 16(%rsp): host save area */
        pushq %rsi                      /*  8(%rsp): regs */
        pushq %rdi                      /*  0(%rsp): VMCB */
        movq %rdx, %rax
        vmsave                          /* host's hidden segment state */
        clgi
        sti                             /* held by GIF = 0 until #VMEXIT */
        movq %rsi, %rax
        LOAD_GUEST %rax
        movq 80(%rax), %rsi
        movq 72(%rax), %rdi
        movq (%rsp), %rax
        vmload
        vmrun                           /* ... the guest runs ... */
        vmsave                          /* RAX is the host's again: the VMCB */
        cli
        stgi
        pushq %rdi                      /* guest RDI; regs is now at 16(%rsp) */
        movq 16(%rsp), %rdi
        SAVE_GUEST %rdi
        popq 72(%rdi)
        movq 16(%rsp), %rax             /* host save area */
        vmload
        addq $24, %rsp
        POP_CALLEE_SAVED
        ret

        .global hv_vmx_run
hv_vmx_run:
        PUSH_CALLEE_SAVED
        pushq %rdi                      /* 0(%rsp) at exit: regs */
        movq $0x6c14, %rax              /* HOST_RSP */
        vmwrite %rsp, %rax
        movq %rdi, %rax
        testl %esi, %esi
        movq 112(%rax), %rax            /* flags untouched by MOV */
        pushq %rax
        movq 8(%rsp), %rax
        LOAD_GUEST %rax
        movq 80(%rax), %rsi
        movq 72(%rax), %rdi
        popq %rax
        jnz 1f
        vmlaunch
        jmp 2f
1:      vmresume
2:      /* entry failed: back to the caller with 1 */
        popq %rdi
        movl $1, %eax
        jmp 3f

        .global hv_vmx_exit
hv_vmx_exit:                            /* HOST_RIP: RSP = HOST_RSP again */
        pushq %rdi
        movq 8(%rsp), %rdi
        SAVE_GUEST %rdi
        movq %rax, 112(%rdi)
        popq 72(%rdi)
        popq %rdi
        xorl %eax, %eax
3:      popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbp
        popq %rbx
        ret
