/*
 * test_stack.c - cpu/stack.c run as real instruction bytes: PUSH/POP in
 * every form and size, the rSP special cases, 16-bit stacks (SS.B = 0)
 * that wrap SP and keep ESP's upper half, segment registers, PUSHF/POPF
 * privilege rules, ENTER with nesting levels, LEAVE, PUSHA/POPA, and the
 * faults (#SS on a non-canonical stack, RSP untouched).
 *
 * Expected values are worked out from the SDM "Operation" sections.
 */
#include "snippet.h"

#define S0 (3ull << 20)     /* ut_cpu's RSP */

static void test_push_pop_64(void)
{
	static const uint8_t code[] = {
		0x41, 0x54,                     /* push r12 */
		0x41, 0x5d,                     /* pop r13 */
		0x6a, 0xff,                     /* push -1 (imm8 -> 64 bits) */
		0x68, 0x78, 0x56, 0x34, 0x92,   /* push 0x92345678 (imm32 -> 64) */
		0x66, 0x6a, 0x80,               /* push word -128 */
		0x66, 0x68, 0x34, 0x12,         /* push word 0x1234 */
		0x66, 0x50,                     /* push ax */
		0x66, 0x59,                     /* pop cx */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_R12] = 0x0123456789abcdefull;
	c->gpr[R_RAX] = 0x5555;
	c->gpr[R_RCX] = 0xcccccccccccccccc;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R13], 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 8 - 8 - 2 - 2);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 8, 8), ~0ull);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 16, 8), 0xffffffff92345678ull);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 18, 2), 0xff80);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 20, 2), 0x1234);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0xcccccccccccc5555ull);
}

/* PUSH RSP stores the old value; POP RSP loads (the increment is lost);
 * PUSH [RSP] reads the old top; POP [RSP+8] addresses with the NEW RSP. */
static void test_rsp_special(void)
{
	static const uint8_t code[] = {
		0x54,                           /* push rsp */
		0xff, 0x34, 0x24,               /* push qword [rsp] */
		0x8f, 0x44, 0x24, 0x08,         /* pop qword [rsp+8] */
		0x5c,                           /* pop rsp */
	};
	struct cpu *c = sn_cpu();
	sn_poke(c, S0, 8, 0x4242);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	/* [S0-8] = S0; [S0-16] = S0; pop: value S0, RSP = S0-8, stored at
	 * [S0-8+8] = [S0]; then pop rsp loads [S0-8] = S0. */
	CU_ASSERT_EQUAL(sn_peek(c, S0, 8), S0);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0);
	/* and the store that goes to the new-RSP address, seen once more */
	c = sn_cpu();
	static const uint8_t code2[] = { 0x8f, 0x04, 0x24 };   /* pop qword [rsp] */
	sn_poke(c, S0, 8, 0x1111);
	sn_poke(c, S0 + 8, 8, 0x2222);
	CU_ASSERT_EQUAL(SN_RUN(c, code2), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, S0 + 8, 8), 0x1111);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 + 8);
}

/* 32-bit code on a 16-bit stack: SP wraps at 64 KiB and ESP[31:16] stay. */
static void test_stack16_wrap(void)
{
	static const uint8_t code[] = {
		0x50,           /* push eax */
		0x66, 0x53,     /* push bx */
		0x5a,           /* pop edx: reads [SS:FFFA] (wraps back) */
	};
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, false);
	c->seg[SEG_SS].base = 0x100000;
	c->gpr[R_RSP] = 0x12340002;
	c->gpr[R_RAX] = 0xa1b2c3d4;
	c->gpr[R_RBX] = 0x7788;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	/* push eax: SP 0002 -> FFFE, 4 bytes at SS:FFFE (the flat SS of this
	 * test has a 4 GiB limit, so the bytes past FFFF are not a fault) */
	CU_ASSERT_EQUAL(sn_peek(c, 0x100000 + 0xfffe, 4), 0xa1b2c3d4);
	CU_ASSERT_EQUAL(sn_peek(c, 0x100000 + 0xfffc, 2), 0x7788);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0xc3d47788);
	CU_ASSERT_EQUAL(c->gpr[R_RSP] & 0xffffffff, 0x12340000);
}

/* PUSH/POP FS and GS in 64-bit mode; a null selector loads. */
static void test_push_pop_fs_gs(void)
{
	static const uint8_t code[] = {
		0x0f, 0xa0,     /* push fs (zero-extended, 8 bytes) */
		0x0f, 0xa8,     /* push gs */
		0x6a, 0x00,     /* push 0 */
		0x0f, 0xa1,     /* pop fs */
	};
	static const uint8_t pop_gs[] = { 0x0f, 0xa9 };
	struct cpu *c = sn_cpu();
	c->seg[SEG_FS].sel = 0x2b;
	c->seg[SEG_FS].base = 0x5000;
	c->seg[SEG_GS].sel = 0x33;
	sn_poke(c, S0 - 8, 8, ~0ull);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 8, 8), 0x2b);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 16, 8), 0x33);
	CU_ASSERT_EQUAL(c->seg[SEG_FS].sel, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_FS].base, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 16);
	/* POP GS with a real selector needs the GDT: #GP(sel), RSP kept */
	CU_ASSERT_EQUAL(SN_RUN(c, pop_gs), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc_error, 0x30);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 16);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].sel, 0x33);
}

/* Real mode: PUSH/POP Sreg, base = selector << 4. */
static void test_seg_real_mode(void)
{
	static const uint8_t code[] = {
		0x50,           /* push ax */
		0x1f,           /* pop ds */
		0x06,           /* push es */
		0x0e,           /* push cs */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0xb800;
	c->gpr[R_RSP] = 0x7000;
	c->seg[SEG_ES].sel = 0x1234;
	CU_ASSERT_EQUAL(sn_run_real(c, code, sizeof code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0xb800);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].base, 0xb8000);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x6ffc);
	CU_ASSERT_EQUAL(sn_peek(c, 0x6ffe, 2), 0x1234);
	CU_ASSERT_EQUAL(sn_peek(c, 0x6ffc, 2), UT_CODE >> 4);
}

static void test_pusha_popa(void)
{
	static const uint8_t code[] = {
		0x60,           /* pusha */
		0x66, 0x60,     /* pushaw */
		0x66, 0x61,     /* popaw */
		0x61,           /* popa */
	};
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	const uint64_t sp = 0x80000;
	for (int r = 0; r < 8; r++)
		c->gpr[r] = 0x11111111u * (unsigned)(r + 1);
	c->gpr[R_RSP] = sp;
	/* pusha alone first, to see the image */
	CU_ASSERT_EQUAL(ut_run(c, code, 1, 1), CPU_STOP_LIMIT);
	static const int order[8] = { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI };
	for (int k = 0; k < 8; k++) {
		uint64_t want = order[k] == R_RSP ? sp : 0x11111111u * (unsigned)(order[k] + 1);
		CU_ASSERT_EQUAL(sn_peek(c, sp - 4 * (uint64_t)(k + 1), 4), want);
	}
	CU_ASSERT_EQUAL(c->gpr[R_RSP], sp - 32);
	/* the whole sequence, with registers scribbled between */
	c->gpr[R_RSP] = sp;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 3), CPU_STOP_LIMIT); /* pusha, pushaw, popaw */
	for (int r = 0; r < 8; r++)
		if (r != R_RSP)
			c->gpr[r] = 0;
	CU_ASSERT_EQUAL(cpu_run(c, 1), CPU_STOP_LIMIT);              /* popa */
	for (int r = 0; r < 8; r++)
		if (r != R_RSP)
			CU_ASSERT_EQUAL(c->gpr[r], 0x11111111u * (unsigned)(r + 1));
	CU_ASSERT_EQUAL(c->gpr[R_RSP], sp);
}

/* ---- PUSHF / POPF ------------------------------------------------------------------ */

#define ALL_POPF (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_TF | FLAG_IF | \
		  FLAG_DF | FLAG_OF | FLAG_IOPL | FLAG_NT | FLAG_AC | FLAG_ID)

/* Pop `image` with POPFQ at the given CPL/IOPL starting from flags `f0`. */
static uint64_t popf_at(int cpl, uint64_t f0, uint64_t image, const uint8_t *code, size_t len)
{
	struct cpu *c = sn_cpu();
	c->cpl = cpl;
	c->rflags = f0;
	sn_poke(c, S0, 8, image);
	CU_ASSERT_EQUAL(ut_run(c, code, len, 1), CPU_STOP_LIMIT);
	return cpu_get_rflags(c);
}

static void test_popf_rules(void)
{
	static const uint8_t popfq[] = { 0x9d }, popfw[] = { 0x66, 0x9d };
	const uint64_t img = ALL_POPF | FLAG_RF | FLAG_VM | FLAG_VIF | FLAG_VIP | 0xffffffff00000000ull;
	const uint64_t base = FLAG_FIXED1 | FLAG_IF;
	/* CPL 3, IOPL 0: IF and IOPL silently kept; RF cleared; VM/VIF/VIP kept */
	CU_ASSERT_EQUAL(popf_at(3, base | FLAG_RF, img, popfq, 1),
			FLAG_FIXED1 | (ALL_POPF & ~FLAG_IOPL));
	CU_ASSERT_EQUAL(popf_at(3, base, 0x2, popfq, 1), base);     /* IF cannot be cleared */
	/* CPL 3, IOPL 3: IF changes, IOPL does not */
	CU_ASSERT_EQUAL(popf_at(3, FLAG_FIXED1 | FLAG_IOPL | FLAG_IF, 0x2, popfq, 1),
			FLAG_FIXED1 | FLAG_IOPL);
	/* CPL 0: everything POPF may write, incl. IOPL */
	CU_ASSERT_EQUAL(popf_at(0, base, img, popfq, 1), FLAG_FIXED1 | ALL_POPF);
	/* 16-bit POPF: bits 15:0 only (AC, ID untouched).  RF = 1 at the start
	 * is not kept: the processor clears it once POPF completes (SDM Vol. 3
	 * 18.3.1.1), whatever POPF wrote. */
	CU_ASSERT_EQUAL(popf_at(0, FLAG_FIXED1 | FLAG_AC | FLAG_RF, 0xffff, popfw, 2),
			FLAG_FIXED1 | FLAG_AC | (ALL_POPF & 0xffff));
	CU_ASSERT_EQUAL(popf_at(0, FLAG_FIXED1 | FLAG_AC | FLAG_ID, 0xffff, popfw, 2),
			FLAG_FIXED1 | FLAG_AC | FLAG_ID | (ALL_POPF & 0xffff));
}

/* PUSHF stores RFLAGS with RF and VM clear; 66 PUSHF stores 16 bits. */
static void test_pushf(void)
{
	static const uint8_t code[] = { 0x9c, 0x66, 0x9c };
	struct cpu *c = sn_cpu();
	c->rflags = FLAG_FIXED1 | FLAG_RF | FLAG_AC | FLAG_CF | FLAG_IF;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 8, 8), FLAG_FIXED1 | FLAG_AC | FLAG_CF | FLAG_IF);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 10, 2), FLAG_FIXED1 | FLAG_CF | FLAG_IF);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 10);
}

/* ---- ENTER / LEAVE ------------------------------------------------------------------- */

/* ENTER 10h, 3 in 64-bit code (SDM Vol. 2 ENTER "Operation"):
 *   [S-8] = RBP; frame = S-8; [S-16] = [RBP-8]; [S-24] = [RBP-16];
 *   [S-32] = frame; RBP = frame; RSP = S-32-10h.  Then LEAVE undoes it. */
static void test_enter_nested(void)
{
	static const uint8_t enter[] = { 0xc8, 0x10, 0x00, 0x03 };
	static const uint8_t leave[] = { 0xc9 };
	struct cpu *c = sn_cpu();
	const uint64_t bp = 0x280000;
	c->gpr[R_RBP] = bp;
	sn_poke(c, bp - 8, 8, 0xd1d1d1d1d1d1d1d1ull);
	sn_poke(c, bp - 16, 8, 0xd2d2d2d2d2d2d2d2ull);
	CU_ASSERT_EQUAL(SN_RUN(c, enter), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 8, 8), bp);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 16, 8), 0xd1d1d1d1d1d1d1d1ull);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 24, 8), 0xd2d2d2d2d2d2d2d2ull);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 32, 8), S0 - 8);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], S0 - 8);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 48);
	CU_ASSERT_EQUAL(SN_RUN(c, leave), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], bp);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0);
}

/* ENTER 8, 2 in 32-bit code on a 32-bit stack; level 0; 16-bit LEAVE. */
static void test_enter_32_and_levels(void)
{
	static const uint8_t enter2[] = { 0xc8, 0x08, 0x00, 0x02 };
	static const uint8_t enter0[] = { 0xc8, 0x20, 0x00, 0x00 };
	static const uint8_t leavew[] = { 0x66, 0xc9 };
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->gpr[R_RSP] = 0x90000;
	c->gpr[R_RBP] = 0x91000;
	sn_poke(c, 0x91000 - 4, 4, 0xcafef00d);
	CU_ASSERT_EQUAL(SN_RUN(c, enter2), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, 0x90000 - 4, 4), 0x91000);
	CU_ASSERT_EQUAL(sn_peek(c, 0x90000 - 8, 4), 0xcafef00d);
	CU_ASSERT_EQUAL(sn_peek(c, 0x90000 - 12, 4), 0x90000 - 4);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x90000 - 4);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x90000 - 12 - 8);
	/* level 0: push EBP, EBP = ESP, ESP -= 0x20 */
	c->gpr[R_RSP] = 0x90000;
	c->gpr[R_RBP] = 0x12345678;
	CU_ASSERT_EQUAL(SN_RUN(c, enter0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, 0x90000 - 4, 4), 0x12345678);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x90000 - 4);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x90000 - 4 - 0x20);
	/* 66 LEAVE: ESP = EBP, pop 16 bits into BP (EBP[31:16] kept) */
	c->gpr[R_RBP] = 0x00088000;
	sn_poke(c, 0x88000, 2, 0xbeef);
	CU_ASSERT_EQUAL(SN_RUN(c, leavew), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x0008beef);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x88002);
}

/* ---- faults --------------------------------------------------------------------------- */

/* A push to a non-canonical stack is #SS(0) and RSP does not move; a pop
 * whose store faults leaves RSP alone too. */
static void test_stack_faults(void)
{
	static const uint8_t push[] = { 0x50 };                    /* push rax */
	static const uint8_t pop_mem[] = { 0x8f, 0x06 };           /* pop qword [rsi] */
	struct cpu *c = sn_cpu();
	c->gpr[R_RSP] = 0x0000800000000004ull;
	CU_ASSERT_EQUAL(SN_RUN(c, push), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_SS);
	CU_ASSERT_EQUAL(c->exc_error, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x0000800000000004ull);
	c = sn_cpu();
	c->gpr[R_RSI] = 0x0000900000000000ull;
	CU_ASSERT_EQUAL(SN_RUN(c, pop_mem), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "PUSH/POP 64-bit and 66-prefixed 16-bit", test_push_pop_64 },
		{ "PUSH RSP, POP RSP, PUSH/POP [RSP]", test_rsp_special },
		{ "16-bit stack wraps SP, keeps ESP high", test_stack16_wrap },
		{ "PUSH/POP FS/GS in 64-bit mode", test_push_pop_fs_gs },
		{ "segment push/pop in real mode", test_seg_real_mode },
		{ "PUSHA/POPA", test_pusha_popa },
		{ "POPF privilege rules", test_popf_rules },
		{ "PUSHF image", test_pushf },
		{ "ENTER level 3, LEAVE", test_enter_nested },
		{ "ENTER 32-bit, level 0, 16-bit LEAVE", test_enter_32_and_levels },
		{ "#SS and unmoved RSP on faults", test_stack_faults },
		{ NULL, NULL },
	};
	return ut_main("stack", cases);
}
