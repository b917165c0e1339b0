/*
 * shrink.c - cutting a failing sequence down to a smallest failing one.
 *
 * Delta debugging (A. Zeller, "Simplifying and Isolating Failure-Inducing
 * Input", 2002), over the items of the sequence: split it into n chunks and
 * try dropping each; keep any drop after which the sequence still fails,
 * otherwise split finer.  A candidate must still be a fair test (seq_check:
 * brackets whole, no undefined flag read, stack inside its page) and must
 * assemble; others are skipped.  Brackets are also tried without their
 * open and close items (the body stays), and, when chunks no longer help,
 * every window of 2..8 neighbouring items (pairs like PUSH ... POP that
 * only go together).
 */
#include <string.h>

#include "diff.h"

static bool try_drop(const struct seq *cur, const bool *drop, fails_fn fails, void *ctx,
		     struct seq *cand, struct seq_code *cc)
{
	char why[128];
	seq_drop(cur, drop, cand);
	if (cand->n == 0 || !seq_check(cand, why, sizeof why))
		return false;
	if (!seq_assemble(cand, cc, exec_native_exit_addr()))
		return false;
	return fails(cand, cc, ctx);
}

void shrink_with(const struct seq *s, fails_fn fails, void *ctx, struct seq *out,
		 struct seq_code *outc)
{
	static struct seq cand;
	static struct seq_code cc;
	static bool drop[SEQ_MAX_ITEMS];
	*out = *s;
	int n = 2;
	while (out->n >= 2) {
		int chunk = (out->n + n - 1) / n;
		bool reduced = false;
		for (int start = 0; start < out->n && !reduced; start += chunk) {
			memset(drop, 0, sizeof drop);
			for (int k = start; k < start + chunk && k < out->n; k++)
				drop[k] = true;
			if (try_drop(out, drop, fails, ctx, &cand, &cc)) {
				*out = cand;
				n = n > 2 ? n - 1 : 2;
				reduced = true;
			}
		}
		if (reduced)
			continue;
		/* brackets without their open/close */
		for (int k = 0; k < out->n && !reduced; k++) {
			const struct item *it = &out->it[k];
			if (it->kind != IT_CALL_OPEN && it->kind != IT_ENTER_OPEN)
				continue;
			memset(drop, 0, sizeof drop);
			drop[k] = drop[it->target] = true;
			if (try_drop(out, drop, fails, ctx, &cand, &cc)) {
				*out = cand;
				reduced = true;
			}
		}
		if (reduced)
			continue;
		/* windows of 2..8 neighbours (a PUSH with its POP ...) that no
		 * chunk boundary lines up with */
		for (int w = 2; w <= 8 && w < out->n && !reduced; w++)
			for (int k = 0; k + w <= out->n && !reduced; k++) {
				memset(drop, 0, sizeof drop);
				for (int j = k; j < k + w; j++)
					drop[j] = true;
				if (try_drop(out, drop, fails, ctx, &cand, &cc)) {
					*out = cand;
					reduced = true;
				}
			}
		if (reduced)
			continue;
		if (n >= out->n)
			break;
		n = n * 2 < out->n ? n * 2 : out->n;
	}
	seq_assemble(out, outc, exec_native_exit_addr());
}

struct pair_ctx {
	unsigned m;
};

static bool pairs_fail(const struct seq *s, const struct seq_code *c, void *ctx)
{
	static struct xresult r[XN];
	const struct pair_ctx *p = ctx;
	run_execs(s, c, r);
	return (mismatches(c, r, p->m) & p->m) != 0;
}

void shrink(const struct seq *s, const struct seq_code *c, unsigned m, struct seq *out,
	    struct seq_code *outc)
{
	struct pair_ctx p = { m };
	(void)c;
	shrink_with(s, pairs_fail, &p, out, outc);
}
