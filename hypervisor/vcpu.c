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
 * the guest, as Xen does for operations it does not emulate.  The VMX/SVM
 * backends will reach the same handlers and emulate instead.
 */
#include "hv_vcpu.h"
#include "pv.h"

#define GP_VECTOR 13

static const char *const exit_names[HV_EXIT_NR_KINDS] = {
    "hypercall", "exception", "software interrupt", "interrupt", "cpuid", "hlt",
    "i/o", "msr", "cr access", "privileged instruction", "nested page fault",
    "interrupt window",
};

const char *hv_exit_name(enum hv_exit_kind k)
{
    return k < HV_EXIT_NR_KINDS ? exit_names[k] : "?";
}

static struct hv_vcpu *current_vcpu;

/* One tick of the local APIC timer (10 ms), in guest or in nesthv. */
void hv_timer_tick(void)
{
    hv_ticks++;
    if (current_vcpu && current_vcpu->pv)
        pv_timer_tick(current_vcpu);
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
    return pv_in_user_mode(v) ? "user" : "kernel";
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
              e->vector, pv_in_user_mode(v) ? "user" : "kernel", v->regs->rip);
    if (e->kind == HV_EXIT_HYPERCALL)
        hv_printf(", hypercall %s", pv_hypercall_name(v->regs->rax));
    if (e->kind == HV_EXIT_EXCEPTION && e->vector == 14)
        hv_printf(", cr2 %lx, error %lx", e->cr2, e->error);
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
        if (leaf == 0x80000001)
            out[2] &= ~(1u << 2);
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
        v->backend->inject(v, e->vector, e->has_error, e->error);
        break;
    case HV_EXIT_SOFTINT:
        v->backend->inject(v, e->vector, false, 0);
        break;
    case HV_EXIT_INTERRUPT:
        if (e->vector == HV_VEC_TIMER) {
            hv_timer_tick();
            hv_apic_eoi();
        }
        break;
    case HV_EXIT_CPUID:
        handle_cpuid(v, e);
        break;
    case HV_EXIT_HLT: case HV_EXIT_IO: case HV_EXIT_MSR:
    case HV_EXIT_CR: case HV_EXIT_PRIV:
        handle_privileged(v, e);
        break;
    default:
        hv_guest_crash(v, "exit kind '%s' not handled by this backend", hv_exit_name(e->kind));
        break;
    }
}

void hv_vcpu_loop(struct hv_vcpu *v)
{
    struct hv_exit e;
    current_vcpu = v;
    v->state = HV_VCPU_RUNNING;
    while (v->state == HV_VCPU_RUNNING) {
        v->backend->run(v, &e);
        handle_exit(v, &e);
        if (v->state == HV_VCPU_RUNNING)
            v->backend->deliver_events(v);
    }
    current_vcpu = NULL;
    hv_printf("nesthv: exits: hypercall %lu, exception %lu, syscall %lu, interrupt %lu, "
              "privileged %lu\n", v->exits[HV_EXIT_HYPERCALL], v->exits[HV_EXIT_EXCEPTION],
              v->exits[HV_EXIT_SOFTINT], v->exits[HV_EXIT_INTERRUPT],
              v->exits[HV_EXIT_HLT] + v->exits[HV_EXIT_IO] + v->exits[HV_EXIT_MSR] +
              v->exits[HV_EXIT_CR] + v->exits[HV_EXIT_PRIV]);
    if (v->pv)
        pv_integrity_check(v);
    if (v->state == HV_VCPU_CRASHED)
        hv_exit(HV_EXIT_CRASH);
    hv_printf("nesthv: guest shut down with status %d\n", v->exit_status);
    hv_exit(HV_EXIT_GUEST(v->exit_status));
}
