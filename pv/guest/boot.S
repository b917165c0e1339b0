/* boot.S - the guest kernel's two entry points.
 *
 * Native: a Multiboot 1 loader (QEMU -kernel) jumps to guest_start32 in
 * 32-bit protected mode, paging off (Multiboot spec 0.6.96 3.2).  We build a
 * temporary identity map of the first GiB with 2 MiB pages, enable PAE,
 * EFER.LME and paging (Intel SDM Vol. 3A 10.8.5), far-jump into 64-bit code
 * and call kmain(0, multiboot info).  mm.c replaces these tables.
 *
 * PV: nesthv's domain builder starts us in 64-bit mode, ring 3, at the ELF
 * entry guest_start_pv, with rsi = start-info page and a stack already set
 * (pv/include/nestpv.h).  We call kmain(1, start info).
 *
 * The header uses the Multiboot 1 address fields (flag bit 16) because QEMU
 * refuses to load a 64-bit ELF through Multiboot.
 */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00010003

        .section .multiboot, "a"
        .balign 4
mb1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)
        .long mb1_header
        .long __load_start
        .long __load_end
        .long __bss_end
        .long guest_start32

        .text
        .code32
        .global guest_start32
guest_start32:
        cli
        movl %ebx, %esi                 /* Multiboot info */
        movl $boot_stack_top, %esp
        movl $boot_pd, %edi
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax                 /* P | RW | PS: 2 MiB page */
        movl %eax, (%edi,%ecx,8)
        movl $0, 4(%edi,%ecx,8)
        incl %ecx
        cmpl $512, %ecx
        jne 1b
        movl $(boot_pd + 3), boot_pdpt
        movl $(boot_pdpt + 3), boot_pml4
        movl %cr4, %eax
        orl $0x20, %eax                 /* CR4.PAE */
        movl %eax, %cr4
        movl $boot_pml4, %eax
        movl %eax, %cr3
        movl $0xC0000080, %ecx          /* IA32_EFER.LME */
        rdmsr
        orl $0x100, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80010001, %eax           /* PG | WP | PE */
        movl %eax, %cr0
        lgdt boot_gdt_ptr
        ljmp $0x08, $native64

        .code64
native64:
        movl $0x10, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        movq $boot_stack_top, %rsp
        movl %esi, %esi
        xorl %edi, %edi                 /* kmain(0, mbi) */
        call kmain
        jmp .

        .global guest_start_pv
guest_start_pv:
        movl $1, %edi                   /* kmain(1, start info) */
        call kmain
        jmp .

        .section .rodata
        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00209A0000000000        /* 0x08 64-bit code */
        .quad 0x00CF92000000FFFF        /* 0x10 data */
boot_gdt_end:
boot_gdt_ptr:
        .short boot_gdt_end - boot_gdt - 1
        .long boot_gdt

        .section .bss
        .balign 4096
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4096
boot_stack:     .skip 16384
boot_stack_top:
