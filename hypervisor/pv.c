/* pv.c - the PV backend: run a guest kernel in ring 3, turn its traps into
 * exits, and bounce events back into it.
 *
 * "Running" a PV guest is returning to ring 3 (hv_enter_guest, entry.S); the
 * next trap from ring 3 is the exit.  pv_run translates it:
 *
 *   INT 0x82 (guest kernel)      -> HV_EXIT_HYPERCALL
 *   INT 0x82 (guest user)        -> refused, #GP for the guest kernel
 *   INT 0x80                     -> HV_EXIT_SOFTINT (a guest system call)
 *   APIC timer                   -> HV_EXIT_INTERRUPT
 *   #GP on a privileged insn     -> HV_EXIT_HLT / IO / MSR / CR / PRIV
 *   any other exception          -> HV_EXIT_EXCEPTION
 *
 * The reverse direction - making the guest kernel see a trap - is
 * pv_inject, Xen's create_bounce_frame (xen/arch/x86/x86_64/entry.S):
 * switch the guest to kernel mode (kernel page table, kernel stack), push a
 * hardware-shaped frame on that stack, and continue at the handler the
 * guest registered with set_trap_table.  The frame layout is in nestpv.h.
 */
#include "pv.h"

#define RFLAGS_TF (1u << 8)
#define RFLAGS_NT (1u << 14)
#define RFLAGS_RF (1u << 16)

bool pv_in_user_mode(struct hv_vcpu *v) { return v->pv && v->pv->user_mode; }

void pv_load_cr3(struct hv_vcpu *v)
{
    struct pv_domain *d = v->pv;
    hv_write_cr3((d->user_mode ? d->user_l4 : d->kernel_l4) << 12);
}

void pv_set_event(struct hv_vcpu *v, unsigned port)
{
    struct pv_shared_info *s = v->pv->shared;
    s->evtchn_pending |= 1ULL << port;
    if (!(s->evtchn_mask >> port & 1))
        s->vcpu.upcall_pending = 1;
}

void pv_timer_tick(struct hv_vcpu *v)
{
    struct pv_domain *d = v->pv;
    d->shared->ticks++;
    d->console_writes_this_tick = 0;
    if (d->timer_period && d->shared->ticks >= d->timer_next) {
        d->timer_next += d->timer_period;
        pv_set_event(v, PV_PORT_TIMER);
    }
}

/* Name the privileged instruction at the guest's RIP (the #GP it raised in
 * ring 3, SDM 3A 5.9 "Privileged Instructions"); false if it is none. */
static bool decode_privileged(struct hv_vcpu *v, struct hv_exit *e)
{
    uint8_t b[4] = { 0 };
    if (pv_copy_from_guest(v, b, v->regs->rip, 4) && pv_copy_from_guest(v, b, v->regs->rip, 1))
        return false;
    unsigned rex = (b[0] & 0xf0) == 0x40 ? b[0] : 0, o = rex ? 1 : 0;
    uint8_t op = b[o], op2 = b[o + 1], modrm = b[o + 2];
    e->kind = HV_EXIT_PRIV;
    switch (op) {
    case 0xf4: e->kind = HV_EXIT_HLT; e->insn = "hlt"; return true;
    case 0xfa: e->insn = "cli"; return true;
    case 0xfb: e->insn = "sti"; return true;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        e->kind = HV_EXIT_IO;
        e->is_write = op & 2;
        e->size = (op & 1) ? 4 : 1;
        e->port = (op & 8) ? (v->regs->rdx & 0xffff) : op2;
        e->insn = e->is_write ? "out" : "in";
        return true;
    }
    if (op != 0x0f)
        return false;
    switch (op2) {
    case 0x20: case 0x22:
        e->kind = HV_EXIT_CR;
        e->cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
        e->is_write = op2 == 0x22;
        e->insn = e->is_write ? "mov to cr" : "mov from cr";
        return true;
    case 0x30: case 0x32:
        e->kind = HV_EXIT_MSR;
        e->msr = (uint32_t)v->regs->rcx;
        e->is_write = op2 == 0x30;
        e->insn = e->is_write ? "wrmsr" : "rdmsr";
        return true;
    case 0x01: {
        static const char *const grp7[8] = { "sgdt", "sidt", "lgdt", "lidt",
                                             "smsw", "0f 01 /5", "lmsw", "invlpg" };
        e->insn = modrm == 0xf8 ? "swapgs" : grp7[(modrm >> 3) & 7];
        return true;
    }
    case 0x00: e->insn = ((modrm >> 3) & 7) == 3 ? "ltr" : "lldt"; return true;
    case 0x06: e->insn = "clts"; return true;
    case 0x08: e->insn = "invd"; return true;
    case 0x09: e->insn = "wbinvd"; return true;
    }
    return false;
}

static bool vector_has_error(unsigned vec)
{
    return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
}

static void pv_run(struct hv_vcpu *v, struct hv_exit *e)
{
    struct hv_regs *r = hv_enter_guest(v->regs);
    unsigned vec = (unsigned)r->vector;
    v->regs = r;
    memset(e, 0, sizeof *e);
    e->vector = vec;
    if (vec == PV_HYPERCALL_VECTOR && !v->pv->user_mode) {
        e->kind = HV_EXIT_HYPERCALL;
    } else if (vec == PV_HYPERCALL_VECTOR) {
        hv_printf("nesthv: refused: hypercall %lu from guest user mode at rip %lx; "
                  "#GP reflected\n", r->rax, r->rip);
        r->rip -= 2;                       /* a fault points at the INT */
        *e = (struct hv_exit){ .kind = HV_EXIT_EXCEPTION, .vector = 13, .has_error = true,
                               .error = PV_HYPERCALL_VECTOR * 8 + 2 };
    } else if (vec == PV_SYSCALL_VECTOR) {
        e->kind = HV_EXIT_SOFTINT;
    } else if (vec == HV_VEC_TIMER || vec == HV_VEC_SPURIOUS) {
        e->kind = HV_EXIT_INTERRUPT;
    } else if (vec == 13 && r->error == 0 && decode_privileged(v, e)) {
        /* e filled in by decode_privileged */
    } else {
        e->kind = HV_EXIT_EXCEPTION;
        e->has_error = vector_has_error(vec);
        e->error = r->error;
        if (vec == 14) {
            e->cr2 = hv_read_cr2();
            v->pv->shared->vcpu.cr2 = e->cr2;
            int t = pv_leaf_type(v, e->cr2);
            if (e->cr2 >= 0x0000800000000000ULL)
                hv_printf("nesthv: refused: guest access to hypervisor memory at %lx "
                          "(rip %lx); #PF reflected\n", e->cr2, r->rip);
            else if ((e->error & 3) == 3 && t >= PGT_L1 && t <= PGT_L4)
                hv_printf("nesthv: refused: guest write to its %s page table at %lx "
                          "(mapped read-only); #PF reflected\n", pv_type_name(t), e->cr2);
        }
    }
}

/* Bounce 'vector' to the guest kernel's handler (create_bounce_frame). */
static void pv_inject(struct hv_vcpu *v, unsigned vector, bool has_error, uint64_t error)
{
    struct pv_domain *d = v->pv;
    struct hv_regs *r = v->regs;
    const struct pv_trap_info *ti = &d->traps[vector & 0xff];
    if (!ti->address) {
        hv_guest_crash(v, "%s at rip %lx, but no handler registered for vector %u",
                       hv_vector_name(vector), r->rip, vector);
        return;
    }
    uint64_t vflags = (r->rflags & ~(uint64_t)HV_RFLAGS_IF)
                    | (d->shared->vcpu.upcall_mask ? 0 : HV_RFLAGS_IF);
    uint64_t frame[6], n = 0, sp;
    if (has_error)
        frame[n++] = error;
    frame[n++] = r->rip;
    frame[n++] = r->cs;
    frame[n++] = vflags;
    frame[n++] = r->rsp;
    frame[n++] = r->ss;
    if (d->user_mode) {                   /* user -> kernel: switch tables, stack */
        d->user_mode = false;
        pv_load_cr3(v);
        sp = d->kernel_sp;
    } else {
        sp = r->rsp;
    }
    sp = (sp & ~15ULL) - n * 8;
    if (!sp || pv_copy_to_guest(v, sp, frame, n * 8)) {
        hv_guest_crash(v, "cannot push the bounce frame for vector %u at %lx (%s)",
                       vector, sp, sp ? pv_copy_error() : "no kernel stack");
        return;
    }
    r->rip = ti->address;
    r->cs = PV_KERNEL_CS;
    r->ss = PV_DS;
    r->rsp = sp;
    r->rflags = (r->rflags & ~(uint64_t)(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF)) | HV_RFLAGS_IF;
    if ((ti->flags & PV_TI_MASK_EVENTS) || vector == PV_EVENT_VECTOR)
        d->shared->vcpu.upcall_mask = 1;
}

static void pv_deliver_events(struct hv_vcpu *v)
{
    struct pv_vcpu_info *vi = &v->pv->shared->vcpu;
    if (vi->upcall_pending && !vi->upcall_mask)
        pv_inject(v, PV_EVENT_VECTOR, false, 0);
}

static uint64_t text_sum(void)
{
    uint64_t s = 0;
    for (const uint64_t *p = (const uint64_t *)__hv_load_start; p < (const uint64_t *)__hv_ro_end; p++)
        s = (s << 7 | s >> 57) ^ *p;
    return s;
}

void pv_integrity_check(struct hv_vcpu *v)
{
    bool text_ok = text_sum() == v->pv->hv_text_sum;
    bool inv_ok = pv_check_invariants();
    hv_printf("nesthv: integrity check: hypervisor text %s, page-table invariant %s\n",
              text_ok ? "unchanged" : "CHANGED", inv_ok ? "holds" : "BROKEN");
    if (!text_ok || !inv_ok)
        hv_panic("integrity check failed");
}

static void pv_create(struct hv_vcpu *v, const struct hv_module *m)
{
    pv_build_domain(v, m);
    v->pv->hv_text_sum = text_sum();
    pv_load_cr3(v);
}

static bool pv_cpu_has(void) { return true; }

const struct hv_backend hv_backend_pv = {
    .name = "pv",
    .cpu_has = pv_cpu_has,
    .built = true,
    .create = pv_create,
    .run = pv_run,
    .inject = pv_inject,
    .deliver_events = pv_deliver_events,
    .hypercall = pv_hypercall,
};
