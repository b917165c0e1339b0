/* pv_hcall.c - the hypercalls of the PV ABI (pv/include/nestpv.h).
 *
 * A hypercall is INT 0x82 from the guest kernel: pv_run turned it into
 * HV_EXIT_HYPERCALL, the common loop called pv_hypercall, and here the
 * number in rax picks a handler from one table.  Arguments come in rdi, rsi
 * and rdx; the result goes back in rax (negative = -errno).
 *
 * Every handler treats its arguments as hostile: numbers are range-checked,
 * guest pointers go through pv_copy_from_guest (a software page walk that
 * refuses upper-half and unmapped addresses), and page-table changes go
 * through the validation of pv_mm.c.  Each refusal prints one line starting
 * "nesthv: refused:" that names what was refused, so the hostile test suite
 * (and a student) can see exactly which check fired.
 */
#include "pv.h"

#define CONSOLE_WRITES_PER_TICK 256

typedef int64_t (*pv_hc_fn)(struct hv_vcpu *v, uint64_t a1, uint64_t a2, uint64_t a3);

static int64_t refuse(int64_t err, const char *what, uint64_t arg)
{
    hv_printf("nesthv: refused: %s (%lx)\n", what, arg);
    return err;
}

static int64_t hc_console_write(struct hv_vcpu *v, uint64_t buf, uint64_t len, uint64_t a3)
{
    /* LAB 2: BEGIN task 1: console_write - copy the guest's bytes safely, limit the rate
    (void)v, (void)buf, (void)len, (void)a3;
    return -PV_ENOSYS;
    */
    struct pv_domain *d = v->pv;
    char chunk[128];
    (void)a3;
    if (++d->console_writes_this_tick > CONSOLE_WRITES_PER_TICK) {
        if (!d->console_flood_logged)
            hv_printf("nesthv: refused: console_write flood (more than %u writes in one "
                      "tick); dropping output, -EBUSY\n", CONSOLE_WRITES_PER_TICK);
        d->console_flood_logged = true;
        return -PV_EBUSY;
    }
    if (len > 65536)
        return refuse(-PV_EINVAL, "console_write: length too large", len);
    for (uint64_t done = 0; done < len; done += sizeof chunk) {
        uint64_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        if (pv_copy_from_guest(v, chunk, buf + done, n)) {
            hv_printf("nesthv: refused: console_write buffer %lx: %s\n", buf + done,
                      pv_copy_error());
            return -PV_EFAULT;
        }
        hv_write(chunk, n);
    }
    return (int64_t)len;
    /* LAB 2: END */
}

static int64_t hc_set_trap_table(struct hv_vcpu *v, uint64_t table, uint64_t a2, uint64_t a3)
{
    struct pv_trap_info ti;
    (void)a2, (void)a3;
    for (unsigned i = 0; i < 256; i++) {
        if (pv_copy_from_guest(v, &ti, table + i * sizeof ti, sizeof ti)) {
            hv_printf("nesthv: refused: set_trap_table at %lx: %s\n", table + i * sizeof ti,
                      pv_copy_error());
            return -PV_EFAULT;
        }
        if (!ti.address)
            return 0;
        if (ti.address >= 0x0000800000000000ULL || (ti.cs && ti.cs != PV_KERNEL_CS))
            return refuse(-PV_EINVAL, "set_trap_table: handler outside the guest", ti.address);
        ti.cs = PV_KERNEL_CS;
        v->pv->traps[ti.vector] = ti;
    }
    return 0;
}

static int64_t hc_mmu_update(struct hv_vcpu *v, uint64_t reqs, uint64_t count, uint64_t a3)
{
    struct pv_mmu_update req;
    (void)a3;
    if (count > 4096)
        return refuse(-PV_EINVAL, "mmu_update: count too large", count);
    for (uint64_t i = 0; i < count; i++) {
        if (pv_copy_from_guest(v, &req, reqs + i * sizeof req, sizeof req)) {
            hv_printf("nesthv: refused: mmu_update request at %lx: %s\n",
                      reqs + i * sizeof req, pv_copy_error());
            return -PV_EFAULT;
        }
        int rc = pv_mmu_update(v, req.ptr, req.val);
        if (rc)
            return rc;
    }
    return (int64_t)count;
}

static int64_t hc_mmuext_op(struct hv_vcpu *v, uint64_t op, uint64_t mfn, uint64_t a3)
{
    struct pv_page *pg = pv_page(mfn);
    (void)v, (void)a3;
    if (!pg || pg->owner != PV_OWNER_GUEST)
        return refuse(-PV_EPERM, "mmuext_op on a frame that is not the guest's", mfn);
    if (op >= PV_MMUEXT_PIN_L1 && op <= PV_MMUEXT_PIN_L4) {
        if (pg->pinned)
            return refuse(-PV_EINVAL, "mmuext_op: frame already pinned", mfn);
        int rc = pv_get_type(mfn, (unsigned)op);
        if (rc)
            return rc;
        pg->pinned = 1;
        return 0;
    }
    if (op == PV_MMUEXT_UNPIN) {
        if (!pg->pinned)
            return refuse(-PV_EINVAL, "mmuext_op: unpin of a frame not pinned", mfn);
        pg->pinned = 0;
        pv_put_type(mfn);
        return 0;
    }
    return refuse(-PV_EINVAL, "mmuext_op: unknown operation", op);
}

static int64_t hc_new_baseptr(struct hv_vcpu *v, uint64_t which, uint64_t mfn, uint64_t a3)
{
    struct pv_domain *d = v->pv;
    (void)a3;
    if (which != PV_BASEPTR_KERNEL && which != PV_BASEPTR_USER)
        return refuse(-PV_EINVAL, "new_baseptr: neither kernel nor user", which);
    if (pv_get_type(mfn, PGT_L4)) {
        hv_printf("nesthv: refused: new_baseptr: mfn %lx is not a valid L4 page table\n", mfn);
        return -PV_EINVAL;
    }
    uint64_t *slot = which == PV_BASEPTR_KERNEL ? &d->kernel_l4 : &d->user_l4;
    uint64_t old = *slot;
    *slot = mfn;
    if (old)
        pv_put_type(old);
    pv_load_cr3(v);
    return 0;
}

static int64_t hc_stack_switch(struct hv_vcpu *v, uint64_t ss, uint64_t sp, uint64_t a3)
{
    (void)a3;
    if (ss != PV_DS || sp >= 0x0000800000000000ULL)
        return refuse(-PV_EINVAL, "stack_switch: bad stack", sp);
    v->pv->kernel_sp = sp;
    return 0;
}

/* The frame is described in nestpv.h: rax rip cs rflags rsp ss. */
static int64_t hc_iret(struct hv_vcpu *v, uint64_t a1, uint64_t a2, uint64_t a3)
{
    struct pv_domain *d = v->pv;
    struct hv_regs *r = v->regs;
    uint64_t f[6];
    (void)a1, (void)a2, (void)a3;
    if (pv_copy_from_guest(v, f, r->rsp, sizeof f)) {
        hv_guest_crash(v, "iret: frame at %lx unreadable (%s)", r->rsp, pv_copy_error());
        return 0;
    }
    if (f[2] != PV_KERNEL_CS && f[2] != PV_USER_CS) {
        hv_guest_crash(v, "iret: bad code selector %lx", f[2]);
        return 0;
    }
    if (f[1] >= 0x0000800000000000ULL) {
        /* IRETQ to a non-canonical RIP would fault in ring 0, inside nesthv
         * (SDM Vol. 2A, IRET: "IF RIP is not canonical THEN #GP(0)"), and an
         * upper-half RIP is nesthv's anyway. */
        hv_guest_crash(v, "iret: return address %lx outside the guest half", f[1]);
        return 0;
    }
    if (f[2] == PV_USER_CS && !d->user_l4) {
        hv_guest_crash(v, "iret to user mode without a user page table");
        return 0;
    }
    r->rip = f[1];
    r->cs = f[2];
    r->rsp = f[4];
    r->ss = PV_DS;
    r->rflags = (f[3] & 0xcd5) | HV_RFLAGS_IF | 2;   /* arithmetic flags + DF only */
    d->shared->vcpu.upcall_mask = !(f[3] & HV_RFLAGS_IF);
    if (d->user_mode != (f[2] == PV_USER_CS)) {
        d->user_mode = f[2] == PV_USER_CS;
        pv_load_cr3(v);
    }
    return (int64_t)f[0];                 /* becomes rax */
}

static int64_t hc_set_timer(struct hv_vcpu *v, uint64_t ms, uint64_t a2, uint64_t a3)
{
    /* LAB 2: BEGIN task 3: set_timer - a periodic virtual timer in 10 ms ticks
    (void)v, (void)ms, (void)a2, (void)a3;
    return -PV_ENOSYS;
    */
    struct pv_domain *d = v->pv;
    (void)a2, (void)a3;
    d->timer_period = (ms + 9) / 10;      /* in 10 ms ticks, rounded up */
    d->timer_next = d->shared->ticks + d->timer_period;
    return 0;
    /* LAB 2: END */
}

static int64_t hc_sched_op(struct hv_vcpu *v, uint64_t cmd, uint64_t a2, uint64_t a3)
{
    struct pv_vcpu_info *vi = &v->pv->shared->vcpu;
    (void)a2, (void)a3;
    if (cmd == PV_SCHED_yield)
        return 0;
    if (cmd != PV_SCHED_block)
        return refuse(-PV_EINVAL, "sched_op: unknown command", cmd);
    if (!v->pv->timer_period && !vi->upcall_pending)
        return refuse(-PV_EINVAL, "sched_op block with no timer and nothing pending", cmd);
    vi->upcall_mask = 0;                  /* Xen's SCHEDOP_block enables events */
    while (!vi->upcall_pending)
        hv_sti_hlt_cli();                 /* the timer tick runs in hv_trap_ring0 */
    return 0;
}

static int64_t hc_event_channel_op(struct hv_vcpu *v, uint64_t cmd, uint64_t port, uint64_t a3)
{
    /* LAB 2: BEGIN task 4: event_channel_op - send an event to a port
    (void)v, (void)cmd, (void)port, (void)a3;
    return -PV_ENOSYS;
    */
    (void)a3;
    if (cmd != PV_EVTCHN_send)
        return refuse(-PV_EINVAL, "event_channel_op: unknown command", cmd);
    if (port == 0 || port >= PV_NR_PORTS)
        return refuse(-PV_EINVAL, "event_channel_op: no such port", port);
    pv_set_event(v, (unsigned)port);
    return 0;
    /* LAB 2: END */
}

static int64_t hc_shutdown(struct hv_vcpu *v, uint64_t status, uint64_t a2, uint64_t a3)
{
    (void)a2, (void)a3;
    hv_printf("nesthv: guest requested shutdown, status %lu\n", status);
    v->exit_status = status > 14 ? 14 : (int)status;
    v->state = HV_VCPU_SHUTDOWN;
    return 0;
}

static const struct { const char *name; pv_hc_fn fn; } hypercalls[PV_NR_HYPERCALLS] = {
    [PV_HC_console_write] = { "console_write", hc_console_write },
    [PV_HC_set_trap_table] = { "set_trap_table", hc_set_trap_table },
    [PV_HC_mmu_update] = { "mmu_update", hc_mmu_update },
    [PV_HC_mmuext_op] = { "mmuext_op", hc_mmuext_op },
    [PV_HC_new_baseptr] = { "new_baseptr", hc_new_baseptr },
    [PV_HC_stack_switch] = { "stack_switch", hc_stack_switch },
    [PV_HC_iret] = { "iret", hc_iret },
    [PV_HC_set_timer] = { "set_timer", hc_set_timer },
    [PV_HC_sched_op] = { "sched_op", hc_sched_op },
    [PV_HC_event_channel_op] = { "event_channel_op", hc_event_channel_op },
    [PV_HC_shutdown] = { "shutdown", hc_shutdown },
};

const char *pv_hypercall_name(uint64_t nr)
{
    return nr < PV_NR_HYPERCALLS ? hypercalls[nr].name : "(unknown)";
}

void pv_hypercall(struct hv_vcpu *v)
{
    struct hv_regs *r = v->regs;
    uint64_t nr = r->rax;
    if (nr >= PV_NR_HYPERCALLS) {
        hv_printf("nesthv: refused: hypercall %ld (unknown number); -ENOSYS\n", (int64_t)nr);
        r->rax = (uint64_t)-PV_ENOSYS;
        return;
    }
    r->rax = (uint64_t)hypercalls[nr].fn(v, r->rdi, r->rsi, r->rdx);
}
