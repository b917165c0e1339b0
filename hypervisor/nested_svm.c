/* nested_svm.c - AMD-V for the guest: nesthv (L0) runs a hypervisor (L1)
 * that runs its own guest (L2), as in the Turtles design, for SVM.
 *
 * With nested=1 the SVM backend offers SVM to its guest: CPUID
 * 8000_0001h:ECX.SVM and leaf 8000_000Ah (without nested paging, NRIPS or
 * decode assists: L1 runs its guest with shadow paging, npt=0), EFER.SVME,
 * VM_CR and VM_HSAVE_PA (vcpu.c's MSR handler).  Every SVM instruction L1
 * executes exits to L0 (15.5, 15.13: VMRUN must be intercepted; nesthv
 * intercepts VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA too, with or
 * without nested=1, since a guest could otherwise VMSAVE into host memory).
 *
 *   VMRUN (L1)  check vmcb12 as the CPU would (15.5.1, those checks nesthv
 *               can get wrong), build vmcb02: L1's intercepts plus L0's
 *               own (interrupts, the SVM instructions), L1's I/O and MSR
 *               permission maps (inside L1's RAM), L2's state from vmcb12,
 *               L2's CR3 walked through L0's nested page table (vmcb01's:
 *               L2's "physical" addresses are L1's, as L1 shadows L2's
 *               tables), ASID 2; then run L2.
 *   #VMEXIT (L2) if L1 intercepts the exit, reflect it: L2's state and
 *               the exit code and information into vmcb12, L1 resumes after
 *               its VMRUN with GIF = 0 (15.6).  A physical interrupt is
 *               L0's (its timer); if L1 then has a virtual interrupt
 *               pending and intercepts INTR, L2 exits to L1 for it.
 *   VMLOAD, VMSAVE  the hidden state (FS, GS, TR, LDTR, the SYSCALL and
 *               SYSENTER MSRs, 15.5.2) between L1's memory and vmcb01,
 *               which holds L1's "CPU" copy of it; at VMRUN it goes to
 *               vmcb02 and at #VMEXIT back, as the CPU leaves it.
 *   STGI, CLGI  GIF: while 0, L0 injects nothing into L1.
 *
 * The general registers pass through: L1 loads L2's before VMRUN and finds
 * them after #VMEXIT, exactly as on the CPU; only RIP, RSP, RFLAGS and RAX
 * live in the VMCB.  One L2 exit L1 handles costs L0 one exit (reflected),
 * plus one for each SVM instruction and intercepted operation L1 executes
 * until it resumes L2 (the "exit multiplication" printed at shutdown).
 */
#include "hv_svm.h"

#define L1_INSNS(X) X(VMRUN) X(VMLOAD) X(VMSAVE) X(STGI) X(CLGI) X(SKINIT) X(INVLPGA)

void hv_svm_nested_create(struct hv_vcpu *v, struct hv_svm_vcpu *s)
{
    struct hv_svm_nested *n = &s->nested;
    n->enabled = true;
    n->gif = true;
    n->vmcb02_pa = hv_frame_alloc() << 12;
    n->vmcb02 = hv_phys_to_virt(n->vmcb02_pa);
    v->hvm->nested_svm = true;
    hv_printf("nesthv: svm: nested=1: SVM offered to the guest (no nested paging: its "
              "guests run on shadow paging), vmcb02 at %lx, ASID 2\n", n->vmcb02_pa);
}

/* A structure of len bytes at L1-physical gpa, or NULL when not L1's RAM. */
static void *l1_mem(struct hv_vcpu *v, uint64_t gpa, uint64_t len)
{
    return hvm_gpa_ptr(v, gpa, len);
}

static void copy_hidden(struct vmcb *to, const struct vmcb *from)
{
    to->fs = from->fs, to->gs = from->gs, to->tr = from->tr, to->ldtr = from->ldtr;
    to->kernel_gs_base = from->kernel_gs_base;
    to->star = from->star, to->lstar = from->lstar, to->cstar = from->cstar;
    to->sfmask = from->sfmask;
    to->sysenter_cs = from->sysenter_cs, to->sysenter_esp = from->sysenter_esp;
    to->sysenter_eip = from->sysenter_eip;
}

/* What the guest state of a VMCB holds besides the hidden part. */
static void copy_state(struct vmcb *to, const struct vmcb *from)
{
    to->es = from->es, to->cs = from->cs, to->ss = from->ss, to->ds = from->ds;
    to->gdtr = from->gdtr, to->idtr = from->idtr, to->cpl = from->cpl;
    to->efer = from->efer, to->cr0 = from->cr0, to->cr2 = from->cr2, to->cr3 = from->cr3;
    to->cr4 = from->cr4, to->dr6 = from->dr6, to->dr7 = from->dr7;
    to->rflags = from->rflags, to->rip = from->rip, to->rsp = from->rsp, to->rax = from->rax;
    to->g_pat = from->g_pat;
}

/* The consistency checks of 15.5.1 nesthv relies on, plus its own limits
 * (no nested paging offered; permission maps inside L1's RAM). */
static const char *vmcb12_refused(struct hv_vcpu *v, const struct vmcb *c)
{
    if (!(c->intercept_misc2 & SVM_MISC2(SVM_EXIT_VMRUN)))
        return "the VMRUN intercept bit is clear (15.5.1)";
    if (c->guest_asid == 0)
        return "ASID is equal to zero (15.5.1)";
    if (!(c->efer & EFER_SVME))
        return "EFER.SVME is zero (15.5.1)";
    if (c->np_enable & 1)
        return "nested paging asked for, but not offered (CPUID 8000_000Ah:EDX.NP = 0)";
    if ((c->iopm_base_pa & 0xfff) || !l1_mem(v, c->iopm_base_pa, 3 * HV_PAGE_SIZE))
        return "the I/O permission map is not 12 KiB of L1's RAM";
    if ((c->msrpm_base_pa & 0xfff) || !l1_mem(v, c->msrpm_base_pa, 2 * HV_PAGE_SIZE))
        return "the MSR permission map is not 8 KiB of L1's RAM";
    return NULL;
}

/* #VMEXIT with code into vmcb12, back to L1 (15.6): L2's state saved, L1's
 * RIP after its VMRUN, RSP, RFLAGS and RAX restored, GIF cleared. */
static void reflect(struct hv_vcpu *v, struct hv_svm_vcpu *s, uint64_t code,
                    uint64_t info1, uint64_t info2)
{
    struct hv_svm_nested *n = &s->nested;
    struct vmcb *c12 = l1_mem(v, n->vmcb12_gpa, sizeof *c12), *c02 = n->vmcb02;
    c02->rip = v->regs->rip, c02->rsp = v->regs->rsp;
    c02->rflags = v->regs->rflags, c02->rax = v->regs->rax;
    copy_state(c12, c02);
    c12->exitcode = code, c12->exitinfo1 = info1, c12->exitinfo2 = info2;
    c12->exitintinfo = c02->exitintinfo;
    c12->eventinj = 0;
    c12->interrupt_shadow = c02->interrupt_shadow;
    c12->vintr = (c12->vintr & ~VINTR_V_IRQ) | (c02->vintr & VINTR_V_IRQ);
    copy_hidden(s->vmcb, c02);                  /* the CPU keeps L2's hidden state */
    v->regs->rip = n->l1_rip + 3;               /* VMRUN is 0F 01 D8 */
    v->regs->rsp = n->l1_rsp, v->regs->rflags = n->l1_rflags, v->regs->rax = n->l1_rax;
    n->in_l2 = false;
    n->gif = false;
    n->reflected++;
}

static void build_vmcb02(struct hv_vcpu *v, struct hv_svm_vcpu *s, const struct vmcb *c12)
{
    struct hv_svm_nested *n = &s->nested;
    struct vmcb *c02 = n->vmcb02, *c01 = s->vmcb;
    memset(c02, 0, sizeof *c02);
    c02->intercept_cr = c12->intercept_cr;
    c02->intercept_dr = c12->intercept_dr;
    c02->intercept_exc = c12->intercept_exc;
    c02->intercept_misc1 = c12->intercept_misc1 | SVM_MISC1(SVM_EXIT_INTR) |
        SVM_MISC1(SVM_EXIT_NMI) | SVM_MISC1(SVM_EXIT_SHUTDOWN);
    c02->intercept_misc2 = c12->intercept_misc2 | c01->intercept_misc2;
    c02->iopm_base_pa = v->hvm->mem_pa + c12->iopm_base_pa;
    c02->msrpm_base_pa = v->hvm->mem_pa + c12->msrpm_base_pa;
    c02->tsc_offset = c12->tsc_offset;
    c02->guest_asid = 2;
    c02->tlb_control = 1;                       /* L1 changes its shadow at will */
    c02->vintr = c12->vintr;
    c02->interrupt_shadow = c12->interrupt_shadow;
    c02->eventinj = c12->eventinj;
    c02->np_enable = 1;
    c02->n_cr3 = c01->n_cr3;                    /* L2 "physical" = L1 physical */
    copy_state(c02, c12);
    copy_hidden(c02, c01);                      /* what L1 VMLOADed */
    c02->efer |= EFER_SVME;
}

/* L1 executed VMRUN with RAX = vmcb12's address. */
static void emulate_vmrun(struct hv_vcpu *v, struct hv_svm_vcpu *s)
{
    struct hv_svm_nested *n = &s->nested;
    uint64_t gpa = v->regs->rax;
    const struct vmcb *c12 = (gpa & 0xfff) ? NULL : l1_mem(v, gpa, sizeof *c12);
    if (!c12) {                                 /* 15.5: #GP for an illegal address */
        hv_printf("nesthv: nested svm: VMRUN with RAX %lx: not a page of L1's RAM, #GP\n", gpa);
        v->backend->inject(v, 13, true, 0);
        return;
    }
    n->vmcb12_gpa = gpa;
    n->l1_rip = v->regs->rip, n->l1_rsp = v->regs->rsp;
    n->l1_rflags = v->regs->rflags, n->l1_rax = gpa;
    n->vmrun++;
    const char *why = vmcb12_refused(v, c12);
    if (why) {
        hv_printf("nesthv: nested svm: vmcb12 at %lx refused: %s: VMEXIT_INVALID\n", gpa, why);
        n->in_l2 = true;                        /* so that reflect() can undo it */
        memset(n->vmcb02, 0, sizeof *n->vmcb02);
        copy_state(n->vmcb02, c12);
        v->regs->rip = c12->rip, v->regs->rsp = c12->rsp;
        v->regs->rflags = c12->rflags, v->regs->rax = c12->rax;
        reflect(v, s, SVM_EXIT_INVALID, 0, 0);
        return;
    }
    build_vmcb02(v, s, c12);
    v->regs->rip = c12->rip, v->regs->rsp = c12->rsp;
    v->regs->rflags = c12->rflags, v->regs->rax = c12->rax;
    n->in_l2 = true;
    n->gif = true;
}

/* VMLOAD/VMSAVE: RAX is an L1-physical page holding a VMCB. */
static void emulate_vmload_vmsave(struct hv_vcpu *v, struct hv_svm_vcpu *s, bool load)
{
    uint64_t gpa = v->regs->rax;
    struct vmcb *c = (gpa & 0xfff) ? NULL : l1_mem(v, gpa, sizeof *c);
    if (!c) {
        hv_printf("nesthv: nested svm: %s with RAX %lx: not a page of L1's RAM, #GP\n",
                  load ? "VMLOAD" : "VMSAVE", gpa);
        v->backend->inject(v, 13, true, 0);
        return;
    }
    if (load)
        copy_hidden(s->vmcb, c);
    else
        copy_hidden(c, s->vmcb);
    v->regs->rip += 3;
}

/* An exit of L1 for an SVM instruction: emulated (true), else not ours. */
bool hv_svm_nested_l1_exit(struct hv_vcpu *v, struct hv_svm_vcpu *s, uint64_t code,
                           struct hv_exit *e)
{
    struct hv_svm_nested *n = &s->nested;
    if (code < SVM_EXIT_VMRUN || code > SVM_EXIT_SKINIT || code == SVM_EXIT_VMMCALL) {
        if (code != SVM_EXIT_INVLPGA)
            return false;
    }
    memset(e, 0, sizeof *e);
    e->kind = HV_EXIT_NESTED;
    e->reason = hv_svm_exit_name(code);
    if (!n->enabled || !(v->hvm->efer & EFER_SVME) || code == SVM_EXIT_SKINIT) {
        v->backend->inject(v, 6, false, 0);     /* #UD: EFER.SVME = 0 (15.4) */
        return true;
    }
    n->l1_insns[code == SVM_EXIT_INVLPGA ? 6 : (code - SVM_EXIT_VMRUN) - (code > 0x81)]++;
    switch (code) {
    case SVM_EXIT_VMRUN: emulate_vmrun(v, s); break;
    case SVM_EXIT_VMLOAD: emulate_vmload_vmsave(v, s, true); break;
    case SVM_EXIT_VMSAVE: emulate_vmload_vmsave(v, s, false); break;
    case SVM_EXIT_STGI: n->gif = true, v->regs->rip += 3; break;
    case SVM_EXIT_CLGI: n->gif = false, v->regs->rip += 3; break;
    case SVM_EXIT_INVLPGA: v->regs->rip += 3; break;   /* L2's TLB is flushed at each VMRUN */
    }
    return true;
}

static bool l1_intercepts(const struct vmcb *c12, uint64_t code)
{
    if (code < 0x20)
        return c12->intercept_cr >> code & 1;
    if (code >= 0x40 && code < 0x60)
        return c12->intercept_exc >> (code - 0x40) & 1;
    if (code >= 0x60 && code < 0x80)
        return c12->intercept_misc1 >> (code - 0x60) & 1;
    if (code >= 0x80 && code < 0xa0)
        return c12->intercept_misc2 >> (code - 0x80) & 1;
    return false;
}

/* Run L2 on vmcb02 until an exit L0 keeps (a physical interrupt) or L1
 * must see (reflected). */
void hv_svm_nested_run_l2(struct hv_vcpu *v, struct hv_svm_vcpu *s, struct hv_exit *e)
{
    struct hv_svm_nested *n = &s->nested;
    struct vmcb *c02 = n->vmcb02;
    c02->rip = v->regs->rip, c02->rsp = v->regs->rsp;
    c02->rflags = v->regs->rflags, c02->rax = v->regs->rax;
    c02->vmcb_clean = 0;
    hv_svm_run(n->vmcb02_pa, v->regs, s->host_save_pa);
    v->regs->rip = c02->rip, v->regs->rsp = c02->rsp;
    v->regs->rflags = c02->rflags, v->regs->rax = c02->rax;
    c02->eventinj = (c02->exitintinfo & EVENT_VALID) ? c02->exitintinfo : 0;
    c02->tlb_control = 0;
    uint64_t code = c02->exitcode;
    if ((uint32_t)code == 0xffffffffu)
        code = SVM_EXIT_INVALID;
    n->l2_exits[hv_svm_reason_slot(code)]++;
    memset(e, 0, sizeof *e);
    e->reason = hv_svm_exit_name(code);
    if (code == SVM_EXIT_INTR || code == SVM_EXIT_NMI) {
        e->kind = HV_EXIT_INTERRUPT;            /* L0's: vcpu.c takes it */
        return;
    }
    e->kind = HV_EXIT_NESTED;
    const struct vmcb *c12 = l1_mem(v, n->vmcb12_gpa, sizeof *c12);
    if (code != SVM_EXIT_INVALID && !l1_intercepts(c12, code)) {
        hv_guest_crash(v, "nested svm: L2 exit %s (%lx) that L1 does not intercept: not "
                       "emulated", e->reason, code);
        return;
    }
    c02->eventinj = 0;                          /* L1 sees it in EXITINTINFO */
    reflect(v, s, code, c02->exitinfo1, c02->exitinfo2);
}

/* After an exit: while L2 runs, an interrupt L1 has pending becomes an INTR
 * exit to L1 (true: handled); else the ordinary injection into L1, which
 * GIF = 0 holds back. */
bool hv_svm_nested_deliver(struct hv_vcpu *v, struct hv_svm_vcpu *s)
{
    struct hv_svm_nested *n = &s->nested;
    if (!n->enabled)
        return false;
    if (n->in_l2) {
        const struct vmcb *c12 = l1_mem(v, n->vmcb12_gpa, sizeof *c12);
        if (v->hvm->lapic.irr && (c12->intercept_misc1 & SVM_MISC1(SVM_EXIT_INTR))) {
            n->l2_exits[hv_svm_reason_slot(SVM_EXIT_INTR)]++;
            reflect(v, s, SVM_EXIT_INTR, 0, 0);
        }
        return true;
    }
    if (!n->gif)                                /* no interrupt window either */
        v->backend->request_irq_window(v, false);
    return !n->gif;
}

void hv_svm_nested_print(struct hv_svm_vcpu *s)
{
    const struct hv_svm_nested *n = &s->nested;
    static const char *const names[] = {
#define X(name) #name,
        L1_INSNS(X)
#undef X
    };
    uint64_t l2 = 0;
    hv_printf("nesthv: nested svm: L2 exits at L0 by code:");
    for (unsigned i = 0; i < SVM_NR_SLOTS; i++)
        if (n->l2_exits[i]) {
            hv_printf(" %s %lu", hv_svm_exit_name(i == 0x90 ? SVM_EXIT_NPF :
                      i == 0x91 ? SVM_EXIT_INVALID : i), n->l2_exits[i]);
            l2 += n->l2_exits[i];
        }
    hv_printf("; %lu reflected to L1\n", n->reflected);
    hv_printf("nesthv: nested svm: L1's SVM instructions emulated:");
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (n->l1_insns[i])
            hv_printf(" %s %lu", names[i], n->l1_insns[i]);
    hv_printf("; %lu L2 exits in all\n", l2);
}
