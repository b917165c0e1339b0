/*
 * test_shift.c - shifts, rotates and double shifts (shift.c) against the
 * host CPU.
 *
 * Every operation at every operand size, for every count 0..70 (so the 5-
 * and 6-bit masks, counts equal to and above the operand size, and the RCL/
 * RCR modulo-9/17 rule are all crossed), on boundary and pseudo-random
 * values, with the flags clear and set on entry.  The whole 64-bit register
 * is compared (count 0 still zero-extends a 32-bit destination) and the
 * flags the SDM defines for that count:
 *
 *   count 0         every flag unchanged
 *   shifts          SF ZF PF; CF unless SHL/SHR count >= operand size;
 *                   OF only for count 1; AF never (undefined)
 *   rotates         CF; OF only for count 1; SF ZF AF PF unchanged
 *   SHLD/SHRD       as shifts; nothing for a 16-bit count above 16
 *                   (result and flags undefined)
 */
#include "hostref.h"

enum { SK_ROL, SK_ROR, SK_RCL, SK_RCR, SK_SHL, SK_SHR, SK_SAL, SK_SAR, SK_N };
static const char *const sk_name[SK_N] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };

#define HOST_SH(fn, mn) \
static uint64_t fn(int size, uint64_t a, unsigned n, uint64_t *flp) \
{ \
	uint64_t fl = *flp; \
	switch (size) { \
	case 1: HR_ASM(mn "b %%cl, %b[a]", fl, ([a] "+q"(a)), ("c"(n))); break; \
	case 2: HR_ASM(mn "w %%cl, %w[a]", fl, ([a] "+r"(a)), ("c"(n))); break; \
	case 4: HR_ASM(mn "l %%cl, %k[a]", fl, ([a] "+r"(a)), ("c"(n))); break; \
	default: HR_ASM(mn "q %%cl, %q[a]", fl, ([a] "+r"(a)), ("c"(n))); break; \
	} \
	*flp = fl; \
	return a; \
}
HOST_SH(host_rol, "rol")
HOST_SH(host_ror, "ror")
HOST_SH(host_rcl, "rcl")
HOST_SH(host_rcr, "rcr")
HOST_SH(host_shl, "shl")
HOST_SH(host_shr, "shr")
HOST_SH(host_sar, "sar")

static uint64_t (*const host_sh[SK_N])(int, uint64_t, unsigned, uint64_t *) = {
	host_rol, host_ror, host_rcl, host_rcr, host_shl, host_shr, host_shl, host_sar,
};

struct sh_forms { insn_handler_fn Eb_Ib, Ev_Ib, Eb_1, Ev_1, Eb_CL, Ev_CL; };
#define SH_FORMS(op) { op_##op##_Eb_Ib, op_##op##_Ev_Ib, op_##op##_Eb_1, op_##op##_Ev_1, \
	op_##op##_Eb_CL, op_##op##_Ev_CL }
static const struct sh_forms sh_forms[SK_N] = {
	SH_FORMS(rol), SH_FORMS(ror), SH_FORMS(rcl), SH_FORMS(rcr),
	SH_FORMS(shl), SH_FORMS(shr), SH_FORMS(sal), SH_FORMS(sar),
};

static const int sizes[4] = { 1, 2, 4, 8 };

/* The flags the SDM defines for operation k at this size and raw count. */
static uint64_t sh_mask(int k, int size, unsigned count)
{
	unsigned n = count & (size == 8 ? 63 : 31);
	if (n == 0)
		return HR_ALL6;
	uint64_t m = n == 1 ? FLAG_OF : 0;
	if (k <= SK_RCR)
		return m | FLAG_CF | FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF;
	if ((k == SK_SHL || k == SK_SAL || k == SK_SHR) && n >= (unsigned)size * 8)
		return m | FLAG_SF | FLAG_ZF | FLAG_PF;
	return m | FLAG_CF | FLAG_SF | FLAG_ZF | FLAG_PF;
}

/* form: 0 = by CL, 1 = by imm8, 2 = by 1, 3 = memory by CL. */
static uint64_t emu_sh(struct cpu *c, int k, int size, int form, uint64_t a, unsigned n,
		       uint64_t *fl)
{
	const struct sh_forms *f = &sh_forms[k];
	insn_handler_fn h = form == 1 ? (size == 1 ? f->Eb_Ib : f->Ev_Ib)
			  : form == 2 ? (size == 1 ? f->Eb_1 : f->Ev_1)
				      : (size == 1 ? f->Eb_CL : f->Ev_CL);
	struct insn i = form == 3 ? hr_mem(size, 0, R_RBX, 8, n) : hr_reg(size, 0, R_RBX, n);
	c->gpr[R_RBX] = form == 3 ? HR_DATA - 8 : a;
	c->gpr[R_RCX] = 0xabcdef00u | n;
	cpu_phys_write(c, HR_DATA, &a, 8);
	cpu_set_rflags(c, *fl);
	CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
	*fl = cpu_get_rflags(c);
	if (form != 3)
		return c->gpr[R_RBX];
	uint64_t m;
	cpu_phys_read(c, HR_DATA, &m, 8);
	return m;
}

static void run_shift_cases(int form)
{
	struct cpu *c = ut_cpu();
	for (int k = 0; k < SK_N; k++)
		for (int s = 0; s < 4; s++)
			for (unsigned n = 0; n <= (form == 2 ? 0u : 70u); n++)
				for (unsigned x = 0; x < HR_NVALUES; x += (form ? 4 : 1))
					for (int f = 0; f < 2; f++) {
		int size = sizes[s];
		unsigned cnt = form == 2 ? 1 : form == 1 ? n : 0xabcdef00u | n;
		uint64_t a = hr_value(x), fin = HR_FLAGS_IN | (f ? HR_ALL6 : 0), hf = fin, ef = fin;
		uint64_t want = host_sh[k](size, a, cnt, &hf);
		uint64_t got = emu_sh(c, k, size, form, a, cnt & 0xff, &ef);
		if (form == 3)
			want = (want & size_mask(size)) | (a & ~size_mask(size));
		HR_CHECK(sk_name[k], size, a, cnt, fin, got, want, ef, hf, sh_mask(k, size, cnt));
	}
}

static void test_shift_cl(void) { run_shift_cases(0); }
static void test_shift_imm(void) { run_shift_cases(1); }
static void test_shift_1(void) { run_shift_cases(2); }
static void test_shift_mem(void) { run_shift_cases(3); }

/* SDM facts spelled out, independent of the host. */
static void test_shift_rules(void)
{
	struct cpu *c = ut_cpu();
	uint64_t fl = HR_FLAGS_IN | FLAG_CF;
	/* RCL AL by 9 is the identity on CF:AL (8-bit: count mod 9). */
	CU_ASSERT_EQUAL(emu_sh(c, SK_RCL, 1, 0, 0x5a, 9, &fl), 0x5a);
	CU_ASSERT(fl & FLAG_CF);
	/* RCR AX by 17: identity (16-bit: mod 17); by 1 brings CF into bit 15. */
	fl = HR_FLAGS_IN | FLAG_CF;
	CU_ASSERT_EQUAL(emu_sh(c, SK_RCR, 2, 0, 0x1234, 17, &fl), 0x1234);
	fl = HR_FLAGS_IN | FLAG_CF;
	CU_ASSERT_EQUAL(emu_sh(c, SK_RCR, 2, 0, 0x1235, 1, &fl), 0x891a);
	CU_ASSERT((fl & FLAG_CF) && (fl & FLAG_OF));     /* OF: the sign changed */
	/* SHL EAX by 32 is by 0: flags kept, upper half cleared. */
	fl = HR_FLAGS_IN | FLAG_OF | FLAG_ZF;
	CU_ASSERT_EQUAL(emu_sh(c, SK_SHL, 4, 0, 0xffffffff80000001ull, 32, &fl), 0x80000001u);
	CU_ASSERT_EQUAL(fl, HR_FLAGS_IN | FLAG_OF | FLAG_ZF);
	/* SHL RAX by 64 is by 0 too, but by 63 moves bit 0 to bit 63. */
	fl = HR_FLAGS_IN;
	CU_ASSERT_EQUAL(emu_sh(c, SK_SHL, 8, 0, 3, 64, &fl), 3);
	CU_ASSERT_EQUAL(emu_sh(c, SK_SHL, 8, 0, 3, 63, &fl), 1ull << 63);
	CU_ASSERT(fl & FLAG_CF);                          /* bit 1 was shifted out last */
	/* SAR by 31 on a byte: all sign bits, CF = sign. */
	fl = HR_FLAGS_IN;
	CU_ASSERT_EQUAL(emu_sh(c, SK_SAR, 1, 0, 0x80, 31, &fl), 0xff);
	CU_ASSERT(fl & FLAG_CF);
	/* SHR by 1: OF = the old MSB; SAR by 1: OF = 0. */
	fl = HR_FLAGS_IN;
	emu_sh(c, SK_SHR, 2, 2, 0x8000, 1, &fl);
	CU_ASSERT(fl & FLAG_OF);
	emu_sh(c, SK_SAR, 2, 2, 0x8000, 1, &fl);
	CU_ASSERT(!(fl & FLAG_OF));
}

/* ---- SHLD / SHRD ------------------------------------------------------------- */

#define HOST_SHD(fn, mn) \
static uint64_t fn(int size, uint64_t a, uint64_t b, unsigned n, uint64_t *flp) \
{ \
	uint64_t fl = *flp; \
	switch (size) { \
	case 2: HR_ASM(mn "w %%cl, %w[b], %w[a]", fl, ([a] "+r"(a)), ([b] "r"(b), "c"(n))); break; \
	case 4: HR_ASM(mn "l %%cl, %k[b], %k[a]", fl, ([a] "+r"(a)), ([b] "r"(b), "c"(n))); break; \
	default: HR_ASM(mn "q %%cl, %q[b], %q[a]", fl, ([a] "+r"(a)), ([b] "r"(b), "c"(n))); break; \
	} \
	*flp = fl; \
	return a; \
}
HOST_SHD(host_shld, "shld")
HOST_SHD(host_shrd, "shrd")

static void test_shld_shrd(void)
{
	struct cpu *c = ut_cpu();
	for (int left = 0; left < 2; left++)
		for (int s = 1; s < 4; s++)
			for (unsigned n = 0; n <= 70; n++)
				for (unsigned x = 0; x < HR_NVALUES; x += 2)
					for (int form = 0; form < 3; form++) {
		int size = sizes[s];
		unsigned masked = n & (size == 8 ? 63 : 31);
		if (size == 2 && masked > 16)
			continue;                              /* undefined */
		uint64_t a = hr_value(x), b = hr_value((x * 7 + 3) % HR_NVALUES);
		uint64_t fin = HR_FLAGS_IN | (x & 1 ? HR_ALL6 : 0), hf = fin, got;
		uint64_t want = (left ? host_shld : host_shrd)(size, a, b, n, &hf);
		insn_handler_fn h = left ? (form == 1 ? op_shld_Ev_Gv_Ib : op_shld_Ev_Gv_CL)
					 : (form == 1 ? op_shrd_Ev_Gv_Ib : op_shrd_Ev_Gv_CL);
		struct insn i = form == 2 ? hr_mem(size, R_RSI, REG_NONE, (int32_t)HR_DATA, n)
					  : hr_reg(size, R_RSI, R_RDI, n);
		c->gpr[R_RDI] = a;
		c->gpr[R_RSI] = b;
		c->gpr[R_RCX] = n;
		cpu_phys_write(c, HR_DATA, &a, 8);
		cpu_set_rflags(c, fin);
		CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
		if (form == 2) {
			cpu_phys_read(c, HR_DATA, &got, 8);
			want = (want & size_mask(size)) | (a & ~size_mask(size));
		} else {
			got = c->gpr[R_RDI];
		}
		uint64_t m = masked == 0 ? HR_ALL6
			   : FLAG_CF | FLAG_SF | FLAG_ZF | FLAG_PF | (masked == 1 ? FLAG_OF : 0);
		HR_CHECK(left ? "shld" : "shrd", size, a, b, fin, got, want, cpu_get_rflags(c), hf, m);
	}
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "shifts and rotates by CL vs host", test_shift_cl },
		{ "shifts and rotates by imm8 vs host", test_shift_imm },
		{ "shifts and rotates by 1 vs host", test_shift_1 },
		{ "shifts and rotates of memory vs host", test_shift_mem },
		{ "count masks, RCL/RCR modulo, OF/CF rules", test_shift_rules },
		{ "SHLD SHRD vs host", test_shld_shrd },
		{ NULL, NULL },
	};
	return ut_main("shift", cases);
}
