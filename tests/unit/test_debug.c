/*
 * test_debug.c - cpu/debug.c: the breakpoints of DR0-DR3 as DR7 enables
 * them (instruction: a fault before, with RF suppressing it once; data
 * write, data read/write, I/O with CR4.DE: traps after, every length and an
 * unaligned access), single-step with TF (the trap follows TF as the
 * instruction found it; MOV SS holds it back one instruction), REP string
 * elements as steps, and the fast path coming back when DR7 is cleared.
 *
 * Each test runs real code with exceptions_stop: a #DB ends the run, RIP
 * says where it was reported (the instruction for a fault, the next one for
 * a trap) and DR6 what caused it.
 */
#include "arch.h"
#include "debug.h"
#include "snippet.h"

#define DR7_L(n) (1ull << (2 * (n)))
#define DR7_RWLEN(n, rw, len) ((uint64_t)((rw) | (len) << 2) << (16 + 4 * (n)))

static void arm(struct cpu *c, int n, uint64_t addr, uint64_t dr7)
{
	c->dr[n] = addr;
	c->dr[7] = dr7 | DR7_FIXED1;
	cpu_dbg_update(c);
}

static void expect_db(struct cpu *c, enum cpu_stop r, uint64_t rip, uint64_t dr6_low)
{
	CU_ASSERT_EQUAL(r, CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_DB);
	CU_ASSERT_EQUAL(c->rip, rip);
	CU_ASSERT_EQUAL(c->dr[6] & DR6_WRITABLE, dr6_low);
	c->dr[6] = DR6_FIXED1;
}

/* Continue after a stop (no new code). */
static enum cpu_stop go(struct cpu *c)
{
	c->halted = false;
	return cpu_run(c, 100000);
}

/* nop; nop; mov eax, 5; hlt: a breakpoint on the MOV is a fault on it;
 * RF lets it run on, once. */
static void test_instruction_breakpoint(void)
{
	struct cpu *c = sn_cpu();
	static const uint8_t code[] = { 0x90, 0x90, 0xb8, 0x05, 0, 0, 0 };
	arm(c, 2, UT_CODE + 2, DR7_L(2) | DR7_RWLEN(2, DR7_RW_EXEC, 0));
	expect_db(c, SN_RUN(c, code), UT_CODE + 2, 1u << 2);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0);
	c->rflags |= FLAG_RF;
	CU_ASSERT_EQUAL(go(c), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 5);
	CU_ASSERT_FALSE(c->rflags & FLAG_RF);         /* cleared once the MOV completed */
	/* disabled in DR7 (L2 = G2 = 0): the address alone does nothing */
	arm(c, 2, UT_CODE + 2, DR7_RWLEN(2, DR7_RW_EXEC, 0));
	CU_ASSERT_EQUAL(c->dbg_active, 0);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
}

/* Data write breakpoints of each length; an access that only overlaps the
 * aligned range hits too; reads do not. */
static void test_data_write(void)
{
	/* mov rax, [SN_DATA]; mov word [SN_DATA + 0x13], 0x1234; nop */
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00,
					0x66, 0xc7, 0x04, 0x25, 0x13, 0x00, 0x20, 0x00, 0x34, 0x12,
					0x90 };
	static const unsigned lens[4] = { 0, 1, 3, 2 };       /* 1, 2, 4, 8 bytes */
	static const uint64_t at[4] = { 0x14, 0x14, 0x16, 0x17 }; /* 8 bytes: 0x10..0x17 */
	for (int k = 0; k < 4; k++) {
		struct cpu *c = sn_cpu();
		arm(c, 1, SN_DATA + at[k], DR7_L(1) | DR7_RWLEN(1, DR7_RW_WRITE, lens[k]));
		expect_db(c, SN_RUN(c, code), UT_CODE + 18, 1u << 1);
		CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 0x13, 2), 0x1234);   /* a trap: done */
	}
	/* a 1-byte breakpoint at 0x15 is not touched by the word at 0x13 */
	struct cpu *c = sn_cpu();
	arm(c, 1, SN_DATA + 0x15, DR7_L(1) | DR7_RWLEN(1, DR7_RW_WRITE, 0));
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
}

/* R/W 11 breaks on reads too; the same page's other bytes run freely. */
static void test_data_read(void)
{
	struct cpu *c = sn_cpu();
	static const uint8_t code[] = { 0x8b, 0x04, 0x25, 0x00, 0x08, 0x20, 0x00,  /* mov eax, [SN_DATA+0x800] */
					0x8b, 0x1c, 0x25, 0x04, 0x00, 0x20, 0x00,  /* mov ebx, [SN_DATA+4] */
					0x90 };
	sn_poke(c, SN_DATA + 4, 4, 0xabcd);
	arm(c, 3, SN_DATA + 4, (1ull << 7) | DR7_RWLEN(3, DR7_RW_RW, 3));   /* G3 */
	expect_db(c, SN_RUN(c, code), UT_CODE + 14, 1u << 3);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0xabcd);
}

/* I/O breakpoints need CR4.DE (without it R/W 10 means nothing here). */
static void test_io_breakpoint(void)
{
	struct cpu *c = sn_cpu();
	static const uint8_t code[] = { 0xe6, 0x80, 0x90 };   /* out 0x80, al; nop */
	arm(c, 0, 0x80, DR7_L(0) | DR7_RWLEN(0, DR7_RW_IO, 0));
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	c->cr4 |= CR4_DE;
	cpu_dbg_update(c);
	expect_db(c, SN_RUN(c, code), UT_CODE + 2, 1u << 0);
	/* a 4-byte range 0x7c-0x7f is not port 0x80 */
	arm(c, 0, 0x7d, DR7_L(0) | DR7_RWLEN(0, DR7_RW_IO, 3));
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
}

/* TF: a trap after each instruction, BS in DR6; after POPF clears TF one
 * more; MOV SS holds the trap until after the next instruction. */
static void test_single_step(void)
{
	struct cpu *c = sn_cpu();
	/* nop; mov ax, ss; mov ss, ax; nop; push 2; popf; nop */
	static const uint8_t code[] = { 0x90, 0x8c, 0xd0, 0x8e, 0xd0, 0x90, 0x6a, 0x02, 0x9d, 0x90 };
	cpu_set_rflags(c, FLAG_TF);
	expect_db(c, SN_RUN(c, code), UT_CODE + 1, DR6_BS);
	expect_db(c, go(c), UT_CODE + 3, DR6_BS);
	expect_db(c, go(c), UT_CODE + 6, DR6_BS);      /* after MOV SS and the NOP */
	expect_db(c, go(c), UT_CODE + 8, DR6_BS);
	expect_db(c, go(c), UT_CODE + 9, DR6_BS);      /* the POPF that cleared TF */
	CU_ASSERT_EQUAL(go(c), CPU_STOP_HLT);
	CU_ASSERT_FALSE(c->rflags & FLAG_TF);
}

/* REP STOSB with a write breakpoint on its fifth byte: the trap comes after
 * that element, RIP still on the instruction, RCX counting what is left. */
static void test_rep_element(void)
{
	struct cpu *c = sn_cpu();
	static const uint8_t code[] = { 0xf3, 0xaa, 0x90 };
	c->gpr[R_RDI] = SN_DATA;
	c->gpr[R_RCX] = 16;
	c->gpr[R_RAX] = 0x5a;
	arm(c, 0, SN_DATA + 4, DR7_L(0) | DR7_RWLEN(0, DR7_RW_WRITE, 0));
	expect_db(c, SN_RUN(c, code), UT_CODE, 1u << 0);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 11);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 4, 1), 0x5a);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 5, 1), 0);
	CU_ASSERT_EQUAL(go(c), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 15, 1), 0x5a);
}

/* MOV DR7 through the instruction arms and disarms; with DR7 clear the TLB
 * serves the watched page from the fast path again. */
static void test_mov_dr7(void)
{
	struct cpu *c = sn_cpu();
	/* mov dr0, rbx; mov dr7, rax; mov [SN_DATA], ecx; nop */
	static const uint8_t code[] = { 0x0f, 0x23, 0xc3, 0x0f, 0x23, 0xf8,
					0x89, 0x0c, 0x25, 0x00, 0x00, 0x20, 0x00, 0x90 };
	c->gpr[R_RBX] = SN_DATA;
	c->gpr[R_RAX] = DR7_L(0) | DR7_RWLEN(0, DR7_RW_WRITE, 3);
	expect_db(c, SN_RUN(c, code), UT_CODE + 13, 1u << 0);
	CU_ASSERT_EQUAL(c->dbg_active, DBG_DATA);
	c->gpr[R_RAX] = 0;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->dbg_active, 0);
	CU_ASSERT_FALSE(cpu_debug_slow(c));
}

/* CR4.DE: DR4/DR5 become #UD. */
static void test_cr4_de(void)
{
	struct cpu *c = sn_cpu();
	static const uint8_t dr4_r[] = { 0x0f, 0x21, 0xe0 };
	CU_ASSERT_EQUAL(SN_RUN(c, dr4_r), CPU_STOP_HLT);
	c->cr4 |= CR4_DE;
	CU_ASSERT_EQUAL(SN_RUN(c, dr4_r), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "instruction breakpoint, RF", test_instruction_breakpoint },
		{ "data write breakpoints, all lengths", test_data_write },
		{ "data read/write breakpoint", test_data_read },
		{ "I/O breakpoint with CR4.DE", test_io_breakpoint },
		{ "single-step, MOV SS, POPF", test_single_step },
		{ "REP string element as a step", test_rep_element },
		{ "MOV DR7 arms and disarms", test_mov_dr7 },
		{ "CR4.DE: DR4/DR5 #UD", test_cr4_de },
		{ NULL, NULL },
	};
	return ut_main("debug", cases);
}
