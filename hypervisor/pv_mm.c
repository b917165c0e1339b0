/* pv_mm.c - direct paging: the guest's page tables are the real ones, so
 * nesthv checks every entry before the CPU can use it.
 *
 * This is Xen's scheme (xen/arch/x86/mm.c: get_page_type, alloc_l1_table ..
 * alloc_l4_table, mod_l1_entry .. mod_l4_entry), reduced to its core:
 *
 *  - Each frame has an owner (nesthv or the guest) and a type: none,
 *    writable, or page table level 1..4, with a count of references of that
 *    type.  The type can only change while the count is 0.
 *  - A page becomes an Lk table when something first refers to it as one: an
 *    L(k+1) entry, a pin, or a new_baseptr (k = 4).  At that moment every entry
 *    in it is validated ("alloc_lk_table"); when the last reference goes,
 *    the references its entries held are dropped again.
 *  - Entry rules.  In any entry: the frame must exist and belong to the guest;
 *    no 2 MiB/1 GiB pages (PS).  An Lk entry (k > 1) needs the frame as an
 *    L(k-1) table.  An L1 entry with RW needs the frame as "writable" - which
 *    fails if it is a page table.  L4 entries 256..511 are nesthv's.
 *  - nesthv sets U/S in every guest entry: the guest kernel runs in ring 3, so
 *    its pages must be user pages (Xen's adjust_guest_l1e does the same).
 *
 * Result: the guest can map only its own frames, and never gets a writable
 * mapping of any page table, so it cannot change a translation behind
 * nesthv's back.  Writing its page tables directly faults (#PF, read-only).
 */
#include "pv.h"

#define ALLOWED_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G | PTE_NX)

static struct pv_page *pages;
static uint64_t nr_frames;

static const char *const type_names[] = { "none", "L1", "L2", "L3", "L4", "writable" };
const char *pv_type_name(unsigned t) { return t <= PGT_WRITABLE ? type_names[t] : "?"; }

void pv_mm_init(void)
{
    nr_frames = hv_frames_max_pfn();
    uint64_t bytes = nr_frames * sizeof *pages;
    pages = hv_phys_to_virt(hv_frame_alloc_contig(HV_ALIGN_UP(bytes, 4096) >> 12) << 12);
}

struct pv_page *pv_page(uint64_t mfn)
{
    return mfn < nr_frames ? &pages[mfn] : NULL;
}

static int get_entry_ref(uint64_t e, unsigned level);
static void put_entry_ref(uint64_t e, unsigned level);

/* Validate all entries of a fresh Lk table, taking their references. */
static int validate_table(uint64_t mfn, unsigned level)
{
    uint64_t *t = hv_frame_table(mfn);
    unsigned n = level == 4 ? HV_GUEST_L4_SLOTS : 512;
    for (unsigned i = 0; i < n; i++) {
        if (!(t[i] & PTE_P))
            continue;
        int rc = get_entry_ref(t[i], level);
        if (rc) {
            hv_printf("nesthv: refused: %s table at mfn %lx, entry %u = %lx\n",
                      pv_type_name(level), mfn, i, t[i]);
            while (i--)
                if (t[i] & PTE_P)
                    put_entry_ref(t[i], level);
            return rc;
        }
        t[i] |= PTE_US;
    }
    if (level == 4) {       /* nesthv's slots, supervisor-only (hv_mm.h) */
        const uint64_t *hv = hv_phys_to_virt(hv_root_table());
        for (unsigned i = HV_GUEST_L4_SLOTS; i < 512; i++)
            t[i] = hv[i];
    }
    return 0;
}

static void devalidate_table(uint64_t mfn, unsigned level)
{
    uint64_t *t = hv_frame_table(mfn);
    unsigned n = level == 4 ? HV_GUEST_L4_SLOTS : 512;
    for (unsigned i = 0; i < n; i++)
        if (t[i] & PTE_P)
            put_entry_ref(t[i], level);
}

int pv_get_type(uint64_t mfn, unsigned type)
{
    struct pv_page *pg = pv_page(mfn);
    /* LAB 3: BEGIN task 1: who may use a frame, and as what (owner and type rules)
    if (!pg)
        return -PV_EPERM;
    */
    if (!pg || pg->owner != PV_OWNER_GUEST) {
        hv_printf("nesthv: refused: mfn %lx is %s, not the guest's\n", mfn,
                  pg ? "a hypervisor frame" : "beyond RAM");
        return -PV_EPERM;
    }
    if (pg->type_count && pg->type != type) {
        hv_printf("nesthv: refused: mfn %lx is in use as %s, cannot be %s\n", mfn,
                  pv_type_name(pg->type), pv_type_name(type));
        return -PV_EBUSY;
    }
    /* LAB 3: END */
    if (pg->type_count == 0) {
        /* Take the type *before* validating the entries, so that an entry
         * pointing back at this page (a self-map, or a cycle through other
         * tables) meets "in use as Lk" instead of re-typing the page under
         * our feet - Xen guards the same window with PGT_partial. */
        pg->type = (uint8_t)type;
        pg->type_count = 1;
        if (type >= PGT_L1 && type <= PGT_L4) {
            int rc = validate_table(mfn, type);
            if (rc) {
                pg->type_count = 0;
                pg->type = PGT_NONE;
                return rc;
            }
        }
        return 0;
    }
    pg->type_count++;
    return 0;
}

void pv_put_type(uint64_t mfn)
{
    struct pv_page *pg = pv_page(mfn);
    if (!pg || pg->type_count == 0)
        hv_panic("page type count underflow on mfn %lx", mfn);
    if (--pg->type_count == 0) {
        if (pg->type >= PGT_L1 && pg->type <= PGT_L4)
            devalidate_table(mfn, pg->type);
        pg->type = PGT_NONE;
    }
}

static int get_entry_ref(uint64_t e, unsigned level)
{
    uint64_t mfn = (e & PTE_ADDR_MASK) >> 12;
    /* LAB 3: BEGIN task 2: the entry rules (flags, writable mappings, foreign frames)
    if (level > 1)
        return pv_get_type(mfn, level - 1);
    return 0;
    */
    if (e & ~(ALLOWED_FLAGS | PTE_ADDR_MASK) || (e & PTE_PS)) {
        hv_printf("nesthv: refused: entry %lx has reserved or large-page bits\n", e);
        return -PV_EINVAL;
    }
    if (level > 1)
        return pv_get_type(mfn, level - 1);
    if (e & PTE_RW)
        return pv_get_type(mfn, PGT_WRITABLE);
    struct pv_page *pg = pv_page(mfn);     /* read-only: owner check only */
    if (!pg || pg->owner != PV_OWNER_GUEST) {
        hv_printf("nesthv: refused: mapping mfn %lx: %s, not the guest's\n", mfn,
                  pg ? "a hypervisor frame" : "beyond RAM");
        return -PV_EPERM;
    }
    return 0;
    /* LAB 3: END */
}

static void put_entry_ref(uint64_t e, unsigned level)
{
    uint64_t mfn = (e & PTE_ADDR_MASK) >> 12;
    /* LAB 3: BEGIN task 2: dropping what get_entry_ref took
    if (level > 1)
        pv_put_type(mfn);
    */
    if (level > 1 || (e & PTE_RW))
        pv_put_type(mfn);
    /* LAB 3: END */
}

/* PV_HC_mmu_update, one request: ptr = machine address of an entry. */
int pv_mmu_update(struct hv_vcpu *v, uint64_t ptr, uint64_t val)
{
    uint64_t mfn = ptr >> 12;
    unsigned idx = (ptr & 0xfff) / 8;
    struct pv_page *pg = pv_page(mfn);
    /* LAB 3: BEGIN task 3: which entries a guest may write
    if (!pg || (ptr & 7))
        return -PV_EINVAL;
    */
    if (ptr & 7)
        return hv_printf("nesthv: refused: mmu_update ptr %lx not 8-byte aligned\n", ptr),
               -PV_EINVAL;
    if (!pg || pg->owner != PV_OWNER_GUEST)
        return hv_printf("nesthv: refused: mmu_update of mfn %lx, not the guest's\n", mfn),
               -PV_EPERM;
    if (pg->type < PGT_L1 || pg->type > PGT_L4 || pg->type_count == 0)
        return hv_printf("nesthv: refused: mmu_update of mfn %lx: a %s page, not a "
                         "validated page table\n", mfn, pv_type_name(pg->type)), -PV_EINVAL;
    if (pg->type == PGT_L4 && idx >= HV_GUEST_L4_SLOTS)
        return hv_printf("nesthv: refused: mmu_update of L4 slot %u (hypervisor slot)\n",
                         idx), -PV_EPERM;
    /* LAB 3: END */
    unsigned level = pg->type;
    uint64_t *t = hv_frame_table(mfn);
    uint64_t old = t[idx];
    if (val & PTE_P) {
        int rc = get_entry_ref(val, level);
        if (rc)
            return rc;
        val |= PTE_US;
    }
    t[idx] = val;
    if (old & PTE_P)
        put_entry_ref(old, level);
    pv_load_cr3(v);                     /* flush the TLB: simple, always right */
    return 0;
}

/* Reading and writing guest memory, safely.
 *
 * Hypercall arguments and bounce frames live at guest virtual addresses.
 * nesthv never dereferences those addresses directly: it walks the guest's
 * current page table in software (the same 4-level walk as SDM Vol. 3A 5.5,
 * Figure 5-8) and copies through its own direct map.  The walk applies the
 * rules a ring-3 access would face - every level present and user, RW on
 * every level for a write - and refuses upper-half addresses outright,
 * because those are nesthv's (hv_mm.h).  So a hostile pointer yields
 * -PV_EFAULT and a log line, never a nesthv page fault or a write into
 * nesthv's memory.  (Xen uses exception fixups in copy_from_guest instead;
 * a software walk is slower but has nothing hidden.)
 *
 * Also here: the integrity check run when a guest stops, which re-proves the
 * direct-paging invariant over all frames.
 */
static const char *copy_error = "";

const char *pv_copy_error(void) { return copy_error; }

static uint64_t current_l4(struct hv_vcpu *v)
{
    return v->pv->user_mode ? v->pv->user_l4 : v->pv->kernel_l4;
}

/* Translate va to a machine address, or return ~0 with copy_error set. */
static uint64_t guest_va_to_ma(struct hv_vcpu *v, uint64_t va, bool write, uint64_t *leaf_mfn)
{
    if (va >= 0x0000800000000000ULL) {
        copy_error = "pointer into hypervisor memory";
        return ~0ULL;
    }
    uint64_t mfn = current_l4(v);
    for (int level = 4; level >= 1; level--) {
        unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
        uint64_t e = hv_frame_table(mfn)[idx];
        if (!(e & PTE_P) || !(e & PTE_US)) {
            copy_error = "unmapped guest address";
            return ~0ULL;
        }
        if (write && !(e & PTE_RW)) {
            copy_error = "read-only guest address";
            return ~0ULL;
        }
        mfn = (e & PTE_ADDR_MASK) >> 12;
    }
    if (leaf_mfn)
        *leaf_mfn = mfn;
    return (mfn << 12) | (va & 0xfff);
}

static int copy(struct hv_vcpu *v, uint64_t va, void *buf, uint64_t n, bool write)
{
    uint8_t *b = buf;
    if (va + n < va) {
        copy_error = "address range wraps";
        return -PV_EFAULT;
    }
    while (n) {
        uint64_t chunk = 4096 - (va & 0xfff);
        if (chunk > n)
            chunk = n;
        uint64_t ma = guest_va_to_ma(v, va, write, NULL);
        if (ma == ~0ULL)
            return -PV_EFAULT;
        if (write)
            memcpy(hv_phys_to_virt(ma), b, chunk);
        else
            memcpy(b, hv_phys_to_virt(ma), chunk);
        va += chunk, b += chunk, n -= chunk;
    }
    return 0;
}

int pv_copy_from_guest(struct hv_vcpu *v, void *dst, uint64_t va, uint64_t n)
{
    return copy(v, va, dst, n, false);
}

int pv_copy_to_guest(struct hv_vcpu *v, uint64_t va, const void *src, uint64_t n)
{
    return copy(v, va, (void *)src, n, true);
}

/* The type of the frame mapped at va, or -1: lets nesthv name a guest write
 * to its own page table when it reflects the #PF. */
int pv_leaf_type(struct hv_vcpu *v, uint64_t va)
{
    uint64_t mfn;
    if (guest_va_to_ma(v, va, false, &mfn) == ~0ULL)
        return -1;
    return pv_page(mfn)->type;
}

/* Re-prove the invariant over every in-use page table: every L4 carries
 * nesthv's own slots unchanged, each present entry
 * of an Lk table (k > 1) points at a guest frame typed L(k-1), each RW entry
 * of an L1 table at a guest frame typed writable, each other L1 entry at a
 * guest frame.  Then no page table is writable through any translation. */
bool pv_check_invariants(void)
{
    uint64_t max = hv_frames_max_pfn();
    for (uint64_t mfn = 0; mfn < max; mfn++) {
        struct pv_page *pg = pv_page(mfn);
        if (pg->type_count == 0)
            continue;
        if (pg->owner != PV_OWNER_GUEST)
            return hv_printf("nesthv: integrity: typed frame %lx not the guest's\n", mfn), false;
        if (pg->type < PGT_L1 || pg->type > PGT_L4)
            continue;
        const uint64_t *t = hv_frame_table(mfn);
        unsigned n = pg->type == PGT_L4 ? HV_GUEST_L4_SLOTS : 512;
        if (pg->type == PGT_L4 && memcmp(t + HV_GUEST_L4_SLOTS,
                                         (const uint64_t *)hv_phys_to_virt(hv_root_table()) +
                                         HV_GUEST_L4_SLOTS, 256 * 8))
            return hv_printf("nesthv: integrity: L4 %lx: hypervisor slots changed\n", mfn), false;
        for (unsigned i = 0; i < n; i++) {
            if (!(t[i] & PTE_P))
                continue;
            struct pv_page *to = pv_page((t[i] & PTE_ADDR_MASK) >> 12);
            unsigned want = pg->type > PGT_L1 ? pg->type - 1u
                          : (t[i] & PTE_RW) ? PGT_WRITABLE : PGT_NONE;
            if (!to || to->owner != PV_OWNER_GUEST)
                return hv_printf("nesthv: integrity: %s %lx maps a foreign frame\n",
                                 pv_type_name(pg->type), mfn), false;
            if (want != PGT_NONE && (to->type != want || to->type_count == 0))
                return hv_printf("nesthv: integrity: %s %lx entry %u points at a %s frame, "
                                 "not %s\n", pv_type_name(pg->type), mfn, i,
                                 pv_type_name(to->type), pv_type_name(want)), false;
        }
    }
    return true;
}
