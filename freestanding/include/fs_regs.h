/* fs_regs.h - register save/restore macros for the freestanding .S files.
 *
 * Included (by the C preprocessor) into assembly: every trap stub and
 * world switch in the tree saves registers in one of two shapes, so they
 * are spelled once here.
 *
 * PUSH_GPRS / POP_GPRS: all fifteen general registers but RSP, RAX pushed
 * first, so that in memory R15 comes first (lowest address):
 *
 *   r15 0  r14 8  r13 16  r12 24  r11 32  r10 40  r9 48  r8 56
 *   rbp 64  rdi 72  rsi 80  rdx 88  rcx 96  rbx 104  rax 112
 *
 * which is struct hv_regs (hypervisor/include/hv_cpu.h), the guest's
 * struct trapframe (pv/guest/guest.h) and the boot-test kernel's frame;
 * above them the trap stubs keep vector and error code, then the CPU's
 * interrupt frame (SDM Vol. 3A 7.14.4).
 *
 * PUSH_CALLEE_SAVED / POP_CALLEE_SAVED: the registers the System V AMD64
 * ABI (3.2.1) says a function must preserve: RBX, RBP, R12-R15.  A stub
 * that leaves C for another world (a guest, user mode) and comes back
 * later through another door saves these and the stack pointer.
 */
#ifndef FS_REGS_H
#define FS_REGS_H
#ifdef __ASSEMBLER__

.macro PUSH_GPRS
        pushq %rax
        pushq %rbx
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %rbp
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
.endm

.macro POP_GPRS
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rbp
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rbx
        popq %rax
.endm

.macro PUSH_CALLEE_SAVED
        pushq %rbx
        pushq %rbp
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
.endm

.macro POP_CALLEE_SAVED
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbp
        popq %rbx
.endm

#endif
#endif
