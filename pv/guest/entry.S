/* entry.S - the guest kernel's trap entry and exit, shared by native and PV.
 *
 * Entry is the same in both modes because nesthv's bounce frame has exactly
 * the hardware's shape (nestpv.h): each stub pushes a dummy error code where
 * the CPU pushes none, the vector, then the general registers, giving
 * struct trapframe (guest.h), and calls trap().
 *
 * Exit differs, and is the one place outside the C operations table where
 * the two modes part: natively IRETQ; under PV, IRETQ from ring 3 cannot
 * switch to a user page table or restore the virtual IF, so we push rax and
 * ask nesthv (PV_HC_iret).  guest_iret_path is set from the table at boot.
 */
#include "fs_regs.h"      /* PUSH_GPRS, PUSH_CALLEE_SAVED & co. */
        .text
        .code64

.macro TRAP_NOERR vec
trap_\vec:
        pushq $0
        pushq $\vec
        jmp trap_common
.endm
.macro TRAP_ERR vec
trap_\vec:
        pushq $\vec
        jmp trap_common
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR   8
TRAP_ERR   10
TRAP_ERR   11
TRAP_ERR   12
TRAP_ERR   13
TRAP_ERR   14
TRAP_NOERR 16
TRAP_ERR   17
TRAP_NOERR 19
TRAP_NOERR 0x30
TRAP_NOERR 0x80

        .section .rodata
        .balign 8
        .global guest_trap_stubs
guest_trap_stubs:               /* (vector, dpl, stub), ended by vector -1 */
        .irp v, 0,1,3,4,5,6,7,8,10,11,12,13,14,16,17,19,0x30
        .quad \v, 0, trap_\v
        .endr
        .quad 0x80, 3, trap_0x80
        .quad -1, 0, 0
        .text

trap_common:
        PUSH_GPRS
        cld
        movq %rsp, %rdi
        call trap
        movq %rsp, %rdi
        .global trap_return
trap_return:                    /* trap_return(tf): leave the kernel through tf */
        movq %rdi, %rsp
        POP_GPRS
        addq $16, %rsp
        jmp *guest_iret_path(%rip)

        .global guest_iret_native
guest_iret_native:
        iretq

        .global guest_iret_pv
guest_iret_pv:
        pushq %rax                      /* frame: rax rip cs rflags rsp ss */
        movl $6, %eax                   /* PV_HC_iret */
        int $0x82
        ud2                             /* not reached */
