/*
 * test_muldiv.c - MUL, IMUL (all forms), DIV, IDIV (muldiv.c).
 *
 * MUL and IMUL run against the host CPU at every size on boundary and
 * pseudo-random values: RAX, RDX (or the destination register) in full and
 * CF/OF, the only flags the SDM defines for them.  DIV and IDIV first decide
 * from the SDM's definition whether the division faults (divisor 0, or a
 * quotient outside the destination's range); a faulting case must raise #DE
 * and leave RAX and RDX as they were, any other case must agree with the
 * host (which would take SIGFPE on a faulting one, so it never runs those).
 */
#include "hostref.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static const int sizes[4] = { 1, 2, 4, 8 };

/* One-operand forms on the host: RAX, RDX in and out. */
#define HOST_ACC(fn, mn) \
static void fn(int size, uint64_t *rax, uint64_t *rdx, uint64_t b, uint64_t *flp) \
{ \
	uint64_t fl = *flp, a = *rax, d = *rdx; \
	switch (size) { \
	case 1: HR_ASM(mn "b %b[b]", fl, ("+a"(a), "+d"(d)), ([b] "q"(b))); break; \
	case 2: HR_ASM(mn "w %w[b]", fl, ("+a"(a), "+d"(d)), ([b] "r"(b))); break; \
	case 4: HR_ASM(mn "l %k[b]", fl, ("+a"(a), "+d"(d)), ([b] "r"(b))); break; \
	default: HR_ASM(mn "q %q[b]", fl, ("+a"(a), "+d"(d)), ([b] "r"(b))); break; \
	} \
	*rax = a; *rdx = d; *flp = fl; \
}
HOST_ACC(host_mul, "mul")
HOST_ACC(host_imul1, "imul")
HOST_ACC(host_div, "div")
HOST_ACC(host_idiv, "idiv")

HR_HOST2(host_imul2, "imul", )

/* Run a one-operand handler with the source in RBX or in memory. */
static int emu_acc(struct cpu *c, insn_handler_fn hb, insn_handler_fn hv, int size, bool mem,
		   uint64_t a, uint64_t d, uint64_t b, uint64_t *fl)
{
	struct insn i = mem ? hr_mem(size, 0, REG_NONE, (int32_t)HR_DATA, 0)
			    : hr_reg(size, 0, R_RBX, 0);
	c->gpr[R_RAX] = a;
	c->gpr[R_RDX] = d;
	c->gpr[R_RBX] = b;
	cpu_phys_write(c, HR_DATA, &b, 8);
	cpu_set_rflags(c, *fl);
	int v = hr_exec(c, size == 1 ? hb : hv, &i);
	*fl = cpu_get_rflags(c);
	return v;
}

static void test_mul_vs_host(void)
{
	struct cpu *c = ut_cpu();
	for (int sgn = 0; sgn < 2; sgn++)
		for (int s = 0; s < 4; s++)
			for (unsigned x = 0; x < HR_NVALUES; x++)
				for (unsigned y = 0; y < HR_NVALUES; y++) {
		int size = sizes[s];
		bool mem = (x + y) & 1;
		uint64_t a = hr_value(x), b = hr_value(y), d = 0x1111222233334444ull;
		uint64_t fin = HR_FLAGS_IN | (y & 1 ? HR_ALL6 : 0), hf = fin, ef = fin;
		uint64_t ha = a, hd = d;
		(sgn ? host_imul1 : host_mul)(size, &ha, &hd, b, &hf);
		CU_ASSERT_EQUAL(emu_acc(c, sgn ? op_imul_Eb : op_mul_Eb, sgn ? op_imul_Ev : op_mul_Ev,
					size, mem, a, d, b, &ef), -1);
		HR_CHECK(sgn ? "imul rax" : "mul rax", size, a, b, fin, c->gpr[R_RAX], ha, ef, hf,
			 FLAG_CF | FLAG_OF);
		HR_CHECK(sgn ? "imul rdx" : "mul rdx", size, a, b, fin, c->gpr[R_RDX], hd, ef, hf,
			 FLAG_CF | FLAG_OF);
	}
}

/* IMUL Gv,Ev / Gv,Ev,Iz / Gv,Ev,Ib: host two-operand IMUL with the
 * sign-extended immediate is the same operation. */
static void test_imul_forms_vs_host(void)
{
	struct cpu *c = ut_cpu();
	for (int s = 1; s < 4; s++)
		for (unsigned x = 0; x < HR_NVALUES; x++)
			for (unsigned y = 0; y < HR_NVALUES; y++)
				for (int form = 0; form < 4; form++) {
		int size = sizes[s];
		uint64_t a = hr_value(x), v = hr_value(y), b = v, imm = v, fin = HR_FLAGS_IN, hf = fin;
		insn_handler_fn h = op_imul_Gv_Ev;
		if (form == 2) {
			h = op_imul_Gv_Ev_Iz;
			imm = v & 0xffffffff;
			b = size == 2 ? (uint64_t)(int64_t)(int16_t)v : (uint64_t)(int64_t)(int32_t)v;
		} else if (form == 3) {
			h = op_imul_Gv_Ev_Ib;
			imm = v & 0xff;
			b = (uint64_t)(int64_t)(int8_t)v;
		}
		uint64_t want = host_imul2(size, a, b, &hf);
		/* Gv,Ev: RCX = RCX * Ev.  The 3-operand forms: RCX = Ev * imm. */
		struct insn i = form == 1 ? hr_mem(size, R_RCX, REG_NONE, (int32_t)HR_DATA, imm)
					  : hr_reg(size, R_RCX, R_RSI, imm);
		uint64_t e = form >= 2 ? a : b;
		c->gpr[R_RCX] = a;     /* bits above a 16-bit result stay, as on the host */
		c->gpr[R_RSI] = e;
		cpu_phys_write(c, HR_DATA, &e, 8);
		cpu_set_rflags(c, fin);
		CU_ASSERT_EQUAL(hr_exec(c, h, &i), -1);
		HR_CHECK("imul Gv", size, a, b, fin, c->gpr[R_RCX], want, cpu_get_rflags(c), hf,
			 FLAG_CF | FLAG_OF);
	}
}

/* Does the division fault?  SDM "DIV"/"IDIV": divisor 0, or a quotient too
 * large for the destination. */
static bool div_faults(int size, bool sgn, uint64_t a, uint64_t d, uint64_t b)
{
	int bits = size * 8;
	u128 n = size == 1 ? (uint16_t)a : ((u128)(d & size_mask(size)) << bits) | (a & size_mask(size));
	if ((b & size_mask(size)) == 0)
		return true;
	if (!sgn)
		return (n / (b & size_mask(size))) >> bits != 0;
	s128 sn = (s128)(n << (128 - 2 * bits)) >> (128 - 2 * bits);
	s128 sb = (int64_t)sext_size(b, size);
	if (sb == -1 && sn == (s128)((u128)1 << 127))
		return true;
	s128 q = sn / sb, lim = (s128)1 << (bits - 1);
	return q < -lim || q >= lim;
}

static void test_div_vs_host(void)
{
	struct cpu *c = ut_cpu();
	unsigned faults = 0, ok = 0;
	for (int sgn = 0; sgn < 2; sgn++)
		for (int s = 0; s < 4; s++)
			for (unsigned x = 0; x < HR_NVALUES; x++)
				for (unsigned z = 0; z < HR_NVALUES; z += 3)
					for (unsigned y = 0; y < HR_NVALUES; y++) {
		int size = sizes[s];
		uint64_t a = hr_value(x), b = hr_value(y);
		/* high half: small, zero, all ones, or an edge value */
		uint64_t d = z % 4 == 0 ? 0 : z % 4 == 1 ? ~0ull : z % 4 == 2 ? hr_value(z) >> 40 : hr_value(z);
		uint64_t fl = HR_FLAGS_IN;
		int v = emu_acc(c, sgn ? op_idiv_Eb : op_div_Eb, sgn ? op_idiv_Ev : op_div_Ev,
				size, (x ^ y) & 1, a, d, b, &fl);
		if (div_faults(size, sgn, a, d, b)) {
			faults++;
			if (v != VEC_DE || c->gpr[R_RAX] != a || c->gpr[R_RDX] != d) {
				printf("\n  %s size %d %#llx:%#llx / %#llx: want #DE, got vector %d\n",
				       sgn ? "idiv" : "div", size, (unsigned long long)d,
				       (unsigned long long)a, (unsigned long long)b, v);
				CU_FAIL("#DE expected");
				return;
			}
			continue;
		}
		ok++;
		uint64_t ha = a, hd = d, hf = HR_FLAGS_IN;
		(sgn ? host_idiv : host_div)(size, &ha, &hd, b, &hf);
		CU_ASSERT_EQUAL(v, -1);
		HR_CHECK(sgn ? "idiv rax" : "div rax", size, a, b, d, c->gpr[R_RAX], ha, 0, 0, 0);
		HR_CHECK(sgn ? "idiv rdx" : "div rdx", size, a, b, d, c->gpr[R_RDX], hd, 0, 0, 0);
	}
	CU_ASSERT(faults > 1000 && ok > 10000);     /* both paths really ran */
}

/* The #DE cases by name, at every size. */
static void test_div_faults(void)
{
	struct cpu *c = ut_cpu();
	static const struct { bool sgn; int size; uint64_t d, a, b; } cases[] = {
		{ false, 1, 0, 0x1234, 0 },                      /* divide by zero */
		{ false, 8, 0, 5, 0 },
		{ true, 4, 0, 5, 0 },
		{ false, 1, 0, 0x0100, 1 },                      /* quotient 256 */
		{ false, 2, 1, 0, 1 },                           /* quotient 10000h */
		{ false, 4, 7, 0, 7 },                           /* quotient 2^32 */
		{ false, 8, 1, 0, 1 },                           /* quotient 2^64 */
		{ true, 1, 0, 0xff80, 0xff },                    /* -128 / -1 */
		{ true, 2, 0xffff, 0x8000, 0xffff },             /* -32768 / -1 */
		{ true, 4, 0xffffffff, 0x80000000, 0xffffffff }, /* INT32_MIN / -1 */
		{ true, 8, ~0ull, 1ull << 63, ~0ull },           /* INT64_MIN / -1 */
		{ true, 8, 1ull << 63, 0, ~0ull },               /* -2^127 / -1 */
		{ true, 1, 0, 0x0080, 1 },                       /* +128 / 1 */
		{ true, 8, 0, 1ull << 63, 1 },                   /* +2^63 / 1 */
	};
	for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		uint64_t fl = HR_FLAGS_IN;
		int v = emu_acc(c, cases[k].sgn ? op_idiv_Eb : op_div_Eb,
				cases[k].sgn ? op_idiv_Ev : op_div_Ev, cases[k].size, k & 1,
				cases[k].a, cases[k].d, cases[k].b, &fl);
		CU_ASSERT_EQUAL(v, VEC_DE);
		CU_ASSERT_EQUAL(c->gpr[R_RAX], cases[k].a);
		CU_ASSERT_EQUAL(c->gpr[R_RDX], cases[k].d);
	}
	/* Edges that fit: -2^63 / 1, and FEFFh / FFh = FFh rest FEh. */
	uint64_t fl = HR_FLAGS_IN;
	CU_ASSERT_EQUAL(emu_acc(c, op_idiv_Eb, op_idiv_Ev, 8, false, 1ull << 63, ~0ull, 1, &fl), -1);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 1ull << 63);
	CU_ASSERT_EQUAL(emu_acc(c, op_div_Eb, op_div_Ev, 1, false, 0xfeff, 0, 0xff, &fl), -1);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xffff, 0xfeff);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "MUL IMUL one operand vs host", test_mul_vs_host },
		{ "IMUL Gv,Ev / Iz / Ib vs host", test_imul_forms_vs_host },
		{ "DIV IDIV vs host, #DE by definition", test_div_vs_host },
		{ "DIV IDIV #DE cases", test_div_faults },
		{ NULL, NULL },
	};
	return ut_main("muldiv", cases);
}
