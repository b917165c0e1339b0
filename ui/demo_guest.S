/*
 * demo_guest.S - the built-in program `nestlab` runs when given no image.
 *
 * This is guest code, not host code: it sits in the host binary's read-only
 * data between demo_guest_start and demo_guest_end, and nestlab copies it into
 * the guest's RAM and runs it in flat 64-bit mode.  It is position-independent
 * (RIP-relative addressing only), so the load address does not matter.
 *
 * It prints a greeting and the primes below 100 (trial division: DIV, CALL,
 * RET, string instructions, conditional jumps) on the debug console (port
 * 0xE9), then ends the run through the debug-exit port 0xF4 with status 0.
 * Once the hypervisor and the teaching guest exist, they become the default.
 */
	.section .rodata.demo_guest, "a"
	.globl demo_guest_start, demo_guest_end
	.code64
demo_guest_start:
	lea	greeting(%rip), %rsi
	call	puts
	mov	$2, %ebx                /* candidate */
1:	call	is_prime
	test	%eax, %eax
	jz	2f
	mov	%ebx, %eax
	call	put_dec
	mov	$' ', %al
	call	putc
2:	inc	%ebx
	cmp	$100, %ebx
	jb	1b
	mov	$'\n', %al
	call	putc
	lea	copied(%rip), %rdi      /* REP MOVSB a message into a buffer */
	lea	bye(%rip), %rsi
	mov	$bye_len, %ecx
	cld
	rep movsb
	movb	$0, (%rdi)
	lea	copied(%rip), %rsi
	call	puts
	xor	%eax, %eax
	mov	$0xf4, %dx
	out	%al, %dx                /* debug-exit: status 0 */
	hlt

/* eax = 1 if ebx is prime (trial division), else 0 */
is_prime:
	mov	$2, %ecx
3:	mov	%ecx, %eax
	imul	%ecx, %eax
	cmp	%ebx, %eax
	ja	5f
	mov	%ebx, %eax
	xor	%edx, %edx
	div	%ecx
	test	%edx, %edx
	jz	4f
	inc	%ecx
	jmp	3b
4:	xor	%eax, %eax
	ret
5:	mov	$1, %eax
	ret

/* print eax in decimal */
put_dec:
	push	%rbx
	mov	$10, %ecx
	xor	%ebx, %ebx              /* digit count */
6:	xor	%edx, %edx
	div	%ecx
	push	%rdx
	inc	%ebx
	test	%eax, %eax
	jnz	6b
7:	pop	%rax
	add	$'0', %al
	call	putc
	dec	%ebx
	jnz	7b
	pop	%rbx
	ret

/* print the NUL-terminated string at rsi */
puts:
	lodsb
	test	%al, %al
	jz	8f
	call	putc
	jmp	puts
8:	ret

putc:
	push	%rdx
	mov	$0xe9, %dx
	out	%al, %dx
	pop	%rdx
	ret

greeting:
	.ascii	"Nestlab: this program runs on Nestlab's own x86-64 interpreter.\n"
	.asciz	"Primes below 100: "
bye:
	.ascii	"Copied with REP MOVSB. Goodbye.\n"
	.set	bye_len, . - bye
copied:
	.fill	64, 1, 0
demo_guest_end:

	.section .note.GNU-stack, "", @progbits
