/*
 * test_bit.c - BT BTS BTR BTC, BSF BSR, TZCNT LZCNT POPCNT (bit.c).
 *
 * Register forms run against the host CPU at every size.  The memory forms
 * with a register bit offset address a bit string around the operand (SDM
 * Vol. 2 "BT"): the host runs the same instruction on a buffer, our CPU on
 * the same bytes in its RAM, for offsets from far below to far above the
 * operand, and the two buffers and CF must agree.  Flags compared: BT* CF
 * and ZF (unaffected); BSF/BSR ZF; TZCNT/LZCNT CF and ZF; POPCNT all six.
 */
#include "hostref.h"

static const int vsizes[3] = { 2, 4, 8 };

enum { BK_BT, BK_BTS, BK_BTR, BK_BTC, BK_N };
static const char *const bk_name[BK_N] = { "bt", "bts", "btr", "btc" };
static const insn_handler_fn bk_gv[BK_N] = { op_bt_Ev_Gv, op_bts_Ev_Gv, op_btr_Ev_Gv, op_btc_Ev_Gv };
static const insn_handler_fn bk_ib[BK_N] = { op_bt_Ev_Ib, op_bts_Ev_Ib, op_btr_Ev_Ib, op_btc_Ev_Ib };

#define HOST_BT(fn, mn) \
HR_HOST2(fn, mn, ) \
static void fn##_mem(int size, uint8_t *p, uint64_t b, uint64_t *flp) \
{ \
	uint64_t fl = *flp; \
	switch (size) { \
	case 2: HR_ASM(mn "w %w[b], (%[p])", fl, ([d] "=m"(*p)), ([p] "r"(p), [b] "r"(b))); break; \
	case 4: HR_ASM(mn "l %k[b], (%[p])", fl, ([d] "=m"(*p)), ([p] "r"(p), [b] "r"(b))); break; \
	default: HR_ASM(mn "q %q[b], (%[p])", fl, ([d] "=m"(*p)), ([p] "r"(p), [b] "r"(b))); break; \
	} \
	*flp = fl; \
}
HOST_BT(host_bt, "bt")
HOST_BT(host_bts, "bts")
HOST_BT(host_btr, "btr")
HOST_BT(host_btc, "btc")
static uint64_t (*const host_btr_fn[BK_N])(int, uint64_t, uint64_t, uint64_t *) = {
	host_bt, host_bts, host_btr, host_btc,
};
static void (*const host_btm_fn[BK_N])(int, uint8_t *, uint64_t, uint64_t *) = {
	host_bt_mem, host_bts_mem, host_btr_mem, host_btc_mem,
};

/* Register operand: offset in a register (any value) or imm8, both taken
 * modulo the operand size. */
static void test_bt_register_vs_host(void)
{
	struct cpu *c = ut_cpu();
	for (int k = 0; k < BK_N; k++)
		for (int s = 0; s < 3; s++)
			for (unsigned x = 0; x < HR_NVALUES; x++)
				for (unsigned n = 0; n < 200; n += 3)
					for (int ib = 0; ib < 2; ib++) {
		int size = vsizes[s];
		uint64_t a = hr_value(x), off = ib ? n & 0xff : hr_value(n % HR_NVALUES) + n;
		uint64_t fin = HR_FLAGS_IN | (n & 1 ? HR_ALL6 : 0), hf = fin;
		uint64_t want = host_btr_fn[k](size, a, off, &hf);
		struct insn i = hr_reg(size, R_RSI, R_RDI, off);
		c->gpr[R_RDI] = a;
		c->gpr[R_RSI] = off;
		cpu_set_rflags(c, fin);
		CU_ASSERT_EQUAL(hr_exec(c, ib ? bk_ib[k] : bk_gv[k], &i), -1);
		HR_CHECK(bk_name[k], size, a, off, fin, c->gpr[R_RDI], want, cpu_get_rflags(c), hf,
			 FLAG_CF | FLAG_ZF);
	}
}

/* Memory operand, register offset from -300 to +300 bits around an operand
 * in the middle of a 128-byte buffer, against the host. */
#define BUF 128
static void test_bt_memory_bitstring_vs_host(void)
{
	struct cpu *c = ut_cpu();
	uint64_t base = HR_DATA + 0x10000;                   /* the operand */
	for (int k = 0; k < BK_N; k++)
		for (int s = 0; s < 3; s++)
			for (int off = -300; off <= 300; off++) {
		int size = vsizes[s];
		uint8_t hbuf[BUF], ebuf[BUF];
		for (int j = 0; j < BUF; j++)
			hbuf[j] = ebuf[j] = (uint8_t)(j * 37 + 11);
		uint64_t fin = HR_FLAGS_IN | (off & 1 ? HR_ALL6 : 0), hf = fin;
		host_btm_fn[k](size, hbuf + BUF / 2, (uint64_t)(int64_t)off, &hf);
		cpu_phys_write(c, base - BUF / 2, ebuf, BUF);
		struct insn i = hr_mem(size, R_RSI, R_RBX, 0x40, 0);     /* [rbx + 40h] */
		c->gpr[R_RBX] = base - 0x40;
		c->gpr[R_RSI] = (uint64_t)(int64_t)off;
		cpu_set_rflags(c, fin);
		CU_ASSERT_EQUAL(hr_exec(c, bk_gv[k], &i), -1);
		cpu_phys_read(c, base - BUF / 2, ebuf, BUF);
		if (memcmp(hbuf, ebuf, BUF) != 0 || ((cpu_get_rflags(c) ^ hf) & (FLAG_CF | FLAG_ZF))) {
			printf("\n  %s size %d bit offset %d: memory or CF differ\n", bk_name[k], size, off);
			CU_FAIL("bt memory");
			return;
		}
	}
}

/* Offsets far outside the operand (kilobytes away, both signs, the 16-bit
 * extremes): the bit at base + floor(offset / 8), bit offset mod 8. */
static void test_bt_memory_far(void)
{
	static const int64_t offs[] = { 0x7fff, -0x8000, 0x12345, -0x12345, 0x40000, -0x40001 };
	struct cpu *c = ut_cpu();
	uint64_t base = HR_DATA + 0x10000;
	for (unsigned n = 0; n < sizeof offs / sizeof offs[0]; n++)
		for (int s = 0; s < 3; s++)
			for (int k = 0; k < BK_N; k++) {
		int size = vsizes[s];
		int64_t off = offs[n];
		if (size == 2 && (off < -0x8000 || off > 0x7fff))
			continue;
		uint64_t at = base + (uint64_t)(off >> 3);
		uint8_t before = 0xa5, after;
		unsigned bit = (unsigned)(off & 7);
		cpu_phys_write(c, at, &before, 1);
		struct insn i = hr_mem(size, R_RSI, R_RBX, 0, 0);
		c->gpr[R_RBX] = base;
		c->gpr[R_RSI] = (uint64_t)off;
		CU_ASSERT_EQUAL(hr_exec(c, bk_gv[k], &i), -1);
		cpu_phys_read(c, at, &after, 1);
		CU_ASSERT_EQUAL(cpu_cf(c), (before >> bit) & 1);
		uint8_t m = (uint8_t)(1u << bit);
		uint8_t want = k == BK_BT ? before : k == BK_BTS ? before | m
			     : k == BK_BTR ? before & ~m : before ^ m;
		CU_ASSERT_EQUAL(after, want);
	}
}

/* Named examples: the SDM's own, and the immediate form not reaching out. */
static void test_bt_memory_examples(void)
{
	struct cpu *c = ut_cpu();
	static const uint8_t bytes[16] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80,
					   0xff, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x80 };
	cpu_phys_write(c, HR_DATA, bytes, 16);
	struct insn i = hr_mem(4, R_RAX, R_RBX, 0, 0);
	c->gpr[R_RBX] = HR_DATA + 8;
	c->gpr[R_RAX] = (uint64_t)-1;                         /* bit 31 of [rbx - 4] = 80h */
	hr_exec(c, op_bt_Ev_Gv, &i);
	CU_ASSERT(cpu_cf(c));
	c->gpr[R_RAX] = (uint64_t)-33;                        /* bit 31 of [rbx - 8]: 08h */
	hr_exec(c, op_bt_Ev_Gv, &i);
	CU_ASSERT(!cpu_cf(c));
	c->gpr[R_RAX] = 0xffffffff00000000ull | 63;          /* EAX = 63: bit 31 of [rbx+4] */
	hr_exec(c, op_bts_Ev_Gv, &i);
	CU_ASSERT(cpu_cf(c));
	c->gpr[R_RAX] = 40;                                   /* bit 8 of [rbx+4] = 0 -> 1 */
	hr_exec(c, op_bts_Ev_Gv, &i);
	CU_ASSERT(!cpu_cf(c));
	uint8_t b13;
	cpu_phys_read(c, HR_DATA + 13, &b13, 1);
	CU_ASSERT_EQUAL(b13, 0x01);
	/* bt dword [rbx], 40 (imm): 40 mod 32 = bit 8 of [rbx] itself = 0 */
	i = hr_mem(4, 0, R_RBX, 0, 40);
	hr_exec(c, op_bt_Ev_Ib, &i);
	CU_ASSERT(!cpu_cf(c));
	/* btr word [rbx], -1: bit 15 of [rbx - 2] = bit 7 of byte 7 (80h) */
	i = hr_mem(2, R_RAX, R_RBX, 0, 0);
	c->gpr[R_RAX] = 0xffff;
	hr_exec(c, op_btr_Ev_Gv, &i);
	CU_ASSERT(cpu_cf(c));
	uint8_t b7;
	cpu_phys_read(c, HR_DATA + 7, &b7, 1);
	CU_ASSERT_EQUAL(b7, 0x00);
	/* The bit-string address wraps at the address size: with 16-bit
	 * addressing [bx] = 4 and offset -64 bits reach FFFCh, not 4 - 8
	 * (which would be outside RAM and read as all ones). */
	static const uint8_t zero2[2] = { 0, 0 };
	cpu_phys_write(c, 0xfffc, zero2, 2);
	i = hr_mem(2, R_RAX, R_RBX, 0, 0);
	i.asize = 2;
	c->gpr[R_RBX] = 0x10004;
	c->gpr[R_RAX] = (uint16_t)-64;
	cpu_set_rflags(c, HR_FLAGS_IN | FLAG_CF);
	hr_exec(c, op_btc_Ev_Gv, &i);
	CU_ASSERT(!cpu_cf(c));
	uint8_t w[2];
	cpu_phys_read(c, 0xfffc, w, 2);
	CU_ASSERT(w[0] == 1 && w[1] == 0);
}

/* ---- scans and counts --------------------------------------------------------- */

HR_HOST2(host_bsf, "bsf", )
HR_HOST2(host_bsr, "bsr", )
HR_HOST2(host_tzcnt, "tzcnt", )
HR_HOST2(host_lzcnt, "lzcnt", )
HR_HOST2(host_popcnt, "popcnt", )

static void test_scans_vs_host(void)
{
	static const struct {
		const char *name;
		uint64_t (*host)(int, uint64_t, uint64_t, uint64_t *);
		insn_handler_fn h;
		uint64_t flags;
		const char *feature;
	} ops[] = {
		{ "bsf", host_bsf, op_bsf_Gv_Ev, FLAG_ZF, NULL },
		{ "bsr", host_bsr, op_bsr_Gv_Ev, FLAG_ZF, NULL },
		{ "tzcnt", host_tzcnt, op_tzcnt_Gv_Ev, FLAG_CF | FLAG_ZF, "bmi" },
		{ "lzcnt", host_lzcnt, op_lzcnt_Gv_Ev, FLAG_CF | FLAG_ZF, "abm" },
		{ "popcnt", host_popcnt, op_popcnt_Gv_Ev, HR_ALL6, "popcnt" },
	};
	struct cpu *c = ut_cpu();
	__builtin_cpu_init();
	for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
		bool have = !ops[o].feature ||
			    (o == 2 ? __builtin_cpu_supports("bmi") :
			     o == 3 ? __builtin_cpu_supports("abm") : __builtin_cpu_supports("popcnt"));
		if (!have) {
			printf("\n  host lacks %s: %s not compared\n", ops[o].feature, ops[o].name);
			continue;
		}
		for (int s = 0; s < 3; s++)
			for (unsigned x = 0; x < HR_NVALUES; x++)
				for (int mem = 0; mem < 2; mem++) {
			int size = vsizes[s];
			uint64_t v = hr_value(x), d = 0x5555aaaa5555aaaaull ^ v;
			uint64_t fin = HR_FLAGS_IN | (mem ? HR_ALL6 : 0), hf = fin;
			uint64_t want = ops[o].host(size, d, v, &hf);
			struct insn i = mem ? hr_mem(size, R_RDX, REG_NONE, (int32_t)HR_DATA, 0)
					    : hr_reg(size, R_RDX, R_RSI, 0);
			c->gpr[R_RDX] = d;
			c->gpr[R_RSI] = v;
			cpu_phys_write(c, HR_DATA, &v, 8);
			cpu_set_rflags(c, fin);
			CU_ASSERT_EQUAL(hr_exec(c, ops[o].h, &i), -1);
			HR_CHECK(ops[o].name, size, d, v, fin, c->gpr[R_RDX], want,
				 cpu_get_rflags(c), hf, ops[o].flags);
		}
	}
}

/* Zero sources, spelled out: BSF/BSR set ZF and leave the destination
 * (all 64 bits); TZCNT/LZCNT give the operand size with CF = 1. */
static void test_zero_sources(void)
{
	struct cpu *c = ut_cpu();
	static const insn_handler_fn scans[2] = { op_bsf_Gv_Ev, op_bsr_Gv_Ev };
	for (int s = 0; s < 3; s++) {
		for (int k = 0; k < 2; k++) {
			struct insn i = hr_reg(vsizes[s], R_RAX, R_RCX, 0);
			c->gpr[R_RAX] = 0x0123456789abcdefull;
			c->gpr[R_RCX] = 0;
			hr_exec(c, scans[k], &i);
			CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x0123456789abcdefull);
			CU_ASSERT(cpu_zf(c));
		}
		struct insn i = hr_reg(vsizes[s], R_RAX, R_RCX, 0);
		hr_exec(c, op_tzcnt_Gv_Ev, &i);
		CU_ASSERT_EQUAL(c->gpr[R_RAX] & size_mask(vsizes[s]), (uint64_t)vsizes[s] * 8);
		CU_ASSERT(cpu_cf(c) && !cpu_zf(c));
		hr_exec(c, op_lzcnt_Gv_Ev, &i);
		CU_ASSERT_EQUAL(c->gpr[R_RAX] & size_mask(vsizes[s]), (uint64_t)vsizes[s] * 8);
		CU_ASSERT(cpu_cf(c) && !cpu_zf(c));
		hr_exec(c, op_popcnt_Gv_Ev, &i);
		CU_ASSERT_EQUAL(c->gpr[R_RAX] & size_mask(vsizes[s]), 0);
		CU_ASSERT(cpu_zf(c) && !cpu_cf(c));
	}
	/* LZCNT of 1 is size-1, TZCNT of the sign bit is size-1, ZF only on 0. */
	struct insn i = hr_reg(2, R_RAX, R_RCX, 0);
	c->gpr[R_RCX] = 0x8000;
	hr_exec(c, op_lzcnt_Gv_Ev, &i);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xffff, 0);
	CU_ASSERT(cpu_zf(c) && !cpu_cf(c));
	hr_exec(c, op_tzcnt_Gv_Ev, &i);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xffff, 15);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "BT* register operand vs host", test_bt_register_vs_host },
		{ "BT* memory bit string vs host", test_bt_memory_bitstring_vs_host },
		{ "BT* memory offsets far outside the operand", test_bt_memory_far },
		{ "BT* memory examples", test_bt_memory_examples },
		{ "BSF BSR TZCNT LZCNT POPCNT vs host", test_scans_vs_host },
		{ "zero sources", test_zero_sources },
		{ NULL, NULL },
	};
	return ut_main("bit", cases);
}
