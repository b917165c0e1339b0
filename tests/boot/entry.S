/* entry.S - the boot-test kernel's first instructions: Multiboot 1 header,
 * a round trip through real mode, the climb to long mode, and the
 * interrupt, SYSCALL and user-mode entry stubs that kernel.c uses.
 *
 * The Multiboot loader (QEMU -kernel or `nestlab run`; GRUB multiboot2 or
 * `nestlab run --multiboot2`) enters kstart32 in 32-bit protected mode,
 * paging off, EAX = 0x2BADB002 (MB1) or 0x36D76289 (MB2), EBX = boot info
 * (Multiboot spec 0.6.96 section 3.2; Multiboot2 spec 3.3).  We then:
 *   1. load our GDT and go down to real mode (SDM Vol. 3 10.9.2: a 16-bit
 *      protected-mode segment with a 64 KiB limit, clear CR0.PE, far jump),
 *      take INT 0x30 through a real-mode IVT entry we installed, and come
 *      back (SDM 10.9.1: set CR0.PE, far jump to a 32-bit code segment);
 *   1b. turn on 32-bit paging (4 KiB and 4 MiB pages), read, turn it off;
 *   2. enable PAE, load CR3 (4 GiB identity map, 2 MiB pages, user
 *      accessible), set EFER.LME and EFER.NXE, then CR0.PG|WP: long mode
 *      (SDM 10.8.5), and far jump into the 64-bit code segment;
 *   3. call kmain(magic, info).
 *
 * GDT (the order SYSCALL/SYSRET need, SDM Vol. 2 SYSRET: STAR[63:48]+16 is
 * the 64-bit user CS, +8 the user SS):
 *   0x08 kernel code64  0x10 kernel data  0x18 user code32  0x20 user data
 *   0x28 user code64    0x30 TSS (16 bytes)  0x40 kernel code32
 *   0x48 16-bit code (base 0, limit 0xffff)  0x50 16-bit data
 */
#include "fs_regs.h"      /* PUSH_GPRS, PUSH_CALLEE_SAVED & co. */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00010003   /* page-align modules, memory info, address fields */
#define RM_BASE   0x7000       /* the real-mode blob runs here (below 1 MiB) */
#define RM(x)     ((x) - rm_blob + RM_BASE)

        .section .multiboot, "a"
        .balign 4
mb1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)
        .long mb1_header                /* header_addr */
        .long __load_start              /* load_addr */
        .long __load_end                /* load_end_addr */
        .long __bss_end                 /* bss_end_addr */
        .long kstart32                  /* entry_addr */

        .balign 8
mb2_header:                             /* Multiboot 2 (spec 3.1), for GRUB's
                                           multiboot2 and nestlab --multiboot2 */
        .long 0xE85250D6, 0, mb2_end - mb2_header
        .long -(0xE85250D6 + (mb2_end - mb2_header))
        .short 2, 0                     /* address tag */
        .long 24, mb2_header, __load_start, __load_end, __bss_end
        .balign 8
        .short 3, 0                     /* entry address tag */
        .long 12, kstart32
        .balign 8
        .short 0, 0                     /* end tag */
        .long 8
mb2_end:

        .text
        .code32
        .global kstart32
kstart32:
        cli
        movl %eax, boot_magic
        movl %ebx, boot_info
        movl $boot_stack_top, %esp
        lgdt gdt_ptr
        ljmp $0x40, $1f
1:      movl $0x10, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss

        /* 1. real mode: copy the blob below 1 MiB and run it. */
        movl $rm_blob, %esi
        movl $RM_BASE, %edi
        movl $(rm_blob_end - rm_blob), %ecx
        rep movsb
        ljmp $0x48, $RM(rm_entry16)
back32:
        movl $0x10, %eax
        movl %eax, %ds
        movw RM(rm_result16), %cx       /* the blob's copy holds the result */
        movw %cx, rm_result
        movl %eax, %es
        movl %eax, %ss
        movl $boot_stack_top, %esp

        /* 1b. 32-bit paging with CR4.PSE (SDM Vol. 3 4.3): PD[0] a 4 MiB
         * identity page (our code), PD[0x100] -> a page table whose entry 0
         * maps 0x40000000 to pg32_page, PD[0x101] a 4 MiB page mapping
         * 0x40400000 to physical 0.  Read through both, note the PTE's A and
         * D bits, and turn paging off again. */
        movl $0xcafe0001, pg32_page
        movl $0x83, pd32                        /* P RW PS */
        movl $(pt32 + 3), pd32 + 0x100 * 4
        movl $0x83, pd32 + 0x101 * 4
        movl $(pg32_page + 3), pt32
        movl %cr4, %eax
        orl $0x10, %eax                         /* CR4.PSE */
        movl %eax, %cr4
        movl $pd32, %eax
        movl %eax, %cr3
        movl %cr0, %eax
        orl $0x80000000, %eax                   /* CR0.PG */
        movl %eax, %cr0
        movl 0x40000000, %eax
        movl %eax, pg32_result
        movl 0x40400000 + mb1_header, %eax      /* our own header, via 4 MiB */
        movl %eax, pg32_result + 4
        movl pt32, %eax
        movl %eax, pg32_result + 8              /* PTE after the read: A set */
        movl %cr0, %eax
        andl $0x7fffffff, %eax
        movl %eax, %cr0
        movl %cr4, %eax
        andl $~0x10, %eax
        movl %eax, %cr4

        /* 2. page tables: PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of 2 MiB pages
         * (P|RW|US|PS = 0x87; the PDPT/PML4 entries P|RW|US = 7). */
        movl $pd, %edi
        xorl %ecx, %ecx
2:      movl %ecx, %eax
        shll $21, %eax
        orl $0x87, %eax
        movl %eax, (%edi,%ecx,8)
        movl %ecx, %eax
        shrl $11, %eax
        movl %eax, 4(%edi,%ecx,8)
        incl %ecx
        cmpl $2048, %ecx
        jne 2b
        movl $(pd + 0x0007), pdpt
        movl $(pd + 0x1007), pdpt + 8
        movl $(pd + 0x2007), pdpt + 16
        movl $(pd + 0x3007), pdpt + 24
        movl $(pdpt + 7), pml4
        movl %cr4, %eax
        orl $0x20, %eax                 /* CR4.PAE */
        movl %eax, %cr4
        movl $pml4, %eax
        movl %eax, %cr3
        movl $0xC0000080, %ecx          /* IA32_EFER: LME | NXE */
        rdmsr
        orl $0x900, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80010001, %eax           /* CR0.PG | CR0.WP | CR0.PE */
        movl %eax, %cr0
        ljmp $0x08, $long64

        .code64
long64:
        movl $0x10, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        xorl %eax, %eax
        movl %eax, %fs
        movl %eax, %gs
        movq $boot_stack_top, %rsp
        movl boot_magic, %edi
        movl boot_info, %esi
        call kmain
3:      cli
        hlt
        jmp 3b

/* The real-mode blob: position-dependent code assembled here, run at RM_BASE. */
        .code16
rm_blob:
rm_entry16:                             /* 16-bit protected mode, CS = 0x48 */
        movw $0x50, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl %cr0, %eax
        andl $~1, %eax
        movl %eax, %cr0
        ljmp $0, $RM(rm_real)
rm_real:                                /* real mode: CS = 0, IP = RM(...) */
        xorw %ax, %ax
        movw %ax, %ds
        movw %ax, %ss
        movw $RM_BASE, %sp
        lidt RM(rm_idt)
        movw $RM(rm_int30), 0x30*4      /* IVT entry 0x30: offset, segment 0 */
        movw $0, 0x30*4 + 2
        movw $0x1234, %bx
        int $0x30
        movw %bx, RM(rm_result16)       /* the handler turned 0x1234 into 0x5678 */
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x40, $back32
rm_int30:
        cmpw $0x1234, %bx
        jne 1f
        movw $0x5678, %bx
1:      iret
rm_idt: .short 0x3ff
        .long 0
rm_result16:
        .short 0
rm_blob_end:

        .code64
/* ---- interrupt stubs: 256 of 16 bytes each, pushing (0, vector) ---------- */
        .balign 16
        .global isr_table
isr_table:
vec = 0
        .rept 256
        .balign 16
        .if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
        .else
        pushq $0
        .endif
        pushq $vec
        jmp isr_common
vec = vec + 1
        .endr

isr_common:
        PUSH_GPRS
        movq %rsp, %rdi
        call trap
        POP_GPRS
        addq $16, %rsp
        iretq

/* ---- user mode: enter_user(rip, rsp) returns when user code exits ------- */
        .global enter_user, user_exit
enter_user:
        PUSH_CALLEE_SAVED
        movq %rsp, kernel_saved_rsp
        pushq $0x23                     /* SS: user data | RPL 3 */
        pushq %rsi                      /* RSP */
        pushq $0x202                    /* RFLAGS: IF */
        pushq $0x2b                     /* CS: user code64 | RPL 3 */
        pushq %rdi                      /* RIP */
        iretq
user_exit:                              /* called from a handler: back to enter_user's caller */
        movq kernel_saved_rsp, %rsp
        POP_CALLEE_SAVED
        ret

/* ---- SYSCALL: RAX = number, RDI = argument; C handler syscall_c ---------- */
        .global syscall_entry
syscall_entry:
        movq %rsp, user_saved_rsp       /* SYSCALL does not switch stacks */
        movq $syscall_stack_top, %rsp
        pushq %rcx                      /* user RIP */
        pushq %r11                      /* user RFLAGS */
        movq %rdi, %rsi
        movq %rax, %rdi
        call syscall_c
        popq %r11
        popq %rcx
        movq user_saved_rsp, %rsp
        sysretq

/* ---- compat_probe(): a round trip through compatibility mode ------------- */
/* Far return to the 32-bit code segment 0x40 (long mode active, CS.L = 0:
 * compatibility mode, SDM Vol. 3 5.2.1), compute there, far jump back to
 * 0x08.  Returns CS seen in compatibility mode << 32 | the 32-bit result. */
        .global compat_probe
compat_probe:
        pushq $0x40
        pushq $compat32
        lretq
        .code32
compat32:
        movl $0x1234, %eax
        shll $16, %eax
        orl $0x5678, %eax
        movw %cs, %dx
        ljmp $0x08, $compat_back
        .code64
compat_back:
        movzwl %dx, %edx
        shlq $32, %rdx
        orq %rdx, %rax
        ret

/* ---- benchmarks ----------------------------------------------------------- */
/* bench_int3(n): n x (INT3 -> bench_bp_stub -> IRETQ). */
        .global bench_int3, bench_bp_stub
bench_int3:
1:      testq %rdi, %rdi
        jz 2f
        int3
        decq %rdi
        jmp 1b
2:      ret
bench_bp_stub:
        iretq

/* bench_roundtrip(n): n x (IRETQ to ring 3, SYSCALL back to bench_sys_entry). */
        .global bench_roundtrip, bench_sys_entry
bench_roundtrip:
        PUSH_CALLEE_SAVED
        movq %rsp, kernel_saved_rsp
        movq %rdi, %r12
bench_loop:
        testq %r12, %r12
        jz bench_done
        decq %r12
        pushq $0x23
        pushq $user_stack_top
        pushq $0x2                      /* RFLAGS: IF = 0 */
        pushq $0x2b
        pushq $bench_user
        iretq
bench_sys_entry:
        movq kernel_saved_rsp, %rsp
        jmp bench_loop
bench_done:
        POP_CALLEE_SAVED
        ret
bench_user:
        syscall
        jmp bench_user

/* ---- data ------------------------------------------------------------------ */
        .data
        .balign 8
        .global gdt, tss_desc
gdt:
        .quad 0
        .quad 0x00209A0000000000        /* 0x08 kernel code64 */
        .quad 0x00CF92000000FFFF        /* 0x10 kernel data */
        .quad 0x00CFFA000000FFFF        /* 0x18 user code32 */
        .quad 0x00CFF2000000FFFF        /* 0x20 user data */
        .quad 0x0020FA0000000000        /* 0x28 user code64 */
tss_desc:
        .quad 0, 0                      /* 0x30 TSS, filled by kernel.c */
        .quad 0x00CF9A000000FFFF        /* 0x40 kernel code32 */
        .quad 0x00009A000000FFFF        /* 0x48 16-bit code, base 0, limit 64K */
        .quad 0x000092000000FFFF        /* 0x50 16-bit data */
gdt_end:
gdt_ptr:
        .short gdt_end - gdt - 1
        .quad gdt
        .global boot_info, rm_result
rm_result:  .short 0
        .balign 4
boot_magic: .long 0
boot_info:  .long 0
        .global kernel_saved_rsp, user_saved_rsp
kernel_saved_rsp: .quad 0
user_saved_rsp:   .quad 0

        .bss
        .balign 4096
        .global pml4, pdpt, pd
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096
pd32:   .skip 4096
pt32:   .skip 4096
pg32_page: .skip 4096
        .global pg32_result
pg32_result: .skip 12
        .balign 16
        .global boot_stack_top, user_stack_top, syscall_stack_top
boot_stack:     .skip 16384
boot_stack_top:
user_stack:     .skip 8192
user_stack_top:
syscall_stack:  .skip 8192
syscall_stack_top:
