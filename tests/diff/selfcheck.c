/*
 * selfcheck.c - tests of the harness itself (--self-check).
 *
 * A comparison that cannot fail proves nothing, so for every sequence:
 *   1. Unicorn and the host CPU must agree (the generator and the masks
 *      are right, or this fails);
 *   2. a copy of the agreed result is corrupted in one place at a time - a
 *      GPR bit, a DEFINED flag, a data byte, a stack byte, RIP, the
 *      exception vector - and the comparison must report exactly that;
 *   3. flipping a flag the SDM leaves undefined at that point must NOT be
 *      reported (the mask is applied), while (2) proves defined flags are
 *      never masked;
 *   4. with the interpreter enabled, its result is corrupted (RBX) and the
 *      report must name RBX;
 *   5. every 25th sequence, the shrinker is run against a planted failure
 *      ("fails when an item of class C is present", checked through the
 *      real executors and comparison) and must end with one such item.
 */
#include <inttypes.h>
#include <string.h>

#include "compare.h"
#include "diff.h"

static char buf[8192];
static long checks, bad;

static void expect(bool ok, uint64_t sd, const char *what)
{
	checks++;
	if (!ok) {
		bad++;
		printf("SELF-CHECK FAILED: seed %" PRIu64 ": %s\n%s", sd, what, buf);
	}
}

static void corruptions(const struct seq_code *c, const struct xresult *ref,
			const struct xresult *other, uint64_t sd, struct rng *rg)
{
	static struct xresult x;
	char want[32];
	for (int k = 0; k < 8; k++) {
		x = *ref;
		switch (k) {
		case 6: {
			int r = (int)rng_below(rg, 16);
			x.fpu.xmm[r][rng_below(rg, 16)] ^= (uint8_t)(1u << rng_below(rg, 8));
			snprintf(want, sizeof want, "  xmm%d:", r);
			break;
		}
		case 7:
			x.fpu.mxcsr ^= 1u << rng_below(rg, 16);
			snprintf(want, sizeof want, "  fpu:");
			break;
		case 0: {
			int r = (int)rng_below(rg, 16);
			x.gpr[r] ^= 1ull << rng_below(rg, 64);
			snprintf(want, sizeof want, "  %s:", reg_name64(r));
			break;
		}
		case 1: {
			uint64_t defined = CMP_FLAGS & ~(uint64_t)seq_undef_at(c, ref->rip) & 0xfd5;
			uint64_t bit;
			do
				bit = 1ull << rng_below(rg, 12);
			while (!(bit & defined));
			x.rflags ^= bit;
			snprintf(want, sizeof want, "  rflags:");
			break;
		}
		case 2:
			x.data[rng_below(rg, SEQ_PAGE)] ^= 1;
			snprintf(want, sizeof want, "  [0x5");
			break;
		case 3:
			x.stack[rng_below(rg, SEQ_PAGE)] ^= 0x80;
			snprintf(want, sizeof want, "  [0x52");
			break;
		case 4:
			x.rip += 1;
			snprintf(want, sizeof want, "  rip:");
			break;
		default:
			x.vector = x.vector == XV_NONE ? 13 : XV_NONE;
			snprintf(want, sizeof want, "  exception:");
			break;
		}
		int n = compare_results(c, &x, "corrupted", other, "native", buf, sizeof buf);
		expect(n > 0 && strstr(buf, want), sd, "a planted difference was not reported");
	}
	uint16_t undef = seq_undef_at(c, ref->rip) & FL_ALL;
	if (undef) {
		x = *ref;
		uint64_t bit;
		do
			bit = 1ull << rng_below(rg, 12);
		while (!(bit & undef));
		x.rflags ^= bit;
		expect(compare_results(c, &x, "flipped", other, "native", buf, sizeof buf) == 0, sd,
		       "an undefined flag was compared");
	}
}

struct plant {
	int cls;
};

static bool has_class(const struct seq *s, int cls)
{
	for (int i = 0; i < s->n; i++)
		for (int k = 0; k < s->it[i].n; k++)
			if (s->it[i].in[k].cls == cls && s->it[i].cls == cls)
				return true;
	return false;
}

/* Fails when an item of the planted class is present: Unicorn's result is
 * then corrupted before the real comparison with the host CPU. */
static bool planted_fails(const struct seq *s, const struct seq_code *c, void *ctx)
{
	static struct xresult r[XN];
	const struct plant *p = ctx;
	run_execs(s, c, r);
	if (has_class(s, p->cls))
		r[XN_UC].gpr[0] ^= 1;
	return compare_results(c, &r[XN_UC], "unicorn", &r[XN_NAT], "native", buf, sizeof buf) > 0;
}

int self_check(void)
{
	static struct seq s, small;
	static struct seq_code code, scode;
	static struct xresult r[XN];
	struct gen_opts go = { cfg.len, cfg.classes, true };
	struct rng rg;
	long shrinks = 0;
	rng_seed(&rg, cfg.seed);
	for (long i = 0; i < cfg.count; i++) {
		uint64_t sd = cfg.seed + (uint64_t)i;
		gen_sequence(&s, sd, &go);
		seq_assemble(&s, &code, exec_native_exit_addr());
		run_execs(&s, &code, r);
		int n = compare_results(&code, &r[XN_UC], "unicorn", &r[XN_NAT], "native", buf,
					sizeof buf);
		expect(n == 0, sd, "unicorn and native disagree");
		if (n)
			continue;
		corruptions(&code, &r[XN_UC], &r[XN_NAT], sd, &rg);
		if (cfg.use[XN_NEST] && r[XN_NEST].gpr[3] == r[XN_UC].gpr[3] && !r[XN_NEST].error) {
			r[XN_NEST].gpr[3] ^= 4;
			compare_results(&code, &r[XN_NEST], "nestlab", &r[XN_UC], "unicorn", buf,
					sizeof buf);
			expect(strstr(buf, "  rbx:") != NULL, sd, "corrupted interpreter RBX not reported");
		}
		if (i % 25 == 0) {
			struct rng pr;             /* per sequence: --count 1 reproduces */
			rng_seed(&pr, sd);
			struct plant p = { s.it[rng_below(&pr, (uint32_t)s.n)].cls };
			if (!has_class(&s, p.cls))
				continue;
			shrink_with(&s, planted_fails, &p, &small, &scode);
			shrinks++;
			expect(small.n <= 2 && has_class(&small, p.cls) && planted_fails(&small, &scode, &p),
			       sd, "shrinker did not isolate the planted item");
			if (cfg.verbose) {
				printf("planted class %s: shrunk %d -> %d items\n", gclass_name(p.cls), s.n,
				       small.n);
				print_sequence(stdout, &small, &scode);
			}
		}
	}
	printf("self-check: %ld sequences, %ld shrinks, %ld checks: %ld passed, %ld failed\n",
	       cfg.count, shrinks, checks, checks - bad, bad);
	return bad ? 1 : 0;
}
