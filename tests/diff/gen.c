/*
 * gen.c - the generator core: initial state, the loop that strings items
 * together, brackets and branch targets, and the flag fix-up (see gen.h
 * for the model, gen_ops.c for operands, gen_alu.c gen_data.c gen_bits.c
 * gen_ctl.c for the instruction classes).
 *
 * Register roles for one sequence:
 *   RSP   points into the stack page; only stack instructions move it, and
 *         the generator tracks its offset exactly
 *   B     (one of RBX RBP R8-R15) = data page + boff; base of memory operands
 *   X     (another of them) = a small known value; index of memory operands
 * B, X and RSP are read freely but never written.  Every other register is
 * free.  RAX RCX RDX RSI RDI are never B or X, so instructions that write
 * them implicitly (MUL, string ops, LOOP, CMPXCHG ...) need no care.
 *
 * After the items are drawn, fix_flags() inserts a CMP (which defines all
 * six arithmetic flags) in front of any instruction that would read a flag
 * left undefined earlier, so that no sequence depends on undefined values.
 */
#include <stdio.h>

#include "gen_int.h"

/* ---- the sequence ------------------------------------------------------- */

static const gen_fn class_gen[GC__COUNT] = {
	[GC_mov] = gen_mov, [GC_alu] = gen_alu, [GC_unary] = gen_unary,
	[GC_shift] = gen_shift, [GC_rotate] = gen_rotate, [GC_shd] = gen_shd,
	[GC_mul] = gen_mul, [GC_div] = gen_div, [GC_bt] = gen_bt,
	[GC_bscan] = gen_bscan, [GC_popcnt] = gen_popcnt, [GC_lzcnt] = gen_lzcnt,
	[GC_cmov] = gen_cmov, [GC_setcc] = gen_setcc, [GC_jcc] = gen_jcc,
	[GC_loop] = gen_loop, [GC_string] = gen_string, [GC_stack] = gen_stack,
	[GC_pushf] = gen_pushf, [GC_xchg] = gen_xchg, [GC_cmpxchg] = gen_cmpxchg,
	[GC_cx8] = gen_cx8, [GC_xadd] = gen_xadd, [GC_conv] = gen_conv,
	[GC_bswap] = gen_bswap, [GC_movx] = gen_movx, [GC_lea] = gen_lea,
	[GC_lahf] = gen_lahf, [GC_flagop] = gen_flagop, [GC_nop] = gen_nop,
	[GC_badlock] = gen_badlock, [GC_priv] = gen_priv,
	[GC_ssfault] = gen_ssfault, [GC_invalid] = gen_invalid,
	[GC_sse] = gen_sse,
};

static void init_state(struct gen *g)
{
	static const int bx[10] = { 3, 5, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct seq_state *st = &g->s->init;
	g->B = bx[gr(g, 10)];
	do
		g->X = bx[gr(g, 10)];
	while (g->X == g->B);
	g->boff = 0x300 + (int32_t)gr(g, 0xa00);
	g->xval = 1 + (int)gr(g, 15);
	g->prot = 1u << 4 | 1u << g->B | 1u << g->X;
	g->s->base_reg = g->B;
	g->s->code_start = gchance(g, 2) ? 0 : 0x1000 - 1 - gr(g, 24);
	g->s->index_reg = g->X;
	for (int r = 0; r < 16; r++)
		st->gpr[r] = gen_value(g, 8);
	st->gpr[4] = SEQ_STACK + SEQ_RSP0_OFF;
	st->gpr[g->B] = SEQ_DATA + (uint64_t)g->boff;
	st->gpr[g->X] = (uint64_t)g->xval;
	st->rflags = 0x202 | (rng_next(&g->r) & FL_ALL);
	if (gchance(g, 4))
		st->rflags |= FL_DF;
	gen_fpu_state(g, &st->fpu);
	bool zeros = gchance(g, 8);
	for (unsigned k = 0; k < SEQ_PAGE; k += 8) {
		uint64_t a = zeros ? 0 : rng_next(&g->r), b = rng_next(&g->r);
		memcpy(st->data + k, &a, 8);
		memcpy(st->stack + k, &b, 8);
	}
}

static bool item_classes_ok(struct gen *g, const struct item *it)
{
	for (int k = 0; k < it->n; k++)
		if (!(g->o->classes & (1ull << it->in[k].cls)))
			return false;
	return true;
}

/* One more unit done at `level`: branches waiting for it get their target. */
static void unit_done(struct gen *g, int level)
{
	for (int k = 0; k < g->npend; k++) {
		if (g->pend[k].level != level || --g->pend[k].left > 0)
			continue;
		g->s->it[g->pend[k].item].target = g->s->n;
		g->pend[k--] = g->pend[--g->npend];
	}
}

static void resolve_level(struct gen *g, int level)
{
	for (int k = 0; k < g->npend; k++) {
		if (g->pend[k].level < level)
			continue;
		g->s->it[g->pend[k].item].target = g->s->n;
		g->pend[k--] = g->pend[--g->npend];
	}
}

static struct item *new_item(struct gen *g)
{
	struct item *it = &g->s->it[g->s->n];
	memset(it, 0, sizeof *it);
	return it;
}

static void gen_items(struct gen *g, int count, int level);

/* CALL ... RET or ENTER ... LEAVE with a body of random items. */
static void gen_bracket(struct gen *g, int cls, int level)
{
	struct item *it = new_item(g);
	int depth0 = g->depth, floor0 = g->floor;
	uint32_t prot0 = g->prot;
	bool ok = cls == GC_call ? gen_call_open(g, it) : gen_enter_open(g, it);
	if (!ok || !item_classes_ok(g, it))
		return;
	int open = g->s->n++;
	g->depth += it->sdelta;
	g->floor = g->depth;
	g->nbr++;
	if (cls == GC_enter) {
		g->prot |= 1u << 5;      /* RBP is the frame pointer inside */
		g->in_enter = true;
	}
	gen_items(g, 1 + (int)gr(g, 5), level + 1);
	resolve_level(g, level + 1);
	if (cls == GC_call) {
		/* the body must give back what it pushed before RET */
		while (g->depth < depth0 + it->sdelta) {
			struct item *p = new_item(g);
			int need = depth0 + it->sdelta - g->depth;
			struct enc_req r;
			enc_init(&r);
			if (need % 8)
				add_pfx(&r, 0x66);
			r.opc[0] = 0x58;
			r.nopc = 1;
			r.oreg = pick_wreg(g);
			p->cls = GC_stack;
			p->sdelta = need % 8 ? 2 : 8;
			p->rsp_high = p->sdelta;
			if (!emit(p, &r, GC_stack, 0, 0, 0))
				continue;
			g->s->n++;
			g->depth += p->sdelta;
		}
	}
	struct item *cl = new_item(g);
	g->floor = floor0;
	gen_close(g, cl, &g->s->it[open]);
	g->s->it[open].target = g->s->n;
	g->s->n++;
	g->depth = depth0 + cl->sdelta;
	g->nbr--;
	g->prot = prot0;
	if (cls == GC_enter)
		g->in_enter = false;
	unit_done(g, level);
}

/* Forms Unicorn 2.0.1 gets wrong are left out of sequences it runs (the
 * host CPU still checks them in --oracle native runs):
 *   POPCNT   #UD with every CPU model uc_ctl_set_cpu_model offers (all 38
 *            tried), although LZCNT/TZCNT work with the same models
 *   CMPXCHG8B/16B  leave OF SF AF PF CF (which the SDM says are unaffected)
 *            computed from stale lazy-flag state, sometimes with TF/IOPL/NT
 *            bits set in RFLAGS
 *   LOOPE/LOOPNE  leave RFLAGS garbage (e.g. 0xffffffe2 after CMP; LOOPE/
 *            LOOPNE do not change flags): only LOOP and JrCXZ for Unicorn
 *   SHLD/SHRD imm8 with a RIP-relative operand: the address is off (the
 *            immediate is not counted in the RIP offset): not generated
 *   LOCK NEG wrong SF/PF/CF: NEG on memory without LOCK only
 *   LOCK misuse (class badlock) executes instead of raising #UD
 *   TEST F6/F7 /1 (the alias of /0) raises #UD
 *   a REX followed by a legacy prefix is applied instead of ignored
 *   privileged instructions, non-canonical addresses (classes priv and
 *            ssfault): Unicorn runs at CPL 0 and reports unmapped memory */
static bool class_allowed(struct gen *g, int c)
{
	if (!(g->o->classes & (1ull << c)))
		return false;
	if (g->o->for_unicorn &&
	    (c == GC_popcnt || c == GC_cx8 || c == GC_badlock || c == GC_priv ||
	     c == GC_ssfault))
		return false;
	if ((c == GC_badlock || c == GC_priv || c == GC_ssfault || c == GC_invalid) &&
	    !gchance(g, 24))
		return false;            /* every fault ends a run: keep them rare */
	return true;
}

static int pick_class(struct gen *g)
{
	for (;;) {
		int c = (int)gr(g, GC__COUNT);
		if (class_allowed(g, c))
			return c;
	}
}

static void gen_items(struct gen *g, int count, int level)
{
	for (int u = 0, tries = 0; u < count && tries < count * 50; tries++) {
		if (g->s->n >= SEQ_MAX_ITEMS - 40)
			return;
		int c = pick_class(g);
		if (c == GC_call || c == GC_enter) {
			if (level >= 3)
				continue;
			gen_bracket(g, c, level);
			u++;
			continue;
		}
		struct item *it = new_item(g);
		it->cls = (uint8_t)c;
		uint32_t prot0 = g->prot;
		bool ok = class_gen[c](g, it);
		g->prot = prot0;            /* temporary base registers are free again */
		if (!ok || !item_classes_ok(g, it))
			continue;
		/* inside a forward branch's skip, RSP must not move (both paths
		 * must reach the target with the same stack) */
		if (it->sdelta != 0 && g->npend > 0)
			continue;
		if (it->kind == IT_BRANCH) {
			if (g->npend == MAX_PENDING)
				continue;
			g->pend[g->npend].item = g->s->n;
			g->pend[g->npend].level = level;
			g->pend[g->npend].left = 1 + (int)gr(g, it->in[0].e.fix == FIX_REL8 ? 3 : 6);
			g->npend++;
		}
		g->s->n++;
		g->depth += it->sdelta;
		unit_done(g, level);
		u++;
	}
}

/* Insert a flag-defining CMP where an undefined flag would be read. */
static bool fix_flags(struct gen *g)
{
	struct seq *s = g->s;
	g->no_temp = true;         /* a MOV to a temporary could land anywhere */
	for (int iter = 0; iter < 400; iter++) {
		int bad = seq_flag_problem(s);
		if (bad == -1)
			return true;
		if (bad < 0 || s->n >= SEQ_MAX_ITEMS)
			return false;
		struct item def;
		memset(&def, 0, sizeof def);
		def.cls = GC_alu;
		if (!gen_definer(g, &def))
			continue;
		for (int i = 0; i < s->n; i++) {
			struct item *it = &s->it[i];
			if (it->kind == IT_BRANCH ? it->target > bad :
			    it->kind != IT_PLAIN && it->target >= bad)
				it->target++;
		}
		memmove(&s->it[bad + 1], &s->it[bad], sizeof(struct item) * (size_t)(s->n - bad));
		s->it[bad] = def;
		s->n++;
	}
	return false;
}

void gen_sequence(struct seq *s, uint64_t seed, const struct gen_opts *o)
{
	static struct seq_code code;
	struct gen g;
	memset(&g, 0, sizeof g);
	rng_seed(&g.r, seed);
	for (;;) {
		g.s = s;
		g.o = o;
		g.depth = 0;
		g.floor = 0x700;
		g.nbr = 0;
		g.npend = 0;
		g.in_enter = false;
		g.no_temp = false;
		s->n = 0;
		init_state(&g);
		gen_items(&g, o->len, 0);
		resolve_level(&g, 0);
		char why[128];
		if (fix_flags(&g) && seq_check(s, why, sizeof why) && seq_assemble(s, &code, 0))
			return;
	}
}
