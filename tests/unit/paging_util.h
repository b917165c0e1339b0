/*
 * paging_util.h - page tables for the paging, CR and MSR suites
 * (test_paging.c, test_cr.c, test_msr.c).
 *
 * Tables are allocated upward from PU_TABLES in the unit-test RAM; every
 * helper writes guest memory through cpu_phys_write, as a kernel would,
 * and none touches the TLB: a test that changes an entry after the CPU has
 * used it must flush (MOV CR3, INVLPG) exactly as a kernel must.
 *
 *   pu_tables4(c)          those tables alone (CR3 set, paging not enabled)
 *   pu_long_mode(c, nxe)   4-level paging on, CPL 0, 64-bit code, and the
 *                          first 4 MiB identity-mapped with 4 KiB pages,
 *                          user-accessible and writable
 *   pu_slot4(c, lin, shift) address of the entry that maps lin at the level
 *                          whose index starts at bit `shift` (39 PML4E,
 *                          30 PDPTE, 21 PDE, 12 PTE), making tables on the way
 */
#ifndef NESTLAB_PAGING_UTIL_H
#define NESTLAB_PAGING_UTIL_H

#include "arch.h"
#include "mem.h"
#include "snippet.h"

#define PU_TABLES 0x340000ull
#define PU_UP (PTE_P | PTE_RW | PTE_US)     /* flags of the tables' entries */

static uint64_t pu_next;

static inline uint64_t pu_alloc(struct cpu *c)
{
	static const uint8_t zero[4096];
	uint64_t t = pu_next;
	pu_next += 4096;
	cpu_phys_write(c, t, zero, sizeof zero);
	return t;
}

/* The 4-level entry for lin at level `shift`, creating missing tables. */
static inline uint64_t pu_slot4(struct cpu *c, uint64_t lin, int shift)
{
	uint64_t table = c->cr3 & ~0xfffull;
	for (int s = 39; ; s -= 9) {
		uint64_t slot = table + ((lin >> s) & 0x1ff) * 8;
		if (s == shift)
			return slot;
		uint64_t e = sn_peek(c, slot, 8);
		if (!(e & PTE_P)) {
			e = pu_alloc(c) | PU_UP;
			sn_poke(c, slot, 8, e);
		}
		table = e & 0xffffffffff000ull;
	}
}

static inline void pu_map4(struct cpu *c, uint64_t lin, uint64_t pa, uint64_t flags)
{
	sn_poke(c, pu_slot4(c, lin, 12), 8, pa | flags);
}

/* 4-level tables mapping the unit-test RAM 1:1 (user, writable); sets CR3
 * (nothing else) and returns it. */
static inline uint64_t pu_tables4(struct cpu *c)
{
	pu_next = PU_TABLES;
	c->cr3 = pu_alloc(c);
	for (uint64_t a = 0; a < UT_RAM; a += 4096)
		pu_map4(c, a, a, PU_UP);
	return c->cr3;
}

/* 64-bit mode at CPL 0 with 4-level paging and WP; NXE if asked. */
static inline void pu_long_mode(struct cpu *c, bool nxe)
{
	pu_tables4(c);
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0);
	c->cr0 = CR0_PE | CR0_PG | CR0_WP | CR0_ET;
	c->cpl = 0;
	cpu_tlb_flush(c);
}

/* The #PF a run stopped with: vector, error code, CR2. */
#define PU_ASSERT_PF(c, why, err, addr)                         \
	do {                                                    \
		CU_ASSERT_EQUAL((why), CPU_STOP_EXCEPTION);     \
		CU_ASSERT_EQUAL((c)->exc_vector, VEC_PF);       \
		CU_ASSERT_EQUAL((c)->exc_error, (err));         \
		CU_ASSERT_EQUAL((c)->cr2, (addr));              \
	} while (0)

#define PU_ASSERT_EXC(c, why, vec)                              \
	do {                                                    \
		CU_ASSERT_EQUAL((why), CPU_STOP_EXCEPTION);     \
		CU_ASSERT_EQUAL((c)->exc_vector, (vec));        \
	} while (0)

#endif
