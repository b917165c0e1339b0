/* pv_uaccess.c - reading and writing guest memory, safely.
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
#include "pv.h"

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

/* Re-prove the invariant: no present RW L1 entry in any in-use L1 table
 * points at a page-table frame or at a frame the guest does not own. */
bool pv_check_invariants(void)
{
    uint64_t max = hv_frames_max_pfn();
    for (uint64_t mfn = 0; mfn < max; mfn++) {
        struct pv_page *pg = pv_page(mfn);
        if (pg->type_count == 0)
            continue;
        if (pg->owner != PV_OWNER_GUEST)
            return hv_printf("nesthv: integrity: typed frame %lx not the guest's\n", mfn), false;
        if (pg->type != PGT_L1)
            continue;
        const uint64_t *t = hv_frame_table(mfn);
        for (int i = 0; i < 512; i++) {
            if (!(t[i] & PTE_P))
                continue;
            struct pv_page *to = pv_page((t[i] & PTE_ADDR_MASK) >> 12);
            if (!to || to->owner != PV_OWNER_GUEST)
                return hv_printf("nesthv: integrity: L1 %lx maps a foreign frame\n", mfn), false;
            if ((t[i] & PTE_RW) && to->type != PGT_WRITABLE)
                return hv_printf("nesthv: integrity: L1 %lx maps a %s frame writable\n",
                                 mfn, pv_type_name(to->type)), false;
        }
    }
    return true;
}
