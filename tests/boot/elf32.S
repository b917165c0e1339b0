/* elf32.S - the smallest boot test: an ELF32 Multiboot 1 kernel (no address
 * fields, so the loader must read the ELF program headers; QEMU -kernel's
 * own path for 32-bit kernels).  It prints its magic, the boot information
 * flags it relies on and its command line on COM1 and exits through 0xF4. */
#define COM1 0x3f8
        .section .multiboot, "a"
        .balign 4
        .long 0x1BADB002, 0x00000003, -(0x1BADB002 + 3)

        .text
        .code32
        .global _start
_start:
        movl $stack_top, %esp
        movl %ebx, %ebp                 /* boot information */
        movl $msg_magic, %esi
        call puts
        cmpl $0x2BADB002, %eax
        jne fail
        movl $msg_ok, %esi
        call puts
        testl $4, (%ebp)                /* flags bit 2: cmdline */
        jz fail
        movl $msg_cmd, %esi
        call puts
        movl 16(%ebp), %esi
        /* skip the file name QEMU puts first: print from the first space */
1:      lodsb
        testb %al, %al
        jz 2f
        cmpb $' ', %al
        jne 1b
        call puts
2:      movl $msg_end, %esi
        call puts
        movl $0x10, %eax
        jmp exit
fail:   movl $msg_fail, %esi
        call puts
        movl $0x11, %eax
exit:   movw $0xf4, %dx
        outl %eax, %dx
3:      cli
        hlt
        jmp 3b

/* puts: print the NUL-terminated string at ESI (polled 16550, LSR bit 5). */
puts:   pushl %eax
4:      lodsb
        testb %al, %al
        jz 6f
        movb %al, %ah
        movw $COM1 + 5, %dx
5:      inb %dx, %al
        testb $0x20, %al
        jz 5b
        movb %ah, %al
        movw $COM1, %dx
        outb %al, %dx
        jmp 4b
6:      popl %eax
        ret

        .section .rodata
msg_magic: .asciz "elf32: loaded from ELF32 program headers, magic "
msg_ok:    .asciz "ok\n"
msg_cmd:   .asciz "elf32: command line after the file name:"
msg_end:   .asciz "\nelf32: done\n"
msg_fail:  .asciz "WRONG\n"
        .bss
        .balign 16
        .skip 4096
stack_top:
        .section .note.GNU-stack, "", @progbits
