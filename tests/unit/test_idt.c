/*
 * test_idt.c - event delivery (interrupt.c) and IRET (iret.c): IDT gates in
 * long and protected mode, the IVT in real mode, error codes, the stack
 * switch through the TSS (RSP0, IST, ESP0), privilege checks of INT n,
 * double and triple fault, external interrupts with the STI shadow and HLT,
 * and NMI.  Each test builds its tables with sys_util.h and runs real code.
 */
#include <stdio.h>
#include <string.h>

#include "sys_util.h"

/* long mode, CPL 0: INT3 -> handler -> IRETQ; the frame and IF. */
static void test_int3_long(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0xb8, 0x01, 0, 0, 0, 0xcc, 0xbb, 0x02, 0, 0, 0, 0xf4 };
	/* mov r8..r12, [rsp+0..32]; pushfq; pop r13; inc ecx; iretq */
	static const uint8_t hnd[] = {
		0x4c, 0x8b, 0x04, 0x24, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x4c, 0x8b, 0x54, 0x24, 0x10,
		0x4c, 0x8b, 0x5c, 0x24, 0x18, 0x4c, 0x8b, 0x64, 0x24, 0x20, 0x9c, 0x41, 0x5d,
		0xff, 0xc1, 0x48, 0xcf };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_BP, SY_HND, 0xe, 0, 0);
	cpu_set_rflags(c, FLAG_IF);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8], UT_CODE + 6);        /* after the INT3 */
	CU_ASSERT_EQUAL(c->gpr[R_R9], 0x08);
	CU_ASSERT_EQUAL(c->gpr[R_R10] & FLAG_IF, FLAG_IF);
	CU_ASSERT_EQUAL(c->gpr[R_R11], SY_KSTK);
	CU_ASSERT_EQUAL(c->gpr[R_R12], 0x10);
	CU_ASSERT_EQUAL(c->gpr[R_R13] & FLAG_IF, 0);       /* interrupt gate */
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 1);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 2);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], SY_KSTK);
	CU_ASSERT(cpu_get_rflags(c) & FLAG_IF);
}

/* A fault pushes an error code and the faulting RIP. */
static void test_gp_error_code(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x66, 0xb8, 0x4b, 0x00, 0x8e, 0xd8, 0xf4 }; /* mov ds, 0x4b */
	static const uint8_t hnd[] = { 0x4c, 0x8b, 0x04, 0x24, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0xf4 };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_GP, SY_HND, 0xe, 0, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0x48);              /* RPL 3 > DPL 0 */
	CU_ASSERT_EQUAL(c->gpr[R_R9], UT_CODE + 4);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], SY_KSTK - 48);
}

/* RFLAGS.RF in the pushed image (SDM Vol. 3 18.3.1.1): 1 for a fault
 * (#GP here), as it is in RFLAGS for a trap (INT3: 0); the handler runs
 * with RF = 0. */
static void test_rf_pushed(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x66, 0xb8, 0x4b, 0x00, 0x8e, 0xd8, 0xf4 }; /* mov ds, 0x4b */
	/* mov r8, [rsp+24]; pushfq; pop r9; hlt */
	static const uint8_t hnd[] = { 0x4c, 0x8b, 0x44, 0x24, 0x18, 0x9c, 0x41, 0x59, 0xf4 };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_GP, SY_HND, 0xe, 0, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8] & FLAG_RF, FLAG_RF);
	CU_ASSERT_EQUAL(cpu_get_rflags(c) & FLAG_RF, 0);
	c = sy_cpu64();
	static const uint8_t trap[] = { 0xcc, 0xf4 };
	static const uint8_t hnd3[] = { 0x4c, 0x8b, 0x44, 0x24, 0x10, 0xf4 };  /* mov r8, [rsp+16]; hlt */
	sy_put(c, SY_HND, hnd3, sizeof hnd3);
	sy_gate64(c, VEC_BP, SY_HND, 0xe, 0, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, trap), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8] & FLAG_RF, 0);
}

/* IRETQ with RF = 1 in the image: RF holds for the next instruction only
 * and is clear once it has completed, so an INT3 after one NOP pushes
 * RF = 0; a REP STOSB long enough to yield to the run loop between
 * iterations (RF = 1 meanwhile) leaves RF = 0 when it completes. */
static void test_rf_iret_and_rep(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = {
		0x48, 0x89, 0xe0,                          /* mov rax, rsp */
		0x6a, 0x10, 0x50,                          /* push 0x10; push rax */
		0x68, 0x02, 0x00, 0x01, 0x00,              /* push 0x10002 (RF) */
		0x6a, 0x08,                                /* push 0x08 */
		0x48, 0x8d, 0x0d, 0x03, 0, 0, 0,           /* lea rcx, [rip+3] */
		0x51, 0x48, 0xcf,                          /* push rcx; iretq */
		0x90, 0xcc,                                /* nop; int3 */
		0xb9, 0x70, 0x11, 0x01, 0x00,              /* mov ecx, 70000 */
		0xbf, 0x00, 0x00, 0x20, 0x00,              /* mov edi, 0x200000 */
		0xf3, 0xaa, 0xcc, 0xf4,                    /* rep stosb; int3; hlt */
	};
	/* mov r8, [rsp+16]; mov [r9*8+0x60000], r8; inc r9; iretq */
	static const uint8_t hnd[] = { 0x4c, 0x8b, 0x44, 0x24, 0x10,
		0x4e, 0x89, 0x04, 0xcd, 0x00, 0x00, 0x06, 0x00, 0x49, 0xff, 0xc1, 0x48, 0xcf };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_BP, SY_HND, 0xe, 0, 0);
	c->gpr[R_R9] = 0;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R9], 2);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	CU_ASSERT_EQUAL(sn_peek(c, 0x60000, 8) & FLAG_RF, 0);
	CU_ASSERT_EQUAL(sn_peek(c, 0x60008, 8) & FLAG_RF, 0);
	CU_ASSERT_EQUAL(cpu_get_rflags(c) & FLAG_RF, 0);
}

/* Ring 3 -> INT 0x80 (DPL 3) -> ring 0 on RSP0 -> IRETQ -> ring 3 ->
 * INT 0x81 (DPL 0) -> #GP(0x81*8+2). */
static void test_ring3_int(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x2b, 0x68, 0x00, 0x10, 0x01, 0x00, 0x48, 0xcf };
	static const uint8_t user[] = { 0xb8, 0x05, 0, 0, 0, 0xcd, 0x80, 0x89, 0xc3, 0xcd, 0x81 };
	static const uint8_t h80[] = {
		0x4c, 0x8b, 0x04, 0x24, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x4c, 0x8b, 0x5c, 0x24, 0x18,
		0x4c, 0x8b, 0x64, 0x24, 0x20, 0x49, 0x89, 0xe6, 0x83, 0xc0, 0x0a, 0x48, 0xcf };
	static const uint8_t hgp[] = { 0x4c, 0x8b, 0x3c, 0x24, 0x4c, 0x8b, 0x6c, 0x24, 0x10, 0xf4 };
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND, h80, sizeof h80);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	sy_gate64(c, 0x80, SY_HND, 0xe, 3, 0);
	sy_gate64(c, 0x81, SY_HND, 0xe, 0, 0);
	sy_gate64(c, VEC_GP, SY_HND + 0x100, 0xe, 0, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0x11007);
	CU_ASSERT_EQUAL(c->gpr[R_R9], 0x2b);
	CU_ASSERT_EQUAL(c->gpr[R_R11], SY_USTK);
	CU_ASSERT_EQUAL(c->gpr[R_R12], 0x23);
	CU_ASSERT_EQUAL(c->gpr[R_R14], SY_RSP0 - 40);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 15);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0x81 * 8 + 2);     /* IDT bit, not EXT */
	CU_ASSERT_EQUAL(c->gpr[R_R13], 0x2b);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, 0);            /* null SS, RPL 0 */
	CU_ASSERT_EQUAL(c->gpr[R_RSP], SY_RSP0 - 48);
}

/* A gate with IST1 switches stacks even without a privilege change. */
static void test_ist(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0xcc, 0xf4 };
	static const uint8_t hnd[] = { 0x49, 0x89, 0xe6, 0x48, 0xcf };   /* mov r14, rsp; iretq */
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_BP, SY_HND, 0xe, 0, 1);
	c->gpr[R_RSP] = SY_KSTK - 8;     /* misaligned: IST is used as is */
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R14], SY_IST1 - 40);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], SY_KSTK - 8);
}

/* #GP whose gate is missing: #GP on delivery -> #DF with error code 0. */
static void test_double_fault(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x66, 0xb8, 0x4b, 0x00, 0x8e, 0xd8, 0xf4 };
	static const uint8_t hnd[] = { 0x4c, 0x8b, 0x3c, 0x24, 0x4c, 0x8b, 0x74, 0x24, 0x08, 0xf4 };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_DF, SY_HND, 0xe, 0, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0);
	CU_ASSERT_EQUAL(c->gpr[R_R14], UT_CODE + 4);
}

/* No #DF gate either: shutdown, with a register dump in c->error. */
static void test_triple_fault(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x66, 0xb8, 0x4b, 0x00, 0x8e, 0xd8, 0xf4 };
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_SHUTDOWN);
	CU_ASSERT(strstr(c->error, "triple fault") != NULL);
	CU_ASSERT(strstr(c->error, "rip 0x10004") != NULL);
	/* A benign first event (INT3) whose gate is missing gives #GP, not #DF. */
	static const uint8_t hnd[] = { 0x4c, 0x8b, 0x3c, 0x24, 0xf4 };   /* mov r15, [rsp] */
	c = sy_cpu64();
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_GP, SY_HND, 0xe, 0, 0);
	static const uint8_t i3[] = { 0x90, 0xcc, 0xf4 };
	CU_ASSERT_EQUAL(SY_RUN(c, i3), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 3 * 8 + 2);
	CU_ASSERT_EQUAL(sn_peek(c, SY_KSTK - 40, 8), UT_CODE + 1);   /* RIP of the INT3 */
}

/* Real mode: INT 10h through the IVT and IRET. */
static void test_real_ivt(void)
{
	struct cpu *c = sn_cpu();
	c->exceptions_stop = false;
	c->idtr.base = 0;
	c->idtr.limit = 0x3ff;
	static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0xcd, 0x10, 0x89, 0xc3 };
	static const uint8_t hnd[] = { 0x9c, 0x5a, 0x83, 0xc0, 0x05, 0xcf };  /* pushf; pop dx; add ax,5; iret */
	sy_put(c, 0x20000, hnd, sizeof hnd);
	sn_poke(c, 0x10 * 4, 4, 0x20000000);       /* 2000:0000 */
	c->gpr[R_RSP] = 0x8000;
	cpu_set_rflags(c, FLAG_IF);
	CU_ASSERT_EQUAL(sn_run_real(c, code, sizeof code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBX] & 0xffff, 6);
	CU_ASSERT_EQUAL(c->gpr[R_RDX] & FLAG_IF, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x8000);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, UT_CODE >> 4);
	CU_ASSERT(cpu_get_rflags(c) & FLAG_IF);
}

/* 32-bit protected mode: ring 3 -> INT 0x80 -> ring 0 on SS0:ESP0 ->
 * IRETD (data segments the user may not see become null) -> #GP. */
static void test_prot32_ring3(void)
{
	struct cpu *c = sy_cpu32();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x1b, 0x68, 0x00, 0x10, 0x01, 0x00, 0xcf };
	static const uint8_t user[] = { 0xb8, 0x05, 0, 0, 0, 0xcd, 0x80, 0x89, 0xc3, 0xcd, 0x81 };
	static const uint8_t h80[] = { 0x8b, 0x74, 0x24, 0x0c, 0x8b, 0x6c, 0x24, 0x10, 0x89, 0xe2,
				       0x83, 0xc0, 0x0a, 0xcf };
	static const uint8_t hgp[] = { 0x8b, 0x3c, 0x24, 0xf4 };
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND, h80, sizeof h80);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	sy_gate32(c, 0x80, (uint32_t)SY_HND, 0x40, 0xe, 3);
	sy_gate32(c, VEC_GP, (uint32_t)SY_HND + 0x100, 0x40, 0xe, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], SY_USTK);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x23);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], SY_RSP0 - 20);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 15);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x81 * 8 + 2);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, 0x10);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE32);
}

/* External interrupts: STI's shadow covers the next instruction; HLT wakes. */
static bool irq_line;
static bool irq_pending(struct cpu *c) { (void)c; return irq_line; }
static int irq_ack(struct cpu *c) { (void)c; irq_line = false; return 0x20; }

static void test_sti_shadow_hlt(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0xfb, 0xb8, 0x07, 0, 0, 0, 0x90, 0xf4, 0xf4 };
	static const uint8_t hnd[] = { 0x49, 0x89, 0xc0, 0xff, 0xc1, 0x48, 0xcf };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, 0x20, SY_HND, 0xe, 0, 0);
	c->intr_pending = irq_pending;
	c->intr_ack = irq_ack;
	irq_line = true;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 7);            /* not before the MOV */
	/* Taken right after the MOV, the one instruction STI's shadow covers
	 * (exec.c ends the block there); the first HLT then halts with nothing
	 * pending. */
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 8);
	/* An NMI ignores IF. */
	cpu_set_rflags(c, 0);
	sy_gate64(c, VEC_NMI, SY_HND, 0xe, 0, 0);
	c->nmi_pending = true;
	static const uint8_t h2[] = { 0xf4, 0xf4 };
	CU_ASSERT_EQUAL(SY_RUN(c, h2), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 2);
}

/* IRETQ at CPL 3 cannot raise IOPL or set IF when IOPL < 3. */
static void test_iret_flags_cpl3(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x00, 0, 0,
					0x6a, 0x2b, 0x68, 0x00, 0x10, 0x01, 0x00, 0x48, 0xcf };
	/* user: push 0x2b; ... iretq to itself with flags 0x3202, then int 0x81 */
	static const uint8_t user[] = {
		0x48, 0x89, 0xe0,                          /* mov rax, rsp */
		0x6a, 0x23, 0x50,                          /* push 0x23; push rax */
		0x68, 0x02, 0x32, 0x00, 0x00,              /* push 0x3202 */
		0x6a, 0x2b,                                /* push 0x2b */
		0x68, 0x17, 0x10, 0x01, 0x00,              /* push 0x11017 */
		0x48, 0xcf,                                /* iretq */
		0x90, 0x90, 0x90,
		0xcd, 0x81 };                              /* 0x11017: int 0x81 -> #GP */
	static const uint8_t hgp[] = { 0x4c, 0x8b, 0x7c, 0x24, 0x18, 0xf4 };   /* r15 = rflags */
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	sy_gate64(c, VEC_GP, SY_HND + 0x100, 0xe, 0, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15] & (FLAG_IOPL | FLAG_IF), 0);
}

/* Virtual-8086 mode: IRETD with VM = 1 enters it; INT 0x80 (IOPL 3) goes
 * to a ring-0 handler with ES/DS/FS/GS pushed and nulled; IRETD returns to
 * virtual-8086 mode; HLT there is #GP(0). */
static void test_v86(void)
{
	struct cpu *c = sy_cpu32();
	static const uint8_t code[] = {
		0x6a, 0x00, 0x6a, 0x00, 0x68, 0x00, 0x20, 0x00, 0x00, 0x6a, 0x00, 0x68, 0x00, 0x30,
		0x00, 0x00, 0x68, 0x00, 0x01, 0x00, 0x00, 0x68, 0x02, 0x32, 0x02, 0x00, 0x68, 0x00,
		0x11, 0x00, 0x00, 0x6a, 0x00, 0xcf };
	static const uint8_t v86[] = { 0xb8, 0x05, 0x00, 0xcd, 0x80, 0x89, 0xc3, 0xf4 };
	static const uint8_t h80[] = { 0x8b, 0x74, 0x24, 0x18, 0x8b, 0x6c, 0x24, 0x08, 0x83, 0xc0,
				       0x0a, 0xcf };
	static const uint8_t hgp[] = { 0x8b, 0x3c, 0x24, 0x8b, 0x54, 0x24, 0x04, 0xf4 };
	sy_put(c, 0x11000, v86, sizeof v86);
	sy_put(c, SY_HND, h80, sizeof h80);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	sy_gate32(c, 0x80, (uint32_t)SY_HND, 0x40, 0xe, 3);
	sy_gate32(c, VEC_GP, (uint32_t)SY_HND + 0x100, 0x40, 0xe, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x2000);              /* DS pushed by INT from v86 */
	CU_ASSERT(c->gpr[R_RBP] & FLAG_VM);
	CU_ASSERT_EQUAL(c->gpr[R_RBX] & 0xffff, 15);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 7);                   /* IP of the HLT */
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 32, 4), 0x1100); /* CS */
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE32);
}

/* An external interrupt whose gate is missing: #GP with IDT and EXT set. */
static void test_extint_bad_gate(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0xfb, 0x90, 0xf4 };             /* sti; nop; hlt */
	static const uint8_t hgp[] = { 0x4c, 0x8b, 0x3c, 0x24, 0xf4 };  /* r15 = error code */
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	sy_gate64(c, VEC_GP, SY_HND + 0x100, 0xe, 0, 0);
	c->intr_pending = irq_pending;
	c->intr_ack = irq_ack;
	irq_line = true;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0x20 * 8 + 2 + 1);
}

/* 32-bit: a TSS whose SS0 is null cannot give a ring-0 stack: #TS, and
 * since every later delivery needs that stack too, #DF and shutdown. */
static void test_bad_tss_stack(void)
{
	struct cpu *c = sy_cpu32();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x1b, 0x68, 0x00, 0x10, 0x01, 0x00, 0xcf };
	static const uint8_t user[] = { 0xcd, 0x80 };
	sy_put(c, 0x11000, user, sizeof user);
	for (int v = 0; v < 0x81; v++)
		sy_gate32(c, v, (uint32_t)SY_HND, 0x40, 0xe, 3);
	sn_poke(c, SY_TSS + 8, 2, 0);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_SHUTDOWN);
	CU_ASSERT(strstr(c->error, "vector 10 while delivering 8") != NULL);
	CU_ASSERT_EQUAL(c->rip, 0x11000);
	CU_ASSERT_EQUAL(c->cpl, 3);
}

/* A second NMI raised inside the NMI handler waits for its IRETQ. */
static void nmi_again(struct cpu *c)
{
	c->nmi_pending = true;
	c->event_deadline = UINT64_MAX;
}

static void test_nmi_blocking(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x90, 0x90, 0x90, 0xf4 };
	/* inc ecx; cmp ecx, 2; jne 1f; mov r10, [rsp]; 1: nop; iretq */
	static const uint8_t hnd[] = { 0xff, 0xc1, 0x83, 0xf9, 0x02, 0x75, 0x04, 0x4c, 0x8b, 0x14,
				       0x24, 0x90, 0x48, 0xcf };
	sy_put(c, SY_HND, hnd, sizeof hnd);
	sy_gate64(c, VEC_NMI, SY_HND, 0xe, 0, 0);
	c->nmi_pending = true;
	c->on_event = nmi_again;
	c->event_deadline = 2;          /* inside the first handler */
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 2);
	CU_ASSERT_EQUAL(c->gpr[R_R10], UT_CODE);     /* taken after the IRETQ, not nested */
	CU_ASSERT_FALSE(c->nmi_blocked);
}

/* BOUND: in range nothing happens; out of range #BR is a fault on it. */
static void test_bound(void)
{
	struct cpu *c = sy_cpu32();
	static const uint8_t code[] = { 0xb8, 0x05, 0, 0, 0, 0x62, 0x05, 0x00, 0x50, 0, 0,
					0xb8, 0x0b, 0, 0, 0, 0x62, 0x05, 0x00, 0x50, 0, 0, 0xf4 };
	static const uint8_t hbr[] = { 0x8b, 0x34, 0x24, 0xf4 };   /* esi = EIP */
	sy_put(c, SY_HND, hbr, sizeof hbr);
	sy_gate32(c, VEC_BR, (uint32_t)SY_HND, 0x40, 0xe, 0);
	sn_poke(c, 0x5000, 4, 0xfffffffe);     /* -2 */
	sn_poke(c, 0x5004, 4, 10);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], UT_CODE + 16);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], SY_KSTK - 12);          /* no error code */
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "long mode INT3 -> IRETQ, frame and IF", test_int3_long },
		{ "RF pushed for faults, not traps", test_rf_pushed },
		{ "RF from IRETQ lasts one instruction; REP yields", test_rf_iret_and_rep },
		{ "#GP error code and faulting RIP", test_gp_error_code },
		{ "ring 3 INT 0x80 on RSP0, IRETQ, gate DPL #GP", test_ring3_int },
		{ "IST stack", test_ist },
		{ "#DF from a fault during #GP delivery", test_double_fault },
		{ "triple fault shutdown; benign first event", test_triple_fault },
		{ "real mode IVT and IRET", test_real_ivt },
		{ "32-bit ring 3 INT, ESP0, IRETD, null data segs", test_prot32_ring3 },
		{ "STI shadow, HLT wake, NMI", test_sti_shadow_hlt },
		{ "IRETQ flags at CPL 3", test_iret_flags_cpl3 },
		{ "virtual-8086 mode: IRETD in, INT out and back, #GP", test_v86 },
		{ "external interrupt, missing gate: #GP(IDT|EXT)", test_extint_bad_gate },
		{ "null SS0 in the TSS: #TS, #DF, shutdown", test_bad_tss_stack },
		{ "NMI blocked until IRET", test_nmi_blocking },
		{ "BOUND and #BR", test_bound },
		{ NULL, NULL },
	};
	return ut_main("idt", cases);
}
