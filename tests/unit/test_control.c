/*
 * test_control.c - cpu/control.c run as real instruction bytes: Jcc (all
 * conditions, both widths), JMP/CALL/RET near in every form, operand-size
 * truncation of targets, #GP(0) for non-canonical or out-of-limit targets
 * with nothing changed, LOOP/LOOPE/LOOPNE/JrCXZ counting by address size,
 * and INT3/INT n/INTO/INT1 raised as traps (RIP after the instruction).
 */
#include "snippet.h"

#define S0 (3ull << 20)

/* The SDM's condition table (Vol. 1 Appendix B), independent of cpu_cond. */
static bool sdm_cond(unsigned cc, uint64_t f)
{
	bool cf = f & FLAG_CF, zf = f & FLAG_ZF, sf = f & FLAG_SF, of = f & FLAG_OF, pf = f & FLAG_PF;
	bool r[8] = { of, cf, zf, cf || zf, sf, pf, sf != of, zf || sf != of };
	return (cc & 1) ? !r[cc >> 1] : r[cc >> 1];
}

/* jcc over a "mov al, 1": AL stays 0 exactly when the branch is taken. */
static void test_jcc_all(void)
{
	int bad = 0, taken = 0;
	for (unsigned cc = 0; cc < 16; cc++) {
		for (unsigned m = 0; m < 32; m++) {
			uint64_t f = FLAG_FIXED1 | ((m & 1) ? FLAG_CF : 0) | ((m & 2) ? FLAG_ZF : 0) |
				     ((m & 4) ? FLAG_SF : 0) | ((m & 8) ? FLAG_OF : 0) | ((m & 16) ? FLAG_PF : 0);
			const uint8_t short_form[] = { (uint8_t)(0x70 + cc), 0x02, 0xb0, 0x01 };
			const uint8_t near_form[] = { 0x0f, (uint8_t)(0x80 + cc), 0x02, 0x00, 0x00, 0x00,
						      0xb0, 0x01 };
			bool t = sdm_cond(cc, f);
			taken += t;
			for (int w = 0; w < 2; w++) {
				struct cpu *c = sn_cpu();
				c->rflags = f;
				enum cpu_stop s = w ? SN_RUN(c, near_form) : SN_RUN(c, short_form);
				bad += s != CPU_STOP_HLT;
				bad += (c->gpr[R_RAX] & 0xff) != (t ? 0u : 1u);
				bad += c->icount != (t ? 2u : 3u);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(taken, 16 * 32 / 2);
}

/* A backward loop: mov ecx,5; L: add eax,3; dec ecx; jnz L (rel8 -7). */
static void test_backward_branch(void)
{
	static const uint8_t code[] = {
		0xb9, 0x05, 0x00, 0x00, 0x00,   /* mov ecx, 5 */
		0x83, 0xc0, 0x03,               /* L: add eax, 3 */
		0xff, 0xc9,                     /* dec ecx */
		0x75, 0xf9,                     /* jnz L */
		0xe9, 0x00, 0x00, 0x00, 0x00,   /* jmp +0 (rel32) */
	};
	struct cpu *c = sn_cpu();
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 15);
	CU_ASSERT_EQUAL(c->icount, 1 + 5 * 3 + 1 + 1);
}

static void test_call_ret(void)
{
	static const uint8_t code[] = {
		0xe8, 0x01, 0x00, 0x00, 0x00,   /* call f */
		0xf4,                           /* hlt (return lands here) */
		0xb8, 0x07, 0x00, 0x00, 0x00,   /* f: mov eax, 7 */
		0xc2, 0x10, 0x00,               /* ret 0x10 */
	};
	struct cpu *c = sn_cpu();
	sn_poke(c, S0 - 8, 8, 0);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 7);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 6);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 8, 8), UT_CODE + 5);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 + 0x10);
}

/* CALL r/m and JMP r/m: absolute targets from a register or memory. */
static void test_indirect(void)
{
	static const uint8_t code[] = {
		0xff, 0xd3,             /* call rbx   -> +8 */
		0xf4,                   /* hlt: not reached */
		0xf4, 0xf4, 0xf4, 0xf4, 0xf4,
		0xff, 0x26,             /* +8: jmp [rsi] -> +16 */
		0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4,
		0xff, 0x54, 0x24, 0x08, /* +16: call [rsp+8]: old RSP's [rsp+8] -> +24 */
		0xf4, 0xf4, 0xf4, 0xf4,
		0xff, 0xe1,             /* +24: jmp rcx -> end */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RBX] = UT_CODE + 8;
	c->gpr[R_RSI] = SN_DATA;
	c->gpr[R_RCX] = SN_END(code);
	sn_poke(c, SN_DATA, 8, UT_CODE + 16);
	/* after the first call RSP = S0-8; [rsp+8] = [S0] */
	sn_poke(c, S0, 8, UT_CODE + 24);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, SN_END(code) + 1);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 16);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 8, 8), UT_CODE + 2);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 16, 8), UT_CODE + 20);
	CU_ASSERT_EQUAL(c->icount, 5);
}

/* 16-bit operand size in 32-bit code truncates EIP to 16 bits
 * (SDM Vol. 2 JMP: "tempEIP <- tempEIP AND 0000FFFFH"). */
static void test_osize16_truncation(void)
{
	static const uint8_t jmp16[] = { 0x66, 0xe9, 0x00, 0x01 };  /* jmp rel16 +0x100 */
	static const uint8_t jmp8[] = { 0x66, 0xeb, 0x10 };         /* jmp rel8 +0x10 */
	static const uint8_t call16[] = { 0x66, 0xe8, 0x00, 0x02 }; /* call rel16 +0x200 */
	static const uint8_t hlt = 0xf4;
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	cpu_phys_write(c, 0x0104, &hlt, 1);
	cpu_phys_write(c, 0x0013, &hlt, 1);
	cpu_phys_write(c, 0x0204, &hlt, 1);
	CU_ASSERT_EQUAL(SN_RUN(c, jmp16), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, 0x0105);
	CU_ASSERT_EQUAL(SN_RUN(c, jmp8), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, 0x0014);
	/* CALL with osize 16 pushes IP (2 bytes, truncated) */
	CU_ASSERT_EQUAL(SN_RUN(c, call16), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, 0x0205);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 - 2);
	CU_ASSERT_EQUAL(sn_peek(c, S0 - 2, 2), (UT_CODE + 4) & 0xffff);
	/* 66 RET pops 2 bytes */
	static const uint8_t ret16[] = { 0x66, 0xc3 };
	c->gpr[R_RSP] = S0;
	sn_poke(c, S0, 4, 0xffff0013);
	CU_ASSERT_EQUAL(SN_RUN(c, ret16), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, 0x0014);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0 + 2);
}

/* In 64-bit mode a 66 prefix does not shorten a near branch (Intel). */
static void test_64bit_ignores_66(void)
{
	static const uint8_t code[] = { 0x66, 0xeb, 0x01, 0xf4 };   /* jmp +1 over a hlt */
	struct cpu *c = sn_cpu();
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, SN_END(code) + 1);
}

/* A non-canonical target: #GP(0) raised by the branch, RIP on it, RSP and
 * RCX unchanged.  In 32-bit code, a target past the CS limit. */
static void test_bad_targets(void)
{
	static const uint8_t jmp_rax[] = { 0x90, 0xff, 0xe0 };
	static const uint8_t call_rax[] = { 0xff, 0xd0 };
	static const uint8_t ret[] = { 0xc3 };
	static const uint8_t loop_far[] = { 0xe2, 0x00 };           /* loop +0 */
	const uint64_t bad = 0x0000800000000000ull;
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = bad;
	CU_ASSERT_EQUAL(SN_RUN(c, jmp_rax), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc_error, 0);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 1);
	CU_ASSERT_EQUAL(c->icount, 1);
	CU_ASSERT_EQUAL(SN_RUN(c, call_rax), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0);
	sn_poke(c, S0, 8, bad);
	CU_ASSERT_EQUAL(SN_RUN(c, ret), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], S0);
	/* 32-bit code: target beyond CS.limit */
	c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->seg[SEG_CS].limit = 0xfffff;
	c->gpr[R_RAX] = 0x100000;
	CU_ASSERT_EQUAL(SN_RUN(c, jmp_rax), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 1);
	c->gpr[R_RAX] = 0xfffff;
	c->gpr[R_RCX] = 7;
	static const uint8_t hlt = 0xf4;
	cpu_phys_write(c, 0xfffff, &hlt, 1);
	CU_ASSERT_EQUAL(SN_RUN(c, jmp_rax), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, 0x100000);
	/* LOOP whose target is past the limit: #GP and ECX not decremented */
	c->seg[SEG_CS].limit = UT_CODE + 1;
	CU_ASSERT_EQUAL(SN_RUN(c, loop_far), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 7);
}

/* LOOP counts in CX/ECX/RCX by ADDRESS size; a 32-bit counter write in
 * 64-bit mode clears RCX[63:32]. */
static void test_loop_sizes(void)
{
	static const uint8_t loop64[] = { 0xff, 0xc0, 0xe2, 0xfc };          /* L: inc eax; loop L */
	static const uint8_t loop32[] = { 0xff, 0xc0, 0x67, 0xe2, 0xfb };    /* L: inc eax; loop L (ecx) */
	struct cpu *c = sn_cpu();
	c->gpr[R_RCX] = 3;
	CU_ASSERT_EQUAL(SN_RUN(c, loop64), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 3);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	c = sn_cpu();
	c->gpr[R_RCX] = 0xffffffff00000002ull;
	CU_ASSERT_EQUAL(SN_RUN(c, loop32), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 2);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	/* 32-bit code with a 16-bit address size: CX only, ECX[31:16] kept */
	static const uint8_t loop16[] = { 0x40, 0x67, 0xe2, 0xfc };          /* L: inc eax; loop L (cx) */
	c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->gpr[R_RCX] = 0x00050002;
	CU_ASSERT_EQUAL(SN_RUN(c, loop16), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 2);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x00050000);
	/* a zero counter wraps: LOOP runs 2^16 times with CX */
	static const uint8_t loop16_hlt[] = { 0x40, 0x67, 0xe2, 0xfc, 0xf4 };
	c->gpr[R_RCX] = 0x00070000;
	c->gpr[R_RAX] = 0;
	c->halted = false;
	CU_ASSERT_EQUAL(ut_run(c, loop16_hlt, sizeof loop16_hlt, 200000), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x10000);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x00070000);
}

/* LOOPE/LOOPNE on a self-loop with a fixed ZF; JRCXZ/JECXZ. */
static void test_loopcc_jrcxz(void)
{
	static const uint8_t loope[] = { 0xe1, 0xfe }, loopne[] = { 0xe0, 0xfe };
	static const uint8_t jrcxz[] = { 0xe3, 0x02, 0xb0, 0x01 };
	static const uint8_t jecxz[] = { 0x67, 0xe3, 0x02, 0xb0, 0x01 };
	for (int zf = 0; zf < 2; zf++) {
		struct cpu *c = sn_cpu();
		c->rflags = FLAG_FIXED1 | (zf ? FLAG_ZF : 0);
		c->gpr[R_RCX] = 5;
		CU_ASSERT_EQUAL(SN_RUN(c, loope), CPU_STOP_HLT);
		CU_ASSERT_EQUAL(c->gpr[R_RCX], zf ? 0u : 4u);
		c->gpr[R_RCX] = 5;
		CU_ASSERT_EQUAL(SN_RUN(c, loopne), CPU_STOP_HLT);
		CU_ASSERT_EQUAL(c->gpr[R_RCX], zf ? 4u : 0u);
		CU_ASSERT_EQUAL(cpu_get_rflags(c), FLAG_FIXED1 | (zf ? FLAG_ZF : 0));
	}
	struct cpu *c = sn_cpu();
	c->gpr[R_RCX] = 0x100000000ull;      /* RCX != 0 but ECX == 0 */
	CU_ASSERT_EQUAL(SN_RUN(c, jrcxz), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 1);
	c->gpr[R_RAX] = 0;
	CU_ASSERT_EQUAL(SN_RUN(c, jecxz), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 0);
	c->gpr[R_RCX] = 0;
	CU_ASSERT_EQUAL(SN_RUN(c, jrcxz), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 0);
}

/* INT3, INT n, INTO, INT1 are traps: RIP after the instruction, which
 * counts as retired; the event type says how it arose. */
static void test_soft_interrupts(void)
{
	static const uint8_t int3[] = { 0x90, 0xcc, 0x90 };
	static const uint8_t intn[] = { 0xcd, 0x80 };
	static const uint8_t into[] = { 0xce };
	static const uint8_t int1[] = { 0xf1 };
	struct cpu *c = sn_cpu();
	CU_ASSERT_EQUAL(SN_RUN(c, int3), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_BP);
	CU_ASSERT_EQUAL(c->exc_type, EXC_TYPE_SOFT);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 2);
	CU_ASSERT_EQUAL(c->icount, 2);
	CU_ASSERT_EQUAL(SN_RUN(c, intn), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, 0x80);
	CU_ASSERT_EQUAL(c->exc_type, EXC_TYPE_SOFT_INT);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 2);
	CU_ASSERT_EQUAL(SN_RUN(c, int1), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_DB);
	CU_ASSERT_EQUAL(c->exc_type, EXC_TYPE_PRIV_SOFT);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 1);
	/* a later fault is a fault again: RIP back on the instruction */
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	CU_ASSERT_EQUAL(SN_RUN(c, ud2), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_type, EXC_TYPE_HW);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
	/* INTO (32-bit code only): nothing when OF = 0, #OF trap when OF = 1 */
	sn_mode(c, CPU_MODE32, true);
	c->rflags = FLAG_FIXED1;
	CU_ASSERT_EQUAL(SN_RUN(c, into), CPU_STOP_HLT);
	c->rflags = FLAG_FIXED1 | FLAG_OF;
	CU_ASSERT_EQUAL(SN_RUN(c, into), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_OF);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 1);
	/* and INTO does not exist in 64-bit mode */
	c = sn_cpu();
	c->rflags = FLAG_FIXED1 | FLAG_OF;
	CU_ASSERT_EQUAL(SN_RUN(c, into), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
}

/* Real mode: 16-bit IP, CX counter, PUSH imm16/POPF (IOPL writable at
 * CR0.PE = 0), CALL/RET with 2-byte return addresses. */
static void test_real_mode(void)
{
	static const uint8_t code[] = {
		0xb9, 0x03, 0x00,       /* 0: mov cx, 3 */
		0x40,                   /* 3: L: inc ax */
		0xe2, 0xfd,             /* 4: loop L */
		0x68, 0x02, 0x32,       /* 6: push 0x3202 */
		0x9d,                   /* 9: popf */
		0xe8, 0x01, 0x00,       /* 10: call 14 */
		0xf4,                   /* 13: hlt */
		0xc3,                   /* 14: ret */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RSP] = 0x7000;
	c->gpr[R_RCX] = 0xabcd0000;
	CU_ASSERT_EQUAL(sn_run_real(c, code, sizeof code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 3);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0xabcd0000);
	CU_ASSERT_EQUAL(c->rip, 14);
	CU_ASSERT_EQUAL(cpu_get_rflags(c), 0x3202);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x7000);
	CU_ASSERT_EQUAL(sn_peek(c, 0x6ffe, 2), 13);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "Jcc rel8/rel32 all conditions", test_jcc_all },
		{ "backward Jcc loop, JMP rel32", test_backward_branch },
		{ "CALL rel32, RET imm16", test_call_ret },
		{ "CALL/JMP r/m", test_indirect },
		{ "16-bit operand size truncates EIP", test_osize16_truncation },
		{ "64-bit branches ignore 66", test_64bit_ignores_66 },
		{ "non-canonical / out-of-limit targets", test_bad_targets },
		{ "LOOP counter by address size", test_loop_sizes },
		{ "LOOPE/LOOPNE, JRCXZ/JECXZ", test_loopcc_jrcxz },
		{ "INT3/INT n/INTO/INT1 as traps", test_soft_interrupts },
		{ "real mode: LOOP, POPF, CALL/RET", test_real_mode },
		{ NULL, NULL },
	};
	return ut_main("control", cases);
}
