/*
 * paging.h - the page walker: linear address -> physical address through
 * the paging structures, with the access-rights and reserved-bit checks
 * (SDM Vol. 3 Chapter 4; AMD APM Vol. 2 Chapter 5).
 *
 * mem.c calls paging_walk() on a TLB miss and turns a failed walk into a
 * #PF (CR2 = the linear address, error code = w.pfec).  The same walker,
 * with `probe` set, answers "what does this address map to?" for debuggers
 * and the UI without touching A/D bits or raising anything.
 *
 *   CR0.PG CR4.PAE EFER.LMA   paging mode     levels         page sizes
 *     0       -       -        none           -              (linear = physical)
 *     1       0       0        32-bit         PD, PT         4K, 4M (CR4.PSE)
 *     1       1       0        PAE            PDPTE, PD, PT  4K, 2M
 *     1       1       1        4-level        PML4 .. PT     4K, 2M, 1G
 */
#ifndef NESTLAB_PAGING_H
#define NESTLAB_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

/* MAXPHYADDR: CPUID 80000008h reports 40 physical address bits. */
#define PG_PHYS_BITS 40
#define PG_PHYS_MASK ((1ull << PG_PHYS_BITS) - 1)

enum pg_mode { PG_NONE, PG_32, PG_PAE, PG_4LEVEL };

/* The outcome of one walk. */
struct pg_walk {
	uint64_t pa;           /* physical address of the linear address */
	uint64_t size;         /* page size in bytes: 4K, 2M, 4M or 1G */
	bool user;             /* U/S = 1 at every level: user-accessible */
	bool write;            /* R/W = 1 at every level */
	bool nx;               /* XD = 1 at some level (only with EFER.NXE) */
	bool global;           /* G = 1 in the leaf and CR4.PGE = 1 */
	bool dirty;            /* the leaf's D bit (after this walk set it) */
	uint32_t pfec;         /* on failure: the #PF error code */
	int levels;            /* entries read, for the UI */
	uint64_t entry_pa[4];  /* where each entry was, top level first */
	uint64_t entry[4];     /* and what it held */
};

enum pg_mode paging_mode(const struct cpu *c);

/*
 * Translate `lin` for access `acc` (enum mem_access) as a user-mode access
 * when `user` (CPL 3 and not an implicit supervisor access).  Returns true
 * with w->pa on success; false with w->pfec on a page fault.  Unless
 * `probe`, sets accessed bits and, for a permitted write, the dirty bit.
 * Paging must be on (CR0.PG = 1).
 */
bool paging_walk(struct cpu *c, uint64_t lin, int acc, bool user, bool probe,
		 struct pg_walk *w);

/* PAE paging: load the four PDPTE registers from the table at `cr3`
 * (SDM Vol. 3 4.4.1).  Returns false, loading nothing, if a present entry
 * has a reserved bit set (the MOV to CR0/CR3/CR4 then raises #GP(0)).
 * cr.c calls it; code that sets CR0/CR3/CR4 into PAE paging directly
 * (tests, later a VM entry) must call it too, or walks see old PDPTEs. */
bool paging_load_pdptes(struct cpu *c, uint64_t cr3);

#endif
