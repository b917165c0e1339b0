/*
 * dcache.c - building, finding and dropping decoded blocks (see dcache.h).
 *
 * Lookup is two steps: the instruction-fetch TLB entry gives the physical
 * address of RIP; a direct-mapped table keyed by that address usually holds
 * the block.  On a miss the page's list of blocks is searched, and only then
 * is a new block decoded.  An instruction that crosses a page boundary is
 * never cached: it is decoded afresh into a one-instruction scratch block each
 * time, so no block ever depends on two pages.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dcache.h"
#include "fast.h"
#include "mem.h"

#define DC_HASH 16384
#define DC_MAX_BLOCKS 200000

struct dcache {
	struct dblock *hash[DC_HASH];
	struct dblock **pages;        /* per physical page: list of blocks */
	struct dblock *dead;          /* invalidated, freed between blocks */
	struct dblock *cross;         /* scratch block for a page-crossing insn */
	uint64_t nblocks;
	uint64_t gen;                 /* chain generation (dcache_next) */
	struct insn scratch[DCACHE_BLOCK_MAX];
};

/* The handler and flag tables, generated from the opcode list. */
#define OP(name, map, byte, ext, pfx, flags) \
	void op_##name(struct cpu *c, const struct insn *i);
#include "opcodes.def"
#undef OP
static const insn_handler_fn op_handlers[OP__COUNT] = {
#define OP(name, map, byte, ext, pfx, flags) [OP_##name] = op_##name,
#include "opcodes.def"
#undef OP
};
static const uint32_t op_flags[OP__COUNT] = {
#define OP(name, map, byte, ext, pfx, flags) [OP_##name] = (flags),
#include "opcodes.def"
#undef OP
};

insn_handler_fn dcache_handler(unsigned op)
{
	return op < OP__COUNT ? op_handlers[op] : op_handlers[OP_ud];
}

/* Turn a decoded record into an executable one: its handler, and RIP-relative
 * addressing as base register EA_RIP (RIP already points past the
 * instruction when a handler runs, which is what RIP-relative adds). */
static void dcache_prepare(struct insn *i)
{
	if (i->flags & I_RIPREL) {
		i->base = EA_RIP;
		i->flags &= (uint8_t)~I_RIPREL;
	}
	i->handler = dcache_handler(i->op);
	insn_handler_fn fast = fast_handler(i);
	if (fast)
		i->handler = fast;
}

static unsigned dc_hash(uint64_t pa)
{
	return (unsigned)((pa ^ (pa >> 14)) & (DC_HASH - 1));
}

int dcache_init(struct cpu *c)
{
	struct dcache *dc = calloc(1, sizeof *dc);
	if (!dc)
		return -1;
	dc->pages = calloc(c->ram_size >> 12, sizeof *dc->pages);
	dc->cross = malloc(sizeof(struct dblock) + sizeof(struct insn));
	if (!dc->pages || !dc->cross) {
		free(dc->pages);
		free(dc->cross);
		free(dc);
		return -1;
	}
	c->dcache = dc;
	return 0;
}

void dcache_chain_reset(struct cpu *c)
{
	if (c->dcache)
		c->dcache->gen++;
}

static void kill_block(struct dcache *dc, struct dblock *b)
{
	dc->gen++;                    /* chains may point at it */
	unsigned h = dc_hash(b->pa);
	if (dc->hash[h] == b)
		dc->hash[h] = NULL;
	b->valid = false;
	b->dead_next = dc->dead;
	dc->dead = b;
	dc->nblocks--;
}

void dcache_invalidate_page(struct cpu *c, uint64_t pa)
{
	struct dcache *dc = c->dcache;
	uint64_t ppn = pa >> 12;
	struct dblock *b = dc->pages[ppn];
	while (b) {
		struct dblock *next = b->page_next;
		kill_block(dc, b);
		b = next;
	}
	dc->pages[ppn] = NULL;
	if (unlikely(c->page_code[ppn] & PAGE_WATCH) && c->on_watch)
		c->on_watch(c, pa);
	c->page_code[ppn] &= PAGE_WATCH;
	c->block_break = true;        /* the running block may be one of them */
}

void dcache_flush(struct cpu *c)
{
	for (uint64_t p = 0; p < (c->ram_size >> 12); p++)
		if (c->dcache->pages[p])
			dcache_invalidate_page(c, p << 12);
}

bool dcache_has_dead(const struct cpu *c)
{
	return c->dcache->dead != NULL;
}

void dcache_reap(struct cpu *c)
{
	struct dcache *dc = c->dcache;
	while (dc->dead) {
		struct dblock *b = dc->dead;
		dc->dead = b->dead_next;
		free(b);
	}
}

void dcache_free(struct cpu *c)
{
	if (!c->dcache)
		return;
	dcache_flush(c);
	dcache_reap(c);
	free(c->dcache->pages);
	free(c->dcache->cross);
	free(c->dcache);
	c->dcache = NULL;
}

/* Decode the instruction that crosses from this page into the next one. */
static struct dblock *build_cross(struct cpu *c, uint64_t lin, uint64_t pa, int avail)
{
	struct dcache *dc = c->dcache;
	uint8_t buf[15];
	memcpy(buf, c->ram + pa, (size_t)avail);
	uint64_t lin2 = lin + (uint64_t)avail;
	if (c->mode != CPU_MODE64)
		lin2 = (uint32_t)lin2;
	uint8_t *p2 = mem_translate(c, lin2, ACC_EXEC, NULL);
	if (!p2) {
		snprintf(c->error, sizeof c->error,
			 "instruction fetch outside RAM at linear %#llx",
			 (unsigned long long)lin2);
		cpu_exception_noerr(c, -1);
	}
	memcpy(buf + avail, p2, (size_t)(15 - avail));
	struct insn *i = &dc->cross->insns[0];
	insn_decode(buf, 15, c->mode, i);
	dcache_prepare(i);
	dc->cross->pa = pa;
	dc->cross->mode = (uint8_t)c->mode;
	dc->cross->n = 1;
	dc->cross->valid = false;     /* never in the tables */
	dc->cross->chain_gen = dc->gen - 1;
	dc->cross->succ[0] = dc->cross->succ[1] = NULL;
	return dc->cross;
}

static struct dblock *build(struct cpu *c, uint64_t lin, uint64_t pa)
{
	struct dcache *dc = c->dcache;
	uint64_t page_end = (pa | 0xfff) + 1;
	if (page_end > c->ram_size)
		page_end = c->ram_size;
	uint64_t at = pa;
	int n = 0;
	while (n < DCACHE_BLOCK_MAX && at < page_end) {
		int avail = (int)(page_end - at < 15 ? page_end - at : 15);
		struct insn *i = &dc->scratch[n];
		int len = insn_decode(c->ram + at, avail, c->mode, i);
		if (len == 0) {
			if (n == 0)
				return build_cross(c, lin, pa, avail);
			break;
		}
		dcache_prepare(i);
		n++;
		at += (uint64_t)len;
		if (op_flags[i->op] & F_END)
			break;
	}
	if (dc->nblocks >= DC_MAX_BLOCKS)
		dcache_flush(c);
	struct dblock *b = malloc(sizeof *b + (size_t)n * sizeof(struct insn));
	if (!b) {
		snprintf(c->error, sizeof c->error, "out of host memory for decoded blocks");
		cpu_exception_noerr(c, -1);
	}
	b->pa = pa;
	b->mode = (uint8_t)c->mode;
	b->valid = true;
	b->n = (uint16_t)n;
	b->pa_last_page = pa & ~0xfffull;
	b->chain_gen = dc->gen - 1;   /* no chains yet */
	b->bp_gen = 0;                /* breakpoints not looked at yet */
	memcpy(b->insns, dc->scratch, (size_t)n * sizeof(struct insn));
	uint64_t ppn = pa >> 12;
	b->page_next = dc->pages[ppn];
	dc->pages[ppn] = b;
	dc->hash[dc_hash(pa)] = b;
	dc->nblocks++;
	if (!(c->page_code[ppn] & PAGE_CODE)) {
		c->page_code[ppn] |= PAGE_CODE;
		cpu_tlb_protect_code(c, pa);
	}
	return b;
}

struct dblock *dcache_lookup(struct cpu *c)
{
	struct dcache *dc = c->dcache;
	uint64_t lin = cpu_linear(c, SEG_CS, c->rip);
	uint64_t pa;
	if (likely(mem_itlb_hit(c, lin, &pa))) {
		/* the fetch TLB of the current privilege had it */
	} else if (!mem_translate(c, lin, ACC_EXEC, &pa)) {
		snprintf(c->error, sizeof c->error,
			 "instruction fetch outside RAM at linear %#llx (physical %#llx)",
			 (unsigned long long)lin, (unsigned long long)pa);
		cpu_exception_noerr(c, -1);
	}
	struct dblock *b = dc->hash[dc_hash(pa)];
	if (likely(b && b->pa == pa && b->mode == c->mode))
		return b;
	for (b = dc->pages[pa >> 12]; b; b = b->page_next) {
		if (b->pa == pa && b->mode == c->mode) {
			dc->hash[dc_hash(pa)] = b;
			return b;
		}
	}
	return build(c, lin, pa);
}

/*
 * Block chaining.  Most blocks end in a branch that goes to one or two places,
 * so each block remembers the last two blocks that followed it, keyed by
 * RIP.  A chain is only a shortcut for dcache_lookup(): it is trusted while
 * nothing that lookup depends on has changed, which the generation counter
 * tracks (every block death, TLB flush and mode change bumps it), and only
 * at the privilege it was made at (the fetch TLB bank, mem_bank(): user code
 * must not follow a chain into a supervisor-only page).
 */
struct dblock *dcache_next(struct cpu *c, struct dblock *prev)
{
	struct dcache *dc = c->dcache;
	uint64_t key = (dc->gen << 1) | mem_bank(c);
	if (prev && prev->chain_gen == key) {
		if (prev->succ_rip[0] == c->rip && prev->succ[0])
			return prev->succ[0];
		if (prev->succ_rip[1] == c->rip && prev->succ[1])
			return prev->succ[1];
	}
	struct dblock *b = dcache_lookup(c);
	if (prev && prev->valid && b->valid) {
		if (prev->chain_gen != key) {
			prev->succ[0] = prev->succ[1] = NULL;
			prev->chain_gen = key;
		}
		int slot = prev->succ[0] ? 1 : 0;
		if (slot == 1 && prev->succ[1]) {          /* keep the newest two */
			prev->succ[0] = prev->succ[1];
			prev->succ_rip[0] = prev->succ_rip[1];
		}
		prev->succ[slot] = b;
		prev->succ_rip[slot] = c->rip;
	}
	return b;
}
