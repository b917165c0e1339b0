/* ops_pv.c - the guest's privileged operations under nesthv's PV backend.
 *
 * The kernel runs in ring 3 here, so each operation that natively is an
 * instruction (ops_native.c) becomes a hypercall (pv/include/nestpv.h):
 *
 *   lidt                -> set_trap_table      mov cr3 -> new_baseptr
 *   tss.rsp0 = top      -> stack_switch        write a PTE -> mmu_update
 *   APIC timer          -> set_timer           outb COM1 -> console_write
 *   mov cr2             -> shared_info->vcpu.cr2       outl 0xf4 -> shutdown
 *
 * and page tables need one more step: before a fresh page becomes a table,
 * its own mapping in the kernel's address space is made read-only and the
 * page is pinned (pt_prepare), because nesthv never allows a writable
 * mapping of a page table (direct paging, hypervisor/pv_mm.c).
 */
#include "guest.h"
#include "nestpv.h"

static struct pv_start_info *si;
static struct pv_shared_info *shared;

static inline int64_t hypercall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    int64_t r;
    __asm__ volatile("int $0x82" : "=a"(r) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "memory");
    return r;
}

/* nesthv rate-limits the console (hypervisor/pv_hcall.c); on -EBUSY wait
 * for the next tick of virtual time and try again, rather than lose output. */
static void pv_console_write(const char *s, size_t n)
{
    /* LAB 2: BEGIN task 2: the guest's console through console_write
    (void)s, (void)n;
    */
    while (hypercall(PV_HC_console_write, (uint64_t)s, n, 0) == -PV_EBUSY) {
        uint64_t t = shared->ticks;
        while (shared->ticks == t)
            hypercall(PV_HC_sched_op, PV_SCHED_yield, 0, 0);
    }
    /* LAB 2: END */
}

static void pv_init(uint64_t start_info)
{
    si = (struct pv_start_info *)start_info;
    for (unsigned i = 0; i < sizeof PV_START_MAGIC; i++)
        if (si->magic[i] != PV_START_MAGIC[i])
            pv_ops.shutdown(2);
    shared = (struct pv_shared_info *)si->shared_info;
    guest_cmdline = si->cmdline;          /* the module's string (hypervisor/pv.c) */
    struct mm_info mi = { si->nr_pages, si->first_free_pfn, si->pt_base >> 12 };
    mm_init(&mi);
}

static void pv_set_trap_table(const struct trap_gate *g)
{
    static struct pv_trap_info table[64];
    unsigned n = 0;
    for (; g->vector != (uint64_t)-1 && n + 1 < 64; g++, n++)
        table[n] = (struct pv_trap_info){ .vector = (uint8_t)g->vector,
            .flags = (uint8_t)(g->dpl | PV_TI_MASK_EVENTS), .cs = PV_KERNEL_CS,
            .address = g->handler };
    table[n].address = 0;
    if (hypercall(PV_HC_set_trap_table, (uint64_t)table, 0, 0))
        panic("set_trap_table refused");
}

static void pv_set_kernel_stack(uint64_t top)
{
    hypercall(PV_HC_stack_switch, PV_DS, top, 0);
}

static uint64_t pv_pfn_to_mfn(uint64_t pfn) { return pfn + si->first_mfn; }
static uint64_t pv_mfn_to_pfn(uint64_t mfn) { return mfn - si->first_mfn; }

static void pv_pt_set(uint64_t table_pfn, unsigned idx, uint64_t pte)
{
    struct pv_mmu_update req = { (pv_pfn_to_mfn(table_pfn) << 12) + idx * 8, pte };
    int64_t rc = hypercall(PV_HC_mmu_update, (uint64_t)&req, 1, 0);
    if (rc != 1)
        panic("mmu_update of pfn %lx[%u] = %lx refused (%ld)", table_pfn, idx, pte, rc);
}

static void pv_pt_prepare(uint64_t pfn, int level)
{
    mm_map(mm_kernel_l4(), pfn << 12, pfn, PTE_P);      /* read-only now */
    int64_t rc = hypercall(PV_HC_mmuext_op, PV_MMUEXT_PIN_L1 + level - 1, pv_pfn_to_mfn(pfn), 0);
    if (rc)
        panic("pin L%d table pfn %lx refused (%ld)", level, pfn, rc);
}

static void pv_load_user_pt(uint64_t l4_pfn)
{
    if (hypercall(PV_HC_new_baseptr, PV_BASEPTR_USER, pv_pfn_to_mfn(l4_pfn), 0))
        panic("new_baseptr(user) refused");
}

static void pv_load_kernel_pt(uint64_t l4_pfn)
{
    if (hypercall(PV_HC_new_baseptr, PV_BASEPTR_KERNEL, pv_pfn_to_mfn(l4_pfn), 0))
        panic("new_baseptr(kernel) refused");
}

static void pv_timer_start(unsigned ms)
{
    /* LAB 2: BEGIN task 3: start the virtual timer
    (void)ms;
    */
    hypercall(PV_HC_set_timer, ms, 0, 0);
    /* LAB 2: END */
}

/* The event upcall: clear what is pending and say whether the timer port
 * was among it (Xen's evtchn_do_upcall, in miniature). */
static bool pv_timer_ack(void)
{
    /* LAB 2: BEGIN task 4: acknowledge the upcall: clear what is pending, say if the timer was
    return false;
    */
    shared->vcpu.upcall_pending = 0;
    uint64_t pending = __atomic_exchange_n(&shared->evtchn_pending, 0, __ATOMIC_SEQ_CST);
    return pending >> PV_PORT_TIMER & 1;
    /* LAB 2: END */
}

static uint64_t pv_read_cr2(void) { return shared->vcpu.cr2; }

static void pv_shutdown(int status)
{
    hypercall(PV_HC_shutdown, (uint64_t)status, 0, 0);
    for (;;)
        ;
}

const struct guest_ops pv_ops = {
    .name = "pv", .paravirt = true, .kernel_cs = PV_KERNEL_CS,
    .iret_path = guest_iret_pv,
    .init = pv_init,
    .console_write = pv_console_write,
    .set_trap_table = pv_set_trap_table,
    .set_kernel_stack = pv_set_kernel_stack,
    .pfn_to_mfn = pv_pfn_to_mfn, .mfn_to_pfn = pv_mfn_to_pfn,
    .pt_prepare = pv_pt_prepare,
    .pt_set = pv_pt_set,
    .load_kernel_pt = pv_load_kernel_pt, .load_user_pt = pv_load_user_pt,
    .timer_start = pv_timer_start,
    .timer_ack = pv_timer_ack,
    .read_cr2 = pv_read_cr2,
    .shutdown = pv_shutdown,
};
