/*
 * diff.h - what the diff driver's parts (diff.c, shrink.c, selfcheck.c)
 * share: the run configuration and the executor plumbing.
 */
#ifndef DIFF_DIFF_H
#define DIFF_DIFF_H

#include <stdio.h>

#include "exec.h"

enum { XN_NEST, XN_UC, XN_NAT, XN };

struct run_cfg {
	uint64_t seed;
	long count;
	int len;
	int oracle;                /* bit 0 unicorn, bit 1 native */
	bool ref_only, shrink, verbose, self_check, stats;
	bool corrupt_nest;         /* flip an RBX bit in every interpreter result */
	uint64_t classes;
	bool use[XN];              /* which executors run */
};
extern struct run_cfg cfg;

/* Run every enabled executor on the assembled sequence. */
void run_execs(const struct seq *s, const struct seq_code *c, struct xresult *r);
/* Which executor pairs (bit p*XN+q) of `which` disagree. */
unsigned mismatches(const struct seq_code *c, const struct xresult *r, unsigned which);
unsigned pairs_wanted(void);
void report(FILE *f, const struct seq *s, const struct seq_code *c, const struct xresult *r,
	    unsigned m);

/* A predicate on sequences for the shrinker: true if it still "fails". */
typedef bool (*fails_fn)(const struct seq *s, const struct seq_code *c, void *ctx);
/* ddmin over items of s while fails() holds; result in out/outc. */
void shrink_with(const struct seq *s, fails_fn fails, void *ctx, struct seq *out,
		 struct seq_code *outc);
/* Shrink keeping the executor pairs in `m` disagreeing. */
void shrink(const struct seq *s, const struct seq_code *c, unsigned m, struct seq *out,
	    struct seq_code *outc);

int self_check(void);

#endif
