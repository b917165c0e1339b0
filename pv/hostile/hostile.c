/* hostile.c - a PV guest that attacks nesthv, one case per boot.
 *
 * The case is chosen by the Multiboot module command line
 * (`-initrd "hostile.elf case=NAME"`, copied into start info).  Each case
 * tries something the PV ABI forbids, checks that nesthv refused it (an
 * error from the hypercall, or a fault reflected back to us), and shuts
 * down with status 0 if so, 1 if nesthv let it through.  The test runner
 * (tests/native) also checks nesthv's "refused:" log line naming the
 * attempt, that nesthv stays up, and its final integrity check.
 *
 *   pt_write     write our own L4 page table through its read-only mapping
 *   pt_map_rw    mmu_update: map our L4 writable
 *   map_hv       mmu_update: map a nesthv frame; update a hypervisor L4 slot;
 *                touch nesthv memory directly
 *   map_foreign  mmu_update: map a frame outside our memory / beyond RAM
 *   bad_cr3      new_baseptr with a writable page, a nesthv frame, and a
 *                page full of entries pointing at nesthv frames
 *   priv_kernel  hlt, cli, mov to cr3, out, wrmsr, lidt in guest kernel mode
 *   priv_user    cli, hlt and a hypercall in guest user mode
 *   hc_bad_ptr   hypercalls with pointers into nesthv memory or unmapped
 *   hc_bad_nr    hypercall numbers 11, 999, -1
 *   hc_flood     10000 console writes and 100000 yields without a pause
 *   bad_stack    stack_switch into nesthv memory (refused), then to an
 *                unmapped address, then a trap from user mode: nesthv cannot
 *                push the bounce frame and crashes the guest (exit 65)
 *   self_map     a fresh page whose entry 0 points at itself, writable, then
 *                offered as an L4: the self-map would be a writable mapping
 *                of a page table (validation must refuse it)
 *   refcount     the counts behind the type rules: a writable page cannot be
 *                pinned; once its mapping is read-only it can; while pinned
 *                it cannot be mapped writable; after the unpin it can, and
 *                then not pinned again until that mapping is gone
 *   bad_iret     iret to a non-canonical address, which IRETQ would fault on
 *                inside nesthv: nesthv crashes the guest instead (exit 65)
 *   no_handler   #UD with no handler registered: nesthv crashes the guest
 *   cpuid        not an attack: forced-emulation CPUID (nesthv's view) next
 *                to plain CPUID (the host's view, unfiltered: PV's limit)
 *   evtchn       not an attack: the event-channel ABI working - a masked
 *                send stays pending, unmasking delivers the upcall, a bad
 *                port is refused, sched_op block returns on a timer event
 */
#include "guest.h"
#include "nestpv.h"

static struct pv_start_info *si;
static struct pv_shared_info *shared;
static volatile uint64_t resume_rip;
static volatile int faults;
static volatile uint64_t fault_vector, user_gp, upcalls, upcall_ports;
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[4096] __attribute__((aligned(16)));
extern char hostile_user_code[];

/* entry.S returns through guest_iret_path; console.c's kprintf (unused here)
 * refers to ops. */
void *guest_iret_path = guest_iret_pv;
const struct guest_ops *ops;

static int64_t hc(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    int64_t r;
    __asm__ volatile("int $0x82" : "=a"(r) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "memory");
    return r;
}

static void say(const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    int n = fs_vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    hc(PV_HC_console_write, (uint64_t)line, (uint64_t)n, 0);
}

static void finish_as(bool ok, const char *name, const char *good, const char *bad)
{
    say("hostile: %s: %s\n", name, ok ? good : bad);
    hc(PV_HC_shutdown, ok ? 0 : 1, 0, 0);
    for (;;)
        ;
}

static void finish(bool ok, const char *name)         /* an attack case */
{
    finish_as(ok, name, "all refused, guest still running", "NOT REFUSED");
}

static void finish_check(bool ok, const char *name)   /* an ABI check */
{
    finish_as(ok, name, "all checks passed", "CHECK FAILED");
}

/* Run one instruction (or store); a fault resumes after it.  Returns true if
 * it faulted. */
#define TRY(insn, ...)                                                       \
    ({ int before = faults;                                                  \
       __asm__ volatile("leaq 1f(%%rip), %%r11; movq %%r11, resume_rip(%%rip);" \
                        insn "\n1:" : : __VA_ARGS__ : "r11", "memory");      \
       faults != before; })

void trap(struct trapframe *tf);
void trap(struct trapframe *tf)
{
    if (tf->vector == PV_EVENT_VECTOR) {  /* event upcall (evtchn case) */
        shared->vcpu.upcall_pending = 0;
        upcall_ports |= __atomic_exchange_n(&shared->evtchn_pending, 0, __ATOMIC_SEQ_CST);
        upcalls++;
        return;
    }
    fault_vector = tf->vector;
    if (tf->cs == USER_CS) {              /* from the priv_user program */
        if (tf->vector == 0x80)
            finish(user_gp == 3, "priv_user");
        if (tf->vector == 13) {
            user_gp++;
            tf->rip += *(uint8_t *)tf->rip == 0xcd ? 2 : 1;   /* skip it */
            return;
        }
        finish(false, "priv_user (unexpected trap)");
    }
    faults++;
    tf->rip = resume_rip;
}

static uint64_t mfn_of(uint64_t va) { return si->first_mfn + (va >> 12); }

/* Machine address of the L1 entry mapping va (boot tables: L4 L3 L2 L1 L1). */
static uint64_t l1_entry_ma(uint64_t va)
{
    uint64_t l1_pfn = (si->pt_base >> 12) + 3 + (va >> 21);
    return ((si->first_mfn + l1_pfn) << 12) + ((va >> 12) & 511) * 8;
}

static int64_t mmu_update(uint64_t ptr, uint64_t val)
{
    struct pv_mmu_update req = { ptr, val };
    return hc(PV_HC_mmu_update, (uint64_t)&req, 1, 0);
}

static uint64_t scratch_va(void) { return (si->first_free_pfn + 8) << 12; }

static void case_pt_write(void)
{
    volatile uint64_t *l4 = (volatile uint64_t *)si->pt_base;
    bool f1 = TRY("movq %0, (%1)", "r"(0x1234ULL), "r"(l4));
    bool f2 = TRY("movq %0, 8(%1)", "r"(0x5678ULL), "r"(si->pt_base + 3 * 4096));
    finish(f1 && f2 && fault_vector == 14 && l4[0] != 0x1234, "pt_write");
}

static void case_pt_map_rw(void)
{
    int64_t a = mmu_update(l1_entry_ma(scratch_va()), (mfn_of(si->pt_base) << 12) | 3);
    int64_t b = mmu_update(l1_entry_ma(scratch_va()), (mfn_of(si->pt_base + 3 * 4096) << 12) | 3);
    finish(a < 0 && b < 0, "pt_map_rw");
}

static void case_map_hv(void)
{
    int64_t a = mmu_update(l1_entry_ma(scratch_va()), (0x100ULL << 12) | 1);   /* nesthv image */
    int64_t b = mmu_update(l1_entry_ma(scratch_va()), (0x100ULL << 12) | 3);
    int64_t c = mmu_update((mfn_of(si->pt_base) << 12) + 256 * 8, 0);          /* hv L4 slot */
    int64_t d = mmu_update(((uint64_t)0x100 << 12), 0);                       /* hv frame as table */
    bool e = TRY("movq (%0), %%r11", "r"(0xffffffff80100000ULL));
    finish(a < 0 && b < 0 && c < 0 && d < 0 && e, "map_hv");
}

static void case_map_foreign(void)
{
    uint64_t after = si->first_mfn + si->nr_pages;       /* first frame not ours */
    int64_t a = mmu_update(l1_entry_ma(scratch_va()), (after << 12) | 3);
    int64_t b = mmu_update(l1_entry_ma(scratch_va()), ((si->first_mfn - 1) << 12) | 1);
    int64_t c = mmu_update(l1_entry_ma(scratch_va()), (0xfffff0ULL << 12) | 1); /* beyond RAM */
    finish(a < 0 && b < 0 && c < 0, "map_foreign");
}

static void case_bad_cr3(void)
{
    uint64_t data = scratch_va();                         /* mapped writable */
    int64_t a = hc(PV_HC_new_baseptr, PV_BASEPTR_KERNEL, mfn_of(data), 0);
    int64_t b = hc(PV_HC_new_baseptr, PV_BASEPTR_KERNEL, 0x100, 0);
    /* A page whose entries point at nesthv frames, made read-only first. */
    uint64_t *evil = (uint64_t *)(data + 4096);
    for (int i = 0; i < 4; i++)
        evil[i] = ((0x100ULL + (uint64_t)i) << 12) | 7;
    int64_t ro = mmu_update(l1_entry_ma((uint64_t)evil), (mfn_of((uint64_t)evil) << 12) | 1);
    int64_t c = hc(PV_HC_new_baseptr, PV_BASEPTR_USER, mfn_of((uint64_t)evil), 0);
    finish(a < 0 && b < 0 && ro == 1 && c < 0, "bad_cr3");
}

static void case_priv_kernel(void)
{
    uint64_t idtr[2] = { 0, 0 };
    int n = 0;
    n += TRY("hlt");
    n += TRY("cli");
    n += TRY("movq %0, %%cr3", "r"(0ULL));
    n += TRY("outb %%al, $0x80", "a"(0));
    n += TRY("wrmsr", "c"(0x10), "a"(0), "d"(0));
    n += TRY("lidt (%0)", "r"(idtr));
    say("hostile: priv_kernel: %d of 6 privileged instructions faulted\n", n);
    finish(n == 6 && fault_vector == 13, "priv_kernel");
}

static void enter_user_mode(void);
static void case_priv_user(void)
{
    enter_user_mode();
}

static void case_hc_bad_ptr(void)
{
    int64_t a = hc(PV_HC_console_write, 0xffffffff80100000ULL, 16, 0);
    int64_t b = hc(PV_HC_console_write, 0xffff800000100000ULL, 16, 0);
    int64_t c = hc(PV_HC_console_write, 0x3ff00000ULL, 16, 0);
    int64_t d = hc(PV_HC_mmu_update, 0xffff800000001000ULL, 1, 0);
    int64_t e = hc(PV_HC_set_trap_table, 0x10, 0, 0);
    int64_t f = hc(PV_HC_console_write, 0x00007ffffffffff8ULL, 64, 0);
    finish(a == -PV_EFAULT && b == -PV_EFAULT && c == -PV_EFAULT && d == -PV_EFAULT &&
           e == -PV_EFAULT && f == -PV_EFAULT, "hc_bad_ptr");
}

static void case_hc_bad_nr(void)
{
    int64_t a = hc(PV_NR_HYPERCALLS, 0, 0, 0), b = hc(999, 0, 0, 0), c = hc(~0ULL, 0, 0, 0);
    finish(a == -PV_ENOSYS && b == -PV_ENOSYS && c == -PV_ENOSYS, "hc_bad_nr");
}

static void case_hc_flood(void)
{
    unsigned busy = 0;
    for (int i = 0; i < 10000; i++)
        busy += hc(PV_HC_console_write, (uint64_t)"", 0, 0) == -PV_EBUSY;
    for (int i = 0; i < 100000; i++)
        hc(PV_HC_sched_op, PV_SCHED_yield, 0, 0);
    uint64_t t0 = shared->ticks;              /* a tick resets the budget */
    while (shared->ticks == t0)
        __asm__ volatile("pause");
    static const char msg[] = "hostile: hc_flood: after a tick the console answers again\n";
    int64_t again = hc(PV_HC_console_write, (uint64_t)msg, sizeof msg - 1, 0);
    say("hostile: hc_flood: %s console writes refused with -EBUSY\n", busy ? "some" : "no");
    finish(busy > 0 && again > 0, "hc_flood");
}

static void enter_user_mode(void)
{
    if (hc(PV_HC_new_baseptr, PV_BASEPTR_USER, mfn_of(si->pt_base), 0))
        finish(false, "user mode (no user page table)");
    uint64_t frame[6] = { 0, (uint64_t)hostile_user_code, USER_CS, 0x202,
                          (uint64_t)ustack + sizeof ustack, USER_DS };
    __asm__ volatile("movq %0, %%rsp; movl $6, %%eax; int $0x82" : : "r"(frame) : "memory");
}

static void case_bad_stack(void)
{
    if (hc(PV_HC_stack_switch, PV_DS, 0xffffffff80200000ULL, 0) != -PV_EINVAL)
        finish(false, "bad_stack (stack in nesthv memory accepted)");
    hc(PV_HC_stack_switch, PV_DS, 0x3ff00000ULL, 0);   /* unmapped */
    say("hostile: bad_stack: kernel stack now unmapped; trapping from user mode\n");
    enter_user_mode();                   /* its cli traps: the bounce must fail */
}

static void case_self_map(void)
{
    uint64_t *p = (uint64_t *)(scratch_va() + 2 * 4096);
    p[0] = (mfn_of((uint64_t)p) << 12) | 7;              /* P | RW | US, itself */
    int64_t ro = mmu_update(l1_entry_ma((uint64_t)p), (mfn_of((uint64_t)p) << 12) | 1);
    int64_t a = hc(PV_HC_new_baseptr, PV_BASEPTR_USER, mfn_of((uint64_t)p), 0);
    int64_t b = hc(PV_HC_mmuext_op, PV_MMUEXT_PIN_L2, mfn_of((uint64_t)p), 0);
    /* the same through an existing table: L4 slot 5 -> the L4 itself */
    int64_t c = mmu_update((mfn_of(si->pt_base) << 12) + 5 * 8, (mfn_of(si->pt_base) << 12) | 7);
    finish(ro == 1 && a < 0 && b < 0 && c < 0, "self_map");
}

static void case_refcount(void)
{
    uint64_t *p = (uint64_t *)(scratch_va() + 3 * 4096);
    uint64_t mfn = mfn_of((uint64_t)p), other = scratch_va() + 4 * 4096;
    memset(p, 0, 4096);                                  /* an empty L1 table */
    int64_t a = hc(PV_HC_mmuext_op, PV_MMUEXT_PIN_L1, mfn, 0);   /* still writable */
    int64_t ro = mmu_update(l1_entry_ma((uint64_t)p), (mfn << 12) | 1);
    int64_t b = hc(PV_HC_mmuext_op, PV_MMUEXT_PIN_L1, mfn, 0);
    int64_t c = mmu_update(l1_entry_ma(other), (mfn << 12) | 3);  /* pinned: no RW */
    int64_t d = hc(PV_HC_mmuext_op, PV_MMUEXT_UNPIN, mfn, 0);
    int64_t e = mmu_update(l1_entry_ma(other), (mfn << 12) | 3);  /* free again */
    int64_t f = hc(PV_HC_mmuext_op, PV_MMUEXT_PIN_L1, mfn, 0);
    int64_t g = mmu_update(l1_entry_ma(other), 0);
    int64_t h = hc(PV_HC_mmuext_op, PV_MMUEXT_PIN_L1, mfn, 0);
    say("hostile: refcount: pin while writable %s, pin after read-only %s, writable while "
        "pinned %s, writable after unpin %s, pin while writable %s, pin after unmap %s\n",
        a < 0 ? "refused" : "ACCEPTED", b == 0 ? "ok" : "REFUSED", c < 0 ? "refused" : "ACCEPTED",
        e == 1 ? "ok" : "REFUSED", f < 0 ? "refused" : "ACCEPTED", h == 0 ? "ok" : "REFUSED");
    finish(a < 0 && ro == 1 && b == 0 && c < 0 && d == 0 && e == 1 && f < 0 && g == 1 && h == 0,
           "refcount");
}

static void case_bad_iret(void)
{
    uint64_t frame[6] = { 0, 0x8000000000000000ULL, PV_KERNEL_CS, 0x202,
                          (uint64_t)kstack + sizeof kstack, PV_DS };
    say("hostile: bad_iret: iret to %lx\n", frame[1]);
    __asm__ volatile("movq %0, %%rsp; movl $6, %%eax; int $0x82" : : "r"(frame) : "memory");
}

static void cpuid(bool forced, uint32_t leaf, uint32_t r[4])
{
    if (forced)
        __asm__ volatile(PV_FORCED_CPUID : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(0));
    else
        __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(0));
}

static void case_cpuid(void)
{
    uint32_t sig[4], f1[4], x1[4], p1[4], px[4];
    char name[13];
    cpuid(true, 0x40000000, sig);
    cpuid(true, 1, f1);
    cpuid(true, 0x80000001, x1);
    cpuid(false, 1, p1);
    cpuid(false, 0x80000001, px);
    memcpy(name, &sig[1], 12);
    name[12] = 0;
    say("hostile: cpuid: forced: leaf 0x40000000 \"%s\", hypervisor bit %u, vmx %u, svm %u\n",
        name, f1[2] >> 31, f1[2] >> 5 & 1, x1[2] >> 2 & 1);
    say("hostile: cpuid: plain (unfiltered host view): hypervisor bit %u, svm %u\n",
        p1[2] >> 31, px[2] >> 2 & 1);
    bool ok = !memcmp(name, "NesthvNesthv", 12) && (f1[2] >> 31) && !(f1[2] >> 5 & 1) &&
              !(x1[2] >> 2 & 1);
    finish_check(ok, "cpuid");
}

static void case_evtchn(void)
{
    static struct pv_trap_info ev[2];
    for (const struct trap_gate *g = guest_trap_stubs; g->vector != (uint64_t)-1; g++)
        if (g->vector == PV_EVENT_VECTOR)
            ev[0] = (struct pv_trap_info){ PV_EVENT_VECTOR, PV_TI_MASK_EVENTS, PV_KERNEL_CS, 0,
                                           g->handler };
    hc(PV_HC_set_trap_table, (uint64_t)ev, 0, 0);
    shared->vcpu.upcall_mask = 1;
    int64_t a = hc(PV_HC_event_channel_op, PV_EVTCHN_send, 2, 0);
    bool held = upcalls == 0 && (shared->evtchn_pending & 4);
    shared->vcpu.upcall_mask = 0;        /* like STI; delivered at the next exit */
    hc(PV_HC_sched_op, PV_SCHED_yield, 0, 0);
    bool got = upcalls == 1 && (upcall_ports & 4);
    int64_t b = hc(PV_HC_event_channel_op, PV_EVTCHN_send, 64, 0);
    hc(PV_HC_set_timer, 10, 0, 0);
    hc(PV_HC_sched_op, PV_SCHED_block, 0, 0);
    bool timer = upcalls >= 2 && (upcall_ports & (1u << PV_PORT_TIMER));
    say("hostile: evtchn: send %s, held while masked %s, upcall %s, bad port %s, timer %s\n",
        a == 0 ? "ok" : "FAILED", held ? "yes" : "NO", got ? "yes" : "NO",
        b == -PV_EINVAL ? "refused" : "ACCEPTED", timer ? "woke block" : "NO");
    finish_check(a == 0 && held && got && b == -PV_EINVAL && timer, "evtchn");
}

static const struct { const char *name; void (*fn)(void); } cases[] = {
    { "bad_stack", case_bad_stack }, { "evtchn", case_evtchn },
    { "self_map", case_self_map }, { "refcount", case_refcount }, { "bad_iret", case_bad_iret },
    { "cpuid", case_cpuid },
    { "pt_write", case_pt_write }, { "pt_map_rw", case_pt_map_rw },
    { "map_hv", case_map_hv }, { "map_foreign", case_map_foreign },
    { "bad_cr3", case_bad_cr3 }, { "priv_kernel", case_priv_kernel },
    { "priv_user", case_priv_user }, { "hc_bad_ptr", case_hc_bad_ptr },
    { "hc_bad_nr", case_hc_bad_nr }, { "hc_flood", case_hc_flood },
};

void hostile_main(struct pv_start_info *start);
void hostile_main(struct pv_start_info *start)
{
    si = start;
    shared = (struct pv_shared_info *)si->shared_info;
    say("hostile: command line \"%s\"\n", si->cmdline);
    static struct pv_trap_info traps[8];
    const uint64_t vecs[] = { 13, 14, 0x80 };
    for (unsigned i = 0; i < 3; i++)
        for (const struct trap_gate *g = guest_trap_stubs; g->vector != (uint64_t)-1; g++)
            if (g->vector == vecs[i])
                traps[i] = (struct pv_trap_info){ (uint8_t)g->vector, (uint8_t)(g->dpl | 4),
                                                  PV_KERNEL_CS, 0, g->handler };
    hc(PV_HC_set_trap_table, (uint64_t)traps, 0, 0);
    hc(PV_HC_stack_switch, PV_DS, (uint64_t)kstack + sizeof kstack, 0);
    if (fs_cmdline_has(si->cmdline, "case=no_handler")) {
        say("hostile: no_handler: executing ud2 with no #UD handler\n");
        __asm__ volatile("ud2");
    }
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[32] = "case=";
        memcpy(want + 5, cases[i].name, strlen(cases[i].name) + 1);
        if (fs_cmdline_has(si->cmdline, want)) {
            say("hostile: case %s\n", cases[i].name);
            cases[i].fn();
        }
    }
    say("hostile: no known case= on the command line\n");
    hc(PV_HC_shutdown, 2, 0, 0);
}
