/* ptcheck.c - the guest checks what a CPU's TLB and page walker promise it.
 *
 * Booted with "ptcheck" on its command line (its Multiboot module line), the
 * guest in native mode runs these checks before its tasks, on a page it
 * maps at PTCHECK_VA in its own kernel page table:
 *
 *   accessed   a read sets the PTE's A bit, a write its D bit, and only a
 *              write sets D (SDM Vol. 3A 4.8, APM Vol. 2 5.4.2)
 *   INVLPG     after the PTE is pointed at another page, INVLPG makes the
 *              new page visible (SDM 3A 4.10.4.1)
 *   CR3        the same, with a CR3 reload instead (4.10.4.1)
 *   A again    a cleared A bit is set again by the next access after INVLPG
 *
 * On real hardware these hold by construction; under nesthv's shadow
 * paging (npt=0 / ept=0, hypervisor/shadow.c) each is something nesthv
 * must do by hand, so the line the guest prints is the same on every
 * machine only if it does.  Under PV the guest does not own its page
 * tables' A/D bits the same way: the check runs in native mode only.
 */
#include "guest.h"

#define PTCHECK_VA 0x50000000ULL
#define PTE_A      0x20ULL
#define PTE_D      0x40ULL

static volatile uint64_t *leaf(void)
{
    uint64_t t = mm_kernel_l4();         /* mm_lookup's walk, for the entry's address */
    for (int level = 4; level > 1; level--)
        t = (((volatile uint64_t *)pfn_va(t))[(PTCHECK_VA >> (12 + 9 * (level - 1))) & 511]
             & PTE_ADDR) >> 12;
    return &((volatile uint64_t *)pfn_va(t))[(PTCHECK_VA >> 12) & 511];
}

static void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static void reload_cr3(void)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

static const char *yn(bool b) { return b ? "yes" : "NO"; }

void ptcheck_maybe_run(void)
{
    if (!guest_cmdline || !fs_cmdline_has(guest_cmdline, "ptcheck"))
        return;
    if (ops->paravirt) {
        kprintf("guest: ptcheck: native mode only, skipped\n");
        return;
    }
    volatile uint8_t *p = (volatile uint8_t *)PTCHECK_VA;
    uint64_t pages[3];
    for (int i = 0; i < 3; i++) {
        pages[i] = mm_alloc_page();
        *(volatile uint8_t *)pfn_va(pages[i]) = (uint8_t)('A' + i);
    }
    mm_map(mm_kernel_l4(), PTCHECK_VA, pages[0], PTE_P | PTE_RW);
    volatile uint64_t *pte = leaf();
    bool read_ok = *p == 'A';
    bool a_read = *pte & PTE_A, d_read = *pte & PTE_D;
    *p = 'a';
    bool d_write = *pte & PTE_D;
    *pte = (*pte & ~PTE_ADDR) | pages[1] << 12;          /* present -> present */
    invlpg(PTCHECK_VA);
    bool after_invlpg = *p == 'B';
    *pte = (*pte & ~(PTE_ADDR | PTE_A)) | pages[2] << 12;
    reload_cr3();
    bool after_cr3 = *p == 'C';
    bool a_again = *pte & PTE_A;
    bool old_kept = *(volatile uint8_t *)pfn_va(pages[0]) == 'a';
    kprintf("guest: ptcheck: read %s, A after read %s, D clear after read %s, D after write %s, "
            "write reached the page %s\n", yn(read_ok), yn(a_read), yn(!d_read), yn(d_write),
            yn(old_kept));
    kprintf("guest: ptcheck: new page seen after invlpg %s, after cr3 reload %s, A set again %s\n",
            yn(after_invlpg), yn(after_cr3), yn(a_again));
    bool ok = read_ok && a_read && !d_read && d_write && old_kept && after_invlpg && after_cr3 &&
              a_again;
    kprintf("guest: ptcheck: %s\n", ok ? "all checks passed" : "FAILED");
}
