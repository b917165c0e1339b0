/*
 * diff.c - the differential test driver: generate, run on every executor,
 * compare, shrink what fails, print it.
 *
 *   nestlab-diff --seed S --count N [--oracle unicorn|native|both]
 *                [--len L] [--classes a,b,..] [--ref-only] [--verbose]
 *                [--no-shrink] [--stats] [--fresh-cpu] [--self-check]
 *                [--corrupt-nest]
 *
 * Sequence i of a run uses the seed S+i, so "--seed S+i --count 1" (same
 * --len/--classes/--oracle) reproduces it alone.  The interpreter is
 * compared with each chosen oracle; with both, the oracles are also
 * compared with each other (a disagreement there is a generator bug and
 * fails the run too).  --ref-only runs just Unicorn against the host CPU.
 *
 * A failing sequence is shrunk by delta debugging (Zeller's ddmin over
 * items: drop chunks while the same executors still disagree and the
 * remainder is still a fair test per seq_check), then printed with the
 * initial state, a Capstone disassembly and every difference.
 * Exit status: 0 if everything agreed, 1 on any mismatch, 2 on usage or
 * set-up errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare.h"
#include "diff.h"

static const char *const xname[XN] = { "nestlab", "unicorn", "native" };

struct run_cfg cfg;
static struct xresult res[XN];

static void usage(void)
{
	fprintf(stderr,
		"usage: nestlab-diff --seed S --count N [--oracle unicorn|native|both] [--len L]\n"
		"                    [--classes LIST|all] [--ref-only] [--no-shrink] [--verbose]\n"
		"                    [--stats] [--fresh-cpu] [--self-check] [--corrupt-nest]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	cfg.seed = 1;
	cfg.count = 100;
	cfg.len = 20;
	cfg.oracle = 3;
	cfg.shrink = true;
	cfg.classes = (1ull << GC__COUNT) - 1;
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
		if (!strcmp(a, "--seed") && v)
			cfg.seed = strtoull(v, NULL, 0), k++;
		else if (!strcmp(a, "--count") && v)
			cfg.count = strtol(v, NULL, 0), k++;
		else if (!strcmp(a, "--len") && v)
			cfg.len = atoi(v), k++;
		else if (!strcmp(a, "--oracle") && v) {
			cfg.oracle = !strcmp(v, "unicorn") ? 1 : !strcmp(v, "native") ? 2 :
				     !strcmp(v, "both") ? 3 : 0;
			if (!cfg.oracle)
				usage();
			k++;
		} else if (!strcmp(a, "--classes") && v) {
			if (gclass_parse(v, &cfg.classes) < 0)
				exit(2);
			k++;
		} else if (!strcmp(a, "--ref-only"))
			cfg.ref_only = true;
		else if (!strcmp(a, "--no-shrink"))
			cfg.shrink = false;
		else if (!strcmp(a, "--verbose"))
			cfg.verbose = true;
		else if (!strcmp(a, "--corrupt-nest"))
			cfg.corrupt_nest = true;
		else if (!strcmp(a, "--fresh-cpu"))
			exec_nest_fresh = true;
		else if (!strcmp(a, "--stats"))
			cfg.stats = true;
		else if (!strcmp(a, "--self-check"))
			cfg.self_check = true;
		else
			usage();
	}
	if (cfg.len < 1 || cfg.len > 200 || cfg.count < 0)
		usage();
	/* the flag-fixing CMP and the setup MOVs are always generated */
	cfg.classes |= 1ull << GC_alu | 1ull << GC_mov;
	cfg.use[XN_NEST] = !cfg.ref_only;
	cfg.use[XN_UC] = cfg.oracle & 1;
	cfg.use[XN_NAT] = (cfg.oracle & 2) != 0;
	if (cfg.ref_only || cfg.self_check)
		cfg.use[XN_UC] = cfg.use[XN_NAT] = true;
}

void run_execs(const struct seq *s, const struct seq_code *c, struct xresult *r)
{
	if (cfg.use[XN_NEST]) {
		exec_nest_run(&s->init, c, &r[XN_NEST]);
		if (cfg.corrupt_nest)
			r[XN_NEST].gpr[3] ^= 1ull << 40;   /* a test of the harness */
	}
	if (cfg.use[XN_UC])
		exec_unicorn_run(&s->init, c, &r[XN_UC]);
	if (cfg.use[XN_NAT])
		exec_native_run(&s->init, c, &r[XN_NAT]);
}

/* Bit p*XN+q set: executors p and q (p < q) disagree. */
unsigned mismatches(const struct seq_code *c, const struct xresult *r, unsigned which)
{
	static char buf[8192];
	unsigned m = 0;
	for (int p = 0; p < XN; p++)
		for (int q = p + 1; q < XN; q++) {
			unsigned bit = 1u << (p * XN + q);
			if (!(which & bit) || !cfg.use[p] || !cfg.use[q])
				continue;
			if (compare_results(c, &r[p], xname[p], &r[q], xname[q], buf, sizeof buf))
				m |= bit;
		}
	return m;
}

unsigned pairs_wanted(void)
{
	unsigned w = 0;
	if (cfg.use[XN_NEST] && cfg.use[XN_UC])
		w |= 1u << (XN_NEST * XN + XN_UC);
	if (cfg.use[XN_NEST] && cfg.use[XN_NAT])
		w |= 1u << (XN_NEST * XN + XN_NAT);
	if (cfg.use[XN_UC] && cfg.use[XN_NAT])
		w |= 1u << (XN_UC * XN + XN_NAT);
	return w;
}

void report(FILE *f, const struct seq *s, const struct seq_code *c, const struct xresult *r,
	    unsigned m)
{
	static char buf[8192];
	print_sequence(f, s, c);
	for (int p = 0; p < XN; p++)
		for (int q = p + 1; q < XN; q++) {
			if (!(m & (1u << (p * XN + q))))
				continue;
			compare_results(c, &r[p], xname[p], &r[q], xname[q], buf, sizeof buf);
			int cls = seq_class_at(s, c, r[p].rip);
			fprintf(f, "  %s vs %s (flags undefined at the end: %#x%s%s):\n%s", xname[p],
				xname[q], c->end_undef, cls >= 0 ? ", stopped in class " : "",
				cls >= 0 ? gclass_name(cls) : "", buf);
		}
}

/* --stats: what the run covered (instructions per class, how runs ended). */
static long st_insns[GC__COUNT], st_vec[XN][4];

static void stats_add(const struct seq *s, const struct xresult *r)
{
	for (int i = 0; i < s->n; i++)
		for (int k = 0; k < s->it[i].n; k++)
			st_insns[s->it[i].in[k].cls]++;
	for (int x = 0; x < XN; x++) {
		int v = r[x].vector;
		st_vec[x][v == XV_NONE ? 0 : v == 0 ? 1 : v == 13 ? 2 : 3]++;
	}
}

static void stats_print(void)
{
	printf("instructions generated per class:\n");
	for (int c = 0; c < GC__COUNT; c++)
		printf("  %-8s %8ld%s", gclass_name(c), st_insns[c], c % 4 == 3 ? "\n" : "");
	printf("\nruns ending: normally / #DE / #GP / other\n");
	for (int x = 0; x < XN; x++)
		if (cfg.use[x])
			printf("  %-8s %ld / %ld / %ld / %ld\n", xname[x], st_vec[x][0], st_vec[x][1],
			       st_vec[x][2], st_vec[x][3]);
}

static int init_execs(void)
{
	char err[200];
	if ((cfg.use[XN_NEST] && exec_nest_init(err, sizeof err) < 0) ||
	    (cfg.use[XN_UC] && exec_unicorn_init(err, sizeof err) < 0) ||
	    (cfg.use[XN_NAT] && exec_native_init(err, sizeof err) < 0)) {
		fprintf(stderr, "nestlab-diff: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct seq s;
	static struct seq_code code;
	struct gen_opts go;
	long failed = 0, done = 0;
	clock_t t0 = clock();

	parse_args(argc, argv);
	if (init_execs() < 0)
		return 2;
	if (cfg.self_check)
		return self_check();
	go.len = cfg.len;
	go.classes = cfg.classes;
	go.for_unicorn = cfg.use[XN_UC];
	unsigned want = pairs_wanted();
	for (long i = 0; i < cfg.count; i++) {
		uint64_t sd = cfg.seed + (uint64_t)i;
		gen_sequence(&s, sd, &go);
		if (!seq_assemble(&s, &code, exec_native_exit_addr())) {
			fprintf(stderr, "seed %" PRIu64 ": generated sequence does not assemble\n", sd);
			return 2;
		}
		run_execs(&s, &code, res);
		done++;
		if (cfg.stats)
			stats_add(&s, res);
		unsigned m = mismatches(&code, res, want);
		if (cfg.verbose) {
			printf("seed %" PRIu64 ": %d items, %u bytes, %s\n", sd, s.n, code.len,
			       m ? "MISMATCH" : "ok");
			for (int x = 0; x < XN; x++)
				if (cfg.use[x])
					printf("  %-8s rip %#" PRIx64 " vector %d rax %#" PRIx64
					       " rflags %#" PRIx64 "\n", xname[x], res[x].rip,
					       res[x].vector, res[x].gpr[0], res[x].rflags);
			print_sequence(stdout, &s, &code);
		}
		if (!m)
			continue;
		failed++;
		printf("MISMATCH: seed %" PRIu64 " (reproduce: --seed %" PRIu64
		       " --count 1 --len %d)\n", sd, sd, cfg.len);
		if (cfg.shrink) {
			static struct seq small;
			static struct seq_code scode;
			shrink(&s, &code, m, &small, &scode);
			run_execs(&small, &scode, res);
			printf("shrunk from %d to %d items:\n", s.n, small.n);
			report(stdout, &small, &scode, res, mismatches(&scode, res, m) | 0);
		} else {
			report(stdout, &s, &code, res, m);
		}
		if (failed >= 10) {
			printf("stopping after 10 failing sequences\n");
			break;
		}
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	printf("%ld sequences run (seeds %" PRIu64 "..%" PRIu64 ", len %d, %s%s): %ld passed, %ld failed"
	       " [%.1f s CPU]\n", done, cfg.seed, cfg.seed + (uint64_t)cfg.count - 1, cfg.len,
	       cfg.ref_only ? "unicorn vs native" :
	       cfg.oracle == 3 ? "nestlab vs unicorn+native" :
	       cfg.oracle == 1 ? "nestlab vs unicorn" : "nestlab vs native",
	       "", done - failed, failed, secs);
	if (cfg.stats)
		stats_print();
	return failed ? 1 : 0;
}
