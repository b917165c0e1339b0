/*
 * native_tramp.S - enter and leave a generated sequence on the host CPU.
 *
 * native_enter() saves the callee-saved registers and the host RSP, loads
 * RFLAGS and then all sixteen GPRs from native_in (RSP last: from then on
 * the stack is the sequence's stack page), and jumps to the code at
 * native_entry.  Only POPF touches the flags, and every later load is a
 * MOV, which leaves them alone.
 *
 * The sequence's epilogue jumps to native_exit (jmp [rip+0]), which stores
 * the GPRs with RIP-relative MOVs (no scratch register, no stack), switches
 * back to the host stack, saves RFLAGS with PUSHF, clears DF for the C ABI
 * and returns to the caller of native_enter().
 *
 * The x87/MMX/SSE state goes in and out as FXSAVE images (native_fx_in,
 * native_fx_out; FXRSTOR and FXSAVE touch no flag and need no register),
 * and the host's own state is saved around the run (native_fx_host): a
 * sequence may leave MXCSR rounding up or the x87 stack in MMX state.
 *
 * Layout of native_in/native_out: gpr[16] in ModRM order (RAX RCX RDX RBX
 * RSP RBP RSI RDI R8..R15), then RFLAGS at offset 128.
 */
	.text
	.globl native_enter
	.type native_enter, @function
native_enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, native_host_rsp(%rip)
	fxsave64 native_fx_host(%rip)
	fxrstor64 native_fx_in(%rip)
	pushq native_in+128(%rip)
	popfq
	mov native_in+0(%rip), %rax
	mov native_in+8(%rip), %rcx
	mov native_in+16(%rip), %rdx
	mov native_in+24(%rip), %rbx
	mov native_in+40(%rip), %rbp
	mov native_in+48(%rip), %rsi
	mov native_in+56(%rip), %rdi
	mov native_in+64(%rip), %r8
	mov native_in+72(%rip), %r9
	mov native_in+80(%rip), %r10
	mov native_in+88(%rip), %r11
	mov native_in+96(%rip), %r12
	mov native_in+104(%rip), %r13
	mov native_in+112(%rip), %r14
	mov native_in+120(%rip), %r15
	mov native_in+32(%rip), %rsp
	jmp *native_entry(%rip)
	.size native_enter, .-native_enter

	.globl native_exit
	.type native_exit, @function
native_exit:
	mov %rax, native_out+0(%rip)
	mov %rcx, native_out+8(%rip)
	mov %rdx, native_out+16(%rip)
	mov %rbx, native_out+24(%rip)
	mov %rsp, native_out+32(%rip)
	mov %rbp, native_out+40(%rip)
	mov %rsi, native_out+48(%rip)
	mov %rdi, native_out+56(%rip)
	mov %r8, native_out+64(%rip)
	mov %r9, native_out+72(%rip)
	mov %r10, native_out+80(%rip)
	mov %r11, native_out+88(%rip)
	mov %r12, native_out+96(%rip)
	mov %r13, native_out+104(%rip)
	mov %r14, native_out+112(%rip)
	mov %r15, native_out+120(%rip)
	fxsave64 native_fx_out(%rip)
	fxrstor64 native_fx_host(%rip)
	mov native_host_rsp(%rip), %rsp
	pushfq
	popq native_out+128(%rip)
	cld
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size native_exit, .-native_exit

	.data
	.balign 16
	.globl native_in, native_out, native_entry, native_fx_in, native_fx_out
native_fx_in:	.space 512
native_fx_out:	.space 512
native_fx_host:	.space 512
native_in:	.space 136
native_out:	.space 136
native_entry:	.quad 0x10000
native_host_rsp: .quad 0

	.section .note.GNU-stack,"",@progbits
