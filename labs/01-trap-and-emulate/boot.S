/* boot.S - lab 1's entry points: the Multiboot 1 header and start (32-bit
 * protected mode, paging off, as GRUB and QEMU -kernel leave it), the
 * exception stubs that save the guest's registers into a struct frame
 * (monitor.h) for monitor_trap(), and the IRET into ring 3 that starts the
 * deprivileged guest kernel.
 *
 * Everything runs flat (base 0): the monitor with ring-0 segments 0x08/0x10,
 * the guest kernel with ring-3 segments 0x1b/0x23 (monitor.c, the GDT).
 */
        .section .multiboot, "a"
        .balign 4
        .long 0x1BADB002, 0x00000003, -(0x1BADB002 + 3)

        .text
        .code32
        .global _start
_start:
        movl $monitor_stack_top, %esp
        pushl %ebx                      /* Multiboot information */
        pushl %eax                      /* magic */
        call monitor_main
1:      cli
        hlt
        jmp 1b

/* One stub per exception vector 0-31.  The CPU pushes an error code for
 * 8, 10-14, 17, 21 (SDM Vol. 3A, Table 6-1); the others push a 0 so that
 * every frame has the same layout. */
.macro stub n
        .balign 16
        .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21)
        .else
        pushl $0
        .endif
        pushl $\n
        jmp trap_common
.endm
        .balign 16
        .global trap_stubs
trap_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        stub \n
        .endr

trap_common:
        pushal
        pushl %ds
        pushl %es
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        pushl %esp                      /* struct frame * */
        call monitor_trap
        addl $4, %esp
        popl %es
        popl %ds
        popal
        addl $8, %esp                   /* vector, error code */
        iret

/* enter_guest(eip, esp): IRET to ring 3 with IF = 1 and IOPL = 0, so that
 * CLI, STI, IN, OUT, HLT and every other privileged instruction traps. */
        .global enter_guest
enter_guest:
        movl 4(%esp), %ecx
        movl 8(%esp), %edx
        movw $0x23, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        pushl $0x23                     /* ss */
        pushl %edx                      /* esp */
        pushl $0x202                    /* eflags: IF, IOPL 0 */
        pushl $0x1b                     /* cs */
        pushl %ecx                      /* eip */
        iret

        .bss
        .balign 16
        .skip 8192
        .global monitor_stack_top
monitor_stack_top:

        .section .note.GNU-stack, "", @progbits
