/* boot.S - nesthv's first instructions: Multiboot headers and the climb from
 * 32-bit protected mode to 64-bit long mode.
 *
 * A Multiboot loader (QEMU -kernel, GRUB) jumps to hv_start32 in 32-bit
 * protected mode with paging off, EAX = magic, EBX = physical address of the
 * boot information (Multiboot spec 0.6.96 section 3.2; Multiboot2 section 3.3).
 * To reach long mode we follow Intel SDM Vol. 3A 10.8.5 "Initializing IA-32e
 * Mode": enable PAE (CR4.PAE), load CR3 with a 4-level table, set
 * IA32_EFER.LME, then set CR0.PG; the far jump into a 64-bit code segment
 * activates long mode (SDM 3A 2.2.1).
 *
 * The boot page table maps physical 0..1 GiB three times with 2 MiB pages:
 *
 *   PML4[0]   -> identity (needed while RIP is still a physical address)
 *   PML4[256] -> 0xffff800000000000 + phys   (the direct map, hv_mm.h)
 *   PML4[511] -> PDPT[510] -> 0xffffffff80000000 + phys (the linked image)
 *
 * C code (mm.c) later builds the real tables and drops the identity slot,
 * which belongs to the guest from then on.
 */
#define KVMA 0xffffffff80000000
#define PHYS(x) ((x) - KVMA)

#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00010003   /* bit 0 align modules, 1 memory map, 16 address fields */
#define MB2_MAGIC 0xE85250D6

        .section .multiboot, "a"
        .balign 4
mb1_header:                     /* Multiboot 1 header (spec 3.1.1) */
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)
        .long PHYS(mb1_header)          /* header_addr   */
        .long PHYS(__hv_load_start)     /* load_addr     */
        .long PHYS(__hv_load_end)       /* load_end_addr */
        .long PHYS(__hv_bss_end)        /* bss_end_addr  */
        .long PHYS(hv_start32)          /* entry_addr    */

        .balign 8
mb2_header:                     /* Multiboot 2 header (spec 3.1.1), for GRUB */
        .long MB2_MAGIC
        .long 0                         /* architecture: i386 protected mode */
        .long mb2_end - mb2_header
        .long -(MB2_MAGIC + (mb2_end - mb2_header))
        .balign 8
        .short 3, 0                     /* entry address tag (3.1.6) */
        .long 12
        .long PHYS(hv_start32)
        .balign 8
        .short 0, 0                     /* end tag */
        .long 8
mb2_end:

        .section .text.boot, "ax"
        .code32
        .global hv_start32
hv_start32:
        cli
        movl %eax, %edi                 /* magic -> first C argument */
        movl %ebx, %esi                 /* boot info -> second C argument */
        movl $PHYS(hv_boot_stack_top), %esp

        /* PD: 512 x 2 MiB pages covering 0..1 GiB (P|RW|PS = 0x83). */
        movl $PHYS(boot_pd), %ebx
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax
        movl %eax, (%ebx,%ecx,8)
        movl $0, 4(%ebx,%ecx,8)
        incl %ecx
        cmpl $512, %ecx
        jne 1b

        movl $(PHYS(boot_pd) + 3), PHYS(boot_pdpt_lo)
        movl $(PHYS(boot_pd) + 3), PHYS(boot_pdpt_hi) + 510*8
        movl $(PHYS(boot_pdpt_lo) + 3), PHYS(hv_boot_pml4)
        movl $(PHYS(boot_pdpt_lo) + 3), PHYS(hv_boot_pml4) + 256*8
        movl $(PHYS(boot_pdpt_hi) + 3), PHYS(hv_boot_pml4) + 511*8

        movl %cr4, %eax
        orl $0x20, %eax                 /* CR4.PAE */
        movl %eax, %cr4
        movl $PHYS(hv_boot_pml4), %eax
        movl %eax, %cr3
        movl $0xC0000080, %ecx          /* IA32_EFER */
        rdmsr
        orl $0x100, %eax                /* EFER.LME */
        wrmsr
        movl %cr0, %eax
        orl $0x80010001, %eax           /* CR0.PG | CR0.WP | CR0.PE */
        movl %eax, %cr0
        lgdt PHYS(boot_gdt_ptr)
        ljmp $0x08, $PHYS(boot_long_low)

        .code64
boot_long_low:
        movabsq $boot_long_high, %rax   /* leave the identity map */
        jmp *%rax
boot_long_high:
        movl $0x10, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        xorl %eax, %eax
        movl %eax, %fs
        movl %eax, %gs
        movabsq $hv_boot_stack_top, %rsp
        movl %edi, %edi                 /* zero-extend the 32-bit arguments */
        movl %esi, %esi
        xorl %ebp, %ebp
        call hv_main
2:      cli
        hlt
        jmp 2b

        .section .rodata
        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00209A0000000000        /* 0x08: 64-bit code, DPL 0 */
        .quad 0x00CF92000000FFFF        /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
        .short boot_gdt_end - boot_gdt - 1
        .long PHYS(boot_gdt)

        .section .bss
        .balign 4096
        .global hv_boot_pml4
hv_boot_pml4:   .skip 4096
boot_pdpt_lo:   .skip 4096
boot_pdpt_hi:   .skip 4096
boot_pd:        .skip 4096
        .global hv_boot_stack_top
hv_boot_stack:  .skip 16384
hv_boot_stack_top:
