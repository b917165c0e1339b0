/*
 * test_move.c - data movement (cpu/move.c) run as real instruction bytes:
 * MOV forms, MOVZX/MOVSX/MOVSXD, LEA size rules, XCHG, CMPXCHG (+8B/16B),
 * XADD, CBW..CQO, BSWAP, MOVBE, CMOVcc, SETcc, XLAT, LAHF/SAHF, the flag
 * instructions, NOPs and FWAIT.
 *
 * Expected values come from the SDM's definitions or, where the SDM leaves
 * a choice to the implementation (CMPXCHG's register form, 16-bit BSWAP),
 * from the same instruction executed on the host CPU.
 */
#include "snippet.h"

static void test_mov_imm_forms(void)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,   /* mov rax, -1 (imm32 sign-extended) */
		0x48, 0xbb, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rbx, imm64 */
		0xb9, 0x05, 0x00, 0x00, 0x00,               /* mov ecx, 5 (zero-extends) */
		0xb6, 0x12,                                 /* mov dh, 0x12 */
		0x66, 0xbe, 0x34, 0x12,                     /* mov si, 0x1234 */
		0x41, 0xb7, 0x99,                           /* mov r15b, 0x99 */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RCX] = ~0ull;
	c->gpr[R_RDX] = 0xaaaaaaaaaaaaaaaaull;
	c->gpr[R_RSI] = 0xbbbbbbbbbbbbbbbbull;
	c->gpr[R_R15] = 0xcccccccccccccccc;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], ~0ull);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0x1122334455667788ull);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 5);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0xaaaaaaaaaaaa12aaull);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0xbbbbbbbbbbbb1234ull);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0xcccccccccccccc99ull);
}

/* A0-A3 with a 64-bit moffs, and with a 32-bit one (67). */
static void test_mov_moffs(void)
{
	static const uint8_t code[] = {
		0x48, 0xa1, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov rax, [0x200000] */
		0xa2, 0x10, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00,       /* mov [0x200010], al */
		0x67, 0x66, 0xa3, 0x20, 0x00, 0x20, 0x00,                   /* mov [0x200020], ax (a32) */
		0x67, 0x8a, 0x1c, 0x25, 0x01, 0x00, 0x20, 0x00,             /* mov bl, [0x200001] */
	};
	struct cpu *c = sn_cpu();
	sn_poke(c, SN_DATA, 8, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x0102030405060708ull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 0x10, 2), 0x0008);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 0x20, 4), 0x0708);
	CU_ASSERT_EQUAL(c->gpr[R_RBX] & 0xff, 0x07);
}

static void test_movzx_movsx(void)
{
	static const uint8_t code[] = {
		0x0f, 0xb6, 0xc3,               /* movzx eax, bl */
		0x0f, 0xbe, 0xcb,               /* movsx ecx, bl */
		0x48, 0x0f, 0xbf, 0x16,         /* movsx rdx, word [rsi] */
		0x48, 0x63, 0xff,               /* movsxd rdi, edi */
		0x4c, 0x63, 0xc5,               /* movsxd r8, ebp */
		0x63, 0xed,                     /* movsxd ebp, ebp (plain 32-bit move) */
		0x66, 0x0f, 0xb6, 0xdf,         /* movzx bx, bh */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = c->gpr[R_RCX] = ~0ull;
	c->gpr[R_RBX] = 0x1234567890ab9c80ull;
	c->gpr[R_RSI] = SN_DATA;
	c->gpr[R_RDI] = 0x1111111180000000ull;
	c->gpr[R_RBP] = 0xffffffff7fffffffull;
	sn_poke(c, SN_DATA, 2, 0x8001);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x80);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0xffffff80ull);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0xffffffffffff8001ull);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0xffffffff80000000ull);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0x7fffffffull);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x7fffffffull);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0x1234567890ab009cull);
}

/* LEA: address size then operand size (SDM Vol. 2 LEA, Table 3-54). */
static void test_lea_sizes(void)
{
	static const uint8_t code[] = {
		0x8d, 0x44, 0x8b, 0x08,               /* lea eax, [rbx+rcx*4+8] */
		0x67, 0x48, 0x8d, 0x54, 0x8b, 0x08,   /* lea rdx, [ebx+ecx*4+8] */
		0x66, 0x8d, 0x73, 0xff,               /* lea si, [rbx-1] */
		0x48, 0x8d, 0x3d, 0x10, 0x00, 0x00, 0x00, /* lea rdi, [rip+0x10] */
		0x48, 0x8d, 0x2c, 0x0b,               /* lea rbp, [rbx+rcx] */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RBX] = 0x00000001fffffff0ull;
	c->gpr[R_RCX] = 0x0000000100000004ull;
	c->gpr[R_RSI] = 0x5555555555555555ull;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	/* full: 0x1fffffff0 + 0x400000010 + 8 = 0x600000008 */
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x00000008ull);
	/* 32-bit address: 0xfffffff0 + 0x10 + 8 wraps to 8, zero-extended */
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0x8ull);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x555555555555ffefull);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], UT_CODE + 21 + 0x10);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x2fffffff4ull);
}

static void test_xchg(void)
{
	static const uint8_t code[] = {
		0x87, 0xd1,             /* xchg ecx, edx (both zero-extended) */
		0x90,                   /* nop: NOT xchg eax, eax */
		0x49, 0x90,             /* xchg r8, rax */
		0x86, 0x26,             /* xchg [rsi], ah */
		0x66, 0x93,             /* xchg bx, ax */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0xaaaaaaaa00001111ull;
	c->gpr[R_RBX] = 0xbbbbbbbbbbbb2222ull;
	c->gpr[R_RCX] = 0xcccccccc00000003ull;
	c->gpr[R_RDX] = 0xdddddddd00000004ull;
	c->gpr[R_R8] = 0x8888888888888888ull;
	c->gpr[R_RSI] = SN_DATA;
	sn_poke(c, SN_DATA, 1, 0x5a);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 4);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 3);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0xaaaaaaaa00001111ull);
	/* rax = old r8 = 0x88..88; AH <-> [rsi]; then AX <-> BX */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA, 1), 0x88);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x8888888888882222ull);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0xbbbbbbbbbbbb5a88ull);
}

/* CMPXCHG r32: which register is written (and zero-extended) depends on
 * the outcome; the reference is the host CPU. */
static void host_cmpxchg32(uint64_t *rax, uint64_t *rcx, uint64_t rdx)
{
	__asm__ volatile("cmpxchg %%edx, %%ecx" : "+a"(*rax), "+c"(*rcx) : "d"(rdx) : "cc");
}

static void test_cmpxchg_reg32(void)
{
	static const uint8_t code[] = { 0x0f, 0xb1, 0xd1 };   /* cmpxchg ecx, edx */
	for (int eq = 0; eq < 2; eq++) {
		uint64_t rax = eq ? 0xaaaaaaaa00000002ull : 0xaaaaaaaa00000001ull;
		uint64_t rcx = 0xcccccccc00000002ull, rdx = 0xdddddddd00000003ull;
		struct cpu *c = sn_cpu();
		c->gpr[R_RAX] = rax;
		c->gpr[R_RCX] = rcx;
		c->gpr[R_RDX] = rdx;
		host_cmpxchg32(&rax, &rcx, rdx);
		CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
		CU_ASSERT_EQUAL(c->gpr[R_RAX], rax);
		CU_ASSERT_EQUAL(c->gpr[R_RCX], rcx);
		CU_ASSERT_EQUAL(c->gpr[R_RDX], rdx);
		CU_ASSERT_EQUAL(cpu_zf(c), eq);
	}
	/* and the host did what the comment in move.c says */
	uint64_t a = 0xaaaaaaaa00000001ull, cx = 0xcccccccc00000002ull;
	host_cmpxchg32(&a, &cx, 3);
	CU_ASSERT_EQUAL(a, 2);
	CU_ASSERT_EQUAL(cx, 0xcccccccc00000002ull);
}

/* Flags as CMP: 1 - 2 borrows (CF, SF); memory form, byte form. */
static void test_cmpxchg_mem_flags(void)
{
	static const uint8_t code[] = {
		0x0f, 0xb1, 0x16,       /* cmpxchg [rsi], edx : equal */
		0x0f, 0xb0, 0x56, 0x08, /* cmpxchg [rsi+8], dl : not equal */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0x11111111;
	c->gpr[R_RDX] = 0x77;
	c->gpr[R_RSI] = SN_DATA;
	sn_poke(c, SN_DATA, 4, 0x11111111);
	sn_poke(c, SN_DATA + 8, 1, 0x12);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA, 4), 0x77);
	/* second: AL (0x11) != 0x12: AL <- 0x12, flags of 0x11 - 0x12 */
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x11111112ull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 8, 1), 0x12);
	CU_ASSERT(!cpu_zf(c));
	CU_ASSERT(cpu_cf(c));
	CU_ASSERT(cpu_sf(c));
	CU_ASSERT(cpu_af(c));
	CU_ASSERT(!cpu_of(c));
}

/* "The destination operand is written back if the comparison fails"
 * (SDM Vol. 2 CMPXCHG).  The write is visible to us because it drops the
 * decoded code of the page it lands in; a plain read does not. */
static void test_cmpxchg_writes_back(void)
{
	static const uint8_t hlt[] = { 0xf4 };
	static const uint8_t fail[] = { 0x0f, 0xb1, 0x16 };   /* cmpxchg [rsi], edx */
	static const uint8_t load[] = { 0x8b, 0x06 };         /* mov eax, [rsi] */
	const uint64_t page = 0x30000;
	for (int k = 0; k < 2; k++) {
		struct cpu *c = sn_cpu();
		cpu_phys_write(c, page, hlt, 1);
		c->rip = page;
		CU_ASSERT_EQUAL(cpu_run(c, 10), CPU_STOP_HLT);
		CU_ASSERT_EQUAL(c->page_code[page >> 12], 1);
		c->gpr[R_RSI] = page + 0x100;
		c->gpr[R_RAX] = 5;     /* memory holds 0: compare fails */
		c->gpr[R_RDX] = 9;
		if (k == 0)
			CU_ASSERT_EQUAL(SN_RUN(c, fail), CPU_STOP_HLT)
		else
			CU_ASSERT_EQUAL(SN_RUN(c, load), CPU_STOP_HLT)
		CU_ASSERT_EQUAL(c->page_code[page >> 12], k == 0 ? 0 : 1);
		CU_ASSERT_EQUAL(sn_peek(c, page + 0x100, 4), 0);
		CU_ASSERT_EQUAL(c->gpr[R_RAX], 0);
	}
}

static void test_cmpxchg8b_16b(void)
{
	static const uint8_t c8[] = { 0x0f, 0xc7, 0x0e };          /* cmpxchg8b [rsi] */
	static const uint8_t c16[] = { 0x48, 0x0f, 0xc7, 0x0e };   /* cmpxchg16b [rsi] */
	struct cpu *c = sn_cpu();
	c->gpr[R_RSI] = SN_DATA;
	sn_poke(c, SN_DATA, 8, 0x1111111122222222ull);
	c->gpr[R_RAX] = 0xaaaaaaaa00000001ull;
	c->gpr[R_RDX] = 0xdddddddd00000003ull;
	c->gpr[R_RBX] = 0xbbbbbbbb00000005ull;
	c->gpr[R_RCX] = 0xcccccccc00000006ull;
	CU_ASSERT_EQUAL(SN_RUN(c, c8), CPU_STOP_HLT);          /* fails */
	CU_ASSERT(!cpu_zf(c));
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x22222222ull);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0x11111111ull);
	c->gpr[R_RAX] |= 0xaaaaaaaa00000000ull;
	c->gpr[R_RDX] |= 0xdddddddd00000000ull;
	CU_ASSERT_EQUAL(SN_RUN(c, c8), CPU_STOP_HLT);          /* succeeds */
	CU_ASSERT(cpu_zf(c));
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA, 8), 0x0000000600000005ull);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xaaaaaaaa22222222ull);
	/* 16B */
	sn_poke(c, SN_DATA + 16, 8, 1);
	sn_poke(c, SN_DATA + 24, 8, 2);
	c->gpr[R_RSI] = SN_DATA + 16;
	c->gpr[R_RAX] = 1;
	c->gpr[R_RDX] = 2;
	c->gpr[R_RBX] = 0x3333333333333333ull;
	c->gpr[R_RCX] = 0x4444444444444444ull;
	CU_ASSERT_EQUAL(SN_RUN(c, c16), CPU_STOP_HLT);
	CU_ASSERT(cpu_zf(c));
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 16, 8), 0x3333333333333333ull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 24, 8), 0x4444444444444444ull);
	CU_ASSERT_EQUAL(SN_RUN(c, c16), CPU_STOP_HLT);         /* now fails */
	CU_ASSERT(!cpu_zf(c));
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x3333333333333333ull);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0x4444444444444444ull);
	/* misaligned 16B: #GP(0), nothing changed */
	c->gpr[R_RSI] = SN_DATA + 8;
	c->gpr[R_RAX] = 7;
	CU_ASSERT_EQUAL(SN_RUN(c, c16), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc_error, 0);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 7);
}

static void test_xadd(void)
{
	static const uint8_t code[] = {
		0x0f, 0xc1, 0xd1,             /* xadd ecx, edx */
		0x48, 0x0f, 0xc1, 0xc0,       /* xadd rax, rax: the sum wins */
		0x48, 0x0f, 0xc1, 0x1e,       /* xadd [rsi], rbx */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RCX] = 0xcccccccc80000000ull;
	c->gpr[R_RDX] = 0xdddddddd80000001ull;
	c->gpr[R_RAX] = 5;
	c->gpr[R_RBX] = 1;
	c->gpr[R_RSI] = SN_DATA;
	sn_poke(c, SN_DATA, 8, ~0ull);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 1);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0x80000000ull);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 10);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA, 8), 0);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], ~0ull);
	CU_ASSERT(cpu_zf(c) && cpu_cf(c) && !cpu_of(c));
}

static void test_cbw_cwd(void)
{
	static const uint8_t cbw[] = { 0x66, 0x98 }, cwde[] = { 0x98 }, cdqe[] = { 0x48, 0x98 };
	static const uint8_t cwd[] = { 0x66, 0x99 }, cdq[] = { 0x99 }, cqo[] = { 0x48, 0x99 };
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0x1234567812345680ull;
	SN_RUN(c, cbw);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x123456781234ff80ull);
	SN_RUN(c, cwde);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xffffff80ull);
	SN_RUN(c, cdqe);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], ~0ull - 0x7f);
	c->gpr[R_RAX] = 0x8000;
	c->gpr[R_RDX] = 0x5555555555555555ull;
	SN_RUN(c, cwd);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0x555555555555ffffull);
	SN_RUN(c, cdq);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0);
	c->gpr[R_RAX] = 1ull << 63;
	SN_RUN(c, cqo);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], ~0ull);
}

static void test_bswap_movbe(void)
{
	static const uint8_t code[] = {
		0x0f, 0xc9,                         /* bswap ecx */
		0x48, 0x0f, 0xca,                   /* bswap rdx */
		0x66, 0x0f, 0xcb,                   /* bswap bx (undefined: host clears) */
		0x0f, 0x38, 0xf0, 0x06,             /* movbe eax, [rsi] */
		0x48, 0x0f, 0x38, 0xf1, 0x56, 0x08, /* movbe [rsi+8], rdx */
		0x66, 0x0f, 0x38, 0xf0, 0x3e,       /* movbe di, [rsi] */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RCX] = 0xffffffff11223344ull;
	c->gpr[R_RDX] = 0x0102030405060708ull;
	uint64_t rbx = 0x1122334455667788ull;
	c->gpr[R_RBX] = rbx;
	__asm__ volatile(".byte 0x66, 0x0f, 0xcb" : "+b"(rbx));     /* the host's answer */
	c->gpr[R_RSI] = SN_DATA;
	c->gpr[R_RDI] = 0x7777777777777777ull;
	sn_poke(c, SN_DATA, 4, 0xaabbccdd);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x44332211ull);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0x0807060504030201ull);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], rbx);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0x1122334455660000ull);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xddccbbaaull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 8, 8), 0x0102030405060708ull);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x777777777777ddccull);
}

/* The SDM's condition table (Vol. 1 Appendix B), written out on its own so
 * that it checks cpu_cond() rather than repeating it. */
static bool sdm_cond(unsigned cc, uint64_t f)
{
	bool cf = f & FLAG_CF, zf = f & FLAG_ZF, sf = f & FLAG_SF, of = f & FLAG_OF, pf = f & FLAG_PF;
	static const char *const names[16] = { "O", "NO", "B", "AE", "E", "NE", "BE", "A",
					       "S", "NS", "P", "NP", "L", "GE", "LE", "G" };
	const char *n = names[cc];
	if (!strcmp(n, "O")) return of;
	if (!strcmp(n, "NO")) return !of;
	if (!strcmp(n, "B")) return cf;
	if (!strcmp(n, "AE")) return !cf;
	if (!strcmp(n, "E")) return zf;
	if (!strcmp(n, "NE")) return !zf;
	if (!strcmp(n, "BE")) return cf || zf;
	if (!strcmp(n, "A")) return !cf && !zf;
	if (!strcmp(n, "S")) return sf;
	if (!strcmp(n, "NS")) return !sf;
	if (!strcmp(n, "P")) return pf;
	if (!strcmp(n, "NP")) return !pf;
	if (!strcmp(n, "L")) return sf != of;
	if (!strcmp(n, "GE")) return sf == of;
	if (!strcmp(n, "LE")) return zf || sf != of;
	return !zf && sf == of;
}

/* SETcc r/m8 and CMOVcc r32/r64 for all 16 conditions over every
 * combination of CF, ZF, SF, OF, PF. */
static void test_setcc_cmovcc(void)
{
	int bad = 0, taken = 0;
	for (unsigned cc = 0; cc < 16; cc++) {
		for (unsigned m = 0; m < 32; m++) {
			uint64_t f = FLAG_FIXED1 | ((m & 1) ? FLAG_CF : 0) | ((m & 2) ? FLAG_ZF : 0) |
				     ((m & 4) ? FLAG_SF : 0) | ((m & 8) ? FLAG_OF : 0) | ((m & 16) ? FLAG_PF : 0);
			const uint8_t code[] = {
				0x0f, (uint8_t)(0x90 + cc), 0xc3,         /* setcc bl */
				0x0f, (uint8_t)(0x40 + cc), 0xc1,         /* cmovcc eax, ecx */
				0x48, 0x0f, (uint8_t)(0x40 + cc), 0xd1,   /* cmovcc rdx, rcx */
			};
			struct cpu *c = sn_cpu();
			c->rflags = f;
			c->gpr[R_RAX] = 0xaaaaaaaa00000001ull;
			c->gpr[R_RBX] = 0xbbbbbbbbbbbbbb77ull;
			c->gpr[R_RCX] = 0xcccccccc00000002ull;
			c->gpr[R_RDX] = 0xdddddddddddddddd;
			if (sn_run(c, code, sizeof code) != CPU_STOP_HLT) {
				bad++;
				continue;
			}
			bool t = sdm_cond(cc, f);
			taken += t;
			bad += c->gpr[R_RBX] != (0xbbbbbbbbbbbbbb00ull | t);
			/* a 32-bit CMOV zero-extends even when it does not move */
			bad += c->gpr[R_RAX] != (t ? 2ull : 1ull);
			bad += c->gpr[R_RDX] != (t ? 0xcccccccc00000002ull : 0xdddddddddddddddd);
			bad += cpu_get_rflags(c) != f;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(taken, 16 * 32 / 2);
}

/* CMOVcc reads a memory source even when the condition is false, so it
 * faults: a non-canonical address gives #GP(0) with ZF = 0. */
static void test_cmov_reads_memory(void)
{
	static const uint8_t code[] = { 0x0f, 0x44, 0x06 };    /* cmovz eax, [rsi] */
	struct cpu *c = sn_cpu();
	c->gpr[R_RSI] = 0x0000800000000000ull;
	c->rflags = FLAG_FIXED1;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
}

static void test_xlat(void)
{
	static const uint8_t code[] = {
		0xd7,                   /* xlat: al = [rbx + al] */
		0x88, 0xc1,             /* mov cl, al */
		0x64, 0xd7,             /* xlat fs:[rbx + al] */
	};
	struct cpu *c = sn_cpu();
	for (int k = 0; k < 256; k++)
		sn_poke(c, SN_DATA + (uint64_t)k, 1, (uint64_t)(k * 7 + 3) & 0xff);
	sn_poke(c, SN_DATA + 0x1000 + 0x98, 1, 0x5e);
	c->gpr[R_RBX] = SN_DATA;
	c->gpr[R_RAX] = 0x1234567890abcd83ull;   /* AL = 0x83: unsigned index */
	c->seg[SEG_FS].base = 0x1000;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX] & 0xff, (0x83 * 7 + 3) & 0xff);   /* 0x98 */
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x1234567890abcd5eull);
}

static void test_lahf_sahf_flagops(void)
{
	static const uint8_t code[] = {
		0x9e,       /* sahf: AH = 0xd5 -> SF ZF AF PF CF */
		0xf5,       /* cmc */
		0x9f,       /* lahf */
		0x88, 0xe3, /* mov bl, ah */
		0xf9,       /* stc */
		0xfd,       /* std */
		0x9c,       /* pushf */
		0xf8,       /* clc */
		0xfc,       /* cld */
		0x59,       /* pop rcx */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0xff00;       /* reserved AH bits 1, 3, 5 are ignored */
	c->rflags = FLAG_FIXED1 | FLAG_OF;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	/* after sahf: SF ZF AF PF CF; cmc clears CF: AH = 1101 0110b */
	CU_ASSERT_EQUAL(c->gpr[R_RBX] & 0xff, 0xd6);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], FLAG_FIXED1 | FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF |
			FLAG_CF | FLAG_DF | FLAG_OF);
	CU_ASSERT_EQUAL(cpu_get_rflags(c), FLAG_FIXED1 | FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_OF);
}

/* Every NOP form: no register, flag or memory change, no fault even with
 * a non-canonical memory operand (NOPs do not access memory). */
static void test_nops(void)
{
	static const uint8_t code[] = {
		0x90,                                     /* nop */
		0xf3, 0x90,                               /* pause */
		0x66, 0x90,                               /* xchg ax, ax = nop */
		0x0f, 0x1f, 0x00,                         /* nop [rax] */
		0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, /* nop [rax+rax*1+0] */
		0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x0f, 0x18, 0x0e,                         /* prefetcht0 [rsi] */
		0x0f, 0x0d, 0x0e,                         /* prefetchw [rsi] */
		0x0f, 0x19, 0xc0,                         /* hint nop eax */
		0xf3, 0x0f, 0x1e, 0xfa,                   /* endbr64 */
		0x48, 0x0f, 0x1f, 0x44, 0x36, 0x10,       /* nop [rsi+rsi+0x10] */
		0x9b,                                     /* fwait */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0x8000000000000000ull;
	c->gpr[R_RSI] = 0x0000800000000000ull;    /* non-canonical */
	c->rflags = FLAG_FIXED1 | FLAG_CF;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->icount, 13);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x8000000000000000ull);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x0000800000000000ull);
	CU_ASSERT_EQUAL(cpu_get_rflags(c), FLAG_FIXED1 | FLAG_CF);
}

/* FWAIT: #NM when CR0.MP and CR0.TS are both set (SDM Vol. 2 WAIT). */
static void test_fwait_nm(void)
{
	static const uint8_t code[] = { 0x9b };
	struct cpu *c = sn_cpu();
	c->cr0 |= (1u << 1) | (1u << 3);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_NM);
	c->cr0 &= ~(1ull << 1);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
}

/* MOV r/m, Sreg and MOV Sreg, r/m within what the core implements. */
static void test_mov_sreg(void)
{
	static const uint8_t code[] = {
		0x8c, 0xe1,             /* mov ecx, fs  (zero-extended) */
		0x66, 0x8c, 0xe2,       /* mov dx, fs */
		0x48, 0x8c, 0x26,       /* mov [rsi], fs (16 bits) */
		0x8e, 0xd8,             /* mov ds, ax (null selector) */
	};
	static const uint8_t bad_cs[] = { 0x8e, 0xc8 };         /* mov cs, ax */
	static const uint8_t bad_sel[] = { 0x8e, 0xc3 };        /* mov es, bx */
	struct cpu *c = sn_cpu();
	c->seg[SEG_FS].sel = 0x2b;
	c->seg[SEG_DS].sel = 0x18;
	c->gpr[R_RCX] = c->gpr[R_RDX] = ~0ull;
	c->gpr[R_RSI] = SN_DATA;
	c->gpr[R_RAX] = 0;
	sn_poke(c, SN_DATA, 8, ~0ull);
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x2b);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0xffffffffffff002bull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA, 8), 0xffffffffffff002bull);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0);
	CU_ASSERT_EQUAL(SN_RUN(c, bad_cs), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
	/* a real selector needs the GDT: refused until system mode */
	c->gpr[R_RBX] = 0x23;
	CU_ASSERT_EQUAL(SN_RUN(c, bad_sel), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc_error, 0x20);
	/* in real mode, base = selector * 16 */
	c = sn_cpu();
	sn_mode(c, CPU_MODE16, false);
	c->cr0 = 0;
	c->gpr[R_RBX] = 0x1234;
	c->gpr[R_RSP] = 0x8000;
	CU_ASSERT_EQUAL(SN_RUN(c, bad_sel), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].sel, 0x1234);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].base, 0x12340);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "MOV immediate forms", test_mov_imm_forms },
		{ "MOV moffs (A0-A3)", test_mov_moffs },
		{ "MOVZX, MOVSX, MOVSXD", test_movzx_movsx },
		{ "LEA address/operand size", test_lea_sizes },
		{ "XCHG forms, NOP is not XCHG EAX,EAX", test_xchg },
		{ "CMPXCHG r32 vs host", test_cmpxchg_reg32 },
		{ "CMPXCHG memory and flags", test_cmpxchg_mem_flags },
		{ "CMPXCHG writes back on failure", test_cmpxchg_writes_back },
		{ "CMPXCHG8B/16B", test_cmpxchg8b_16b },
		{ "XADD", test_xadd },
		{ "CBW..CQO", test_cbw_cwd },
		{ "BSWAP, MOVBE", test_bswap_movbe },
		{ "SETcc/CMOVcc all conditions", test_setcc_cmovcc },
		{ "CMOVcc reads memory when false", test_cmov_reads_memory },
		{ "XLAT", test_xlat },
		{ "LAHF/SAHF and flag instructions", test_lahf_sahf_flagops },
		{ "NOP forms", test_nops },
		{ "FWAIT #NM", test_fwait_nm },
		{ "MOV Sreg", test_mov_sreg },
		{ NULL, NULL },
	};
	return ut_main("move", cases);
}
