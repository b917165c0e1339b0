/*
 * test_guard.c - a decode never reads past `avail` (nor past 15 bytes).
 *
 * The bytes under test are copied so that they END exactly where a PROT_NONE
 * guard page begins; any read past `avail` then faults at once (the SIGSEGV
 * handler names the bytes and fails the run).  For random byte strings,
 * biased toward prefixes and escapes so that instructions are long, and in
 * all three modes:
 *
 *   1. decode with the full 15 bytes readable        -> length L (1..15)
 *   2. decode with a = 0 .. L-1 bytes readable        -> must return 0
 *   3. decode with a = L .. 15 bytes readable         -> must return L again,
 *                                                        with the same record
 *   4. decode claiming avail = 4096 with 15 bytes before the guard -> L
 *
 * so the decoder's answer depends on the instruction's own bytes only, and a
 * caller can hand it exactly what is mapped (the end of a code page).
 */
#include <CUnit/Basic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* <unistd.h> has lockf()'s F_LOCK and <signal.h> the ucontext REG_RIP;
 * insn.h's names are the ones meant here. */
#undef F_LOCK
#undef REG_RIP
#include "decode_util.h"

static uint8_t *page_end;          /* first byte of the guard page */
static const uint8_t *cur_bytes;   /* what is being decoded, for the report */
static int cur_mode, cur_avail;

static void on_segv(int sig)
{
	(void)sig;
	char msg[160];
	int n = snprintf(msg, sizeof msg, "\nguard page hit: %d-bit decode with avail %d of:",
			 16 << cur_mode, cur_avail);
	for (int k = 0; k < 15 && n < (int)sizeof msg - 4; k++)
		n += snprintf(msg + n, sizeof msg - (size_t)n, " %02x", cur_bytes[k]);
	msg[n++] = '\n';
	ssize_t w = write(2, msg, (size_t)n);
	(void)w;
	_exit(1);
}

static uint64_t rng = 0x6775617264ull;   /* "guard" */
static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void gen(uint8_t *b)
{
	static const uint8_t pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x64, 0x48, 0x41,
				       0x0f, 0x0f, 0x0f, 0x38, 0x3a };
	for (int k = 0; k < 15; k++)
		b[k] = (uint8_t)rnd();
	int n = (int)(rnd() % 12);
	for (int k = 0; k < n; k++)
		b[k] = pfx[rnd() % sizeof pfx];
}

/* Decode b[0..a) placed right before the guard page. */
static int decode_at_end(const uint8_t *b, int a, int mode, struct insn *in)
{
	uint8_t *p = page_end - a;
	memcpy(p, b, (size_t)a);
	cur_bytes = b;
	cur_mode = mode;
	cur_avail = a;
	return insn_decode(p, a, mode, in);
}

static void test_guard(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(m != MAP_FAILED);
	CU_ASSERT_FATAL(mprotect(m + pg, (size_t)pg, PROT_NONE) == 0);
	page_end = m + pg;
	signal(SIGSEGV, on_segv);
	uint64_t decodes = 0, bad_short = 0, bad_again = 0, bad_range = 0;
	for (int mode = M16; mode <= M64; mode++) {
		for (int t = 0; t < 40000; t++) {
			uint8_t b[15];
			struct insn full, in;
			gen(b);
			int len = decode_at_end(b, 15, mode, &full);
			decodes++;
			if (len < 1 || len > 15 || full.len != len || full.op >= OP__COUNT) {
				bad_range++;
				continue;
			}
			/* avail larger than 15: still at most 15 bytes are read */
			decode_at_end(b, 15, mode, &in);
			cur_avail = 4096;
			if (insn_decode(page_end - 15, 4096, mode, &in) != len)
				bad_again++;
			for (int a = 0; a <= 15; a++) {
				int r = decode_at_end(b, a, mode, &in);
				decodes++;
				if (a < len && r != 0)
					bad_short++;
				if (a >= len && (r != len || memcmp(&in, &full, sizeof in) != 0))
					bad_again++;
			}
		}
	}
	signal(SIGSEGV, SIG_DFL);
	munmap(m, (size_t)pg * 2);
	printf("\n  %llu decodes at the guard page", (unsigned long long)decodes);
	CU_ASSERT_EQUAL(bad_range, 0);
	CU_ASSERT_EQUAL(bad_short, 0);
	CU_ASSERT_EQUAL(bad_again, 0);
}

int main(void)
{
	static const struct decode_test tests[] = {
		{ "no read past avail (guard page)", test_guard },
	};
	return run_decode_tests("decode guard", tests, 1);
}
