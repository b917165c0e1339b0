/*
 * test_string.c - cpu/string.c run as real instruction bytes: MOVS, CMPS,
 * STOS, LODS, SCAS with and without REP/REPE/REPNE, both directions, the
 * address sizes (SI/ESI/RSI wrapping), the segment override (source only),
 * INS/OUTS on the I/O bus, restartable REP after a fault, long REPs handed
 * back in slices, and REP STOS over its own code.
 *
 * References: the host CPU runs the same REP MOVS/CMPS/SCAS on host buffers
 * (overlapping copies, where the element order matters, and the stopping
 * point of REPE/REPNE); the rest follows the SDM "Operation" sections.
 */
#include <stdlib.h>

#include "snippet.h"

#define SRC (SN_DATA)
#define DST (SN_DATA + 0x10000)

/* Host REP MOVS of `size`-byte elements, DF as given; returns nothing, the
 * buffer is updated in place. */
static void host_rep_movs(uint8_t *buf, size_t src, size_t dst, uint64_t n, int size, bool df)
{
	uint8_t *s = buf + src, *d = buf + dst;
	uint64_t cnt = n;
	switch (size) {
	case 1:
		if (df) __asm__ volatile("std; rep movsb; cld" : "+S"(s), "+D"(d), "+c"(cnt) :: "memory");
		else __asm__ volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(cnt) :: "memory");
		break;
	case 4:
		if (df) __asm__ volatile("std; rep movsl; cld" : "+S"(s), "+D"(d), "+c"(cnt) :: "memory");
		else __asm__ volatile("rep movsl" : "+S"(s), "+D"(d), "+c"(cnt) :: "memory");
		break;
	default:
		if (df) __asm__ volatile("std; rep movsq; cld" : "+S"(s), "+D"(d), "+c"(cnt) :: "memory");
		else __asm__ volatile("rep movsq" : "+S"(s), "+D"(d), "+c"(cnt) :: "memory");
		break;
	}
}

/* REP MOVS against the host for overlapping and disjoint layouts, both
 * directions, byte/dword/qword elements.  The guest buffer sits at SRC. */
static void test_rep_movs_vs_host(void)
{
	static const struct { size_t src, dst; uint64_t n; int size; bool df; } cases[] = {
		{ 100, 101, 300, 1, false },      /* forward, dst = src + 1: replicate */
		{ 100, 103, 200, 4, false },      /* forward, overlap inside an element */
		{ 100, 96, 300, 4, false },       /* forward, dst below src */
		{ 4000, 3999, 300, 1, true },     /* backward, dst = src - 1 */
		{ 4000, 4005, 100, 8, true },     /* backward, dst above src */
		{ 3000, 9000, 1500, 8, false },   /* disjoint, several pages */
		{ 9000, 24000, 900, 8, true },    /* disjoint, backward */
		{ 4090, 8190, 50, 1, false },     /* both cross a page */
	};
	static const uint8_t fwd[][3] = { { 0xf3, 0xa4 }, { 0xf3, 0xa5 }, { 0xf3, 0x48, 0xa5 } };
	const size_t fwd_len[] = { 2, 2, 3 };
	const size_t len = 32768;    /* every case stays inside */
	uint8_t *want = malloc(len), *got = malloc(len);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		for (size_t j = 0; j < len; j++)
			want[j] = (uint8_t)(j * 131 + k * 7 + (j >> 8));
		struct cpu *c = sn_cpu();
		cpu_phys_write(c, SRC, want, len);
		int w = cases[k].size == 1 ? 0 : cases[k].size == 4 ? 1 : 2;
		c->gpr[R_RSI] = SRC + cases[k].src;
		c->gpr[R_RDI] = SRC + cases[k].dst;
		c->gpr[R_RCX] = cases[k].n;
		c->rflags = FLAG_FIXED1 | (cases[k].df ? FLAG_DF : 0);
		host_rep_movs(want, cases[k].src, cases[k].dst, cases[k].n, cases[k].size, cases[k].df);
		CU_ASSERT_EQUAL(sn_run(c, fwd[w], fwd_len[w]), CPU_STOP_HLT);
		cpu_phys_read(c, SRC, got, len);
		CU_ASSERT(memcmp(got, want, len) == 0);
		int64_t step = (cases[k].df ? -1 : 1) * (int64_t)(cases[k].n * (uint64_t)cases[k].size);
		CU_ASSERT_EQUAL(c->gpr[R_RSI], SRC + cases[k].src + (uint64_t)step);
		CU_ASSERT_EQUAL(c->gpr[R_RDI], SRC + cases[k].dst + (uint64_t)step);
		CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	}
	free(want);
	free(got);
}

/* REP STOS b/w/q, both directions, across pages. */
static void test_rep_stos(void)
{
	static const uint8_t stosw[] = { 0xf3, 0x66, 0xab };
	static const uint8_t stosq[] = { 0xf3, 0x48, 0xab };
	static const uint8_t stosb[] = { 0xf3, 0xaa };
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0x1122334455667788ull;
	c->gpr[R_RDI] = DST + 4093;        /* misaligned, crosses into the next page */
	c->gpr[R_RCX] = 1000;
	CU_ASSERT_EQUAL(SN_RUN(c, stosw), CPU_STOP_HLT);
	int bad = 0;
	for (uint64_t k = 0; k < 1000; k++)
		bad += sn_peek(c, DST + 4093 + 2 * k, 2) != 0x7788;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 4093 + 2000, 1), 0);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 4092, 1), 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], DST + 4093 + 2000);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	/* backward qwords: the first store at RDI, then downwards */
	c->rflags |= FLAG_DF;
	c->gpr[R_RDI] = DST + 0x3000;
	c->gpr[R_RCX] = 600;
	CU_ASSERT_EQUAL(SN_RUN(c, stosq), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 0x3000, 8), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 0x3000 - 599 * 8, 8), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 0x3000 - 600 * 8, 8), 0);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 0x3008, 8), 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], DST + 0x3000 - 600 * 8);
	/* RCX = 0: nothing happens, even with a non-canonical RDI */
	c->gpr[R_RDI] = 0x0000800000000000ull;
	c->gpr[R_RCX] = 0;
	CU_ASSERT_EQUAL(SN_RUN(c, stosb), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x0000800000000000ull);
}

/* Host REPE CMPSB / REPNE SCASB: where they stop, and the flags. */
static void host_cmps(const uint8_t *s, const uint8_t *d, uint64_t n, uint64_t out[4])
{
	uint64_t f;
	const uint8_t *si = s, *di = d;
	uint64_t cnt = n;
	__asm__ volatile("repe cmpsb; pushfq; pop %3" : "+S"(si), "+D"(di), "+c"(cnt), "=r"(f) :: "cc", "memory");
	out[0] = cnt;
	out[1] = (uint64_t)(si - s);
	out[2] = (uint64_t)(di - d);
	out[3] = f & (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF);
}

static void host_scas(const uint8_t *d, uint64_t n, uint8_t al, uint64_t out[4])
{
	uint64_t f;
	const uint8_t *di = d;
	uint64_t cnt = n;
	__asm__ volatile("repne scasb; pushfq; pop %2" : "+D"(di), "+c"(cnt), "=r"(f) : "a"(al) : "cc", "memory");
	out[0] = cnt;
	out[1] = 0;
	out[2] = (uint64_t)(di - d);
	out[3] = f & (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF);
}

static void test_repe_cmps_repne_scas(void)
{
	static const uint8_t cmps[] = { 0xf3, 0xa6 }, scas[] = { 0xf2, 0xae };
	uint8_t a[64], b[64];
	for (int k = 0; k < 64; k++)
		a[k] = b[k] = (uint8_t)(k + 0x20);
	for (int where = 0; where <= 64; where += 9) {
		uint8_t bb[64];
		memcpy(bb, b, sizeof bb);
		if (where < 64)
			bb[where] = (uint8_t)(where & 1 ? 0x01 : 0xf0);    /* below and above */
		for (uint64_t n = 0; n <= 64; n += 16) {
			uint64_t want[4];
			host_cmps(a, bb, n, want);
			struct cpu *c = sn_cpu();
			cpu_phys_write(c, SRC, a, 64);
			cpu_phys_write(c, DST, bb, 64);
			c->gpr[R_RSI] = SRC;
			c->gpr[R_RDI] = DST;
			c->gpr[R_RCX] = n;
			CU_ASSERT_EQUAL(SN_RUN(c, cmps), CPU_STOP_HLT);
			CU_ASSERT_EQUAL(c->gpr[R_RCX], want[0]);
			CU_ASSERT_EQUAL(c->gpr[R_RSI] - SRC, want[1]);
			CU_ASSERT_EQUAL(c->gpr[R_RDI] - DST, want[2]);
			if (n)          /* with RCX = 0 the flags are whatever they were */
				CU_ASSERT_EQUAL(cpu_get_rflags(c) & FLAGS_ARITH, want[3]);
			/* REPNE SCASB for the byte at `where` */
			uint8_t al = where < 64 ? bb[where] : 0x99;
			host_scas(bb, n, al, want);
			c->gpr[R_RDI] = DST;
			c->gpr[R_RCX] = n;
			c->gpr[R_RAX] = al;
			CU_ASSERT_EQUAL(SN_RUN(c, scas), CPU_STOP_HLT);
			CU_ASSERT_EQUAL(c->gpr[R_RCX], want[0]);
			CU_ASSERT_EQUAL(c->gpr[R_RDI] - DST, want[2]);
			if (n)
				CU_ASSERT_EQUAL(cpu_get_rflags(c) & FLAGS_ARITH, want[3]);
		}
	}
}

/* Single (un-prefixed) forms, LODS zero-extension, CMPSQ/SCASW flags. */
static void test_single_forms(void)
{
	static const uint8_t code[] = {
		0xac,               /* lodsb */
		0xad,               /* lodsd (zero-extends RAX) */
		0x48, 0xa7,         /* cmpsq: [rsi] - [rdi] */
		0x66, 0xaf,         /* scasw: ax - [rdi] */
		0x48, 0xa5,         /* movsq */
		0xaa,               /* stosb */
	};
	struct cpu *c = sn_cpu();
	sn_poke(c, SRC, 1, 0x80);
	sn_poke(c, SRC + 1, 4, 0x00000003);
	sn_poke(c, SRC + 5, 8, 1);
	sn_poke(c, DST, 8, 2);              /* cmpsq: 1 - 2: CF SF */
	sn_poke(c, DST + 8, 2, 0x0003);     /* scasw: 3 - 3: ZF */
	sn_poke(c, SRC + 13, 8, 0xfeedfacecafebeefull);
	c->gpr[R_RAX] = 0xffffffffffffffffull;
	c->gpr[R_RSI] = SRC;
	c->gpr[R_RDI] = DST;
	c->gpr[R_RCX] = 77;                 /* untouched without REP */
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 3);
	CU_ASSERT(cpu_zf(c) && !cpu_cf(c));
	CU_ASSERT_EQUAL(sn_peek(c, DST + 10, 8), 0xfeedfacecafebeefull);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 18, 1), 3);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], SRC + 21);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], DST + 19);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 77);
	/* CMPSQ alone, to see its flags */
	static const uint8_t cmpsq[] = { 0x48, 0xa7 };
	c->gpr[R_RSI] = SRC + 5;
	c->gpr[R_RDI] = DST;
	CU_ASSERT_EQUAL(SN_RUN(c, cmpsq), CPU_STOP_HLT);
	CU_ASSERT(cpu_cf(c) && cpu_sf(c) && !cpu_zf(c) && !cpu_of(c));
	/* REP LODSB leaves the last byte; DF = 1 walks down */
	static const uint8_t rep_lodsb[] = { 0xf3, 0xac };
	c->rflags |= FLAG_DF;
	c->gpr[R_RSI] = SRC + 4;
	c->gpr[R_RCX] = 4;
	CU_ASSERT_EQUAL(SN_RUN(c, rep_lodsb), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 0x03);   /* bytes 4,3,2,1: last is [SRC+1] */
	CU_ASSERT_EQUAL(c->gpr[R_RSI], SRC);
}

/* 32-bit address size in 64-bit mode: ESI/EDI/ECX, and their writes clear
 * bits 63:32. */
static void test_asize32_in_64(void)
{
	static const uint8_t code[] = { 0x67, 0xf3, 0xa4 };   /* rep movsb (a32) */
	struct cpu *c = sn_cpu();
	sn_poke(c, SRC, 4, 0x04030201);
	c->gpr[R_RSI] = 0xabcdef0000000000ull | SRC;
	c->gpr[R_RDI] = 0x1234560000000000ull | DST;
	c->gpr[R_RCX] = 0xffffffff00000004ull;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, DST, 4), 0x04030201);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], SRC + 4);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], DST + 4);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
}

/* 16-bit address size in 32-bit code: DI wraps inside ES, EDI[31:16] kept;
 * the segment override moves the source only. */
static void test_asize16_wrap_and_override(void)
{
	static const uint8_t stos16[] = { 0x67, 0xf3, 0xaa };   /* rep stosb es:[di] */
	static const uint8_t movs_fs[] = { 0x64, 0xa4 };        /* movsb es:[edi], fs:[esi] */
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->seg[SEG_ES].base = 0x100000;
	c->gpr[R_RDI] = 0x0007fffe;
	c->gpr[R_RCX] = 0x00090004;
	c->gpr[R_RAX] = 0x5a;
	CU_ASSERT_EQUAL(SN_RUN(c, stos16), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, 0x10fffe, 2), 0x5a5a);
	CU_ASSERT_EQUAL(sn_peek(c, 0x100000, 2), 0x5a5a);
	CU_ASSERT_EQUAL(sn_peek(c, 0x110000, 1), 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x00070002);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0x00090000);
	c->seg[SEG_FS].base = 0x300000;
	c->seg[SEG_DS].base = 0x200000;
	sn_poke(c, 0x300010, 1, 0xf5);
	sn_poke(c, 0x200010, 1, 0xd5);
	c->gpr[R_RSI] = 0x10;
	c->gpr[R_RDI] = 0x20;
	CU_ASSERT_EQUAL(SN_RUN(c, movs_fs), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, 0x100020, 1), 0xf5);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 0x11);
}

/* ---- INS / OUTS --------------------------------------------------------------------- */

static struct { uint16_t port[16]; int size[16]; uint32_t val[16]; int n; } io_log;

static uint32_t io_rd(void *o, uint16_t port, int size)
{
	(void)o;
	return 0x11223344u + port + (uint32_t)size;
}

static void io_wr(void *o, uint16_t port, int size, uint32_t v)
{
	(void)o;
	if (io_log.n < 16) {
		io_log.port[io_log.n] = port;
		io_log.size[io_log.n] = size;
		io_log.val[io_log.n] = v;
		io_log.n++;
	}
}

static void test_ins_outs(void)
{
	static const uint8_t ins[] = { 0x6c, 0x6d, 0x48, 0x6d };   /* insb; insd; insd (REX.W ignored) */
	static const uint8_t outs[] = { 0xf3, 0x66, 0x6f };        /* rep outsw */
	struct cpu *c = sn_cpu();
	/* no bus: all ones */
	c->gpr[R_RDI] = DST;
	c->gpr[R_RDX] = 0x3f8;
	CU_ASSERT_EQUAL(SN_RUN(c, ins), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, DST, 8), 0xffffffffffffffffull);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 9, 1), 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], DST + 9);
	/* with a bus */
	c->io_read = io_rd;
	c->io_write = io_wr;
	c->gpr[R_RDI] = DST;
	CU_ASSERT_EQUAL(SN_RUN(c, ins), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, DST, 1), (0x11223344u + 0x3f8 + 1) & 0xff);
	CU_ASSERT_EQUAL(sn_peek(c, DST + 1, 4), 0x11223344u + 0x3f8 + 4);
	io_log.n = 0;
	c->rflags |= FLAG_DF;
	c->gpr[R_RSI] = DST + 4;
	c->gpr[R_RCX] = 3;
	sn_poke(c, DST, 6, 0x0000aaaabbbbccccull);
	CU_ASSERT_EQUAL(SN_RUN(c, outs), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(io_log.n, 3);
	CU_ASSERT_EQUAL(io_log.val[0], 0xaaaa);
	CU_ASSERT_EQUAL(io_log.val[2], 0xcccc);
	CU_ASSERT_EQUAL(io_log.size[1], 2);
	CU_ASSERT_EQUAL(io_log.port[1], 0x3f8);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], DST - 2);
}

/* ---- restartable REP, long REP, REP STOS over its own code -------------------------- */

/* REP MOVSB whose destination runs into the non-canonical hole: the
 * elements before it are done and committed, RIP stays on the instruction,
 * and a restart finishes the rest. */
static void test_rep_restart_after_fault(void)
{
	static const uint8_t code[] = { 0xf3, 0xa4 };
	struct cpu *c = sn_cpu();
	c->gpr[R_RSI] = SRC;
	c->gpr[R_RDI] = 0x00007ffffffffffcull;   /* 4 bytes left (open bus) */
	c->gpr[R_RCX] = 10;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 6);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], SRC + 4);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x0000800000000000ull);
	/* the "handler" moves RDI back into RAM; the instruction resumes */
	sn_poke(c, SRC + 4, 6, 0x0000605040302010ull);
	c->gpr[R_RDI] = DST;
	CU_ASSERT_EQUAL(cpu_run(c, 10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, DST, 6), 0x605040302010ull);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
}

/* A REP longer than one slice: correct result, handed back more than once. */
static void test_long_rep(void)
{
	static const uint8_t code[] = { 0xf3, 0xaa };
	struct cpu *c = sn_cpu();
	c->gpr[R_RDI] = 0x100000;
	c->gpr[R_RCX] = 1000000;
	c->gpr[R_RAX] = 0xa5;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x100000 + 1000000);
	CU_ASSERT_EQUAL(sn_peek(c, 0x100000, 1), 0xa5);
	CU_ASSERT_EQUAL(sn_peek(c, 0x100000 + 999999, 1), 0xa5);
	CU_ASSERT_EQUAL(sn_peek(c, 0x100000 + 1000000, 1), 0);
	CU_ASSERT(c->icount > 2);
	/* one instruction's budget stops inside the REP with consistent state */
	c = sn_cpu();
	c->gpr[R_RDI] = 0x100000;
	c->gpr[R_RCX] = 1000000;
	CU_ASSERT_EQUAL(ut_run(c, code, sizeof code, 1), CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);
	CU_ASSERT(c->gpr[R_RCX] > 0 && c->gpr[R_RCX] < 1000000);
	CU_ASSERT_EQUAL(c->gpr[R_RDI], 0x100000 + (1000000 - c->gpr[R_RCX]));
}

/* REP STOSB writes NOPs over the instruction after it: the new bytes run. */
static void test_rep_stos_smc(void)
{
	static const uint8_t code[] = {
		0xf3, 0xaa,         /* rep stosb */
		0xb0, 0x01,         /* mov al, 1  -> becomes nop; nop */
	};
	struct cpu *c = sn_cpu();
	c->gpr[R_RAX] = 0x90;
	c->gpr[R_RDI] = UT_CODE + 2;
	c->gpr[R_RCX] = 2;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x90);
	CU_ASSERT_EQUAL(c->icount, 4);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "REP MOVS b/d/q vs host (overlap, DF)", test_rep_movs_vs_host },
		{ "REP STOS w/q, both directions, RCX=0", test_rep_stos },
		{ "REPE CMPSB / REPNE SCASB vs host", test_repe_cmps_repne_scas },
		{ "single forms, LODS, CMPSQ flags", test_single_forms },
		{ "32-bit address size in 64-bit mode", test_asize32_in_64 },
		{ "16-bit address wrap, source override", test_asize16_wrap_and_override },
		{ "INS/OUTS on the I/O bus", test_ins_outs },
		{ "REP restarts after a fault", test_rep_restart_after_fault },
		{ "long REP in slices", test_long_rep },
		{ "REP STOS over its own code", test_rep_stos_smc },
		{ NULL, NULL },
	};
	return ut_main("string", cases);
}
