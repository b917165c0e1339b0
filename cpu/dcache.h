/*
 * dcache.h - the decoded-instruction cache.
 *
 * Decoding costs more than most instructions take to execute, so decoded
 * records are kept in blocks: a run of instructions starting at one physical
 * address, ending at an unconditional control transfer, a page end or
 * DCACHE_BLOCK_MAX instructions.  Blocks are found by physical address (so two
 * linear mappings of one page share them) and dropped when their page is
 * written (mem.c routes such writes here).
 */
#ifndef NESTLAB_DCACHE_H
#define NESTLAB_DCACHE_H

#include "cpu.h"
#include "insn.h"

#define DCACHE_BLOCK_MAX 64

/* cpu->page_code bits, per physical page: decoded code lives there (writes
 * drop it), or a debugger watches writes to it (cpu->on_watch). */
#define PAGE_CODE  1
#define PAGE_WATCH 2

struct dblock {
	uint64_t pa;                 /* physical address of the first instruction */
	uint8_t mode;                /* enum cpu_mode the block was decoded in */
	bool valid;
	uint16_t n;                  /* instructions in the block */
	struct dblock *page_next;    /* blocks starting in the same page */
	struct dblock *dead_next;    /* graveyard list, freed between blocks */
	uint64_t pa_last_page;       /* page of the last byte (an instruction may cross) */
	/* Chaining: the last two blocks that followed this one, by RIP, valid
	 * while chain_gen equals the cache's generation (see dcache_next). */
	uint64_t chain_gen;
	uint64_t succ_rip[2];
	struct dblock *succ[2];
	/* A debugger's breakpoints (cpu.h): the first instruction at a
	 * breakpoint address when the block starts at bp_rip, valid while
	 * bp_gen equals cpu->bp_gen (n: none). */
	uint64_t bp_gen, bp_rip;
	uint16_t bp_first;
	struct insn insns[];
};

int  dcache_init(struct cpu *c);
void dcache_free(struct cpu *c);
void dcache_flush(struct cpu *c);
void dcache_invalidate_page(struct cpu *c, uint64_t pa);
/* Find or build the block for the current RIP (may raise a fetch fault). */
struct dblock *dcache_lookup(struct cpu *c);
/* The same, trying first the blocks that followed `prev` before (NULL: none). */
struct dblock *dcache_next(struct cpu *c, struct dblock *prev);
/* Forget every chain: translations, CS or the mode changed, or code died. */
void dcache_chain_reset(struct cpu *c);
void dcache_reap(struct cpu *c);
bool dcache_has_dead(const struct cpu *c);
void cpu_tlb_protect_code(struct cpu *c, uint64_t pa);

#endif
