/* vcpu.c - the common vCPU loop and one handler per exit kind.
 *
 * This is the part that does not care how the guest is run.  The backend
 * turns its own exits into struct hv_exit (hv_vcpu.h); the handlers here
 * decide what happens, and ask the backend only for the mechanics: inject
 * an exception, deliver pending virtual interrupts, run a hypercall.
 *
 * Policy for privileged instructions: a PV guest has promised (by using the
 * PV ABI) to ask with hypercalls, so HLT, I/O, MSR and CR accesses are
 * refused with a log line and the #GP the hardware raised is reflected to
 * the guest, as Xen does for operations it does not emulate.  A VMX/SVM
 * guest runs unmodified and believes it owns the machine, so the same exits
 * are emulated instead: HLT waits for the next virtual interrupt, I/O and
 * MMIO reach the virtual PC (hvm_dev.c), MSR and CR writes update the
 * guest's control state (hvm.h), which the backend loads into the VMCS or
 * VMCB before the next entry.
 */
#include "hv_vcpu.h"
#include "hvm.h"
#include "pv.h"

#define GP_VECTOR 13

static const char *const exit_names[HV_EXIT_NR_KINDS] = {
    "hypercall", "exception", "software interrupt", "interrupt", "cpuid", "hlt",
    "i/o", "msr", "cr access", "privileged instruction", "nested page fault",
    "interrupt window", "triple fault", "vm entry failure", "invlpg",
    "nested svm",
};

const char *hv_exit_name(enum hv_exit_kind k)
{
    return k < HV_EXIT_NR_KINDS ? exit_names[k] : "?";
}

struct hv_pcpu hv_pcpu;

/* One tick of the local APIC timer (10 ms), in guest or in nesthv. */
void hv_timer_tick(void)
{
    hv_ticks++;
    struct hv_vcpu *v = hv_pcpu.running;
    if (v && v->pv)
        pv_timer_tick(v);
    if (v && v->hvm)
        hvm_timer_tick(v);
}

void hv_guest_crash(struct hv_vcpu *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_printf("nesthv: guest crashed: ");
    hv_vprintf(fmt, ap);
    hv_printf("\n");
    va_end(ap);
    v->state = HV_VCPU_CRASHED;
}

static const char *mode_name(struct hv_vcpu *v)
{
    if (v->hvm)
        return v->hvm->cpl == 3 ? "user" : "kernel";
    return pv_in_user_mode(v) ? "user" : "kernel";
}

#define UD_VECTOR 6

/* HLT (SDM Vol. 2A): wait for the next interrupt.  With RFLAGS.IF = 0 none
 * can come, so the guest has stopped for good: say so rather than hang. */
static void handle_hlt(struct hv_vcpu *v, const struct hv_exit *e)
{
    v->regs->rip += e->insn_len;
    if (!(v->regs->rflags & HV_RFLAGS_IF)) {
        hv_guest_crash(v, "hlt with interrupts disabled at rip %lx", v->regs->rip - e->insn_len);
        return;
    }
    if (!v->hvm->lapic.irr && !v->hvm->lapic.period_ticks) {
        hv_guest_crash(v, "hlt at rip %lx with no interrupt source (APIC timer off)",
                       v->regs->rip - e->insn_len);
        return;
    }
    while (!v->hvm->lapic.irr)
        hv_sti_hlt_cli();
}

/* IN/OUT to the virtual PC; a port with nothing behind it reads all ones. */
static void handle_io(struct hv_vcpu *v, const struct hv_exit *e)
{
    uint64_t mask = e->size == 4 ? 0xffffffffULL : (1ULL << (8 * e->size)) - 1;
    uint32_t val = (uint32_t)(v->regs->rax & mask);
    if (e->is_string) {
        hv_guest_crash(v, "string I/O (ins/outs) on port %x is not emulated", e->port);
        return;
    }
    if (!hvm_io(v, e->port, e->size, e->is_write, &val) && !e->is_write)
        val = (uint32_t)mask;
    if (!e->is_write)    /* IN: AL/AX keep the rest of RAX, EAX zero-extends */
        v->regs->rax = e->size == 4 ? val : (v->regs->rax & ~mask) | (val & mask);
    v->regs->rip += e->insn_len;
}

/* nested=1: the MSRs of SVM (APM Vol. 2 15.30): VM_CR with SVMDIS clear
 * (and no lock), VM_HSAVE_PA remembered. */
static bool handle_svm_msr(struct hv_vcpu *v, const struct hv_exit *e, uint64_t *val)
{
    if (e->msr == 0xc0010114) {                    /* VM_CR */
        if (!e->is_write)
            *val = 0;
        return true;
    }
    if (e->msr == 0xc0010117) {                    /* VM_HSAVE_PA */
        if (e->is_write)
            v->hvm->hsave_pa = *val;
        else
            *val = v->hvm->hsave_pa;
        return true;
    }
    return false;
}

/* RDMSR/WRMSR (ecx = MSR, edx:eax = value).  The MSR bitmaps send nesthv
 * every MSR but the segment bases; EFER and the APIC base are the guest's
 * own, anything else is an MSR this virtual CPU lacks: #GP, as on hardware. */
static void handle_msr(struct hv_vcpu *v, const struct hv_exit *e)
{
    struct hv_regs *r = v->regs;
    struct hvm_guest *g = v->hvm;
    uint64_t val = (r->rdx << 32) | (uint32_t)r->rax;
    if (g->nested_svm && handle_svm_msr(v, e, &val)) {
        ;
    } else if (e->msr == MSR_EFER && e->is_write) {
        uint64_t svme = g->nested_svm ? 1ULL << 12 : 0;
        if (val & ~(1ULL | EFER_LME | EFER_LMA | (1ULL << 11) | svme)) {
            v->backend->inject(v, GP_VECTOR, true, 0);
            return;
        }
        g->efer = (val & ~EFER_LMA) | (g->efer & EFER_LMA);
        g->ctl_dirty = true;
    } else if (e->msr == MSR_EFER) {
        val = g->efer;
    } else if (e->msr == 0x1b && !e->is_write) {
        val = HVM_LAPIC_GPA | (1 << 11) | (1 << 8);   /* enabled, bootstrap CPU */
    } else if (e->msr != 0x1b) {
        hv_printf("nesthv: %s of msr %x: not in this virtual CPU, #GP\n", e->insn, e->msr);
        v->backend->inject(v, GP_VECTOR, true, 0);
        return;
    }
    if (!e->is_write)
        r->rax = (uint32_t)val, r->rdx = val >> 32;
    r->rip += e->insn_len;
}

/* MOV to CR0 with EFER.LME set turns paging on in long mode: the CPU sets
 * EFER.LMA (SDM 3A 10.8.5); since every CR0 write exits, nesthv does it. */
static bool write_cr(struct hv_vcpu *v, unsigned cr, uint64_t val)
{
    struct hvm_guest *g = v->hvm;
    if (cr == 0) {
        if ((val & CR0_PG) && !(val & CR0_PE))
            return false;
        if ((val & CR0_PG) && (g->efer & EFER_LME) && !(g->cr4 & CR4_PAE))
            return false;
        if ((val & CR0_PG) && (g->efer & EFER_LME))
            g->efer |= EFER_LMA;
        else if (!(val & CR0_PG))
            g->efer &= ~EFER_LMA;
        g->cr0 = val;
    } else if (cr == 4) {
        g->cr4 = val;
    } else if (cr == 3) {
        g->cr3 = val;
    } else {
        return false;
    }
    g->ctl_dirty = true;
    return true;
}

static void handle_cr(struct hv_vcpu *v, const struct hv_exit *e)
{
    struct hvm_guest *g = v->hvm;
    struct hvm_insn d = { .op = e->is_write ? HVM_MOV_TO_CR : HVM_MOV_FROM_CR,
                          .cr = e->cr, .reg = (unsigned)e->gpr, .len = e->insn_len };
    const char *why = "";
    if (e->gpr < 0 && (!hvm_decode(v, &d, &why) || d.cr != e->cr)) {
        hv_guest_crash(v, "cr%u access at rip %lx: %s", e->cr, v->regs->rip, why);
        return;
    }
    uint64_t *reg = hvm_gpr(v, d.reg);
    uint64_t mask = g->long_mode ? ~0ULL : 0xffffffffULL;
    if (d.op == HVM_MOV_TO_CR) {
        if (!write_cr(v, e->cr, *reg & mask)) {
            v->backend->inject(v, GP_VECTOR, true, 0);
            return;
        }
    } else {
        *reg = (e->cr == 0 ? g->cr0 : e->cr == 4 ? g->cr4 : g->cr3) & mask;
    }
    v->regs->rip += d.len;
}

/* A guest-physical address that is not RAM: the local APIC page is MMIO,
 * emulated by decoding the instruction (hvm_insn.c); anything else is a
 * guest bug nesthv reports. */
static void handle_npf(struct hv_vcpu *v, const struct hv_exit *e)
{
    struct hvm_insn d;
    const char *why = "no device at this guest-physical address";
    uint32_t val;
    if ((e->gpa & ~0xfffULL) == HVM_LAPIC_GPA && hvm_decode(v, &d, &why) && d.size == 4 &&
        d.op >= HVM_STORE) {
        uint64_t *reg = hvm_gpr(v, d.reg);
        val = d.op == HVM_STORE_IMM ? (uint32_t)d.imm : (uint32_t)*reg;
        if (hvm_lapic_access(v, e->gpa & 0xfff, d.op != HVM_LOAD, &val)) {
            if (d.op == HVM_LOAD)
                *reg = val;
            v->regs->rip += d.len;
            return;
        }
        why = "a local APIC register nesthv does not model";
    }
    hv_guest_crash(v, "nested page fault at guest-physical %lx (%s), rip %lx: %s", e->gpa,
                   e->is_write ? "write" : "read", v->regs->rip, why);
}

/* Shadow paging (shadow.c): a #PF exit is nesthv's (the shadow lacked the
 * entry: filled, the guest goes on), the guest's (its own tables fault:
 * reflected with its CR2), or an access to a device page (MMIO, as a nested
 * page fault would be with EPT/NPT). */
static void handle_shadow_pf(struct hv_vcpu *v, const struct hv_exit *e)
{
    uint64_t gpa;
    uint32_t error;
    switch (hvm_shadow_page_fault(v, e->cr2, (uint32_t)e->error, &gpa, &error)) {
    case HVM_SHADOW_FIXED:
        break;
    case HVM_SHADOW_REFLECT:
        v->hvm->cr2 = e->cr2;
        v->hvm->cr2_dirty = true;
        v->backend->inject(v, 14, true, error);
        break;
    case HVM_SHADOW_MMIO: {
        struct hv_exit npf = *e;
        npf.kind = HV_EXIT_NPF, npf.gpa = gpa, npf.is_write = e->error & 2;
        handle_npf(v, &npf);
        break;
    }
    }
}

/* INVLPG (shadow paging only): drop the shadow's entry.  Without NRIPS
 * (SVM) the length comes from decoding the instruction. */
static void handle_invlpg(struct hv_vcpu *v, const struct hv_exit *e)
{
    struct hvm_insn d = { .len = e->insn_len };
    const char *why = "not intercepted for this guest";
    if (!v->hvm || !v->hvm->shadow ||
        (!d.len && (!hvm_decode(v, &d, &why) || d.op != HVM_INVLPG))) {
        hv_guest_crash(v, "invlpg at rip %lx: %s", v->regs->rip, why);
        return;
    }
    hvm_shadow_invlpg(v, e->linear, !e->linear_valid);
    v->regs->rip += d.len;
}

static void emulate_privileged(struct hv_vcpu *v, const struct hv_exit *e)
{
    switch (e->kind) {
    case HV_EXIT_HLT: handle_hlt(v, e); break;
    case HV_EXIT_IO:  handle_io(v, e); break;
    case HV_EXIT_MSR: handle_msr(v, e); break;
    case HV_EXIT_CR:  handle_cr(v, e); break;
    default:
        hv_guest_crash(v, "'%s' at rip %lx is not emulated", e->insn, v->regs->rip);
        break;
    }
}

/* HLT, I/O, MSR, CR and other privileged instructions from a PV guest. */
static void handle_privileged(struct hv_vcpu *v, const struct hv_exit *e)
{
    switch (e->kind) {
    case HV_EXIT_IO:
        hv_printf("nesthv: refused: privileged instruction '%s' (port %x) in guest %s "
                  "mode at rip %lx; #GP reflected\n", e->insn, e->port, mode_name(v),
                  v->regs->rip);
        break;
    case HV_EXIT_MSR:
        hv_printf("nesthv: refused: privileged instruction '%s' (msr %x) in guest %s "
                  "mode at rip %lx; #GP reflected\n", e->insn, e->msr, mode_name(v),
                  v->regs->rip);
        break;
    default:
        hv_printf("nesthv: refused: privileged instruction '%s' in guest %s mode at "
                  "rip %lx; #GP reflected\n", e->insn, mode_name(v), v->regs->rip);
        break;
    }
    v->backend->inject(v, GP_VECTOR, true, 0);
}

static void trace_exit(struct hv_vcpu *v, const struct hv_exit *e)
{
    hv_printf("nesthv: trace: exit %s, vector %u, guest %s rip %lx", hv_exit_name(e->kind),
              e->vector, mode_name(v), v->regs->rip);
    if (e->kind == HV_EXIT_IO)
        hv_printf(", port %x %s", e->port, e->is_write ? "out" : "in");
    if (e->kind == HV_EXIT_MSR)
        hv_printf(", msr %x %s", e->msr, e->is_write ? "write" : "read");
    if (e->kind == HV_EXIT_CR)
        hv_printf(", cr%u %s", e->cr, e->is_write ? "write" : "read");
    if (e->kind == HV_EXIT_HYPERCALL)
        hv_printf(", hypercall %s", pv_hypercall_name(v->regs->rax));
    if (e->kind == HV_EXIT_EXCEPTION && e->vector == 14)
        hv_printf(", cr2 %lx, error %lx", e->cr2, e->error);
    if (e->kind == HV_EXIT_NPF)
        hv_printf(", gpa %lx", e->gpa);
    if (e->reason)
        hv_printf(" (%s)", e->reason);
    hv_printf("\n");
}

/* CPUID as the guest should see it: the host's answer, minus the
 * extensions nesthv does not offer its guest (VMX, SVM: no nesting yet),
 * plus the "hypervisor present" bit (CPUID.1:ECX[31], reserved for this use
 * by Intel and AMD) and a vendor leaf 0x40000000, as Xen ("XenVMMXenVMM")
 * and KVM ("KVMKVMKVM") do. */
static void handle_cpuid(struct hv_vcpu *v, const struct hv_exit *e)
{
    struct hv_regs *r = v->regs;
    uint32_t leaf = (uint32_t)r->rax, out[4];
    if (leaf >= 0x40000000 && leaf <= 0x400000ff) {
        out[0] = 0x40000000;                 /* highest hypervisor leaf */
        memcpy(&out[1], "NesthvNesthv", 12); /* ebx, ecx, edx */
        if (leaf != 0x40000000)
            out[0] = out[1] = out[2] = out[3] = 0;
    } else {
        hv_cpuid(leaf, (uint32_t)r->rcx, out);
        if (leaf == 1)
            out[2] = (out[2] & ~(1u << 5)) | (1u << 31);
        bool svm = v->hvm && v->hvm->nested_svm;   /* nested=1 (nested_svm.c) */
        if (leaf == 0x80000001 && !svm)
            out[2] &= ~(1u << 2);
        if (leaf == 0x8000000a && svm) {           /* revision 1, 16 ASIDs, no features */
            out[0] = 1, out[1] = 16, out[2] = out[3] = 0;
        }
    }
    r->rax = out[0], r->rbx = out[1], r->rcx = out[2], r->rdx = out[3];
    r->rip += e->insn_len;
}

static void handle_exit(struct hv_vcpu *v, const struct hv_exit *e)
{
    v->exits[e->kind]++;
    if (v->trace)
        trace_exit(v, e);
    switch (e->kind) {
    case HV_EXIT_HYPERCALL:
        v->backend->hypercall(v);
        break;
    case HV_EXIT_EXCEPTION:
        if (e->vector == 14 && v->hvm && v->hvm->shadow)
            handle_shadow_pf(v, e);
        else
            v->backend->inject(v, e->vector, e->has_error, e->error);
        break;
    case HV_EXIT_INVLPG:
        handle_invlpg(v, e);
        break;
    case HV_EXIT_NESTED:
        break;
    case HV_EXIT_SOFTINT:
        v->backend->inject(v, e->vector, false, 0);
        break;
    case HV_EXIT_INTERRUPT:
        if (e->vector == HV_VEC_TIMER) {       /* PV: taken through our IDT already */
            hv_timer_tick();
            hv_apic_eoi();
        } else {                               /* VMX/SVM: still pending; take it now */
            __asm__ volatile("sti; nop; cli" ::: "memory");
        }
        break;
    case HV_EXIT_CPUID:
        handle_cpuid(v, e);
        break;
    case HV_EXIT_HLT: case HV_EXIT_IO: case HV_EXIT_MSR:
    case HV_EXIT_CR: case HV_EXIT_PRIV:
        if (v->pv)
            handle_privileged(v, e);
        else
            emulate_privileged(v, e);
        break;
    case HV_EXIT_NPF:
        handle_npf(v, e);
        break;
    case HV_EXIT_INTR_WINDOW:                  /* deliver_events injects next */
        break;
    case HV_EXIT_SHUTDOWN:
        hv_guest_crash(v, "triple fault (shutdown) at rip %lx", v->regs->rip);
        break;
    case HV_EXIT_ENTRY_FAIL:
        hv_guest_crash(v, "VM entry failed (see the lines above)");
        break;
    default:
        hv_guest_crash(v, "exit kind '%s' not handled by this backend", hv_exit_name(e->kind));
        break;
    }
}

static uint64_t total_exits(const struct hv_vcpu *v)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < HV_EXIT_NR_KINDS; k++)
        n += v->exits[k];
    return n;
}

void hv_vcpu_loop(struct hv_vcpu *v)
{
    struct hv_exit e;
    hv_pcpu.running = v;
    v->state = HV_VCPU_RUNNING;
    while (v->state == HV_VCPU_RUNNING) {
        v->backend->run(v, &e);
        handle_exit(v, &e);
        if (v->state == HV_VCPU_RUNNING)
            v->backend->deliver_events(v);
    }
    hv_pcpu.running = NULL;
    hv_printf("nesthv: exits:");
    for (unsigned k = 0; k < HV_EXIT_NR_KINDS; k++)
        if (v->exits[k])
            hv_printf(" %s %lu,", hv_exit_name(k), v->exits[k]);
    hv_printf(" total %lu\n", total_exits(v));
    if (v->backend->print_exit_reasons)
        v->backend->print_exit_reasons(v);
    if (v->hvm && v->hvm->shadow)
        hvm_shadow_print(v);
    if (v->pv)
        pv_integrity_check(v);
    if (v->state == HV_VCPU_CRASHED)
        hv_exit(HV_EXIT_CRASH);
    hv_printf("nesthv: guest shut down with status %d\n", v->exit_status);
    hv_exit(HV_EXIT_GUEST(v->exit_status));
}
