/* pv.h - the PV backend's internal interface (pv*.c).
 *
 * A PV domain is one guest: its contiguous run of machine frames, its two
 * current top-level tables (kernel and user), its trap table, its kernel
 * stack for user->kernel transitions, and the start-info and shared-info
 * pages (pv/include/nestpv.h).
 *
 * Frame bookkeeping (pv_mm.c) follows Xen's struct page_info: every frame
 * has an owner, a type and a type reference count.  The invariant that makes
 * PV memory safe: a frame is typed as a page table (L1..L4) or as writable,
 * never both at once, and the type can change only when its count is 0.
 */
#ifndef PV_H
#define PV_H

#include "hv_vcpu.h"
#include "nestpv.h"

enum pv_owner { PV_OWNER_HV = 0, PV_OWNER_GUEST = 1 };
enum pv_type { PGT_NONE = 0, PGT_L1 = 1, PGT_L2, PGT_L3, PGT_L4, PGT_WRITABLE };

struct pv_page {
    uint8_t owner;
    uint8_t type;
    uint8_t pinned;
    uint8_t pad;
    uint32_t type_count;
};

struct pv_domain {
    uint64_t first_mfn, nr_pages;
    uint64_t kernel_l4, user_l4;     /* mfns, 0 = none */
    bool user_mode;                  /* guest user (true) or guest kernel */
    uint64_t kernel_sp;              /* stack_switch */
    struct pv_trap_info traps[256];  /* by vector; address 0 = none */
    struct pv_shared_info *shared;   /* through the direct map */
    uint64_t timer_period, timer_next;
    unsigned console_writes_this_tick;
    bool console_flood_logged;
    uint64_t hv_text_sum;            /* integrity check */
};

/* pv.c: running the guest, bouncing traps, the domain builder */
bool pv_in_user_mode(struct hv_vcpu *v);
void pv_timer_tick(struct hv_vcpu *v);
void pv_set_event(struct hv_vcpu *v, unsigned port);
void pv_load_cr3(struct hv_vcpu *v);
void pv_integrity_check(struct hv_vcpu *v);

/* pv_mm.c: page types, validation, guest memory access */
void pv_mm_init(void);
struct pv_page *pv_page(uint64_t mfn);
int pv_get_type(uint64_t mfn, unsigned type);
void pv_put_type(uint64_t mfn);
int pv_mmu_update(struct hv_vcpu *v, uint64_t ptr, uint64_t val);
int pv_copy_from_guest(struct hv_vcpu *v, void *dst, uint64_t va, uint64_t n);
int pv_copy_to_guest(struct hv_vcpu *v, uint64_t va, const void *src, uint64_t n);
const char *pv_copy_error(void);
int pv_leaf_type(struct hv_vcpu *v, uint64_t va);
bool pv_check_invariants(void);
const char *pv_type_name(unsigned type);

/* pv_hcall.c */
void pv_hypercall(struct hv_vcpu *v);
const char *pv_hypercall_name(uint64_t nr);


#endif
