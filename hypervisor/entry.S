/* entry.S - every way into nesthv after boot, and the way into a guest.
 *
 * Trap stubs: one per vector we install (hv_cpu.c builds the IDT from
 * hv_trap_stubs[]).  Each pushes a dummy error code where the CPU pushes none
 * (SDM Vol. 3A 7.3 table 7-1 lists which vectors have one), then the vector,
 * then the general registers, giving struct hv_regs (hv_cpu.h).
 *
 * Then it asks: where did the trap come from?  CS.RPL (the low two bits of
 * the saved CS) is the privilege level that was interrupted.
 *   - ring 0: nesthv itself (a timer tick while it idles, or a bug): handle
 *     it in place with hv_trap_ring0 and IRETQ back.
 *   - ring 3: a guest.  The CPU already switched to the trap stack (TSS.RSP0,
 *     SDM 3A 7.14.4) so the frame we just built is the guest's register file.
 *     We go back to whoever called hv_enter_guest, as if that call returned:
 *     this is PV's "VM exit".
 *
 * hv_enter_guest(regs) is PV's "VM entry": remember the host stack, load the
 * guest's registers from the frame and IRETQ to ring 3.
 */
#include "fs_regs.h"      /* PUSH_GPRS, PUSH_CALLEE_SAVED & co. */
        .text
        .code64

.macro TRAP_NOERR vec
        .balign 16
trap_\vec:
        pushq $0
        pushq $\vec
        jmp trap_common
.endm
.macro TRAP_ERR vec
        .balign 16
trap_\vec:
        pushq $\vec
        jmp trap_common
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR   8
TRAP_NOERR 9
TRAP_ERR   10
TRAP_ERR   11
TRAP_ERR   12
TRAP_ERR   13
TRAP_ERR   14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR   17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR   21
TRAP_NOERR 0x40
TRAP_NOERR 0x80
TRAP_NOERR 0x82
TRAP_NOERR 0xff

        .section .rodata
        .balign 8
        .global hv_trap_stubs
hv_trap_stubs:                  /* (vector, stub) pairs, ended by -1 */
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,0x40,0x80,0x82,0xff
        .quad \v, trap_\v
        .endr
        .quad -1, 0
        .text

trap_common:
        PUSH_GPRS
        cld
        testb $3, 18*8(%rsp)            /* saved CS: which ring was running? */
        jnz from_guest
        movq %rsp, %rdi
        call hv_trap_ring0
        jmp pop_and_iret

from_guest:                             /* the "VM exit" */
        movq %rsp, %rax                 /* return value: the guest frame */
        movq hv_host_rsp(%rip), %rsp
        POP_CALLEE_SAVED
        ret

        .global hv_enter_guest
hv_enter_guest:                         /* the "VM entry" */
        PUSH_CALLEE_SAVED
        movq %rsp, hv_host_rsp(%rip)
        movq %rdi, %rsp
pop_and_iret:
        POP_GPRS
        addq $16, %rsp                  /* vector, error code */
        iretq

        .section .bss
        .balign 8
hv_host_rsp:    .quad 0
