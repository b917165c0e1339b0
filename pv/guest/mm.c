/* mm.c - the guest kernel's memory: a page allocator and 4-level page tables
 * (Intel SDM Vol. 3A 5.5), written once for both modes.
 *
 * The kernel sees its memory at virtual = pseudo-physical address (pfn_va).
 * Entries hold *machine* frame numbers: natively the same as pfns, under PV
 * first_mfn + pfn (ops->pfn_to_mfn; Xen's p2m).  Reading a table is a plain
 * load through the identity map; writing one is ops->pt_set, a store
 * natively and an mmu_update hypercall under PV.  A new table is zeroed while
 * still an ordinary page, then handed to ops->pt_prepare (PV: map it
 * read-only, pin it) before anything is written into it.
 *
 * Kernel address space (one table, kernel_l4):
 *   pages 1 .. nr_pages-1 at virtual = pseudo-physical (page 0 unmapped)
 *   natively also the local APIC page at 0xfee00000
 * Natively this kernel builds those tables itself; under PV nesthv built
 * them (start info pt_base) and the kernel adopts them.
 */
#include "guest.h"

static uint64_t next_free, nr_pages, kernel_l4;

uint64_t mm_kernel_l4(void) { return kernel_l4; }

uint64_t mm_alloc_page(void)
{
    if (next_free >= nr_pages)
        panic("out of memory (%lu pages)", nr_pages);
    uint64_t pfn = next_free++;
    memset(pfn_va(pfn), 0, PAGE_SIZE);
    return pfn;
}

uint64_t mm_pt_alloc(int level)
{
    uint64_t pfn = mm_alloc_page();
    ops->pt_prepare(pfn, level);
    return pfn;
}

static inline uint64_t make_pte(uint64_t pfn, uint64_t flags)
{
    return (ops->pfn_to_mfn(pfn) << 12) | flags;
}

/* The L1 table covering va, creating missing levels if 'create'; 0 if none. */
static uint64_t walk_to_l1(uint64_t l4, uint64_t va, bool create)
{
    uint64_t table = l4;
    for (int level = 4; level > 1; level--) {
        unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
        uint64_t e = ((volatile uint64_t *)pfn_va(table))[idx];
        if (!(e & PTE_P)) {
            if (!create)
                return 0;
            uint64_t child = mm_pt_alloc(level - 1);
            ops->pt_set(table, idx, make_pte(child, PTE_P | PTE_RW | PTE_US));
            e = ((volatile uint64_t *)pfn_va(table))[idx];
        }
        table = pte_pfn(e);
    }
    return table;
}

void mm_map(uint64_t l4, uint64_t va, uint64_t pfn, uint64_t flags)
{
    uint64_t l1 = walk_to_l1(l4, va, true);
    ops->pt_set(l1, (va >> 12) & 511, make_pte(pfn, flags));
}

/* The leaf entry for va, or 0. */
uint64_t mm_lookup(uint64_t l4, uint64_t va)
{
    uint64_t l1 = walk_to_l1(l4, va, false);
    return l1 ? ((volatile uint64_t *)pfn_va(l1))[(va >> 12) & 511] : 0;
}

void mm_init(const struct mm_info *mi)
{
    nr_pages = mi->nr_pages;
    next_free = mi->first_free_pfn;
    if (mi->kernel_l4) {                 /* PV: nesthv built them */
        kernel_l4 = mi->kernel_l4;
        return;
    }
    kernel_l4 = mm_pt_alloc(4);
    for (uint64_t pfn = 1; pfn < nr_pages; pfn++)
        mm_map(kernel_l4, pfn << 12, pfn, PTE_P | PTE_RW);
    ops->load_kernel_pt(kernel_l4);
}
