/*
 * test_alu.c - ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC NOT NEG, and the
 * BCD adjusts (alu.c).
 *
 * The two-operand operations run at every operand size on boundary values
 * and a fixed pseudo-random set, with CF and all flags clear and set on
 * entry, against the same instruction on the host CPU: the whole 64-bit
 * destination register (so the upper-half rules of 8/16/32-bit writes are
 * checked too) and every flag the SDM defines.  The other encodings
 * (Gv,Ev  AL,Ib  rAX,Iz  Eb,Ib  Ev,Iz  Ev,Ib  82, memory destinations) are
 * checked against the host on the operands they really use.  DAA/DAS/AAA/AAS
 * are invalid in 64-bit mode, so they are checked against decimal arithmetic
 * itself: BCD in, ADD/SUB, adjust, the decimal sum or difference out.
 */
#include "hostref.h"

enum { HK_ADD, HK_OR, HK_ADC, HK_SBB, HK_AND, HK_SUB, HK_XOR, HK_CMP, HK_TEST, HK_N };

/* dst = dst op src on the host, at `size`, RFLAGS in and out through *fl. */
HR_HOST2(host_add, "add", HR_BYTE("add"))
HR_HOST2(host_or, "or", HR_BYTE("or"))
HR_HOST2(host_adc, "adc", HR_BYTE("adc"))
HR_HOST2(host_sbb, "sbb", HR_BYTE("sbb"))
HR_HOST2(host_and, "and", HR_BYTE("and"))
HR_HOST2(host_sub, "sub", HR_BYTE("sub"))
HR_HOST2(host_xor, "xor", HR_BYTE("xor"))
HR_HOST2(host_cmp, "cmp", HR_BYTE("cmp"))
HR_HOST2(host_test, "test", HR_BYTE("test"))

static uint64_t (*const host_bin[HK_N])(int, uint64_t, uint64_t, uint64_t *) = {
	host_add, host_or, host_adc, host_sbb, host_and, host_sub, host_xor, host_cmp, host_test,
};
static const char *const hk_name[HK_N] = {
	"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test",
};

/* The handlers of each operation, by form. */
struct alu_forms {
	insn_handler_fn Eb_Gb, Ev_Gv, Gb_Eb, Gv_Ev, AL_Ib, rAX_Iz, Eb_Ib, Ev_Iz, Eb_Ib_82, Ev_Ib;
};
#define FORMS(op) { op_##op##_Eb_Gb, op_##op##_Ev_Gv, op_##op##_Gb_Eb, op_##op##_Gv_Ev, \
	op_##op##_AL_Ib, op_##op##_rAX_Iz, op_##op##_Eb_Ib, op_##op##_Ev_Iz, \
	op_##op##_Eb_Ib_82, op_##op##_Ev_Ib }
static const struct alu_forms forms[HK_CMP + 1] = {
	FORMS(add), FORMS(or), FORMS(adc), FORMS(sbb), FORMS(and), FORMS(sub), FORMS(xor), FORMS(cmp),
};

static uint64_t flag_mask(int k)
{
	return (k == HK_OR || k == HK_AND || k == HK_XOR || k == HK_TEST) ? HR_NOAF : HR_ALL6;
}

/* Run handler h with RDX = a (r/m), RBX = b (reg); returns RDX. */
static uint64_t emu_rr(struct cpu *c, insn_handler_fn h, int size, uint64_t a, uint64_t b,
		       uint64_t *fl)
{
	struct insn i = hr_reg(size, R_RBX, R_RDX, 0);
	c->gpr[R_RDX] = a;
	c->gpr[R_RBX] = b;
	cpu_set_rflags(c, *fl);
	CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
	*fl = cpu_get_rflags(c);
	CU_ASSERT_EQUAL(c->gpr[R_RBX], b);
	return c->gpr[R_RDX];
}

static const int sizes[4] = { 1, 2, 4, 8 };

/* Eb,Gb and Ev,Gv at each size against the host, all value pairs. */
static void test_binary_vs_host(void)
{
	struct cpu *c = ut_cpu();
	static const insn_handler_fn test_h[2] = { op_test_Eb_Gb, op_test_Ev_Gv };
	for (int k = 0; k < HK_N; k++)
		for (int s = 0; s < 4; s++)
			for (unsigned x = 0; x < HR_NVALUES; x++)
				for (unsigned y = 0; y < HR_NVALUES; y++)
					for (int f = 0; f < 2; f++) {
		int size = sizes[s];
		uint64_t a = hr_value(x), b = hr_value(y);
		uint64_t fin = HR_FLAGS_IN | (f ? HR_ALL6 : 0), hf = fin, ef = fin;
		insn_handler_fn h = k == HK_TEST ? test_h[size > 1]
				  : size == 1 ? forms[k].Eb_Gb : forms[k].Ev_Gv;
		uint64_t want = host_bin[k](size, a, b, &hf);
		uint64_t got = emu_rr(c, h, size, a, b, &ef);
		HR_CHECK(hk_name[k], size, a, b, fin, got, want, ef, hf, flag_mask(k));
	}
}

/* Every other encoding, on the operands it really uses, against the host. */
static void check_form(struct cpu *c, int k, int size, insn_handler_fn h, int form,
		       uint64_t a, uint64_t imm, uint64_t fin)
{
	/* form 0: Gv,Ev (dst reg RBX, src RDX); 1: accumulator, imm;
	 * 2: r/m register, imm; 3: memory r/m, reg; 4: memory r/m, imm;
	 * 5: Gv, memory source. */
	uint64_t src = imm, hf = fin, ef = fin, got;
	struct insn i = hr_reg(size, R_RBX, R_RDX, imm);
	if (form == 0 || form == 3 || form == 5)
		src = 0x5a5a5a5a5a5a5a5aull ^ imm;
	uint64_t want = host_bin[k](size, a, src, &hf);
	cpu_set_rflags(c, fin);
	switch (form) {
	case 0: c->gpr[R_RBX] = a; c->gpr[R_RDX] = src; break;
	case 1: c->gpr[R_RAX] = a; break;
	case 2: c->gpr[R_RDX] = a; break;
	case 5: c->gpr[R_RBX] = a; /* fall through */
	default:
		i = hr_mem(size, R_RBX, R_RSI, 0x10, imm);
		c->gpr[R_RSI] = HR_DATA - 0x10;
		if (form == 3)
			c->gpr[R_RBX] = src;
		cpu_phys_write(c, HR_DATA, form == 5 ? &src : &a, 8);
		break;
	}
	CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
	ef = cpu_get_rflags(c);
	switch (form) {
	case 0: case 5: got = c->gpr[R_RBX]; break;
	case 1: got = c->gpr[R_RAX]; break;
	case 2: got = c->gpr[R_RDX]; break;
	default:
		got = 0;
		cpu_phys_read(c, HR_DATA, &got, 8);
		/* memory keeps the bytes above the operand: compare at size */
		want = (want & size_mask(size)) | (a & ~size_mask(size));
		break;
	}
	HR_CHECK(hk_name[k], size, a, src, fin, got, want, ef, hf, flag_mask(k));
}

static void test_other_forms(void)
{
	struct cpu *c = ut_cpu();
	for (int k = 0; k <= HK_CMP; k++)
		for (unsigned x = 0; x < HR_NVALUES; x += 3)
			for (unsigned y = 0; y < HR_NVALUES; y += 5) {
		uint64_t a = hr_value(x), v = hr_value(y), fin = HR_FLAGS_IN | (x & 1 ? FLAG_CF : 0);
		uint64_t i8 = (uint64_t)(int64_t)(int8_t)v, i32 = (uint64_t)(int64_t)(int32_t)v;
		const struct alu_forms *f = &forms[k];
		check_form(c, k, 1, f->Gb_Eb, 0, a, v, fin);
		check_form(c, k, 1, f->AL_Ib, 1, a, v & 0xff, fin);
		check_form(c, k, 1, f->Eb_Ib, 2, a, v & 0xff, fin);
		check_form(c, k, 1, f->Eb_Ib_82, 2, a, v & 0xff, fin);
		check_form(c, k, 1, f->Eb_Gb, 3, a, v, fin);
		check_form(c, k, 1, f->Eb_Ib, 4, a, v & 0xff, fin);
		check_form(c, k, 1, f->Gb_Eb, 5, a, v, fin);
		for (int s = 1; s < 4; s++) {
			int size = sizes[s];
			uint64_t iz = size == 2 ? (uint64_t)(int64_t)(int16_t)v : i32;
			check_form(c, k, size, f->Gv_Ev, 0, a, v, fin);
			check_form(c, k, size, f->rAX_Iz, 1, a, iz, fin);
			check_form(c, k, size, f->Ev_Iz, 2, a, iz, fin);
			check_form(c, k, size, f->Ev_Ib, 2, a, i8, fin);
			check_form(c, k, size, f->Ev_Gv, 3, a, v, fin);
			check_form(c, k, size, f->Ev_Iz, 4, a, iz, fin);
			check_form(c, k, size, f->Ev_Ib, 4, a, i8, fin);
			check_form(c, k, size, f->Gv_Ev, 5, a, v, fin);
		}
	}
}

/* The immediate forms take the sign-extended immediate whatever width the
 * decoder left in insn.imm; TEST's /1 aliases behave as /0. */
static void test_imm_sign_extension(void)
{
	struct cpu *c = ut_cpu();
	struct insn i = hr_reg(8, 0, R_RCX, 0x80);       /* add rcx, -128 (83 /0) */
	c->gpr[R_RCX] = 0x1000;
	hr_exec(c, op_add_Ev_Ib, &i);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x1000 - 128);
	i = hr_reg(8, 0, R_RCX, 0x80000000u);            /* and rcx, 0xffffffff80000000 */
	c->gpr[R_RCX] = ~0ull;
	hr_exec(c, op_and_Ev_Iz, &i);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0xffffffff80000000ull);
	i = hr_reg(4, 0, R_RCX, 0x80000000u);            /* test ecx, 80000000h via F7 /1 */
	c->gpr[R_RCX] = 0x80000000u;
	hr_exec(c, op_test_Ev_Iz_1, &i);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x80000000u);
	CU_ASSERT(cpu_sf(c) && !cpu_zf(c) && !cpu_cf(c));
	i = hr_reg(1, 0, R_RCX, 0x01);                   /* test cl, 1 via F6 /1 */
	hr_exec(c, op_test_Eb_Ib_1, &i);
	CU_ASSERT(cpu_zf(c) && !cpu_sf(c) && cpu_pf(c));
	i = hr_reg(2, 0, R_RAX, 0xffff);                  /* test ax, 8000h (A9) */
	c->gpr[R_RAX] = 0x8000;
	hr_exec(c, op_test_rAX_Iz, &i);
	CU_ASSERT(cpu_sf(c) && !cpu_zf(c));
	i = hr_reg(1, 0, R_RAX, 0x0f);                    /* test al, 0fh (A8) */
	hr_exec(c, op_test_AL_Ib, &i);
	CU_ASSERT(cpu_zf(c));
}

/* AH, CH, DH, BH (register numbers 16-19) as byte operands. */
static void test_high_byte_registers(void)
{
	struct cpu *c = ut_cpu();
	struct insn i = hr_reg(1, REG8_AH + 3, REG8_AH + 0, 0);    /* add ah, bh */
	c->gpr[R_RAX] = 0x1111111111117f22ull;
	c->gpr[R_RBX] = 0x0000000000000100ull;
	hr_exec(c, op_add_Eb_Gb, &i);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x1111111111118022ull);
	CU_ASSERT(cpu_of(c) && cpu_sf(c) && !cpu_cf(c) && cpu_af(c));
}

/* INC/DEC (FE, FF, and 40+r/48+r) keep CF, and NEG/NOT, against the host. */
#define HOST_UN(fn, mn) \
static uint64_t fn(int size, uint64_t a, uint64_t *flp) \
{ \
	uint64_t fl = *flp; \
	switch (size) { \
	case 1: HR_ASM(mn "b %b[a]", fl, ([a] "+q"(a)), ()); break; \
	case 2: HR_ASM(mn "w %w[a]", fl, ([a] "+r"(a)), ()); break; \
	case 4: HR_ASM(mn "l %k[a]", fl, ([a] "+r"(a)), ()); break; \
	default: HR_ASM(mn "q %q[a]", fl, ([a] "+r"(a)), ()); break; \
	} \
	*flp = fl; \
	return a; \
}
HOST_UN(host_inc, "inc")
HOST_UN(host_dec, "dec")
HOST_UN(host_neg, "neg")
HOST_UN(host_not, "not")

static void test_unary_vs_host(void)
{
	static const struct {
		const char *name;
		uint64_t (*host)(int, uint64_t, uint64_t *);
		insn_handler_fn b, v, z;
	} ops[] = {
		{ "inc", host_inc, op_inc_Eb, op_inc_Ev, op_inc_Zv },
		{ "dec", host_dec, op_dec_Eb, op_dec_Ev, op_dec_Zv },
		{ "neg", host_neg, op_neg_Eb, op_neg_Ev, NULL },
		{ "not", host_not, op_not_Eb, op_not_Ev, NULL },
	};
	struct cpu *c = ut_cpu();
	for (unsigned o = 0; o < 4; o++)
		for (int s = 0; s < 4; s++)
			for (unsigned x = 0; x < HR_NVALUES; x++)
				for (int f = 0; f < 2; f++)
					for (int mem = 0; mem < 3; mem++) {
		int size = sizes[s];
		uint64_t a = hr_value(x), fin = HR_FLAGS_IN | (f ? HR_ALL6 : 0), hf = fin, got;
		insn_handler_fn h = size == 1 ? ops[o].b : mem == 2 ? ops[o].z : ops[o].v;
		if (!h)
			continue;
		uint64_t want = ops[o].host(size, a, &hf);
		struct insn i = mem == 1 ? hr_mem(size, 0, REG_NONE, (int32_t)HR_DATA, 0)
					 : hr_reg(size, R_RDI, R_RDI, 0);
		c->gpr[R_RDI] = a;
		cpu_phys_write(c, HR_DATA, &a, 8);
		cpu_set_rflags(c, fin);
		CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
		if (mem == 1) {
			cpu_phys_read(c, HR_DATA, &got, 8);
			want = (want & size_mask(size)) | (a & ~size_mask(size));
		} else {
			got = c->gpr[R_RDI];
		}
		HR_CHECK(ops[o].name, size, a, 0, fin, got, want, cpu_get_rflags(c), hf, HR_ALL6);
	}
}

/* ---- BCD ------------------------------------------------------------------ */

static uint64_t run_al(struct cpu *c, insn_handler_fn h, uint64_t imm)
{
	struct insn i = hr_reg(1, 0, 0, imm);
	i.mode = CPU_MODE32;
	CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
	return c->gpr[R_RAX];
}

static unsigned bcd(unsigned n) { return ((n / 10) << 4) | (n % 10); }

/* ADD/SUB of two packed-BCD bytes then DAA/DAS gives the decimal result,
 * with CF the decimal carry/borrow (SDM Vol. 1 4.7, Vol. 2 "DAA", "DAS"). */
static void test_daa_das_decimal(void)
{
	struct cpu *c = ut_cpu();
	for (unsigned x = 0; x < 100; x++)
		for (unsigned y = 0; y < 100; y++)
			for (int sub = 0; sub < 2; sub++) {
		c->gpr[R_RAX] = 0xabcd00 | bcd(x);
		cpu_set_rflags(c, HR_FLAGS_IN);
		run_al(c, sub ? op_sub_AL_Ib : op_add_AL_Ib, bcd(y));
		uint64_t r = run_al(c, sub ? op_das : op_daa, 0);
		unsigned want = sub ? (x + 100 - y) % 100 : (x + y) % 100;
		bool cf = sub ? x < y : x + y >= 100;
		if ((r & 0xff) != bcd(want) || cpu_cf(c) != cf || (r >> 8) != 0xabcd ||
		    cpu_zf(c) != (want == 0) || cpu_sf(c) != ((bcd(want) & 0x80) != 0)) {
			printf("\n  %s %02x, %02x: got %02llx CF=%d\n", sub ? "das" : "daa",
			       bcd(x), bcd(y), (unsigned long long)r & 0xff, cpu_cf(c));
			CU_FAIL("daa/das");
			return;
		}
	}
	/* The SDM's examples: 79h + 35h = AEh -> DAA -> 14h, CF = 1, AF = 1;
	 * 35h - 47h = EEh -> DAS -> 88h, CF = 1, AF = 1. */
	c->gpr[R_RAX] = 0x79;
	run_al(c, op_add_AL_Ib, 0x35);
	CU_ASSERT_EQUAL(run_al(c, op_daa, 0) & 0xff, 0x14);
	CU_ASSERT(cpu_cf(c) && cpu_af(c));
	c->gpr[R_RAX] = 0x35;
	run_al(c, op_sub_AL_Ib, 0x47);
	CU_ASSERT_EQUAL(run_al(c, op_das, 0) & 0xff, 0x88);
	CU_ASSERT(cpu_cf(c) && cpu_af(c));
}

/* AAA/AAS after adding/subtracting unpacked digits: AL the decimal digit,
 * AH incremented/decremented on carry/borrow, CF = AF = carry. */
static void test_aaa_aas_decimal(void)
{
	struct cpu *c = ut_cpu();
	for (unsigned x = 0; x < 10; x++)
		for (unsigned y = 0; y < 10; y++)
			for (int sub = 0; sub < 2; sub++) {
		c->gpr[R_RAX] = 0x5500 | x;
		cpu_set_rflags(c, HR_FLAGS_IN | HR_ALL6);
		run_al(c, sub ? op_sub_AL_Ib : op_add_AL_Ib, y);
		uint64_t r = run_al(c, sub ? op_aas : op_aaa, 0);
		bool carry = sub ? x < y : x + y > 9;
		unsigned al = sub ? (x + 10 - y) % 10 : (x + y) % 10;
		unsigned ah = sub ? 0x55 - carry : 0x55 + carry;
		CU_ASSERT_EQUAL(r & 0xffff, (ah << 8) | al);
		CU_ASSERT(cpu_cf(c) == carry && cpu_af(c) == carry);
	}
	/* AAA with AL = FAh..FFh adjusts AX by 106h, the carry reaching AH. */
	c->gpr[R_RAX] = 0x01fb;
	cpu_set_rflags(c, HR_FLAGS_IN);
	CU_ASSERT_EQUAL(run_al(c, op_aaa, 0) & 0xffff, 0x0301);
}

/* AAM/AAD, with base 10 and others; AAM 0 is #DE and changes nothing. */
static void test_aam_aad(void)
{
	struct cpu *c = ut_cpu();
	for (unsigned al = 0; al < 256; al++)
		for (unsigned base = 1; base < 256; base += 9) {
		c->gpr[R_RAX] = 0x7700 | al;
		CU_ASSERT_EQUAL(run_al(c, op_aam_Ib, base) & 0xffff, ((al / base) << 8) | (al % base));
		CU_ASSERT_EQUAL(cpu_zf(c), al % base == 0);
		uint64_t r = run_al(c, op_aad_Ib, base);
		CU_ASSERT_EQUAL(r & 0xffff, al);        /* AAD undoes AAM */
	}
	c->gpr[R_RAX] = 0x1234;
	struct insn i = hr_reg(1, 0, 0, 0);
	CU_ASSERT_EQUAL(hr_exec(c, op_aam_Ib, &i), VEC_DE);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x1234);
	c->gpr[R_RAX] = 0x0907;                          /* AAD 10: 9*10 + 7 */
	CU_ASSERT_EQUAL(run_al(c, op_aad_Ib, 10) & 0xffff, 97);
	CU_ASSERT(!cpu_sf(c) && !cpu_zf(c));
}

static void test_salc(void)
{
	struct cpu *c = ut_cpu();
	c->gpr[R_RAX] = 0x1234;
	cpu_set_rflags(c, HR_FLAGS_IN | FLAG_CF);
	CU_ASSERT_EQUAL(run_al(c, op_salc, 0), 0x12ff);
	cpu_set_rflags(c, HR_FLAGS_IN | FLAG_ZF);
	CU_ASSERT_EQUAL(run_al(c, op_salc, 0), 0x1200);
	CU_ASSERT_EQUAL(cpu_get_rflags(c), HR_FLAGS_IN | FLAG_ZF);
}

/* Encodings through the decoder and the run loop: that each reaches its
 * handler with the operands, sizes and immediates the SDM gives it. */
static void test_decoded(void)
{
	static const struct {
		uint8_t len, code[7];
		uint64_t rax, rcx, want_rax, want_rcx, flags_set, flags_clear;
		int vector;
	} cases[] = {
		/* add rax, -1 (83 /0 ib, sign-extended): 5 + FFFF..FF carries */
		{ 4, { 0x48, 0x83, 0xc0, 0xff }, 5, 0, 4, 0, FLAG_CF, FLAG_ZF, -1 },
		/* adc eax, 7FFFFFFFh (15 id) with CF=0 from the set-up: OF, upper cleared */
		{ 5, { 0x15, 0xff, 0xff, 0xff, 0x7f }, 0xffffffff00000001ull, 0, 0x80000000u, 0,
		  FLAG_OF | FLAG_SF, FLAG_CF, -1 },
		/* sub cl, ch (28 e9) */
		{ 2, { 0x28, 0xe9 }, 0, 0x0201, 0, 0x02ff, FLAG_CF | FLAG_SF, FLAG_ZF, -1 },
		/* shl ax, 4 (66 c1 e0 04): CF = bit 12 of 1234h */
		{ 4, { 0x66, 0xc1, 0xe0, 0x04 }, 0xffffffffffff1234ull, 0, 0xffffffffffff2340ull, 0,
		  FLAG_CF, 0, -1 },
		/* shl eax, cl with CL = 32 (d3 e0): count 0, upper half cleared */
		{ 2, { 0xd3, 0xe0 }, ~0ull, 32, 0xffffffffu, 32, 0, 0, -1 },
		/* rcr r8b... as rcr al, 1 (d0 d8) with CF = 0 */
		{ 2, { 0xd0, 0xd8 }, 0x81, 0, 0x40, 0, FLAG_CF | FLAG_OF, 0, -1 },
		/* test al, 1 through the F6 /1 alias (f6 c8 01) */
		{ 3, { 0xf6, 0xc8, 0x01 }, 0x10, 0, 0x10, 0, FLAG_ZF, FLAG_CF, -1 },
		/* neg rcx (48 f7 d9) */
		{ 3, { 0x48, 0xf7, 0xd9 }, 0, 1, 0, ~0ull, FLAG_CF | FLAG_SF, 0, -1 },
		/* imul eax, eax, -2 (6b c0 fe) */
		{ 3, { 0x6b, 0xc0, 0xfe }, 0x40000001u, 0, 0x7ffffffeu, 0, FLAG_CF | FLAG_OF, 0, -1 },
		/* mul cl (f6 e1): AX = AL * CL */
		{ 2, { 0xf6, 0xe1 }, 0xff, 0xff, 0xfe01, 0xff, FLAG_CF | FLAG_OF, 0, -1 },
		/* div rcx (48 f7 f1) with RCX = 0: #DE, nothing changes */
		{ 3, { 0x48, 0xf7, 0xf1 }, 7, 0, 7, 0, 0, 0, VEC_DE },
		/* idiv cl (f6 f9): AX = -32768 by -1, the quotient fits no int8: #DE */
		{ 2, { 0xf6, 0xf9 }, 0x8000, 0xff, 0x8000, 0xff, 0, 0, VEC_DE },
		/* tzcnt rax, rcx (f3 48 0f bc c1), RCX = 0: 64, CF */
		{ 5, { 0xf3, 0x48, 0x0f, 0xbc, 0xc1 }, 3, 0, 64, 0, FLAG_CF, FLAG_ZF, -1 },
		/* bsr eax, ecx (0f bd c1) */
		{ 3, { 0x0f, 0xbd, 0xc1 }, 0, 0x00f00000, 23, 0x00f00000, 0, FLAG_ZF, -1 },
		/* bts ecx, 33 (0f ba e9 21): 33 mod 32 = bit 1 */
		{ 4, { 0x0f, 0xba, 0xe9, 0x21 }, 0, 0x10, 0, 0x12, 0, FLAG_CF, -1 },
		/* shld ecx, eax, 8 (0f a4 c1 08) */
		{ 4, { 0x0f, 0xa4, 0xc1, 0x08 }, 0xab000000u, 0x00123456u, 0xab000000u, 0x123456abu,
		  0, FLAG_CF, -1 },
		/* dec ecx (ff c9) keeps CF (set up as 1 below) */
		{ 2, { 0xff, 0xc9 }, 0, 0, 0, 0xffffffffu, FLAG_CF | FLAG_SF | FLAG_AF, FLAG_ZF, -1 },
	};
	for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct cpu *c = ut_cpu();
		c->gpr[R_RAX] = cases[k].rax;
		c->gpr[R_RCX] = cases[k].rcx;
		cpu_set_rflags(c, HR_FLAGS_IN | (k == 16 ? FLAG_CF : 0));
		enum cpu_stop st = ut_run(c, cases[k].code, cases[k].len, 1);
		uint64_t f = cpu_get_rflags(c);
		bool ok = cases[k].vector < 0 ? st == CPU_STOP_LIMIT && c->rip == UT_CODE + cases[k].len
					      : st == CPU_STOP_EXCEPTION && c->exc_vector == cases[k].vector &&
						c->rip == UT_CODE;
		ok = ok && c->gpr[R_RAX] == cases[k].want_rax && c->gpr[R_RCX] == cases[k].want_rcx &&
		     (f & cases[k].flags_set) == cases[k].flags_set && !(f & cases[k].flags_clear);
		if (!ok)
			printf("\n  decoded case %u (%02x %02x ...): stop %d vector %d rax %#llx rcx %#llx"
			       " flags %#llx\n", k, cases[k].code[0], cases[k].code[1], st, c->exc_vector,
			       (unsigned long long)c->gpr[R_RAX], (unsigned long long)c->gpr[R_RCX],
			       (unsigned long long)f);
		CU_ASSERT(ok);
	}
}

/* The forms that exist only outside 64-bit mode, decoded in 32-bit code
 * (and #UD in 64-bit code). */
static void test_decoded_legacy(void)
{
	static const struct {
		uint8_t len, code[3];
		uint64_t rax, want_rax, flags_set, flags_clear;
	} cases[] = {
		{ 1, { 0x40 }, 0x7fffffff, 0x80000000u, FLAG_OF | FLAG_SF | FLAG_AF, FLAG_ZF },  /* inc eax */
		{ 2, { 0x66, 0x48 }, 0x10000, 0x1ffff, FLAG_SF, FLAG_ZF | FLAG_OF },            /* dec ax */
		{ 1, { 0x27 }, 0x9a, 0x00, FLAG_CF | FLAG_ZF | FLAG_AF, 0 },                   /* daa */
		{ 1, { 0x2f }, 0x0a, 0x04, FLAG_AF, FLAG_CF },                                  /* das */
		{ 2, { 0xd4, 0x0a }, 0x4f, 0x0709, 0, FLAG_ZF },                                /* aam */
		{ 2, { 0xd5, 0x0a }, 0x0709, 0x4f, 0, FLAG_ZF },                                /* aad */
		{ 1, { 0xd6 }, 0x1234, 0x12ff, FLAG_CF, 0 },                                    /* salc */
		{ 3, { 0x82, 0xc0, 0x05 }, 0xfe, 0x03, FLAG_CF, FLAG_ZF },                      /* add al, 5 */
	};
	for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		for (int m64 = 0; m64 < 2; m64++) {
			struct cpu *c = ut_cpu();
			if (!m64)
				cpu_set_mode(c, CPU_MODE32);
			c->gpr[R_RAX] = cases[k].rax;
			cpu_set_rflags(c, HR_FLAGS_IN | (k == 6 ? FLAG_CF : 0));
			enum cpu_stop st = ut_run(c, cases[k].code, cases[k].len, 1);
			uint64_t f = cpu_get_rflags(c);
			if (m64) {
				/* 40/48 are REX prefixes there, the rest #UD */
				if (cases[k].code[0] != 0x40 && cases[k].code[1] != 0x48)
					CU_ASSERT(st == CPU_STOP_EXCEPTION && c->exc_vector == VEC_UD);
				continue;
			}
			bool ok = st == CPU_STOP_LIMIT && c->gpr[R_RAX] == cases[k].want_rax &&
				  (f & cases[k].flags_set) == cases[k].flags_set && !(f & cases[k].flags_clear);
			if (!ok)
				printf("\n  legacy case %u: stop %d rax %#llx flags %#llx\n", k, st,
				       (unsigned long long)c->gpr[R_RAX], (unsigned long long)f);
			CU_ASSERT(ok);
		}
	}
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "binary ops, every size, vs host", test_binary_vs_host },
		{ "other encodings and memory forms vs host", test_other_forms },
		{ "immediate sign extension, TEST aliases", test_imm_sign_extension },
		{ "AH..BH operands", test_high_byte_registers },
		{ "INC DEC NEG NOT vs host", test_unary_vs_host },
		{ "DAA DAS decimal tables", test_daa_das_decimal },
		{ "AAA AAS decimal tables", test_aaa_aas_decimal },
		{ "AAM AAD, AAM 0 is #DE", test_aam_aad },
		{ "SALC", test_salc },
		{ "encodings through the decoder", test_decoded },
		{ "32-bit-only encodings (and #UD in 64-bit)", test_decoded_legacy },
		{ NULL, NULL },
	};
	return ut_main("alu", cases);
}
