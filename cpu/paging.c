/*
 * paging.c - the page walker (see paging.h for the three paging modes).
 *
 * One loop serves all modes.  Each level takes some bits of the linear
 * address as an index into a table of entries, and the entry gives the next
 * table or, at the last level or with PS = 1, the page:
 *
 *   4-level   47   39 38   30 29   21 20   12 11      0
 *             | PML4 | PDPT  |  PD   |  PT   | offset |     8-byte entries
 *   PAE           31 30 29   21 20   12 11      0
 *                 |PDPTE| PD  |  PT   | offset |          (PDPTEs are registers)
 *   32-bit        31    22 21    12 11      0
 *                 |  PD   |  PT   | offset |             4-byte entries
 *
 *   entry:  63  62:52  51:M  M-1:12  8  7   6  5  4   3   2   1  0
 *           XD  ignored rsvd  address G PS  D  A PCD PWT U/S R/W P
 *
 * Access rights are the AND of R/W and U/S over every level and the OR of
 * XD (SDM Vol. 3 4.6).  A user-mode access (CPL 3) needs U/S = 1, and R/W =
 * 1 to write; a supervisor-mode access may read anything and may write a
 * read-only page only when CR0.WP = 0; no access may fetch from an XD page.
 * With CR4.SMEP a supervisor-mode fetch from a user page faults; with
 * CR4.SMAP so does a supervisor-mode data access to one, unless EFLAGS.AC
 * = 1 at CPL < 3 (SDM Vol. 3 4.6.1; the CPU's implicit accesses at CPL 3
 * are always checked).  No protection keys: CPUID does not claim them.
 *
 * Accessed and dirty bits (SDM Vol. 3 4.8).  The walker sets A in each
 * non-leaf entry as it goes, and A (and D, for a write) in the leaf only
 * once the access is known to be permitted: the order QEMU uses, so a guest
 * that looks at A bits after a fault sees the same thing on both.  The TLB
 * (mem.c) gives a write-enabled entry only for a page whose D bit is set,
 * so the first write to a clean page comes back here and sets D.
 */
#include <string.h>

#include "arch.h"
#include "dcache.h"
#include "mem.h"
#include "paging.h"
#include "virt.h"

#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* Reserved above MAXPHYADDR: PAE entries up to bit 62, 4-level up to 51
 * (bits 62:52 are ignored there), SDM Vol. 3 Tables 4-8 .. 4-20. */
#define RSVD_PAE    BITS(62, PG_PHYS_BITS)
#define RSVD_4LEVEL BITS(51, PG_PHYS_BITS)

struct walker {
	struct cpu *c;
	uint64_t lin;
	int acc;
	bool user, probe;
	enum pg_mode mode;
	struct pg_walk *w;
};

enum pg_mode paging_mode(const struct cpu *c)
{
	if (!(c->cr0 & CR0_PG))
		return PG_NONE;
	if (!(c->cr4 & CR4_PAE))
		return PG_32;
	return (c->efer & EFER_LMA) ? PG_4LEVEL : PG_PAE;
}

/* A paging-structure entry.  One outside RAM reads as all ones, which is
 * present with reserved bits set in PAE and 4-level entries (#PF RSVD). */
static uint64_t entry_read(const struct cpu *c, uint64_t pa, int size)
{
	uint64_t v = 0;
	if (pa >= c->ram_size || c->ram_size - pa < (uint64_t)size)
		return size == 8 ? ~0ull : 0xffffffffull;
	memcpy(&v, c->ram + pa, (size_t)size);
	return v;
}

/* Set A/D bits in an entry in RAM (a page table that also holds decoded
 * code loses its decoded blocks, as for any other write). */
static void entry_set(struct cpu *c, uint64_t pa, int size, uint64_t e, uint64_t bits)
{
	if ((e & bits) == bits || pa >= c->ram_size || c->ram_size - pa < (uint64_t)size)
		return;
	e |= bits;
	if (c->page_code[pa >> 12])
		dcache_invalidate_page(c, pa);
	memcpy(c->ram + pa, &e, (size_t)size);   /* little-endian host */
}

/* The error code of a fault on this access (SDM Vol. 3 4.7).  I/D is set
 * for a fetch only with PAE or 4-level paging and NXE or SMEP. */
static bool fault(struct walker *k, uint32_t bits)
{
	const struct cpu *c = k->c;
	bits |= k->acc == ACC_WRITE ? PFEC_W : 0;
	bits |= k->user ? PFEC_U : 0;
	if (k->acc == ACC_EXEC && (c->cr4 & CR4_PAE) &&
	    ((c->efer & EFER_NXE) || (c->cr4 & CR4_SMEP)))
		bits |= PFEC_I;
	k->w->pfec = bits;
	return false;
}

/* May an entry at this level map a page (PS = 1)? */
static bool large_ok(const struct walker *k, int shift)
{
	switch (k->mode) {
	case PG_32:     return shift == 22 && (k->c->cr4 & CR4_PSE);
	case PG_PAE:    return shift == 21;
	case PG_4LEVEL: return shift == 21 || shift == 30;   /* 1 GiB pages */
	default:        return false;
	}
}

/* Bits that must be 0 in a present entry at this level. */
static uint64_t reserved_bits(const struct walker *k, int shift, bool leaf)
{
	uint64_t r, nx = (k->c->efer & EFER_NXE) ? 0 : PTE_NX;
	switch (k->mode) {
	case PG_32:
		/* 4 MiB page with PSE-36: bits 20:13 are physical bits 39:32,
		 * bit 21 is reserved (M = 40, SDM Vol. 3 Table 4-4). */
		return leaf && shift == 22 ? 1ull << 21 : 0;
	case PG_PAE:
		r = RSVD_PAE | nx;
		break;
	default:
		r = RSVD_4LEVEL | nx;
		if (shift == 39)
			r |= PTE_PS;      /* no 512 GiB pages */
		break;
	}
	if (leaf && shift > 12)      /* large page: address bits below the page */
		r |= BITS(shift - 1, 13);
	return r;
}

/* Physical address of the linear address in the page mapped by leaf `e`. */
static uint64_t leaf_address(const struct walker *k, uint64_t e, int shift)
{
	uint64_t off = k->lin & ((1ull << shift) - 1);
	if (k->mode == PG_32) {
		if (shift == 12)
			return (e & 0xfffff000ull) | off;
		return (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32) | off;
	}
	return (e & PG_PHYS_MASK & ~((1ull << shift) - 1)) | off;
}

/* SDM Vol. 3 4.6.1: may this access use a page with the rights in w? */
static bool access_allowed(const struct walker *k)
{
	const struct pg_walk *w = k->w;
	const struct cpu *c = k->c;
	if (k->acc == ACC_EXEC)
		return !w->nx && (k->user ? w->user : !(w->user && (c->cr4 & CR4_SMEP)));
	if (k->user)
		return w->user && (k->acc != ACC_WRITE || w->write);
	if (w->user && (c->cr4 & CR4_SMAP) && !((c->rflags & FLAG_AC) && c->cpl < 3))
		return false;
	return k->acc != ACC_WRITE || w->write || !(c->cr0 & CR0_WP);
}

static void record(struct pg_walk *w, uint64_t pa, uint64_t e)
{
	if (w->levels < 4) {
		w->entry_pa[w->levels] = pa;
		w->entry[w->levels] = e;
	}
	w->levels++;
}

/* The leaf: rights, then A and D (a permitted write makes the page dirty). */
static bool finish(struct walker *k, uint64_t pa, int esize, uint64_t e, int shift)
{
	struct pg_walk *w = k->w;
	w->pa = leaf_address(k, e, shift);
	w->size = 1ull << shift;
	w->global = (e & PTE_G) && (k->c->cr4 & CR4_PGE);
	if (!access_allowed(k))
		return fault(k, PFEC_P);
	if (!k->probe) {
		uint64_t set = PTE_A | (k->acc == ACC_WRITE ? PTE_D : 0);
		entry_set(k->c, pa, esize, e, set);
		e |= set;
	}
	w->dirty = (e & PTE_D) != 0;
	return true;
}

/* The first table and the shift of its index bits, per mode; PAE starts
 * from the PDPTE register the address selects. */
static bool walk_start(struct walker *k, uint64_t *table, int *shift)
{
	struct cpu *c = k->c;
	switch (k->mode) {
	case PG_32:
		*table = c->cr3 & 0xfffff000ull;
		*shift = 22;
		return true;
	case PG_4LEVEL:
		*table = c->cr3 & PG_PHYS_MASK & ~0xfffull;
		*shift = 39;
		return true;
	default: {
		uint64_t e = c->pdpte[(k->lin >> 30) & 3];
		record(k->w, (c->cr3 & 0xffffffe0ull) + 8 * ((k->lin >> 30) & 3), e);
		if (!(e & PTE_P))
			return fault(k, 0);
		*table = e & PG_PHYS_MASK & ~0xfffull;
		*shift = 21;
		return true;
	}
	}
}

bool paging_walk(struct cpu *c, uint64_t lin, int acc, bool user, bool probe,
		 struct pg_walk *w)
{
	struct walker k = { c, lin, acc, user, probe, paging_mode(c), w };
	memset(w, 0, sizeof *w);
	w->user = w->write = true;
	int esize = k.mode == PG_32 ? 4 : 8, ibits = k.mode == PG_32 ? 10 : 9;
	uint64_t table = 0;
	int shift = 12;
	if (!walk_start(&k, &table, &shift))
		return false;
	for (;;) {
		uint64_t pa = table + ((lin >> shift) & ((1ull << ibits) - 1)) * (uint64_t)esize;
		/* In guest mode with EPT/NPT the entry's address is guest-physical:
		 * every paging-structure access goes through the second level
		 * (SDM Vol. 3 29.3.2, APM Vol. 2 15.25.5). */
		pa = virt_gpa(c, pa, VIRT_GPA_WALK | VIRT_GPA_LIN | (probe ? VIRT_GPA_PROBE : 0), lin);
		uint64_t e = entry_read(c, pa, esize);
		record(w, pa, e);
		if (!(e & PTE_P))
			return fault(&k, 0);
		bool leaf = shift == 12 || ((e & PTE_PS) && large_ok(&k, shift));
		if (e & reserved_bits(&k, shift, leaf))
			return fault(&k, PFEC_P | PFEC_RSVD);
		w->user &= (e & PTE_US) != 0;
		w->write &= (e & PTE_RW) != 0;
		w->nx |= esize == 8 && (c->efer & EFER_NXE) && (e & PTE_NX);
		if (leaf)
			return finish(&k, pa, esize, e, shift);
		if (!probe)
			entry_set(c, pa, esize, e, PTE_A);
		table = esize == 4 ? e & 0xfffff000ull : e & PG_PHYS_MASK & ~0xfffull;
		shift -= ibits;
	}
}

bool paging_load_pdptes(struct cpu *c, uint64_t cr3)
{
	/* PDPTE: bits 63:M, 8:5 and 2:1 reserved (SDM Vol. 3 Table 4-8). */
	const uint64_t rsvd = BITS(63, PG_PHYS_BITS) | BITS(8, 5) | BITS(2, 1);
	uint64_t e[4];
	uint64_t base = cr3 & 0xffffffe0ull;
	for (int n = 0; n < 4; n++) {
		uint64_t pa = virt_gpa(c, base + 8 * (uint64_t)n, VIRT_GPA_WALK, 0);
		e[n] = entry_read(c, pa, 8);
		if ((e[n] & PTE_P) && (e[n] & rsvd))
			return false;
	}
	memcpy(c->pdpte, e, sizeof e);
	return true;
}
