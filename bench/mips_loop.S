/*
 * mips_loop.S - the guest side of the MIPS benchmark: a 20-instruction loop of
 * ALU operations, loads, stores and branches (one conditional branch that
 * goes both ways, one loop branch), the shape the issue measures Bochs (about
 * 94 MIPS) and QEMU TCG (about 2,300 MIPS) with.  Guest code kept in the host
 * binary's read-only data; position-independent.  rdi = data buffer,
 * r12 = iterations.  Ends with HLT.
 */
	.section .rodata.mips_loop, "a"
	.globl mips_loop_start, mips_loop_end
	.code64
mips_loop_start:
1:	mov	(%rdi), %rax            /*  1 load  */
	add	%rbx, %rax              /*  2 */
	xor	%rax, %rdx              /*  3 */
	mov	%rdx, 8(%rdi)           /*  4 store */
	sub	$3, %rbx                /*  5 */
	and	$0xff, %eax             /*  6 */
	or	%rcx, %rdx              /*  7 */
	shr	$1, %rcx                /*  8 */
	add	%rax, %rsi              /*  9 */
	mov	16(%rdi), %r8           /* 10 load */
	lea	(%r8,%rax,2), %r9       /* 11 */
	cmp	%rsi, %r9               /* 12 */
	jae	2f                      /* 13 branch, both ways */
	inc	%r10                    /* 14 (not always) */
2:	mov	%r9, 24(%rdi)           /* 15 store */
	adc	%r8, %r11               /* 16 */
	test	$1, %r10b               /* 17 */
	movzbl	%dl, %ecx               /* 18 */
	dec	%r12                    /* 19 */
	jnz	1b                      /* 20 loop */
	hlt
mips_loop_end:

	.section .note.GNU-stack, "", @progbits
