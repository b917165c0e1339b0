/* svm.c - the AMD-V backend: VMRUN, the VMCB, nested paging.
 *
 * Read it beside vmx.c and pv.c: all three turn "the guest stopped" into a
 * struct hv_exit and leave the decision to vcpu.c.  What is AMD-specific is
 * here (APM Vol. 2 chapter 15; constants in svm_defs.h):
 *
 *   enable   VM_CR.SVMDIS must be 0; set EFER.SVME; give the CPU a host
 *            save area (VM_HSAVE_PA)                          (15.4, 15.30)
 *   VMCB     one page: intercepts + guest state.  We intercept what vmx.c
 *            makes exit too: CPUID, HLT, all I/O (IOPM all ones), all MSRs
 *            but the segment bases (MSRPM), CR0/CR4 writes, physical
 *            INTR/NMI, VINTR, VMMCALL, SHUTDOWN, and VMRUN (required)
 *   NPT      guest-physical -> host-physical tables (hvm.c), ASID 1; or,
 *            with npt=0, shadow paging (shadow.c): CR0/CR3/CR4 reads,
 *            CR3 writes, INVLPG and #PF intercepted too
 *   run      hvm_entry.S: VMLOAD/VMRUN/VMSAVE with GIF cleared around it
 *   exits    EXITCODE (Appendix C) -> struct hv_exit
 *   events   EVENTINJ; the interrupt window is a virtual interrupt (V_IRQ)
 *            the guest takes when it can, intercepted as VINTR (15.21)
 */
#include "hv_svm.h"

/* Usable: SVM and nested paging, or SVM alone when npt=0 asks for shadow
 * paging (main.c names what is missing). */
static bool hv_svm_usable(const char *cmdline)
{
    uint32_t r[4];
    if (!hv_cpu_has_svm())
        return false;
    hv_cpuid(0x8000000a, 0, r);
    return (r[3] & SVM_FEAT_NP) || hv_cmdline_has(cmdline, "npt=0");
}

const char *hv_svm_exit_name(uint64_t code)
{
    switch (code) {
#define X(c, name) case c: return #name;
    SVM_EXIT_CODES(X)
#undef X
    case SVM_EXIT_INVALID: return "INVALID";
    }
    return "?";
}

unsigned hv_svm_reason_slot(uint64_t code)
{
    return code == SVM_EXIT_NPF ? 0x90 : code < 0x90 ? (unsigned)code : 0x91;
}

static struct vmcb_seg seg(uint16_t sel, uint16_t attrib, uint32_t limit)
{
    return (struct vmcb_seg){ .sel = sel, .attrib = attrib, .limit = limit, .base = 0 };
}

/* The state Multiboot promises (spec 3.2): flat 32-bit code and data
 * segments, protected mode, paging off; hvm.c chose RIP, RAX, RBX, CR0. */
static void init_guest_state(struct vmcb *c)
{
    c->cs = seg(0x08, 0xc9b, 0xffffffff);           /* G, D, P, code exec/read */
    c->ds = c->es = c->ss = c->fs = c->gs = seg(0x10, 0xc93, 0xffffffff);
    c->gdtr = seg(0, 0, 0xffff);
    c->idtr = seg(0, 0, 0xffff);
    c->ldtr = seg(0, 0x082, 0);
    c->tr = seg(0, 0x08b, 0x67);                    /* busy 32-bit TSS */
    c->dr6 = 0xffff0ff0;
    c->dr7 = 0x400;
    c->g_pat = 0x0007040600070406ULL;               /* the power-on PAT */
}

static void init_intercepts(struct hv_svm_vcpu *s)
{
    struct vmcb *c = s->vmcb;
    uint64_t iopm = hv_frame_alloc_contig(3), msrpm = hv_frame_alloc_contig(2);
    memset(hv_frame_table(iopm), 0xff, 3 * HV_PAGE_SIZE);
    memset(hv_frame_table(msrpm), 0xff, 2 * HV_PAGE_SIZE);
    /* MSRPM (15.11): 2 bits (read, write) per MSR; 800h..FFFh covers
     * C000_0000h..C000_1FFFh.  FS/GS bases and KernelGSBase are switched
     * by VMLOAD/VMSAVE, so the guest may use them directly. */
    uint8_t *pm = (uint8_t *)hv_frame_table(msrpm) + 0x800;
    for (uint32_t msr = 0xc0000100; msr <= 0xc0000102; msr++)
        pm[(msr & 0x1fff) * 2 / 8] &= (uint8_t)~(3u << ((msr & 0x1fff) * 2 % 8));
    c->iopm_base_pa = iopm << 12;
    c->msrpm_base_pa = msrpm << 12;
    c->intercept_cr = (1u << (16 + 0)) | (1u << (16 + 4));       /* CR0, CR4 writes */
    c->intercept_misc1 = SVM_MISC1(SVM_EXIT_INTR) | SVM_MISC1(SVM_EXIT_NMI) |
        SVM_MISC1(SVM_EXIT_VINTR) | SVM_MISC1(SVM_EXIT_CPUID) | SVM_MISC1(SVM_EXIT_HLT) |
        SVM_MISC1(SVM_EXIT_IOIO) | SVM_MISC1(SVM_EXIT_MSR) | SVM_MISC1(SVM_EXIT_SHUTDOWN);
    /* Every SVM instruction: VMRUN must be (15.5.1); the others would
     * otherwise run on the real CPU with host-physical addresses in RAX. */
    c->intercept_misc2 = SVM_MISC2(SVM_EXIT_VMRUN) | SVM_MISC2(SVM_EXIT_VMMCALL) |
        SVM_MISC2(SVM_EXIT_VMLOAD) | SVM_MISC2(SVM_EXIT_VMSAVE) | SVM_MISC2(SVM_EXIT_STGI) |
        SVM_MISC2(SVM_EXIT_CLGI) | SVM_MISC2(SVM_EXIT_SKINIT);
    c->intercept_misc1 |= SVM_MISC1(SVM_EXIT_INVLPGA);
    c->vintr = VINTR_MASKING;     /* guest IF masks only virtual interrupts */
}

/* npt=0: nesthv shadows the guest's page tables (shadow.c).  The guest must
 * not see the CR0/CR3/CR4 values the CPU runs with, and each of its TLB
 * operations must reach the shadow: CR reads and CR3 writes, INVLPG and
 * #PF are intercepted (15.9, 15.12, 15.14). */
static void create_shadow(struct hv_vcpu *v, struct hv_svm_vcpu *s)
{
    struct vmcb *c = s->vmcb;
    hvm_shadow_create(v);
    c->intercept_cr |= (1u << 0) | (1u << 3) | (1u << 4) | (1u << (16 + 3));
    c->intercept_exc |= 1u << 14;
    c->intercept_misc1 |= SVM_MISC1(SVM_EXIT_INVLPG);
    hv_printf("nesthv: svm: VMCB at %lx, nested paging off (npt=0): shadow page tables, "
              "ASID 1\n", s->vmcb_pa);
}

static void hv_svm_create(struct hv_vcpu *v, const struct hv_module *m)
{
    struct hv_svm_vcpu *s = hv_alloc(sizeof *s);
    uint32_t r[4];
    hv_cpuid(0x8000000a, 0, r);
    s->features = r[3];
    hv_printf("nesthv: svm: revision %u, %u ASIDs, nested paging %s, nrips %s, "
              "decode assists %s\n", r[0] & 0xff, r[1], r[3] & SVM_FEAT_NP ? "yes" : "no",
              r[3] & SVM_FEAT_NRIPS ? "yes" : "no", r[3] & SVM_FEAT_DECODE ? "yes" : "no");
    if (hv_rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        hv_printf("nesthv: error: SVM is disabled by the firmware (VM_CR.SVMDIS = 1)\n");
        hv_exit(HV_EXIT_CONFIG);
    }
    hv_wrmsr(MSR_EFER, hv_rdmsr(MSR_EFER) | EFER_SVME);
    hv_wrmsr(MSR_VM_HSAVE_PA, hv_frame_alloc() << 12);

    hvm_create(v, m);
    v->hvm->arch = s;
    s->vmcb_pa = hv_frame_alloc() << 12;
    s->host_save_pa = hv_frame_alloc() << 12;
    s->vmcb = hv_phys_to_virt(s->vmcb_pa);
    init_intercepts(s);
    init_guest_state(s->vmcb);
    s->vmcb->guest_asid = 1;
    if (hv_cmdline_has(v->cmdline, "npt=0")) {
        create_shadow(v, s);
    } else {
        hvm_build_nested_tables(v, &s->vmcb->n_cr3, false);
        s->vmcb->np_enable = 1;
        hv_printf("nesthv: svm: VMCB at %lx, nested page table at %lx, ASID 1\n",
                  s->vmcb_pa, s->vmcb->n_cr3);
    }
    if (hv_cmdline_has(v->cmdline, "nested=1")) {
        if (v->hvm->shadow) {
            hv_printf("nesthv: error: nested=1 needs nested paging here (not npt=0)\n");
            hv_exit(HV_EXIT_CONFIG);
        }
        hv_svm_nested_create(v, s);
    }
    /* Test hook: without the VMRUN intercept the VMCB is illegal (15.5.1). */
    if (hv_cmdline_has(v->cmdline, "hvtest=bad-vm-state")) {
        hv_printf("nesthv: hvtest=bad-vm-state: VMRUN intercept cleared\n");
        s->vmcb->intercept_misc2 &= ~SVM_MISC2(SVM_EXIT_VMRUN);
    }
}

/* VMRUN said VMEXIT_INVALID: name the consistency check of APM Vol. 2
 * 15.5.1 ("Canonicalization and Consistency Checks") the VMCB breaks,
 * among those nesthv could get wrong. */
static const char *hv_svm_broken_rule(const struct vmcb *c)
{
    if (!(c->efer & EFER_SVME))
        return "EFER.SVME is zero";
    if ((c->cr0 & (1ULL << 30)) == 0 && (c->cr0 & (1ULL << 29)))
        return "CR0.CD is zero and CR0.NW is set";
    if ((c->efer & EFER_LME) && (c->cr0 & CR0_PG) && !(c->cr4 & CR4_PAE))
        return "EFER.LME and CR0.PG are both set and CR4.PAE is zero";
    if ((c->efer & EFER_LME) && (c->cr0 & CR0_PG) && !(c->cr0 & CR0_PE))
        return "EFER.LME and CR0.PG are both nonzero and CR0.PE is zero";
    if (!(c->intercept_misc2 & SVM_MISC2(SVM_EXIT_VMRUN)))
        return "the VMRUN intercept bit is clear";
    if (c->guest_asid == 0)
        return "ASID is equal to zero";
    return NULL;
}

/* Guest state nesthv keeps (hvm.h) -> VMCB, then VMRUN, then back. */
/* Shadow paging: the CPU runs with paging on even while the guest has it
 * off (PAE over an identity shadow, shadow.c), so CR0.PG, CR4.PAE and
 * EFER.LME differ from what the guest set (and reads, through the
 * intercepts); CR3 is the shadow's root. */
static bool load_shadow_state(struct hv_vcpu *v, struct vmcb *c)
{
    struct hvm_guest *g = v->hvm;
    const char *why = "";
    if (g->ctl_dirty) {
        if (!hvm_shadow_mode_changed(v, &why)) {
            hv_guest_crash(v, "%s", why);
            return false;
        }
        bool paged = g->cr0 & CR0_PG;
        c->cr0 = paged ? g->cr0 : g->cr0 | CR0_PG;
        c->cr4 = paged ? g->cr4 : g->cr4 | CR4_PAE;
        c->efer = (paged ? g->efer : g->efer & ~(EFER_LME | EFER_LMA)) | EFER_SVME;
        g->ctl_dirty = false;
    }
    bool flush;
    c->cr3 = hvm_shadow_root(v, &flush);
    c->tlb_control = flush ? 1 : 0;              /* 15.16.1: flush this guest's TLB */
    if (g->cr2_dirty)
        c->cr2 = g->cr2, g->cr2_dirty = false;
    return true;
}

static bool load_vmcb(struct hv_vcpu *v, struct vmcb *c)
{
    struct hvm_guest *g = v->hvm;
    if (g->shadow) {
        if (!load_shadow_state(v, c))
            return false;
    } else if (g->ctl_dirty) {
        c->cr0 = g->cr0;
        c->cr3 = g->cr3;
        c->cr4 = g->cr4;
        c->efer = g->efer | EFER_SVME;              /* 15.5.1: SVME must be 1 */
        g->ctl_dirty = false;
    }
    c->rip = g->regs.rip;
    c->rsp = g->regs.rsp;
    c->rflags = g->regs.rflags;
    c->rax = g->regs.rax;
    c->vmcb_clean = 0;
    return true;
}

static void save_vmcb(struct hv_vcpu *v, const struct vmcb *c)
{
    struct hvm_guest *g = v->hvm;
    g->regs.rip = c->rip;
    g->regs.rsp = c->rsp;
    g->regs.rflags = c->rflags;
    g->regs.rax = c->rax;
    if (!g->shadow)                  /* else CR3 writes exit: g->cr3 is the truth */
        g->cr3 = c->cr3;
    g->long_mode = (g->efer & EFER_LMA) && (c->cs.attrib & SVM_ATTR_L);
    g->cpl = c->cpl;
}

static void translate_ioio(struct hv_svm_vcpu *s, struct hv_exit *e, uint64_t rip)
{
    uint64_t info = s->vmcb->exitinfo1;
    e->kind = HV_EXIT_IO;
    e->port = (unsigned)(info >> IOIO_PORT_SHIFT) & 0xffff;
    e->size = (unsigned)(info >> IOIO_SIZE_SHIFT) & 7;    /* 1, 2 or 4: one bit each */
    e->is_write = !(info & IOIO_TYPE_IN);
    e->is_string = info & IOIO_STR;
    e->insn = e->is_write ? "out" : "in";
    e->insn_len = (unsigned)(s->vmcb->exitinfo2 - rip);  /* EXITINFO2 = next RIP */
}

/* EXITCODE -> exit kind (Appendix C). */
static void translate(struct hv_vcpu *v, struct hv_svm_vcpu *s, struct hv_exit *e)
{
    struct vmcb *c = s->vmcb;
    uint64_t code = c->exitcode;
    if ((uint32_t)code == 0xffffffffu)     /* QEMU stores -1 in the low 32 bits only */
        code = SVM_EXIT_INVALID;
    memset(e, 0, sizeof *e);
    e->reason = hv_svm_exit_name(code);
    s->reasons[hv_svm_reason_slot(code)]++;
    if (hv_svm_nested_l1_exit(v, s, code, e))
        return;
    switch (code) {
    case SVM_EXIT_INTR: case SVM_EXIT_NMI: e->kind = HV_EXIT_INTERRUPT; break;
    case SVM_EXIT_VINTR:  e->kind = HV_EXIT_INTR_WINDOW; break;
    case SVM_EXIT_CPUID:  e->kind = HV_EXIT_CPUID, e->insn_len = 2; break;
    case SVM_EXIT_HLT:    e->kind = HV_EXIT_HLT, e->insn = "hlt", e->insn_len = 1; break;
    case SVM_EXIT_VMMCALL: e->kind = HV_EXIT_HYPERCALL; break;
    case SVM_EXIT_SHUTDOWN: e->kind = HV_EXIT_SHUTDOWN; break;
    case SVM_EXIT_IOIO:   translate_ioio(s, e, v->regs->rip); break;
    case SVM_EXIT_MSR:
        e->kind = HV_EXIT_MSR, e->insn_len = 2;
        e->is_write = c->exitinfo1 & 1;
        e->insn = e->is_write ? "wrmsr" : "rdmsr";
        e->msr = (uint32_t)v->regs->rcx;
        break;
    case SVM_EXIT_CR0_READ: case SVM_EXIT_CR3_READ: case SVM_EXIT_CR4_READ:
    case SVM_EXIT_CR0_WRITE: case SVM_EXIT_CR3_WRITE: case SVM_EXIT_CR4_WRITE:
        e->kind = HV_EXIT_CR, e->is_write = code >= SVM_EXIT_CR0_WRITE;
        e->cr = (unsigned)(code & 15);
        e->gpr = -1;                                     /* vcpu.c decodes MOV CR */
        if ((s->features & SVM_FEAT_DECODE) && (s->features & SVM_FEAT_NRIPS) &&
            (c->exitinfo1 >> 63)) {                      /* 15.33.1: GPR number valid */
            e->gpr = (int)(c->exitinfo1 & 15);
            e->insn_len = (unsigned)(c->next_rip - c->rip);
        }
        break;
    case SVM_EXIT_EXCP_PF:               /* 15.12: EXITINFO1 = error code, 2 = CR2 */
        e->kind = HV_EXIT_EXCEPTION, e->vector = 14, e->has_error = true;
        e->error = c->exitinfo1, e->cr2 = c->exitinfo2;
        break;
    case SVM_EXIT_INVLPG:                /* 15.33.2: EXITINFO1 = the address (decode assists) */
        e->kind = HV_EXIT_INVLPG, e->insn = "invlpg";
        e->linear_valid = s->features & SVM_FEAT_DECODE, e->linear = c->exitinfo1;
        if (s->features & SVM_FEAT_NRIPS)
            e->insn_len = (unsigned)(c->next_rip - c->rip);
        break;
    case SVM_EXIT_NPF:                                   /* 15.25.6: EXITINFO2 = gPA */
        e->kind = HV_EXIT_NPF, e->gpa = c->exitinfo2, e->is_write = c->exitinfo1 & 2;
        break;
    case SVM_EXIT_INVALID:
        hv_printf("nesthv: svm: VMRUN failed: EXITCODE VMEXIT_INVALID (cr0 %lx cr4 %lx "
                  "efer %lx cs attrib %x)\n", c->cr0, c->cr4, c->efer, c->cs.attrib);
        hv_printf("nesthv: svm: broken rule: APM Vol. 2 15.5.1: %s\n",
                  hv_svm_broken_rule(c) ? hv_svm_broken_rule(c) : "none of nesthv's checks fails");
        e->kind = HV_EXIT_ENTRY_FAIL;
        break;
    default:
        hv_printf("nesthv: svm: exit code %lx (%s) has no exit kind\n", code, e->reason);
        e->kind = HV_EXIT_PRIV, e->insn = e->reason;
        break;
    }
}

static void hv_svm_run_guest(struct hv_vcpu *v, struct hv_exit *e)
{
    struct hv_svm_vcpu *s = v->hvm->arch;
    struct vmcb *c = s->vmcb;
    if (s->nested.in_l2) {
        hv_svm_nested_run_l2(v, s, e);
        return;
    }
    if (!load_vmcb(v, c)) {
        memset(e, 0, sizeof *e);
        e->kind = HV_EXIT_ENTRY_FAIL;
        return;
    }
    hv_svm_run(s->vmcb_pa, v->regs, s->host_save_pa);
    save_vmcb(v, c);
    c->eventinj = 0;
    /* An event the CPU was delivering when the exit came is lost unless we
     * inject it again (15.20 "EXITINTINFO"). */
    if (c->exitintinfo & EVENT_VALID)
        c->eventinj = c->exitintinfo;
    translate(v, s, e);
}

static void hv_svm_inject(struct hv_vcpu *v, unsigned vector, bool has_error, uint64_t error)
{
    struct hv_svm_vcpu *s = v->hvm->arch;
    s->vmcb->eventinj = vector | EVENT_TYPE_EXC | EVENT_VALID |
        (has_error ? EVENT_ERR_VALID | error << 32 : 0);
}

static void hv_svm_inject_irq(struct hv_vcpu *v, unsigned vector)
{
    struct hv_svm_vcpu *s = v->hvm->arch;
    s->vmcb->eventinj = vector | EVENT_TYPE_INTR | EVENT_VALID;
}

static bool hv_svm_irq_window_open(struct hv_vcpu *v)
{
    struct hv_svm_vcpu *s = v->hvm->arch;
    return (v->regs->rflags & HV_RFLAGS_IF) && !(s->vmcb->interrupt_shadow & 1) &&
           !(s->vmcb->eventinj & EVENT_VALID);
}

static void hv_svm_request_irq_window(struct hv_vcpu *v, bool on)
{
    struct hv_svm_vcpu *s = v->hvm->arch;
    uint64_t bits = VINTR_V_IRQ | VINTR_V_IGN_TPR | (0xfULL << VINTR_PRIO_SHIFT);
    s->vmcb->vintr = on ? s->vmcb->vintr | bits : s->vmcb->vintr & ~bits;
}

/* Pending virtual interrupts: into L1, unless nested SVM holds them (L2
 * running: an INTR exit to L1; L1's GIF clear: later). */
static void hv_svm_deliver_events(struct hv_vcpu *v)
{
    if (!hv_svm_nested_deliver(v, v->hvm->arch))
        hvm_deliver_events(v);
}

static void hv_svm_print_exit_reasons(struct hv_vcpu *v)
{
    struct hv_svm_vcpu *s = v->hvm->arch;
    hv_printf("nesthv: svm exits by code:");
    for (unsigned i = 0; i < SVM_NR_SLOTS; i++)
        if (s->reasons[i])
            hv_printf(" %s %lu", hv_svm_exit_name(i == 0x90 ? SVM_EXIT_NPF :
                      i == 0x91 ? SVM_EXIT_INVALID : i), s->reasons[i]);
    hv_printf("\n");
    if (s->nested.enabled)
        hv_svm_nested_print(s);
}

const struct hv_backend hv_backend_svm = {
    .name = "svm",
    .cpu_has = hv_svm_usable,
    .built = true,
    .create = hv_svm_create,
    .run = hv_svm_run_guest,
    .inject = hv_svm_inject,
    .deliver_events = hv_svm_deliver_events,
    .hypercall = hvm_hypercall,
    .irq_window_open = hv_svm_irq_window_open,
    .inject_irq = hv_svm_inject_irq,
    .request_irq_window = hv_svm_request_irq_window,
    .print_exit_reasons = hv_svm_print_exit_reasons,
};
