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
    if (pg->type_count == 0) {
        if (type >= PGT_L1 && type <= PGT_L4) {
            int rc = validate_table(mfn, type);
            if (rc)
                return rc;
        }
        pg->type = (uint8_t)type;
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
}

static void put_entry_ref(uint64_t e, unsigned level)
{
    uint64_t mfn = (e & PTE_ADDR_MASK) >> 12;
    if (level > 1 || (e & PTE_RW))
        pv_put_type(mfn);
}

/* PV_HC_mmu_update, one request: ptr = machine address of an entry. */
int pv_mmu_update(struct hv_vcpu *v, uint64_t ptr, uint64_t val)
{
    uint64_t mfn = ptr >> 12;
    unsigned idx = (ptr & 0xfff) / 8;
    struct pv_page *pg = pv_page(mfn);
    if (ptr & 7)
        return hv_printf("nesthv: refused: mmu_update ptr %lx not 8-byte aligned\n", ptr),
               -PV_EINVAL;
    if (!pg || pg->owner != PV_OWNER_GUEST)
        return hv_printf("nesthv: refused: mmu_update of mfn %lx, not the guest's\n", mfn),
               -PV_EPERM;
    if (pg->type < PGT_L1 || pg->type > PGT_L4 || pg->type_count == 0)
        return hv_printf("nesthv: refused: mmu_update of mfn %lx: a %s page, not a "
                         "validated page table\n", mfn, pv_type_name(pg->type)), -PV_EINVAL;
    unsigned level = pg->type;
    if (level == 4 && idx >= HV_GUEST_L4_SLOTS)
        return hv_printf("nesthv: refused: mmu_update of L4 slot %u (hypervisor slot)\n",
                         idx), -PV_EPERM;
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
