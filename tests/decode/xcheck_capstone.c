/*
 * xcheck_capstone.c - instruction lengths: our decoder against Capstone 4.
 *
 * Feeds random 15-byte strings to insn_decode() and to Capstone's
 * cs_disasm(count 1) in the same mode.  Wherever Capstone decodes an
 * instruction, the two lengths must agree; a mismatch prints the bytes, both
 * lengths, both readings, and the run fails.  The strings are biased so that
 * the interesting parts of the encoding space are well covered:
 *
 *   1/4  purely random bytes
 *   3/8  random legacy prefixes (+ REX in 64-bit mode), then an escape
 *        (none, 0F, 0F 38, 0F 3A) chosen at random, then random bytes
 *   1/4  an opcode taken from opcodes.def (its escape, its byte, a ModRM
 *        that selects its group, its mandatory prefix), then random bytes
 *   1/8  a VEX, EVEX or XOP escape with a valid map field, then random bytes
 *
 * Capstone 4.0.2 has a few known length bugs.  They are NOT papered over by
 * loosening the comparison: known_bug() (xcheck_known.c) names each exact pattern,
 * with the reason checked against the SDM, and the run counts every string
 * that fell under one.  Deterministic: a fixed seed unless --seed is given.
 *
 * With --fields, for every string that decodes to a listed (executed) form,
 * the instruction's name (our form against Capstone's mnemonic, so a wrong
 * group or mandatory-prefix choice shows), its ModRM memory operand (base,
 * index, scale, displacement, segment override) and its immediate (value,
 * or branch target) are compared too; Capstone's naming quirks are listed
 * the same way as its length bugs (name_known()).
 *
 * usage: xcheck_capstone [--mode 16|32|64] [--count N] [--seed S] [--fields] [--quiet]
 *        xcheck_capstone [--mode 16|32|64] --show "66 0f 78 c0"   (both readings)
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xcheck.h"

static uint64_t rng_state;
static uint64_t rnd(void)              /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static const uint8_t legacy_pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e,
				      0x36, 0x3e, 0x64, 0x65, 0x66, 0x66, 0xf3 };

/* Random prefixes; returns how many bytes were written. */
static int gen_prefixes(uint8_t *b, int mode)
{
	int n = 0, k = (int)rn(4);
	for (int j = 0; j < k; j++)
		b[n++] = legacy_pfx[rn(sizeof legacy_pfx)];
	if (mode == CPU_MODE64 && rn(2))
		b[n++] = (uint8_t)(0x40 | rn(16));
	return n;
}

static void gen_escape(uint8_t *b, int *n, int map)
{
	if (map == M1)
		return;
	b[(*n)++] = 0x0f;
	if (map == M38)
		b[(*n)++] = 0x38;
	else if (map == M3A)
		b[(*n)++] = 0x3a;
}

/* C5/C4 VEX, 62 EVEX, 8F XOP with a map field that exists (SDM Vol. 2 2.3,
 * 2.7; APM Vol. 3 1.8); outside 64-bit mode with the mod=11 bits set. */
static void gen_vex(uint8_t *b, int n, int mode)
{
	static const uint8_t esc[] = { 0xc5, 0xc4, 0x62, 0x8f };
	uint8_t e = esc[rn(4)];
	b[n] = e;
	uint8_t *p = b + n + 1;
	if (e == 0xc4)
		p[0] = (uint8_t)((p[0] & 0xe0) | (1 + rn(3)));
	else if (e == 0x8f)
		p[0] = (uint8_t)((p[0] & 0xe0) | (8 + rn(3)));
	else if (e == 0x62) {
		p[0] = (uint8_t)((p[0] & 0xf0) | (1 + rn(3)));
		p[1] |= 0x04;
	}
	if (mode != CPU_MODE64 && e != 0x8f)
		p[0] |= 0xc0;
}

static void gen(uint8_t *b, int mode)
{
	for (int j = 0; j < 15; j++)
		b[j] = (uint8_t)rnd();
	unsigned kind = rn(8);
	if (kind < 2)
		return;
	int n = kind == 7 && rn(2) ? 0 : gen_prefixes(b, mode);
	if (kind < 5) {
		gen_escape(b, &n, (int)rn(4));
		return;
	}
	if (kind == 7) {
		gen_vex(b, n, mode);
		return;
	}
	const struct form *f = &forms[2 + rn(OP__COUNT - 2)];   /* skip ud, toolong */
	static const uint8_t mpfx[] = { 0, 0, 0x66, 0xf3, 0xf2 };
	if (f->pfx != P_ANY && mpfx[f->pfx] && n < 5)
		b[n++] = mpfx[f->pfx];
	gen_escape(b, &n, f->map);
	int span = f->flags & F_CC ? 16 : f->flags & F_ZREG ? 8 : 1;
	b[n++] = (uint8_t)(f->byte + rn((unsigned)span));
	uint8_t m = b[n];
	switch (f->ext & 0xf00) {
	case 0x100: m = (uint8_t)((m & 0xc7) | (f->ext & 7) << 3); break;
	case 0x200: m = (uint8_t)((m & 0xc7) | (f->ext & 7) << 3);
		    if ((m >> 6) == 3) m &= 0x7f;
		    break;
	case 0x300: m = (uint8_t)(0xc0 | (m & 7) | (f->ext & 7) << 3); break;
	case 0x400: m = (uint8_t)f->ext; break;
	}
	b[n] = m;
}

/* ---- driver ------------------------------------------------------------------------ */

static void print_bytes(const uint8_t *b, int n)
{
	for (int j = 0; j < n; j++)
		printf("%02x%s", b[j], j + 1 < n ? " " : "");
}

static uint64_t bug_counts[NBUGS], nbug_counts[NNBUGS];

struct xstats {
	uint64_t decoded, agree, ud_agree, known, mismatches;
	uint64_t mem_checked, mem_differ, imm_checked, imm_differ, name_checked, name_differ;
};

/* The operand fields of a string whose lengths agree (--fields). */
static void check_fields(csh cs, const cs_insn *ci, const uint8_t *b, const struct insn *in,
			 int mode, int quiet, struct xstats *st)
{
	uint32_t ff = forms[in->op].flags;
	if (in->op == OP_ud || in->op == OP_toolong)
		return;
	st->name_checked++;
	int nk = name_ok(in, ci->mnemonic) ? -2 : name_known(b, mode, in);
	if (nk >= 0)
		nbug_counts[nk]++;
	if (nk == -1) {
		if (!quiet || st->name_differ < 20) {
			printf("NAME mode %d: ", 16 << mode);
			print_bytes(b, in->len);
			printf("  ours %s  capstone %s %s\n", insn_op_name(in->op), ci->mnemonic,
			       ci->op_str);
		}
		st->name_differ++;
	}
	if (ff & (F_IB | F_IW | F_IZ | F_IV | F_IWIB | F_FAR)) {
		int d = imm_differs(ci, in, ff);
		st->imm_checked += d >= 0;
		if (d > 0 && (!quiet || st->imm_differ < 20)) {
			printf("IMM mode %d: ", 16 << mode);
			print_bytes(b, in->len);
			printf("  ours %s imm %#llx imm2 %d osize %d  capstone %s %s\n",
			       insn_op_name(in->op), (unsigned long long)in->imm, in->imm2,
			       in->osize, ci->mnemonic, ci->op_str);
		}
		st->imm_differ += d > 0;
	}
	if (in->flags & I_MEM) {
		st->mem_checked++;
		int d = mem_fields_differ(cs, ci, in, mode);
		if (d && (!quiet || st->mem_differ < 20)) {
			printf("FIELDS mode %d: ", 16 << mode);
			print_bytes(b, in->len);
			printf("  ours %s base %d index %d scale %d disp %d seg %d%s  capstone %s %s\n",
			       insn_op_name(in->op), in->base, in->index, in->scale, in->disp,
			       in->seg, in->flags & I_RIPREL ? " rip" : "", ci->mnemonic, ci->op_str);
		}
		st->mem_differ += d != 0;
	}
}

/* Decode one 15-byte string both ways and account for it. */
static void check_one(csh cs, cs_insn *ci, const uint8_t *b, int mode, int fields,
		      int quiet, struct xstats *st)
{
	struct insn in;
	int ours = insn_decode(b, 15, mode, &in);
	const uint8_t *code = b;
	size_t size = 15;
	uint64_t addr = 0x1000;
	if (!cs_disasm_iter(cs, &code, &size, &addr, ci))
		return;
	st->decoded++;
	int theirs = ci->size;
	if (ours == theirs) {
		st->agree++;
		st->ud_agree += in.op == OP_ud;
		if (fields)
			check_fields(cs, ci, b, &in, mode, quiet, st);
		return;
	}
	int k = known_bug(b, mode, ours, theirs, ci->op_str);
	if (k >= 0) {
		st->known++;
		bug_counts[k]++;
		return;
	}
	if (!quiet || st->mismatches < 20) {
		printf("MISMATCH mode %d: ", 16 << mode);
		print_bytes(b, 15);
		printf("  ours %d (%s)  capstone %d (%s %s)\n", ours, insn_op_name(in.op),
		       theirs, ci->mnemonic, ci->op_str);
	}
	st->mismatches++;
}

/* --show HEX: both readings of one byte string, for debugging. */
static int show(csh cs, int mode, const char *hex)
{
	uint8_t b[15] = { 0 };
	int n = 0;
	while (*hex && n < 15) {
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		if (end == hex)
			break;
		b[n++] = (uint8_t)v;
		hex = end;
	}
	struct insn in;
	int ours = insn_decode(b, n, mode, &in);
	printf("ours: len %d %s osize %d asize %d reg %d rm %d base %d index %d scale %d "
	       "disp %d imm %#llx imm2 %d seg %d flags %#x\n", ours, insn_op_name(in.op),
	       in.osize, in.asize, in.reg, in.rm, in.base, in.index, in.scale, in.disp,
	       (unsigned long long)in.imm, in.imm2, in.seg, in.flags);
	cs_insn *ci;
	size_t c = cs_disasm(cs, b, (size_t)n, 0x1000, 1, &ci);
	if (c) {
		printf("capstone: len %d %s %s\n", ci->size, ci->mnemonic, ci->op_str);
		cs_free(ci, c);
	} else {
		printf("capstone: no decode\n");
	}
	return 0;
}

static void print_summary(int mode_bits, uint64_t count, int fields, const struct xstats *st)
{
	printf("mode %d: %" PRIu64 " strings, capstone decoded %" PRIu64 ", lengths agree %"
	       PRIu64 " (%" PRIu64 " of them #UD here), known capstone bugs %" PRIu64
	       ", mismatches %" PRIu64 "\n", mode_bits, count, st->decoded, st->agree,
	       st->ud_agree, st->known, st->mismatches);
	for (int k = 0; k < NBUGS; k++)
		printf("  known capstone bug %d (%s): %" PRIu64 "\n", k, bug_names[k],
		       bug_counts[k]);
	if (fields) {
		printf("mode %d: names compared %" PRIu64 ", differing %" PRIu64 "; memory "
		       "operands compared %" PRIu64 ", differing %" PRIu64 "; immediates "
		       "compared %" PRIu64 ", differing %" PRIu64 "\n", mode_bits,
		       st->name_checked, st->name_differ, st->mem_checked, st->mem_differ,
		       st->imm_checked, st->imm_differ);
		for (int k = 0; k < NNBUGS; k++)
			printf("  known capstone name difference %d (%s): %" PRIu64 "\n", k,
			       nbug_names[k], nbug_counts[k]);
	}
	uint64_t bad = st->mem_differ + st->imm_differ + st->name_differ;
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n",
	       st->agree + st->known - bad, st->mismatches + bad);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--mode 16|32|64] [--count N] [--seed S] [--fields] [--quiet]\n"
		"       %s [--mode 16|32|64] --show \"66 0f 78 c0\"\n", argv0, argv0);
	return 2;
}

int main(int argc, char **argv)
{
	int mode_bits = 64, quiet = 0, fields = 0;
	const char *show_hex = NULL;
	uint64_t count = 100000, seed = 0x4e45535444454331ull;   /* "NESTDEC1" */
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--mode") && a + 1 < argc)
			mode_bits = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--count") && a + 1 < argc)
			count = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--show") && a + 1 < argc)
			show_hex = argv[++a];
		else if (!strcmp(argv[a], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[a], "--fields"))
			fields = 1;
		else
			return usage(argv[0]);
	}
	int mode = mode_bits == 16 ? CPU_MODE16 : mode_bits == 32 ? CPU_MODE32 : CPU_MODE64;
	cs_mode csm = mode_bits == 16 ? CS_MODE_16 : mode_bits == 32 ? CS_MODE_32 : CS_MODE_64;
	if (mode_bits != 16 && mode_bits != 32 && mode_bits != 64) {
		fprintf(stderr, "xcheck_capstone: --mode must be 16, 32 or 64\n");
		return 2;
	}
	csh cs;
	if (cs_open(CS_ARCH_X86, csm, &cs) != CS_ERR_OK) {
		fprintf(stderr, "xcheck_capstone: cs_open failed\n");
		return 2;
	}
	if (show_hex) {
		show(cs, mode, show_hex);
		cs_close(&cs);
		return 0;
	}
	if (fields)
		cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	rng_state = seed ^ (uint64_t)mode_bits;
	struct xstats st = { 0 };
	cs_insn *ci = cs_malloc(cs);
	for (uint64_t t = 0; t < count; t++) {
		uint8_t b[15];
		gen(b, mode);
		check_one(cs, ci, b, mode, fields, quiet, &st);
	}
	cs_free(ci, 1);
	cs_close(&cs);
	print_summary(mode_bits, count, fields, &st);
	return st.mismatches || st.mem_differ || st.imm_differ || st.name_differ ? 1 : 0;
}
