/*
 * test_seg.c - segmentation (seg.c, far.c, desc.c, io.c): data-segment
 * loads and their faults, far JMP/CALL/RET between 64-bit, compatibility
 * and 32-bit code, a call gate to ring 0 with a parameter, the descriptor
 * table instructions, and the TSS I/O permission bitmap.
 */
#include <string.h>

#include "sys_util.h"

/* 32-bit #GP/#SS/#NP handlers: edi = error code, esi = EIP; hlt. */
static const uint8_t h_err32[] = { 0x8b, 0x3c, 0x24, 0x8b, 0x74, 0x24, 0x04, 0xf4 };

static struct cpu *cpu32_with_handlers(void)
{
	struct cpu *c = sy_cpu32();
	sy_put(c, SY_HND + 0x100, h_err32, sizeof h_err32);
	sy_gate32(c, VEC_GP, (uint32_t)SY_HND + 0x100, 0x40, 0xe, 0);
	sy_gate32(c, VEC_SS, (uint32_t)SY_HND + 0x100, 0x40, 0xe, 0);
	sy_gate32(c, VEC_NP, (uint32_t)SY_HND + 0x100, 0x40, 0xe, 0);
	return c;
}

/* MOV DS loads the cache and sets the accessed bit; MOV SS of a segment
 * that is not present is #SS(sel). */
static void test_data_loads(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x66, 0xb8, 0x48, 0x00, 0x8e, 0xd8,     /* mov ds, 0x48 */
					0x66, 0xb8, 0x78, 0x00, 0x8e, 0xd0, 0xf4 }; /* mov ss, 0x78 */
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0x48);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].limit, 0xfff);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].attr, 0x4093);
	CU_ASSERT_EQUAL(sn_peek(c, SY_GDT + 0x48 + 5, 1), 0x93);    /* accessed */
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x78);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], UT_CODE + 10);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, 0x10);

	struct { uint16_t sel; int sreg; uint32_t err; } bad[] = {
		{ 0x30, 0xd8, 0x30 },    /* DS <- TSS descriptor: #GP(sel) */
		{ 0x20, 0xd0, 0x20 },    /* SS <- DPL 3 data at CPL 0 */
		{ 0x00, 0xd0, 0x00 },    /* SS <- null in 32-bit mode: #GP(0) */
		{ 0x58, 0xd0, 0x58 },    /* SS <- read-only data */
		{ 0x108, 0xd8, 0x108 },  /* beyond the GDT limit */
	};
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		c = cpu32_with_handlers();
		uint8_t b[] = { 0x66, 0xb8, (uint8_t)bad[k].sel, (uint8_t)(bad[k].sel >> 8), 0x8e,
				(uint8_t)bad[k].sreg, 0xf4 };
		CU_ASSERT_EQUAL(SY_RUN(c, b), CPU_STOP_HLT);
		CU_ASSERT_EQUAL(c->gpr[R_RSI], UT_CODE + 4);
		CU_ASSERT_EQUAL(c->gpr[R_RDI], bad[k].err);
	}
	/* A null DS is fine to load. */
	c = cpu32_with_handlers();
	static const uint8_t nul[] = { 0x31, 0xc0, 0x8e, 0xd8, 0xf4 };
	CU_ASSERT_EQUAL(SY_RUN(c, nul), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].attr & SEG_ATTR_P, 0);
}

/* 64-bit -> JMP FAR m16:32 -> compatibility mode -> JMP ptr16:32 -> 64-bit. */
static void test_far_jmp_modes(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0xff, 0x2d, 0x02, 0, 0, 0, 0xf4, 0xf4,
					0x00, 0x20, 0x01, 0x00, 0x40, 0x00 };
	static const uint8_t compat[] = { 0xb8, 0x34, 0x12, 0, 0, 0xea, 0x00, 0x30, 0x01, 0x00,
					  0x08, 0x00 };
	static const uint8_t back[] = { 0x48, 0x89, 0xc3, 0xf4 };    /* mov rbx, rax; hlt */
	sy_put(c, 0x12000, compat, sizeof compat);
	sy_put(c, 0x13000, back, sizeof back);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0x1234);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, 0x08);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE64);
	CU_ASSERT_EQUAL(c->rip, 0x13004);
}

/* CALL FAR ptr16:32 / RETF at the same privilege. */
static void test_far_call_ret(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x9a, 0x00, 0x20, 0x01, 0x00, 0x40, 0x00, 0x89, 0xc3, 0xf4 };
	static const uint8_t callee[] = { 0x89, 0xe0, 0xcb };       /* mov eax, esp; retf */
	sy_put(c, 0x12000, callee, sizeof callee);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], SY_KSTK - 8);
	CU_ASSERT_EQUAL(sn_peek(c, SY_KSTK - 8, 4), UT_CODE + 7);
	CU_ASSERT_EQUAL(sn_peek(c, SY_KSTK - 4, 4), 0x40);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], SY_KSTK);
	/* A far JMP to a DPL 3 code segment from CPL 0 is #GP(sel). */
	c = cpu32_with_handlers();
	static const uint8_t bad[] = { 0xea, 0x00, 0x20, 0x01, 0x00, 0x18, 0x00 };
	CU_ASSERT_EQUAL(SY_RUN(c, bad), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x18);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], UT_CODE);
}

/* Ring 3 -> CALL through a DPL 3 call gate with one parameter -> ring 0 on
 * SS0:ESP0 -> RETF 4 -> ring 3 -> INT 0x81 -> #GP. */
static void test_call_gate(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x1b, 0x68, 0x00, 0x10, 0x01, 0x00, 0xcf };
	static const uint8_t user[] = { 0x6a, 0x77, 0x9a, 0, 0, 0, 0, 0x6b, 0x00, 0xcd, 0x81 };
	static const uint8_t gate[] = { 0x8b, 0x74, 0x24, 0x08, 0x8b, 0x6c, 0x24, 0x04,
					0xca, 0x04, 0x00 };
	static const uint8_t hgp[] = { 0x8b, 0x3c, 0x24, 0x8b, 0x54, 0x24, 0x10, 0xf4 };
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND, gate, sizeof gate);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	/* 32-bit call gate (type C), DPL 3, 1 parameter, to 0x40:SY_HND */
	sy_desc(c, 0x68, (SY_HND & 0xffff) | (0x40ull << 16) | (1ull << 32) | (0xecull << 40) |
			 ((SY_HND >> 16) << 48));
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x77);
	CU_ASSERT_EQUAL(c->gpr[R_RBP], 0x1b);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x81 * 8 + 2);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], SY_USTK);        /* ESP back where it was */
}

/* LGDT/SGDT/SIDT, LTR (busy bit), STR, LLDT and a load from the LDT. */
static void test_tables(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x0f, 0x01, 0x15, 0x00, 0x50, 0, 0, 0x0f, 0x01, 0x05, 0x10,
					0x50, 0, 0, 0x0f, 0x01, 0x0d, 0x20, 0x50, 0, 0, 0xf4 };
	sn_poke(c, 0x5000, 2, 0xff);
	sn_poke(c, 0x5002, 4, SY_GDT);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, 0x5010, 2), 0xff);
	CU_ASSERT_EQUAL(sn_peek(c, 0x5012, 4), SY_GDT);
	CU_ASSERT_EQUAL(sn_peek(c, 0x5020, 2), 0x7ff);
	CU_ASSERT_EQUAL(sn_peek(c, 0x5022, 4), SY_IDT);

	c = cpu32_with_handlers();
	static const uint8_t ltr[] = { 0x66, 0xb8, 0x30, 0x00, 0x0f, 0x00, 0xd8, 0x0f, 0x00, 0xcb,
				       0x0f, 0x00, 0xd8 };
	CU_ASSERT_EQUAL(SY_RUN(c, ltr), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0x30);
	CU_ASSERT_EQUAL(sn_peek(c, SY_GDT + 0x35, 1), 0x8b);       /* busy */
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x30);                       /* second LTR: #GP */

	c = cpu32_with_handlers();
	static const uint8_t lldt[] = { 0x66, 0xb8, 0x38, 0x00, 0x0f, 0x00, 0xd0, 0x66, 0xb8, 0x0c,
					0x00, 0x8e, 0xc0, 0x0f, 0x00, 0xc1, 0xf4 };
	sy_desc(c, 0x38, sy_mkdesc(0x6000, 0xf, 0x82));            /* LDT at 0x6000 */
	sn_poke(c, 0x6008, 8, sy_mkdesc(0x4000, 0xfff, 0x4093));
	CU_ASSERT_EQUAL(SY_RUN(c, lldt), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].base, 0x4000);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].sel, 0x0c);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x38);
}

/* LAR, LSL, VERR, VERW, ARPL report in ZF. */
static void test_lar_lsl_ver_arpl(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0xb9, 0x48, 0, 0, 0, 0x0f, 0x02, 0xc1, 0x0f, 0x94, 0xc3,
					0x0f, 0x03, 0xd1, 0x0f, 0x94, 0xc7, 0xb9, 0x00, 0x04, 0, 0,
					0x0f, 0x02, 0xf1, 0x0f, 0x94, 0xc5, 0xf4 };
	c->gpr[R_RSI] = 0x5555;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x00409300);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 0xfff);
	CU_ASSERT_EQUAL(c->gpr[R_RBX] & 0xffff, 0x0101);
	CU_ASSERT_EQUAL((c->gpr[R_RCX] >> 8) & 0xff, 0);            /* beyond the GDT */
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x5555);                     /* unchanged */

	c = cpu32_with_handlers();
	static const uint8_t ver[] = { 0xb9, 0x58, 0, 0, 0, 0x0f, 0x00, 0xe1, 0x0f, 0x94, 0xc0,
				       0x0f, 0x00, 0xe9, 0x0f, 0x94, 0xc4, 0x66, 0xb9, 0x10, 0x00,
				       0x66, 0xba, 0x03, 0x00, 0x63, 0xd1, 0x0f, 0x94, 0xc3, 0xf4 };
	CU_ASSERT_EQUAL(SY_RUN(c, ver), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xffff, 0x0001);            /* readable, not writable */
	CU_ASSERT_EQUAL(c->gpr[R_RCX] & 0xffff, 0x13);
	CU_ASSERT_EQUAL(c->gpr[R_RBX] & 0xff, 1);
}

/* Ring 3 with IOPL 0: port 0x80 allowed by the bitmap, 0x81 not. */
static void test_io_bitmap(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x1b, 0x68, 0x00, 0x10, 0x01, 0x00, 0xcf };
	static const uint8_t user[] = { 0xe6, 0x80, 0xbb, 0x01, 0, 0, 0, 0xe6, 0x81 };
	sy_put(c, 0x11000, user, sizeof user);
	c->tr.limit = 0x68 + 0x20;
	sn_poke(c, SY_TSS + 0x66, 2, 0x68);
	for (int k = 0; k < 0x20; k++)
		sn_poke(c, SY_TSS + 0x68 + (uint64_t)k, 1, 0xff);
	sn_poke(c, SY_TSS + 0x68 + 0x10, 1, 0xfe);                  /* 0x80 clear, 0x81 set */
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 1);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x11007);
}

/* INS and OUTS take the same I/O path as IN and OUT: from ring 3 with
 * IOPL 0, OUTSB/INSB to port 0x80 (clear in the bitmap) work, and to 0x81
 * (set) they raise #GP(0) before touching memory. */
static void run_string_io(const uint8_t *tail, size_t n, uint64_t *fault_eip, uint8_t *mem)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x1b, 0x68, 0x00, 0x10, 0x01, 0x00, 0xcf };
	uint8_t user[64] = {
		0x66, 0xba, 0x80, 0x00,             /* mov dx, 0x80 */
		0xbe, 0x00, 0x20, 0x01, 0x00,       /* mov esi, 0x12000 */
		0x36, 0x6e,                         /* ss: outsb      (allowed) */
		0x16, 0x07,                         /* push ss; pop es */
		0xbf, 0x00, 0x20, 0x01, 0x00,       /* mov edi, 0x12000 */
		0x6c,                               /* insb           (allowed) */
		0xbb, 0x01, 0x00, 0x00, 0x00,       /* mov ebx, 1 */
		0x66, 0xba, 0x81, 0x00,             /* mov dx, 0x81 */
	};
	memcpy(user + 28, tail, n);
	sy_put(c, 0x11000, user, 28 + n);
	sn_poke(c, 0x12000, 2, 0x5555);
	c->tr.limit = 0x68 + 0x20;
	sn_poke(c, SY_TSS + 0x66, 2, 0x68);
	for (int k = 0; k < 0x20; k++)
		sn_poke(c, SY_TSS + 0x68 + (uint64_t)k, 1, 0xff);
	sn_poke(c, SY_TSS + 0x68 + 0x10, 1, 0xfe);                  /* 0x80 clear, 0x81 set */
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 1);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0);                          /* #GP(0) */
	*fault_eip = c->gpr[R_RSI];
	*mem = (uint8_t)sn_peek(c, 0x12001, 1);
}

static void test_io_bitmap_string(void)
{
	static const uint8_t outsb[] = { 0x36, 0x6e }, insb[] = { 0x6c }, rep_outsb[] = { 0xb9, 1, 0, 0, 0, 0xf3, 0x36, 0x6e };
	uint64_t eip;
	uint8_t mem;
	run_string_io(outsb, sizeof outsb, &eip, &mem);
	CU_ASSERT_EQUAL(eip, 0x11000 + 28);
	run_string_io(insb, sizeof insb, &eip, &mem);
	CU_ASSERT_EQUAL(eip, 0x11000 + 28);
	CU_ASSERT_EQUAL(mem, 0x55);                                 /* nothing written */
	run_string_io(rep_outsb, sizeof rep_outsb, &eip, &mem);   /* mov ecx, 1; rep ss: outsb */
	CU_ASSERT_EQUAL(eip, 0x11000 + 33);
}

/* Data accesses outside 64-bit mode check limit and rights: #GP(0), or
 * #SS(0) for the stack. */
static void run_fault(const uint8_t *code, size_t len, uint64_t fault_at, uint32_t err)
{
	struct cpu *c = cpu32_with_handlers();
	CU_ASSERT_EQUAL(sy_run(c, code, len), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], UT_CODE + fault_at);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], err);
}

static void test_limits(void)
{
	/* limit 0xfff: a dword at 0xffc fits, at 0xffd it does not */
	static const uint8_t lim[] = { 0x66, 0xb8, 0x48, 0x00, 0x8e, 0xd8, 0xa1, 0xfc, 0x0f, 0, 0,
				       0xa1, 0xfd, 0x0f, 0, 0 };
	run_fault(lim, sizeof lim, 11, 0);
	/* expand-down, limit 0xfff: 0x1000 is valid, 0x800 is not */
	static const uint8_t exd[] = { 0x66, 0xb8, 0x50, 0x00, 0x8e, 0xc0, 0x26, 0xa1, 0x00, 0x10,
				       0, 0, 0x26, 0xa1, 0x00, 0x08, 0, 0 };
	run_fault(exd, sizeof exd, 12, 0);
	/* read-only data: the read works, the write faults */
	static const uint8_t ro[] = { 0x66, 0xb8, 0x58, 0x00, 0x8e, 0xd8, 0xa1, 0x00, 0x01, 0, 0,
				      0xa3, 0x00, 0x01, 0, 0 };
	run_fault(ro, sizeof ro, 11, 0);
	/* a null FS loads, but using it faults */
	static const uint8_t nul[] = { 0x31, 0xc0, 0x8e, 0xe0, 0x64, 0xa1, 0, 0, 0, 0 };
	run_fault(nul, sizeof nul, 4, 0);
	/* read-modify-write straddling the limit */
	static const uint8_t rmw[] = { 0x66, 0xb8, 0x48, 0x00, 0x8e, 0xd8, 0x83, 0x05, 0xfe, 0x0f,
				       0, 0, 0x01 };
	run_fault(rmw, sizeof rmw, 6, 0);

	/* REP STOSB runs up to the limit, then faults with the registers of
	 * the element that did not fit. */
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t rep[] = { 0x66, 0xb8, 0x48, 0x00, 0x8e, 0xc0, 0xbf, 0xf0, 0x0f, 0, 0,
				       0xb9, 0x20, 0, 0, 0, 0xfc, 0xf3, 0xaa };
	CU_ASSERT_EQUAL(SY_RUN(c, rep), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], UT_CODE + 17);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x10);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0);               /* the handler's error code */

	/* Ring 3 on a small stack: PUSH past the limit is #SS(0), delivered on
	 * the ring-0 stack from the TSS. */
	c = cpu32_with_handlers();
	static const uint8_t to3[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
				       0x6a, 0x1b, 0x68, 0x00, 0x10, 0x01, 0x00, 0xcf };
	static const uint8_t user[] = { 0x66, 0xb8, 0x73, 0x00, 0x8e, 0xd0, 0xbc, 0x02, 0x10, 0, 0,
					0x50 };
	sy_desc(c, 0x70, sy_mkdesc(0, 0xfff, 0x40f3));
	sy_put(c, 0x11000, user, sizeof user);
	CU_ASSERT_EQUAL(SY_RUN(c, to3), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x1100b);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0);
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 4, 4), 0x73);        /* SS of the fault */
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 8, 4), 0x1002);      /* ESP unchanged */
}

/* Long mode: ring 3 CALL FAR through a 16-byte call gate to 64-bit ring 0
 * code on RSP0 (8-byte pushes), RETFQ back. */
static void test_call_gate64(void)
{
	struct cpu *c = sy_cpu64();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x68, 0x02, 0x02, 0, 0,
					0x6a, 0x2b, 0x68, 0x00, 0x10, 0x01, 0x00, 0x48, 0xcf };
	static const uint8_t user[] = { 0xff, 0x1d, 0x04, 0, 0, 0, 0xcd, 0x81, 0xf4, 0xf4,
					0, 0, 0, 0, 0x6b, 0x00 };
	static const uint8_t gate[] = { 0x4c, 0x8b, 0x04, 0x24, 0x4c, 0x8b, 0x4c, 0x24, 0x08,
					0x4c, 0x8b, 0x54, 0x24, 0x10, 0x4c, 0x8b, 0x5c, 0x24, 0x18,
					0x48, 0xcb };
	static const uint8_t hgp[] = { 0x4c, 0x8b, 0x3c, 0x24, 0xf4 };   /* r15 = error code */
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND, gate, sizeof gate);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	sy_gate64(c, VEC_GP, SY_HND + 0x100, 0xe, 0, 0);
	sy_desc(c, 0x68, (SY_HND & 0xffff) | (0x08ull << 16) | (0xecull << 40) |
			 ((SY_HND >> 16 & 0xffff) << 48));
	sy_desc(c, 0x70, SY_HND >> 32);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0x11006);
	CU_ASSERT_EQUAL(c->gpr[R_R9], 0x2b);
	CU_ASSERT_EQUAL(c->gpr[R_R10], SY_USTK);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0x23);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0x81 * 8 + 2);       /* back in ring 3 */
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 16, 8), SY_USTK); /* #GP frame: RSP */
}

/* The boot-loader sequence: real mode, LGDT, CR0.PE = 1, a far JMP to a
 * 32-bit code segment, data and stack segments loaded from the GDT. */
static void test_real_to_protected(void)
{
	struct cpu *c = sn_cpu();
	sy_gdt(c, false);
	c->efer = 0;
	sn_poke(c, 0x5000, 2, 0xff);
	sn_poke(c, 0x5002, 4, SY_GDT);
	uint8_t code[0x20 + 20] = {
		0x0f, 0x01, 0x16, 0x00, 0x50, 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0,
		0x66, 0xea, 0x20, 0x00, 0x01, 0x00, 0x40, 0x00 };
	static const uint8_t pm[] = { 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00,
				      0x00, 0x07, 0x00, 0x68, 0x34, 0x12, 0x00, 0x00, 0x5b, 0xf4 };
	memcpy(code + 0x20, pm, sizeof pm);
	CU_ASSERT_EQUAL(sn_run_real(c, code, sizeof code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE32);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, 0x40);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].base, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].attr, 0xc093);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], 0x1234);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x70000);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 0x20 + sizeof pm);
}

/* RETF to an outer ring (the classic way into ring 3 in 32-bit code): SS:ESP
 * popped, DS/ES nulled; and LSS. */
static void test_retf_outer_lss(void)
{
	struct cpu *c = cpu32_with_handlers();
	static const uint8_t code[] = { 0x6a, 0x23, 0x68, 0, 0, 0x08, 0, 0x6a, 0x1b, 0x68, 0x00,
					0x10, 0x01, 0x00, 0xcb };
	static const uint8_t user[] = { 0xcd, 0x81 };
	static const uint8_t hgp[] = { 0x8b, 0x3c, 0x24, 0x8b, 0x54, 0x24, 0x10, 0xf4 };
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND + 0x100, hgp, sizeof hgp);
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x81 * 8 + 2);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], SY_USTK);
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 16, 4), 0x1b);      /* CS of the user */
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].sel, 0);

	c = cpu32_with_handlers();
	static const uint8_t lss[] = { 0x0f, 0xb2, 0x25, 0x00, 0x50, 0, 0, 0xf4 };
	sn_poke(c, 0x5000, 4, 0x60000);
	sn_poke(c, 0x5004, 2, 0x48);
	CU_ASSERT_EQUAL(SY_RUN(c, lss), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x60000);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, 0x48);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].limit, 0xfff);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "MOV DS/SS loads and their faults", test_data_loads },
		{ "real mode -> protected mode by far JMP", test_real_to_protected },
		{ "far JMP 64-bit <-> compatibility mode", test_far_jmp_modes },
		{ "far CALL / RETF, JMP to DPL 3 code #GP", test_far_call_ret },
		{ "call gate to ring 0 with a parameter, RETF 4", test_call_gate },
		{ "long-mode call gate from ring 3, RETFQ", test_call_gate64 },
		{ "RETF to ring 3, LSS", test_retf_outer_lss },
		{ "LGDT/SGDT/SIDT, LTR/STR busy, LLDT/SLDT", test_tables },
		{ "LAR, LSL, VERR, VERW, ARPL", test_lar_lsl_ver_arpl },
		{ "TSS I/O permission bitmap", test_io_bitmap },
		{ "TSS I/O bitmap: INS and OUTS", test_io_bitmap_string },
		{ "segment limits and rights of data and stack accesses", test_limits },
		{ NULL, NULL },
	};
	return ut_main("seg", cases);
}
