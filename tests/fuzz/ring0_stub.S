/* ring0_stub.S - guest code for fuzz_ring0.c (data in the host binary, copied
 * to guest physical 0x8000 and entered in the Multiboot state: 32-bit
 * protected mode, paging off).  It climbs to long mode with the tables
 * fuzz_ring0.c built (GDT pointer at 0xff0, IDT pointer at 0xfe0, PML4 at
 * 0x4000, TSS selector 0x30), then jumps to the random code at [0xfd8] in
 * ring 0, or, when [0xfd0] is not zero, IRETQs to it in ring 3.
 * Position-dependent: addresses are 0x8000 + offset from ring0_stub_start. */
#define AT(x) (0x8000 + (x) - ring0_stub_start)
	.section .rodata.ring0_stub, "a"
	.globl ring0_stub_start, ring0_stub_end
	.code32
ring0_stub_start:
	lgdt	0xff0
	movl	$0x20, %eax             /* CR4.PAE */
	movl	%eax, %cr4
	movl	$0x4000, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx       /* EFER: SCE LME NXE */
	rdmsr
	orl	$0x901, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80010001, %eax       /* PG WP PE */
	movl	%eax, %cr0
	ljmp	$0x08, $AT(1f)
	.code64
1:	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	lidt	0xfe0
	movw	$0x30, %ax
	ltr	%ax
	movq	$0x70000, %rsp
	cmpq	$0, 0xfd0
	je	2f
	pushq	$0x23
	pushq	$0x60000
	pushq	$0x202
	pushq	$0x2b
	pushq	0xfd8
	iretq
2:	jmp	*0xfd8
ring0_stub_end:

	.section .note.GNU-stack, "", @progbits
