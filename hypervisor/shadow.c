/* shadow.c - shadow paging: running a VMX/SVM guest without EPT/NPT.
 *
 * With nested paging the CPU walks two sets of tables: the guest's (virtual
 * -> guest-physical) and nesthv's (guest-physical -> host-physical, hvm.c).
 * Without it (`npt=0`, `ept=0` on nesthv's command line) the CPU walks one
 * set only, so nesthv gives it tables that map guest-virtual straight to
 * host-physical: the shadow of the guest's tables.  The guest never sees
 * them: its CR3 reads and writes, CR0/CR4 reads and INVLPG exit, and
 * CR3 in the VMCB/VMCS is the shadow's root.
 *
 * The shadow here is a virtual TLB (the scheme of early VMware and KVM):
 * it starts empty and holds only translations the guest has used.
 *
 *   #PF exit   the CPU found no (or a too weak) shadow entry.  nesthv walks
 *              the guest's tables as the CPU would (SDM Vol. 3A 4.5, APM
 *              Vol. 2 5.3): if the guest's own translation faults, the #PF
 *              is the guest's and is reflected (with the guest's CR2 and
 *              error code); otherwise nesthv sets the guest's accessed and
 *              dirty bits and fills the shadow entry: a "fill".
 *   A/D bits   a page the guest has not written yet (D = 0) is shadowed
 *              read-only even when the guest allows writes, so the first
 *              write faults and nesthv sets D, as the CPU would.
 *   INVLPG     drops the one shadow entry (or, without decode assists to
 *              name the address, everything).
 *   CR3 write, paging-mode change: flush (everything goes).  Like a TLB, the
 *              shadow may keep a stale entry only where the architecture
 *              lets a TLB keep one (SDM 3A 4.10.4): a guest that changes a
 *              present entry must INVLPG or reload CR3, which exit.  An
 *              entry going from not-present to present needs nothing: the
 *              shadow has no entry there, so the access faults and fills.
 *
 * Paging off (the Multiboot start: protected mode, CR0.PG = 0) cannot be
 * run as such without nested paging: guest-physical would be host-physical.
 * The CPU then runs with PAE paging on (3 levels) over an identity shadow
 * of guest RAM, while the guest reads CR0.PG = 0.  In long mode the shadow
 * has the guest's 4 levels, at 4 KiB granularity (a guest 2 MiB page is
 * shadowed 4 KiB at a time).  32-bit and PAE guest paging are not
 * shadowed (the teaching guest goes straight to long mode): such a guest
 * is stopped with a message.
 *
 * Guest page tables are not write-protected: with the TLB rules above a
 * virtual TLB does not need it (it would let shadows survive CR3 switches,
 * the next step in speed, not in correctness).
 */
#include "hvm.h"

#define SHADOW_POOL   512            /* shadow tables at most (2 MiB) */
#define PTE_FLAGS     (PTE_P | PTE_RW | PTE_US)
#define PF_P          (1u << 0)      /* #PF error code (SDM 3A 4.7) */
#define PF_W          (1u << 1)
#define PF_U          (1u << 2)
#define PF_I          (1u << 4)
#define CR0_WP        (1ULL << 16)
#define EFER_NXE      (1ULL << 11)

struct hvm_shadow {
    uint64_t pool[SHADOW_POOL];      /* pfns of shadow tables; [0] is the root */
    unsigned used;                   /* tables of the pool in use */
    unsigned levels;                 /* 3 (paging off: PAE) or 4 (long mode) */
    bool need_tlb_flush;             /* the backend must flush the guest's TLB */
    struct hvm_shadow_counts n;
};

void hvm_shadow_create(struct hv_vcpu *v)
{
    struct hvm_shadow *s = hv_alloc(sizeof *s);
    v->hvm->shadow = s;
    s->pool[0] = hv_frame_alloc();
    s->used = 1;
    s->levels = 3;
}

static uint64_t *table(uint64_t pfn) { return hv_frame_table(pfn); }

/* Everything goes; the root is reused, other tables return to the pool. */
static void flush(struct hvm_shadow *s)
{
    for (unsigned i = 0; i < s->used; i++)
        memset(table(s->pool[i]), 0, HV_PAGE_SIZE);
    s->used = 1;
    s->need_tlb_flush = true;
    s->n.flushes++;
}

/* The guest changed CR0, CR3, CR4 or EFER: flush, and pick the shadow's
 * shape for the new mode.  Returns false for a mode not shadowed. */
bool hvm_shadow_mode_changed(struct hv_vcpu *v, const char **why)
{
    struct hvm_guest *g = v->hvm;
    struct hvm_shadow *s = g->shadow;
    flush(s);
    if (!(g->cr0 & CR0_PG)) {
        s->levels = 3;
        return true;
    }
    s->levels = 4;
    if (!(g->efer & EFER_LMA)) {
        *why = "shadow paging shadows long-mode paging only (this guest turned on "
               "32-bit or PAE paging)";
        return false;
    }
    return true;
}

uint64_t hvm_shadow_root(struct hv_vcpu *v, bool *tlb_flush)
{
    struct hvm_shadow *s = v->hvm->shadow;
    *tlb_flush = s->need_tlb_flush;
    s->need_tlb_flush = false;
    return s->pool[0] << 12;
}

/* The guest's translation of gva for an access with #PF error bits acc
 * (W, U, I): on success the guest-physical address and the rights the
 * whole walk grants (PTE_RW, PTE_US, PTE_NX), with A (and D for a write)
 * set in the guest's entries; on failure the guest's #PF error code. */
struct walk { uint64_t gpa, rights; bool dirty; uint32_t error; };

static bool guest_walk(struct hv_vcpu *v, uint64_t gva, uint32_t acc, struct walk *w)
{
    struct hvm_guest *g = v->hvm;
    w->rights = PTE_RW | PTE_US;
    w->dirty = true;
    if (!(g->cr0 & CR0_PG)) {                  /* paging off: identity */
        w->gpa = gva;
        return true;
    }
    uint64_t *path[4];
    int depth = 0;
    uint64_t t = g->cr3 & PTE_ADDR_MASK;
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t *e = hvm_gpa_ptr(v, t + (gva >> shift & 511) * 8, 8);
        w->error = acc & (PF_W | PF_U | PF_I);
        if (!e || !(*e & PTE_P))
            return false;                       /* not present: P = 0 */
        path[depth++] = e;
        w->rights &= *e | PTE_NX;               /* RW and US: every level must allow */
        w->rights |= *e & PTE_NX;               /* NX: any level forbids */
        if (shift == 12 || (shift <= 30 && (*e & PTE_PS))) {
            uint64_t mask = (1ULL << shift) - 1;
            w->gpa = (*e & PTE_ADDR_MASK & ~mask) | (gva & mask);
            w->dirty = *e & PTE_D;
            break;
        }
        t = *e & PTE_ADDR_MASK;
    }
    w->error |= PF_P;                           /* present: a protection fault */
    bool user = acc & PF_U, write = acc & PF_W;
    if (user && !(w->rights & PTE_US))
        return false;
    if (write && !(w->rights & PTE_RW) && (user || (g->cr0 & CR0_WP)))
        return false;
    if ((acc & PF_I) && (g->efer & EFER_NXE) && (w->rights & PTE_NX))
        return false;
    for (int i = 0; i < depth; i++)             /* the CPU's A and D (SDM 3A 4.8) */
        *path[i] |= PTE_A;
    if (write && !w->dirty)
        *path[depth - 1] |= PTE_D, w->dirty = true;
    return true;
}

/* The shadow leaf for gva, allocating shadow tables on the way; NULL when
 * the pool is spent (the caller flushes and retries). */
static uint64_t *shadow_leaf(struct hvm_shadow *s, uint64_t gva)
{
    uint64_t *t = table(s->pool[0]);
    int top = s->levels == 4 ? 39 : 30;
    for (int shift = top; shift > 12; shift -= 9) {
        uint64_t *e = &t[gva >> shift & (shift == 30 && s->levels == 3 ? 3 : 511)];
        if (!(*e & PTE_P)) {
            if (s->used == SHADOW_POOL)
                return NULL;
            uint64_t pfn = s->pool[s->used] ? s->pool[s->used] : hv_frame_alloc();
            s->pool[s->used++] = pfn;
            if (s->used > s->n.max_tables)
                s->n.max_tables = s->used;
            /* A PAE PDPTE has only P (its RW/US bits are reserved, 4.4.1). */
            *e = pfn << 12 | (shift == top && s->levels == 3 ? PTE_P : PTE_FLAGS);
        }
        t = table(*e >> 12 & (PTE_ADDR_MASK >> 12));
    }
    return &t[gva >> 12 & 511];
}

enum hvm_shadow_result hvm_shadow_page_fault(struct hv_vcpu *v, uint64_t gva, uint32_t error,
                                             uint64_t *gpa, uint32_t *guest_error)
{
    struct hvm_guest *g = v->hvm;
    struct hvm_shadow *s = g->shadow;
    struct walk w;
    s->n.faults++;
    if (!guest_walk(v, gva, error, &w)) {
        s->n.reflected++;
        *guest_error = w.error;
        return HVM_SHADOW_REFLECT;
    }
    *gpa = w.gpa;
    if (!hvm_gpa_ptr(v, w.gpa & ~0xfffULL, HV_PAGE_SIZE)) {
        s->n.mmio++;
        return HVM_SHADOW_MMIO;
    }
    uint64_t *leaf = shadow_leaf(s, gva);
    if (!leaf) {
        flush(s);
        s->n.pool_flushes++;
        leaf = shadow_leaf(s, gva);
    }
    uint64_t want = (g->mem_pa + (w.gpa & ~0xfffULL)) | PTE_P | (w.rights & PTE_US) |
        (w.dirty ? w.rights & PTE_RW : 0) | (g->efer & EFER_NXE ? w.rights & PTE_NX : 0);
    if ((error & PF_P) && *leaf == want) {
        /* The CPU refused what the guest's tables allow as nesthv reads
         * them (SMEP, SMAP, protection keys): the fault is the guest's. */
        s->n.reflected++;
        *guest_error = error;
        return HVM_SHADOW_REFLECT;
    }
    *leaf = want;
    s->n.fills++;
    return HVM_SHADOW_FIXED;
}

void hvm_shadow_invlpg(struct hv_vcpu *v, uint64_t gva, bool all)
{
    struct hvm_shadow *s = v->hvm->shadow;
    s->n.invlpg++;
    if (all) {
        flush(s);
        return;
    }
    uint64_t *t = table(s->pool[0]);
    for (int shift = s->levels == 4 ? 39 : 30; shift > 12; shift -= 9) {
        uint64_t e = t[gva >> shift & (shift == 30 && s->levels == 3 ? 3 : 511)];
        if (!(e & PTE_P))
            return;
        t = table(e >> 12 & (PTE_ADDR_MASK >> 12));
    }
    t[gva >> 12 & 511] = 0;
    s->need_tlb_flush = true;
}

void hvm_shadow_print(struct hv_vcpu *v)
{
    const struct hvm_shadow_counts *n = &v->hvm->shadow->n;
    hv_printf("nesthv: shadow paging: %lu #PF exits (%lu fills, %lu reflected to the guest, "
              "%lu MMIO), %lu invlpg, %lu flushes (%lu for a full pool), %lu shadow tables "
              "at most\n", n->faults, n->fills, n->reflected, n->mmio, n->invlpg, n->flushes,
              n->pool_flushes, n->max_tables);
}
