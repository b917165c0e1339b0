/*
 * seq.c - checking, laying out and cutting down generated sequences.
 *
 * seq_check() is the one place that decides whether a sequence is a fair
 * test: brackets (CALL/RET, ENTER/LEAVE) nest, branches go forward without
 * leaving their bracket, RSP stays inside the stack page on every path, and
 * no instruction reads an arithmetic flag that the SDM leaves undefined at
 * that point.  The flag analysis is a forward data flow over the items: each
 * point carries the flags undefined on SOME path (may) and on EVERY path
 * (must); a read of a "may" flag is rejected, and where the result is
 * compared (the end, or an instruction that may fault) may == must is
 * required, so the mask used by the comparison is exact on the path taken.
 *
 * The shrinker calls seq_drop() and then seq_check(): a candidate that
 * breaks any rule is simply not tried.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (!r->s)
		r->s = 1;
	for (int k = 0; k < 4; k++)
		rng_next(r);
}

uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rng_next(r) >> 32) % n) : 0;
}

static const char *const class_names[GC__COUNT] = {
#define X(n) #n,
	CLASS_LIST(X)
#undef X
};

const char *gclass_name(int cls)
{
	return cls >= 0 && cls < GC__COUNT ? class_names[cls] : "?";
}

/* "alu,mov", "all", "all,-popcnt" */
int gclass_parse(const char *list, uint64_t *mask)
{
	char buf[1024];
	*mask = 0;
	snprintf(buf, sizeof buf, "%s", list);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		int k;
		bool minus = t[0] == '-';
		if (strcmp(t, "all") == 0) {
			*mask = (1ull << GC__COUNT) - 1;
			continue;
		}
		t += minus;
		for (k = 0; k < GC__COUNT; k++)
			if (strcmp(t, class_names[k]) == 0)
				break;
		if (k == GC__COUNT) {
			fprintf(stderr, "unknown instruction class '%s'; known:", t);
			for (k = 0; k < GC__COUNT; k++)
				fprintf(stderr, " %s", class_names[k]);
			fprintf(stderr, "\n");
			return -1;
		}
		if (minus)
			*mask &= ~(1ull << k);
		else
			*mask |= 1ull << k;
	}
	return 0;
}

/* ---- validation -------------------------------------------------------- */

struct flow {
	bool set;
	uint16_t may, must;
	int depth;
};

static void flow_merge(struct flow *dst, const struct flow *src, bool *depth_ok)
{
	if (!dst->set) {
		*dst = *src;
		return;
	}
	if (dst->depth != src->depth)
		*depth_ok = false;
	dst->may |= src->may;
	dst->must &= src->must;
}

#define FAIL(...) do { snprintf(why, (size_t)whylen, __VA_ARGS__); return false; } while (0)

/* Brackets and branch targets. */
static bool check_structure(const struct seq *s, int *level, char *why, int whylen)
{
	int stack[SEQ_MAX_ITEMS], sp = 0;
	for (int i = 0; i < s->n; i++) {
		const struct item *it = &s->it[i];
		level[i] = sp;
		if (it->kind == IT_CALL_OPEN || it->kind == IT_ENTER_OPEN) {
			stack[sp++] = i;
		} else if (it->kind == IT_CLOSE) {
			if (sp == 0 || s->it[stack[sp - 1]].target != i)
				FAIL("item %d: close without its open", i);
			sp--;
		}
	}
	if (sp)
		FAIL("bracket opened at item %d is not closed", stack[sp - 1]);
	level[s->n] = 0;
	for (int i = 0; i < s->n; i++) {
		const struct item *it = &s->it[i];
		if (it->kind != IT_BRANCH)
			continue;
		int t = it->target;
		if (t <= i || t > s->n || level[t] != level[i])
			FAIL("item %d: branch target %d out of its bracket", i, t);
		for (int j = i + 1; j < t; j++)
			if (level[j] < level[i] || (s->it[j].kind == IT_CLOSE && level[j] == level[i]))
				FAIL("item %d: branch leaves its bracket", i);
	}
	return true;
}

static bool rsp_ok(int depth, int lo, int hi)
{
	int off = SEQ_RSP0_OFF + depth;
	return off + lo >= 16 && off + hi <= (int)SEQ_PAGE - 16;
}

/* Runs the flag/stack flow; fills per-instruction undef sets when out. */
static int flow_bad;   /* item where check_flow failed (s->n: at the end) */

static bool check_flow(const struct seq *s, char *why, int whylen, uint16_t *undef_out,
		       uint16_t *end_out)
{
	static struct flow in[SEQ_MAX_ITEMS + 1];
	static int open_depth[SEQ_MAX_ITEMS], open_idx[SEQ_MAX_ITEMS];
	int sp = 0, ninsn = 0;
	bool depth_ok = true;
	memset(in, 0, sizeof(struct flow) * (size_t)(s->n + 1));
	struct flow cur = { true, 0, 0, 0 };
	for (int i = 0; i < s->n; i++) {
		const struct item *it = &s->it[i];
		flow_merge(&in[i], &cur, &depth_ok);
		cur = in[i];
		if (!depth_ok)
			FAIL("item %d: stack depth differs between paths", i);
		if (it->kind == IT_CALL_OPEN || it->kind == IT_ENTER_OPEN)
			open_idx[sp] = i, open_depth[sp++] = cur.depth;
		for (int k = 0; k < it->n; k++) {
			const struct ginsn *g = &it->in[k];
			flow_bad = i;
			if (g->rd & cur.may)
				FAIL("item %d: reads undefined flags %#x", i, g->rd & cur.may);
			if (g->may_fault && cur.may != cur.must)
				FAIL("item %d: may fault with path-dependent flags", i);
			if (undef_out)
				undef_out[ninsn] = cur.may;
			ninsn++;
			cur.may = (uint16_t)((cur.may & ~g->def) | g->undef);
			cur.must = (uint16_t)((cur.must & ~g->def) | g->undef);
		}
		if (!rsp_ok(cur.depth, it->rsp_low, it->rsp_high))
			FAIL("item %d: RSP leaves the stack page", i);
		if (it->kind == IT_CLOSE) {
			int o = open_idx[--sp];
			if (s->it[o].kind == IT_CALL_OPEN && cur.depth != open_depth[sp] + s->it[o].sdelta)
				FAIL("item %d: RET with unbalanced stack", i);
			cur.depth = open_depth[sp] + it->sdelta;
		} else {
			cur.depth += it->sdelta;
		}
		if (!rsp_ok(cur.depth, 0, 8))
			FAIL("item %d: RSP leaves the stack page", i);
		if (it->kind == IT_BRANCH) {
			flow_merge(&in[it->target], &cur, &depth_ok);
			if (!depth_ok)
				FAIL("item %d: stack depth differs at branch target", i);
		}
	}
	flow_merge(&in[s->n], &cur, &depth_ok);
	flow_bad = s->n;
	if (!depth_ok)
		FAIL("end: stack depth differs between paths");
	if (in[s->n].may != in[s->n].must)
		FAIL("end: flags %#x undefined on some paths only", in[s->n].may ^ in[s->n].must);
	if (end_out)
		*end_out = in[s->n].may;
	return true;
}

bool seq_check(const struct seq *s, char *why, int whylen)
{
	static int level[SEQ_MAX_ITEMS + 1];
	if (s->n > SEQ_MAX_ITEMS)
		FAIL("too many items");
	if (!check_structure(s, level, why, whylen))
		return false;
	return check_flow(s, why, whylen, NULL, NULL);
}

int seq_flag_problem(const struct seq *s)
{
	char why[128];
	if (!seq_check(s, why, sizeof why))
		return strstr(why, "flag") ? flow_bad : -2;
	return -1;
}

/* ---- layout -------------------------------------------------------------- */

static uint64_t target_addr(const struct seq *s, const uint32_t *item_off, int i, int tg)
{
	const struct item *it = &s->it[i];
	int t = tg == TG_NEXT ? i + 1 : tg == TG_AFTER_CLOSE ? it->target + 1 : it->target;
	return SEQ_CODE + item_off[t];
}

bool seq_assemble(const struct seq *s, struct seq_code *c, uint64_t native_exit)
{
	static uint32_t item_off[SEQ_MAX_ITEMS + 1];
	char why[128];
	uint32_t off = 0;
	int ni = 0;

	memset(c->bytes, 0xcc, sizeof c->bytes);
	off = c->start = s->code_start;
	for (int i = 0; i < s->n; i++) {
		item_off[i] = off;
		for (int k = 0; k < s->it[i].n; k++)
			off += s->it[i].in[k].e.len;
	}
	item_off[s->n] = off;
	if (off + 16 > SEQ_CODE_SIZE)
		return false;
	off = c->start;
	for (int i = 0; i < s->n; i++) {
		for (int k = 0; k < s->it[i].n; k++) {
			const struct ginsn *g = &s->it[i].in[k];
			uint8_t *p = c->bytes + off;
			uint64_t end = SEQ_CODE + off + g->e.len;
			memcpy(p, g->e.b, g->e.len);
			int64_t v = 0;
			switch (g->e.fix) {
			case FIX_REL8:
				v = (int64_t)(target_addr(s, item_off, i, g->tgt) - end);
				if (v < -128 || v > 127)
					return false;
				p[g->e.fix_off] = (uint8_t)v;
				break;
			case FIX_REL32:
			case FIX_ABS32:
			case FIX_RIPDATA:
				if (g->e.fix == FIX_REL32)
					v = (int64_t)(target_addr(s, item_off, i, g->tgt) - end);
				else if (g->e.fix == FIX_ABS32)
					v = (int64_t)target_addr(s, item_off, i, g->tgt);
				else
					v = (int64_t)(SEQ_DATA + (uint64_t)(int64_t)g->rip_off - end);
				for (int b = 0; b < 4; b++)
					p[g->e.fix_off + b] = (uint8_t)((uint64_t)v >> (8 * b));
				break;
			default:
				break;
			}
			c->insn_off[ni] = off;
			c->insn_item[ni] = (int16_t)i;
			ni++;
			off += g->e.len;
		}
	}
	c->ninsn = ni;
	c->len = off;
	/* Epilogue for the native executor: jmp [rip+0]; dq native_exit. */
	static const uint8_t jmp_ind[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	memcpy(c->bytes + off, jmp_ind, 6);
	for (int b = 0; b < 8; b++)
		c->bytes[off + 6 + b] = (uint8_t)(native_exit >> (8 * b));
	c->total = off + 14;
	return check_flow(s, why, sizeof why, c->insn_undef, &c->end_undef);
}

uint16_t seq_undef_at(const struct seq_code *c, uint64_t rip)
{
	if (rip == SEQ_CODE + c->len)
		return c->end_undef;
	for (int k = 0; k < c->ninsn; k++)
		if (SEQ_CODE + c->insn_off[k] == rip)
			return c->insn_undef[k];
	return FL_ALL;    /* not an instruction start: the RIP comparison fails anyway */
}

int seq_class_at(const struct seq *s, const struct seq_code *c, uint64_t rip)
{
	int n = 0;
	for (int i = 0; i < s->n; i++)
		for (int k = 0; k < s->it[i].n; k++, n++)
			if (SEQ_CODE + c->insn_off[n] == rip)
				return s->it[i].in[k].cls;
	return -1;
}

void seq_drop(const struct seq *s, const bool *drop, struct seq *out)
{
	static int map[SEQ_MAX_ITEMS + 1];
	int n = 0;
	for (int i = 0; i <= s->n; i++) {
		map[i] = n;
		if (i < s->n && !drop[i])
			n++;
	}
	out->init = s->init;
	out->base_reg = s->base_reg;
	out->code_start = s->code_start;
	out->index_reg = s->index_reg;
	out->n = 0;
	for (int i = 0; i < s->n; i++) {
		if (drop[i])
			continue;
		struct item *it = &out->it[out->n++];
		*it = s->it[i];
		if (it->kind != IT_PLAIN)
			it->target = map[it->target];
	}
}
