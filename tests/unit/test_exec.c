/*
 * test_exec.c - the run loop, the decoded-instruction cache and the memory
 * slow path: self-modifying code, instructions that cross a page, the
 * instruction budget, faults that retire nothing, determinism.
 */
#include <string.h>

#include "dcache.h"
#include "unit_util.h"

/* A store into the very next instruction (same decoded block) must be seen:
 * SDM Vol. 3 11.6. mov byte [rip+1], 9 ; mov al, 5 ; hlt  ->  al = 9. */
static void test_smc_same_block(void)
{
	static const uint8_t code[] = {
		0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x09,   /* mov byte [rip+1], 9 */
		0xb0, 0x05,                                 /* mov al, 5 (imm patched) */
		0xf4,                                       /* hlt */
	};
	struct cpu *c = ut_cpu();
	c->cpl = 0;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 9);
	CU_ASSERT_EQUAL(c->icount, 3);
}

/* Code run once (and cached), then changed by a loader write, runs anew. */
static void test_smc_phys_write(void)
{
	uint8_t code[] = { 0xb0, 0x05, 0xf4 };       /* mov al, 5 ; hlt */
	struct cpu *c = ut_cpu();
	c->cpl = 0;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 5);
	code[1] = 0x07;
	c->halted = false;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 7);
}

/* mov rax, imm64 straddling a page boundary, then hlt. */
static void test_page_crossing_insn(void)
{
	static const uint8_t insn[] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 0xf4 };
	struct cpu *c = ut_cpu();
	c->cpl = 0;
	uint64_t at = 0x20000 - 4;
	cpu_phys_write(c, at, insn, sizeof insn);
	c->rip = at;
	CU_ASSERT_EQUAL(cpu_run(c, 10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x0807060504030201ull);
	CU_ASSERT_EQUAL(c->rip, at + sizeof insn);
}

/* The budget stops at an exact instruction, also in the middle of a block. */
static void test_budget_exact(void)
{
	static const uint8_t nops[] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4 };
	struct cpu *c = ut_cpu();
	CU_ASSERT_EQUAL(ut_run(c, nops, sizeof nops, 3), CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->icount, 3);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 3);
	CU_ASSERT_EQUAL(cpu_run(c, 2), CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 5);
}

/* A fault retires nothing of its instruction and leaves RIP on it. */
static void test_fault_restores_rip(void)
{
	static const uint8_t code[] = {
		0x48, 0xff, 0xc0,       /* inc rax */
		0x48, 0xf7, 0xf1,       /* div rcx (rcx = 0: #DE) */
		0x48, 0xff, 0xc0,       /* inc rax */
	};
	struct cpu *c = ut_cpu();
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_DE);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 3);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 1);
	CU_ASSERT_EQUAL(c->icount, 1);
}

/* Undefined opcode: #UD at its address. */
static void test_ud2(void)
{
	static const uint8_t code[] = { 0x90, 0x0f, 0x0b };
	struct cpu *c = ut_cpu();
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 1);
}

/* Jumping outside RAM is an emulator error with a message, not a crash. */
static void test_fetch_outside_ram(void)
{
	static const uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0x40, 0, 0, 0, 0,  /* mov rax, 1<<30 */
					0xff, 0xe0 };                              /* jmp rax */
	struct cpu *c = ut_cpu();
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 100), CPU_STOP_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->error, "outside RAM"));
}

/* A countdown loop: the same run twice gives the same instruction count. */
static void test_deterministic(void)
{
	static const uint8_t code[] = {
		0xb9, 0x10, 0x27, 0x00, 0x00,   /* mov ecx, 10000 */
		0x48, 0x01, 0xc8,               /* add rax, rcx */
		0xff, 0xc9,                     /* dec ecx */
		0x75, 0xf9,                     /* jnz -7 */
		0xf4,
	};
	uint64_t n[2], rax[2];
	for (int k = 0; k < 2; k++) {
		struct cpu *c = ut_cpu();
		c->cpl = 0;
		CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 0), CPU_STOP_HLT);
		n[k] = c->icount;
		rax[k] = c->gpr[R_RAX];
	}
	CU_ASSERT_EQUAL(n[0], 1 + 3 * 10000 + 1);
	CU_ASSERT_EQUAL(n[0], n[1]);
	CU_ASSERT_EQUAL(rax[0], 50005000ull);
	CU_ASSERT_EQUAL(rax[0], rax[1]);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "self-modifying code in the same block", test_smc_same_block },
		{ "loader write drops cached code", test_smc_phys_write },
		{ "instruction crossing a page", test_page_crossing_insn },
		{ "instruction budget is exact", test_budget_exact },
		{ "a fault restores RIP and retires nothing", test_fault_restores_rip },
		{ "UD2 raises #UD at its address", test_ud2 },
		{ "fetch outside RAM is a clear error", test_fetch_outside_ram },
		{ "runs are deterministic", test_deterministic },
		{ NULL, NULL },
	};
	return ut_main("exec", cases);
}
