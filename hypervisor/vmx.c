/* vmx.c - the Intel VT-x backend: VMXON, the VMCS, EPT, VPID.
 *
 * Read it beside svm.c and pv.c: all three turn "the guest stopped" into a
 * struct hv_exit and leave the decision to vcpu.c.  What is Intel-specific
 * is here (SDM Vol. 3C chapters 24-29; constants in vmx_defs.h):
 *
 *   enable   IA32_FEATURE_CONTROL allows VMXON; CR0/CR4 get the bits the
 *            IA32_VMX_CR*_FIXED MSRs demand (CR4.VMXE); VMXON     (24.7, 24.8)
 *   VMCS     VMCLEAR + VMPTRLD, then every control is chosen from what we
 *            want and what the capability MSRs allow (TRUE_* when bit 55
 *            of IA32_VMX_BASIC says so, A.3-A.5).  We make exit what
 *            svm.c intercepts: CPUID (always), HLT, all I/O (bitmaps all
 *            ones), all MSRs but the segment bases (MSR bitmap), CR0/CR4
 *            writes (guest/host masks all ones, reads see the shadows),
 *            external interrupts and NMIs, VMCALL (always)
 *   EPT      guest-physical -> host-physical tables (hvm.c), VPID 1,
 *            "unrestricted guest" so the guest may start in protected mode
 *            with paging off, as Multiboot leaves it; or, with ept=0,
 *            shadow paging (shadow.c): CR3 loads and stores, INVLPG and #PF
 *            exit, and the guest runs paged even while it believes not
 *   run      hvm_entry.S: VMLAUNCH once, VMRESUME after
 *   exits    basic exit reason (Appendix C) -> struct hv_exit
 *   failure  a failed entry prints the VM-instruction error or the exit
 *            reason and qualification, then the rule it broke (vmx_check.c)
 */
#include "hvm.h"
#include "hv_vmx.h"

/* hvm_entry.S */
int hv_vmx_run(struct hv_regs *regs, int launched);
extern char hv_vmx_exit[];

const char *hv_vmx_field_name(uint32_t enc)
{
    switch (enc) {
#define X(name, e) case e: return #name;
    VMCS_FIELDS(X)
#undef X
    }
    return "?";
}

const char *hv_vmx_exit_name(uint32_t reason)
{
    switch (reason) {
#define X(n, name) case n: return #name;
    VMX_EXIT_REASONS(X)
#undef X
    }
    return "?";
}

uint64_t hv_vmread(uint32_t field)
{
    uint64_t v = 0;
    bool fail;
    __asm__ volatile("vmread %2, %0; setna %1" : "=rm"(v), "=qm"(fail) : "r"((uint64_t)field) : "cc");
    if (fail)
        hv_panic("vmx: VMREAD of %s (%x) failed", hv_vmx_field_name(field), field);
    return v;
}

void hv_vmwrite(uint32_t field, uint64_t value)
{
    bool fail;
    __asm__ volatile("vmwrite %1, %2; setna %0" : "=qm"(fail)
                     : "rm"(value), "r"((uint64_t)field) : "cc");
    if (fail)
        hv_panic("vmx: VMWRITE of %s (%x) = %lx failed (VM-instruction error %lu)",
                 hv_vmx_field_name(field), field, value, hv_vmread(VM_INSTRUCTION_ERROR));
}

/* Usable: VMX with EPT and unrestricted guest (main.c names what is
 * missing).  The capability MSRs exist only when CPUID says VMX. */
static bool hv_vmx_usable(const char *cmdline)
{
    if (!hv_cpu_has_vmx() || !(hv_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32 & PROC_SECONDARY))
        return false;
    uint64_t may = hv_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
    if (hv_cmdline_has(cmdline, "ept=0"))
        return true;                     /* shadow paging needs no secondary controls */
    return (may & PROC2_ENABLE_EPT) && (may & PROC2_UNRESTRICTED);
}

/* A control word: the bits we want, plus those the CPU insists on
 * (allowed-0 settings, low half of the MSR), minus those it cannot do
 * (allowed-1 settings, high half).  Wanted-but-impossible bits are an
 * error that names the control. */
static uint32_t adjust(const char *what, uint32_t msr, uint32_t want, uint32_t need)
{
    uint64_t cap = hv_rdmsr(msr);
    uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);
    if (need & ~may) {
        hv_printf("nesthv: error: vmx: this CPU cannot set %s bits %x (MSR %x allows %x)\n",
                  what, need & ~may, msr, may);
        hv_exit(HV_EXIT_CONFIG);
    }
    return (want | need | must) & may;
}

static void hv_vmx_enable(struct hv_vmx_vcpu *x)
{
    uint64_t fc = hv_rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        hv_wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON);
    else if (!(fc & FEATURE_CONTROL_VMXON)) {
        hv_printf("nesthv: error: VMX is disabled by the firmware (IA32_FEATURE_CONTROL "
                  "locked with bit 2 clear)\n");
        hv_exit(HV_EXIT_CONFIG);
    }
    x->basic = hv_rdmsr(MSR_IA32_VMX_BASIC);
    x->cr0_fixed0 = hv_rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    x->cr0_fixed1 = hv_rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    x->cr4_fixed0 = hv_rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    x->cr4_fixed1 = hv_rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    cr0 = (cr0 | x->cr0_fixed0) & x->cr0_fixed1;
    cr4 = (cr4 | x->cr4_fixed0 | VMX_CR4_VMXE) & x->cr4_fixed1;
    __asm__ volatile("mov %0, %%cr0; mov %1, %%cr4" : : "r"(cr0), "r"(cr4));

    uint64_t vmxon_pa = hv_frame_alloc() << 12;
    *(uint32_t *)hv_phys_to_virt(vmxon_pa) = (uint32_t)x->basic & 0x7fffffff;
    bool fail;
    __asm__ volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(vmxon_pa) : "cc", "memory");
    if (fail)
        hv_panic("vmx: VMXON failed");
    x->vmcs_pa = hv_frame_alloc() << 12;
    *(uint32_t *)hv_phys_to_virt(x->vmcs_pa) = (uint32_t)x->basic & 0x7fffffff;
    __asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(x->vmcs_pa) : "cc", "memory");
    if (!fail)
        __asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(x->vmcs_pa) : "cc", "memory");
    if (fail)
        hv_panic("vmx: VMCLEAR/VMPTRLD of the VMCS failed");
}

static void setup_controls(struct hv_vmx_vcpu *x, struct hv_vcpu *v)
{
    bool t = x->basic & VMX_BASIC_TRUE_CTLS;
    x->pin = adjust("pin-based", t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
                    0, PIN_EXTINT_EXITING | PIN_NMI_EXITING);
    bool shadow = v->hvm->shadow;
    x->proc = adjust("processor-based", t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
                     MSR_IA32_VMX_PROCBASED_CTLS, 0, PROC_HLT_EXITING | PROC_USE_IO_BITMAPS |
                     PROC_USE_MSR_BITMAPS | (shadow ? PROC_INVLPG_EXITING |
                     PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING : PROC_SECONDARY));
    /* Shadow paging: no EPT, so no unrestricted guest; no VPID either, so
     * every entry and exit flushes the guest's TLB (28.3.3.1) and a changed
     * shadow needs no INVVPID. */
    x->proc2 = shadow ? 0 : adjust("secondary processor-based", MSR_IA32_VMX_PROCBASED_CTLS2,
                                   0, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED);
    x->exit = adjust("VM-exit", t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS, 0,
                     EXIT_HOST_64BIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER);
    x->entry = adjust("VM-entry", t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
                      0, ENTRY_LOAD_EFER) & ~ENTRY_IA32E_GUEST;
    hv_vmwrite(PIN_BASED_CONTROLS, x->pin);
    hv_vmwrite(PROC_BASED_CONTROLS, x->proc);
    if (x->proc & PROC_SECONDARY)
        hv_vmwrite(PROC_BASED_CONTROLS2, x->proc2);
    hv_vmwrite(EXIT_CONTROLS, x->exit);
    hv_vmwrite(ENTRY_CONTROLS, x->entry);
    hv_vmwrite(EXCEPTION_BITMAP, shadow ? 1u << 14 : 0);   /* #PF: every one (mask 0 = match 0) */
    hv_vmwrite(PF_ERROR_MASK, 0);
    hv_vmwrite(PF_ERROR_MATCH, 0);
    hv_vmwrite(CR3_TARGET_COUNT, 0);
    hv_vmwrite(CR0_GUEST_HOST_MASK, ~0ULL);         /* every CR0/CR4 write exits */
    hv_vmwrite(CR4_GUEST_HOST_MASK, ~0ULL);

    uint64_t io = hv_frame_alloc_contig(2), msr = hv_frame_alloc();
    memset(hv_frame_table(io), 0xff, 2 * HV_PAGE_SIZE);
    uint8_t *mb = (uint8_t *)hv_frame_table(msr);
    memset(mb, 0xff, HV_PAGE_SIZE);
    /* MSR bitmap (25.6.9): read-high at 400h, write-high at C00h, one bit
     * per MSR C000_0000h + n.  FS/GS/KernelGS bases pass through. */
    for (unsigned n = 0x100; n <= 0x102; n++)
        mb[0x400 + n / 8] &= (uint8_t)~(1u << n % 8), mb[0xc00 + n / 8] &= (uint8_t)~(1u << n % 8);
    hv_vmwrite(IO_BITMAP_A, io << 12);
    hv_vmwrite(IO_BITMAP_B, (io + 1) << 12);
    hv_vmwrite(MSR_BITMAP, msr << 12);

    if (shadow) {
        hv_printf("nesthv: vmx: VMCS revision %lx, %s controls, EPT off (ept=0): shadow page "
                  "tables, no VPID\n", x->basic & 0x7fffffff, t ? "TRUE_*" : "default");
        return;
    }
    uint64_t ept_cap = hv_rdmsr(MSR_IA32_VMX_EPT_VPID_CAP), root;
    if (!(ept_cap & EPT_CAP_WALK4)) {
        hv_printf("nesthv: error: vmx: EPT without 4-level walks (IA32_VMX_EPT_VPID_CAP)\n");
        hv_exit(HV_EXIT_CONFIG);
    }
    hvm_build_nested_tables(v, &root, true);
    /* EPTP (25.6.11): memory type 2:0 (6 = WB, else UC), walk length - 1 in 5:3. */
    hv_vmwrite(EPT_POINTER, root | (ept_cap & EPT_CAP_WB ? 6 : 0) | 3 << 3);
    hv_vmwrite(VPID, 1);
    hv_printf("nesthv: vmx: VMCS revision %lx, %s controls, EPT root %lx, VPID 1, "
              "unrestricted guest\n", x->basic & 0x7fffffff, t ? "TRUE_*" : "default", root);
}

static uint64_t seg_base_from_gdt(uint16_t sel)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    const uint64_t *d = (const uint64_t *)(gdtr.base + (sel & ~7));
    return (d[0] >> 16 & 0xffffff) | (d[0] >> 56 & 0xff) << 24 | (d[1] & 0xffffffff) << 32;
}

/* Host state (26.2.2-26.2.4, loaded at every exit, 28.5). */
static void setup_host_state(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;
    uint64_t cr0, cr3, cr4;
    uint16_t ds, ss, es;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    __asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2" : "=r"(cr0), "=r"(cr3), "=r"(cr4));
    __asm__ volatile("mov %%ds, %0; mov %%ss, %1; mov %%es, %2" : "=r"(ds), "=r"(ss), "=r"(es));
    hv_vmwrite(HOST_CR0, cr0);
    hv_vmwrite(HOST_CR3, cr3);
    hv_vmwrite(HOST_CR4, cr4);
    hv_vmwrite(HOST_CS_SEL, HV_CS);
    hv_vmwrite(HOST_SS_SEL, ss & ~7);
    hv_vmwrite(HOST_DS_SEL, ds & ~7);
    hv_vmwrite(HOST_ES_SEL, es & ~7);
    hv_vmwrite(HOST_FS_SEL, 0);
    hv_vmwrite(HOST_GS_SEL, 0);
    hv_vmwrite(HOST_TR_SEL, HV_TSS_SEL);
    hv_vmwrite(HOST_TR_BASE, seg_base_from_gdt(HV_TSS_SEL));
    hv_vmwrite(HOST_FS_BASE, hv_rdmsr(0xc0000100));
    hv_vmwrite(HOST_GS_BASE, hv_rdmsr(0xc0000101));
    hv_vmwrite(HOST_GDTR_BASE, gdtr.base);
    hv_vmwrite(HOST_IDTR_BASE, idtr.base);
    hv_vmwrite(HOST_SYSENTER_CS, 0);
    hv_vmwrite(HOST_SYSENTER_ESP, 0);
    hv_vmwrite(HOST_SYSENTER_EIP, 0);
    hv_vmwrite(HOST_IA32_EFER, hv_rdmsr(MSR_EFER));
    hv_vmwrite(HOST_RIP, (uint64_t)hv_vmx_exit);
}

/* The state Multiboot promises (spec 3.2): flat 32-bit code and data,
 * protected mode, paging off.  Access rights (25.4.1, table 25-2) are
 * descriptor bits 47:40 and 55:52 again, bit 16 = unusable. */
static void setup_guest_state(void)
{
    static const uint32_t sel[6] = { GUEST_ES_SEL, GUEST_CS_SEL, GUEST_SS_SEL,
                                     GUEST_DS_SEL, GUEST_FS_SEL, GUEST_GS_SEL };
    for (unsigned i = 0; i < 6; i++) {
        bool cs = sel[i] == GUEST_CS_SEL;
        hv_vmwrite(sel[i], cs ? 0x08 : 0x10);
        hv_vmwrite(GUEST_ES_LIMIT + (sel[i] - GUEST_ES_SEL), 0xffffffff);
        hv_vmwrite(GUEST_ES_AR + (sel[i] - GUEST_ES_SEL), cs ? 0xc09b : 0xc093);
        hv_vmwrite(GUEST_ES_BASE + (sel[i] - GUEST_ES_SEL), 0);
    }
    hv_vmwrite(GUEST_LDTR_SEL, 0);
    hv_vmwrite(GUEST_LDTR_AR, 1u << 16);                /* unusable */
    hv_vmwrite(GUEST_LDTR_LIMIT, 0);
    hv_vmwrite(GUEST_LDTR_BASE, 0);
    hv_vmwrite(GUEST_TR_SEL, 0);
    hv_vmwrite(GUEST_TR_AR, 0x8b);                      /* busy TSS, as IA-32e needs */
    hv_vmwrite(GUEST_TR_LIMIT, 0x67);
    hv_vmwrite(GUEST_TR_BASE, 0);
    hv_vmwrite(GUEST_GDTR_BASE, 0);
    hv_vmwrite(GUEST_GDTR_LIMIT, 0xffff);
    hv_vmwrite(GUEST_IDTR_BASE, 0);
    hv_vmwrite(GUEST_IDTR_LIMIT, 0xffff);
    hv_vmwrite(GUEST_DR7, 0x400);
    hv_vmwrite(GUEST_IA32_DEBUGCTL, 0);
    hv_vmwrite(GUEST_PENDING_DBG, 0);
    hv_vmwrite(GUEST_INTERRUPTIBILITY, 0);
    hv_vmwrite(GUEST_ACTIVITY_STATE, 0);
    hv_vmwrite(GUEST_SYSENTER_CS, 0);
    hv_vmwrite(GUEST_SYSENTER_ESP, 0);
    hv_vmwrite(GUEST_SYSENTER_EIP, 0);
    hv_vmwrite(VMCS_LINK_POINTER, ~0ULL);
}

static void hv_vmx_create(struct hv_vcpu *v, const struct hv_module *m)
{
    struct hv_vmx_vcpu *x = hv_alloc(sizeof *x);
    hv_vmx_enable(x);
    hvm_create(v, m);
    v->hvm->arch = x;
    if (hv_cmdline_has(v->cmdline, "ept=0"))
        hvm_shadow_create(v);
    setup_controls(x, v);
    setup_host_state();
    setup_guest_state();
    /* Test hook: CS without the accessed bit breaks 26.3.1.2, to show the report. */
    if (hv_cmdline_has(v->cmdline, "hvtest=bad-vm-state")) {
        hv_printf("nesthv: hvtest=bad-vm-state: GUEST_CS_AR = c09a (code, accessed bit clear)\n");
        hv_vmwrite(GUEST_CS_AR, 0xc09a);
    }
}

/* Guest state nesthv keeps (hvm.h) -> VMCS.  With unrestricted guest,
 * CR0.PE and CR0.PG are free (26.3.1.1); every other fixed bit is forced,
 * and the guest reads its own value through the read shadow. */
/* Shadow paging: without unrestricted guest CR0.PE and PG must be 1
 * (26.3.1.1), so while the guest has paging off the CPU runs with PAE paging
 * over an identity shadow (shadow.c); the read shadows keep showing the
 * guest its own CR0/CR4, and CR3 reads exit.  The guest's CR2 is the CPU's:
 * VM entry does not load it, so a reflected #PF's address is written here. */
static bool load_shadow_state(struct hv_vcpu *v, uint64_t *cr0, uint64_t *cr4, uint64_t *efer)
{
    struct hvm_guest *g = v->hvm;
    const char *why = "";
    if (!hvm_shadow_mode_changed(v, &why)) {
        hv_guest_crash(v, "%s", why);
        return false;
    }
    if (!(g->cr0 & CR0_PG)) {
        *cr0 |= CR0_PG;
        *cr4 |= CR4_PAE;
        *efer &= ~(EFER_LME | EFER_LMA);
    }
    return true;
}

static bool load_vmcs(struct hv_vcpu *v, struct hv_vmx_vcpu *x)
{
    struct hvm_guest *g = v->hvm;
    if (g->ctl_dirty) {
        uint64_t cr0 = g->cr0, cr4 = g->cr4, efer = g->efer;
        if (g->shadow && !load_shadow_state(v, &cr0, &cr4, &efer))
            return false;
        uint64_t f0 = x->cr0_fixed0 & ~(g->shadow ? 0 : CR0_PE | CR0_PG);
        hv_vmwrite(GUEST_CR0, (cr0 | f0) & x->cr0_fixed1);
        hv_vmwrite(CR0_READ_SHADOW, g->cr0);
        hv_vmwrite(GUEST_CR4, (cr4 | x->cr4_fixed0) & x->cr4_fixed1);
        hv_vmwrite(CR4_READ_SHADOW, g->cr4);
        if (!g->shadow)
            hv_vmwrite(GUEST_CR3, g->cr3);
        hv_vmwrite(GUEST_IA32_EFER, efer);
        /* 26.3.1.1: "IA-32e mode guest" must equal EFER.LMA */
        hv_vmwrite(ENTRY_CONTROLS, efer & EFER_LMA ? x->entry | ENTRY_IA32E_GUEST : x->entry);
        g->ctl_dirty = false;
    }
    if (g->shadow) {
        bool flush;                      /* no VPID: every entry flushes already */
        hv_vmwrite(GUEST_CR3, hvm_shadow_root(v, &flush));
        if (g->cr2_dirty) {
            __asm__ volatile("mov %0, %%cr2" : : "r"(g->cr2));
            g->cr2_dirty = false;
        }
    }
    hv_vmwrite(GUEST_RIP, g->regs.rip);
    hv_vmwrite(GUEST_RSP, g->regs.rsp);
    hv_vmwrite(GUEST_RFLAGS, g->regs.rflags);
    return true;
}

static void save_vmcs(struct hv_vcpu *v)
{
    struct hvm_guest *g = v->hvm;
    g->regs.rip = hv_vmread(GUEST_RIP);
    g->regs.rsp = hv_vmread(GUEST_RSP);
    g->regs.rflags = hv_vmread(GUEST_RFLAGS);
    if (!g->shadow)                      /* else CR3 loads exit: g->cr3 is the truth */
        g->cr3 = hv_vmread(GUEST_CR3);
    g->long_mode = (g->efer & EFER_LMA) && (hv_vmread(GUEST_CS_AR) & (1u << 13));
    g->cpl = hv_vmread(GUEST_SS_AR) >> 5 & 3;            /* SS.DPL is the CPL (26.3.1.2) */
}

static void translate_cr(struct hv_exit *e, uint64_t q)
{
    /* Exit qualification for CR access (28.2.1, table 28-3):
     * 3:0 CR number, 5:4 type (0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW),
     * 11:8 the general register. */
    unsigned type = q >> 4 & 3;
    if (type >= 2) {
        e->kind = HV_EXIT_PRIV, e->insn = type == 2 ? "clts" : "lmsw";
        return;
    }
    e->kind = HV_EXIT_CR;
    e->cr = q & 15;
    e->is_write = type == 0;
    e->gpr = (int)(q >> 8 & 15);
}

static void translate_io(struct hv_exit *e, uint64_t q)
{
    /* I/O exit qualification (table 28-5): 2:0 size - 1, bit 3 IN,
     * bit 4 string, bit 5 REP, 31:16 port. */
    e->kind = HV_EXIT_IO;
    e->size = (q & 7) + 1;
    e->is_write = !(q & 8);
    e->is_string = q & 16;
    e->port = q >> 16 & 0xffff;
    e->insn = e->is_write ? "out" : "in";
}

/* Exit reason 0: an NMI, or an exception the bitmap asked for (#PF under
 * shadow paging): interruption information (24.9.2), error code, and for
 * #PF the address in the qualification (28.2.1; CR2 is not yet written). */
static void translate_exception(struct hv_exit *e)
{
    uint32_t info = (uint32_t)hv_vmread(EXIT_INTR_INFO);
    if ((info >> 8 & 7) == 2) {          /* type 2: NMI */
        e->kind = HV_EXIT_INTERRUPT;
        return;
    }
    e->kind = HV_EXIT_EXCEPTION, e->vector = info & 0xff;
    e->has_error = info & INTR_ERR_VALID;
    e->error = e->has_error ? hv_vmread(EXIT_INTR_ERROR) : 0;
    if (e->vector == 14)
        e->cr2 = hv_vmread(EXIT_QUALIFICATION);
}

/* Basic exit reason -> exit kind (Appendix C). */
static void translate(struct hv_vcpu *v, struct hv_vmx_vcpu *x, struct hv_exit *e, uint32_t reason)
{
    uint32_t basic = reason & 0xffff;
    memset(e, 0, sizeof *e);
    e->reason = hv_vmx_exit_name(basic);
    e->insn_len = (unsigned)hv_vmread(EXIT_INSN_LEN);
    x->reasons[basic < VMX_NR_EXIT_REASONS ? basic : 0]++;
    if (reason & VMX_EXIT_REASON_ENTRY_FAIL) {
        hv_vmx_explain_entry_failure(x, reason, hv_vmread(EXIT_QUALIFICATION));
        e->kind = HV_EXIT_ENTRY_FAIL;
        return;
    }
    switch (basic) {
    case VMX_EXIT_EXCEPTION_NMI: translate_exception(e); break;
    case VMX_EXIT_EXTERNAL_INTERRUPT: e->kind = HV_EXIT_INTERRUPT; break;
    case VMX_EXIT_INVLPG:        /* 28.2.1: the qualification is the address */
        e->kind = HV_EXIT_INVLPG, e->insn = "invlpg";
        e->linear = hv_vmread(EXIT_QUALIFICATION), e->linear_valid = true;
        break;
    case VMX_EXIT_INTERRUPT_WINDOW: e->kind = HV_EXIT_INTR_WINDOW; break;
    case VMX_EXIT_TRIPLE_FAULT: e->kind = HV_EXIT_SHUTDOWN; break;
    case VMX_EXIT_CPUID:  e->kind = HV_EXIT_CPUID; break;
    case VMX_EXIT_HLT:    e->kind = HV_EXIT_HLT, e->insn = "hlt"; break;
    case VMX_EXIT_VMCALL: e->kind = HV_EXIT_HYPERCALL; break;
    case VMX_EXIT_CR_ACCESS: translate_cr(e, hv_vmread(EXIT_QUALIFICATION)); break;
    case VMX_EXIT_IO_INSTRUCTION: translate_io(e, hv_vmread(EXIT_QUALIFICATION)); break;
    case VMX_EXIT_RDMSR: case VMX_EXIT_WRMSR:
        e->kind = HV_EXIT_MSR, e->is_write = basic == VMX_EXIT_WRMSR;
        e->insn = e->is_write ? "wrmsr" : "rdmsr";
        e->msr = (uint32_t)v->regs->rcx;
        break;
    case VMX_EXIT_EPT_VIOLATION:     /* 28.2.1 table 28-7: bit 1 = write */
        e->kind = HV_EXIT_NPF, e->gpa = hv_vmread(GUEST_PHYSICAL_ADDRESS);
        e->is_write = hv_vmread(EXIT_QUALIFICATION) & 2;
        break;
    default:
        e->kind = HV_EXIT_PRIV, e->insn = e->reason;
        break;
    }
}

static void hv_vmx_run_guest(struct hv_vcpu *v, struct hv_exit *e)
{
    struct hv_vmx_vcpu *x = v->hvm->arch;
    if (!load_vmcs(v, x)) {
        memset(e, 0, sizeof *e);
        e->kind = HV_EXIT_ENTRY_FAIL;
        return;
    }
    if (hv_vmx_run(v->regs, x->launched)) {
        hv_vmx_explain_entry_failure(x, 0, 0);
        memset(e, 0, sizeof *e);
        e->kind = HV_EXIT_ENTRY_FAIL;
        return;
    }
    x->launched = 1;
    save_vmcs(v);
    /* An event the CPU was delivering when the exit came is lost unless we
     * inject it again (27.2.4 "IDT-vectoring information"). */
    uint32_t idt = (uint32_t)hv_vmread(IDT_VECTORING_INFO);
    if (idt & INTR_VALID) {
        hv_vmwrite(ENTRY_INTR_INFO, idt & ~(1u << 12));
        if (idt & INTR_ERR_VALID)
            hv_vmwrite(ENTRY_EXCEPTION_ERROR, hv_vmread(IDT_VECTORING_ERROR));
        hv_vmwrite(ENTRY_INSN_LEN, hv_vmread(EXIT_INSN_LEN));
    }
    translate(v, x, e, (uint32_t)hv_vmread(EXIT_REASON));
}

static void hv_vmx_inject(struct hv_vcpu *v, unsigned vector, bool has_error, uint64_t error)
{
    (void)v;
    hv_vmwrite(ENTRY_INTR_INFO, vector | INTR_TYPE_HW_EXC | INTR_VALID |
            (has_error ? INTR_ERR_VALID : 0));
    if (has_error)
        hv_vmwrite(ENTRY_EXCEPTION_ERROR, error);
}

static void hv_vmx_inject_irq(struct hv_vcpu *v, unsigned vector)
{
    (void)v;
    hv_vmwrite(ENTRY_INTR_INFO, vector | INTR_TYPE_EXT | INTR_VALID);
}

/* 26.3.1.5: an external interrupt can be injected only with RFLAGS.IF = 1
 * and no blocking by STI or MOV SS (interruptibility bits 0, 1). */
static bool hv_vmx_irq_window_open(struct hv_vcpu *v)
{
    return (v->regs->rflags & HV_RFLAGS_IF) && !(hv_vmread(GUEST_INTERRUPTIBILITY) & 3) &&
           !(hv_vmread(ENTRY_INTR_INFO) & INTR_VALID);
}

static void hv_vmx_request_irq_window(struct hv_vcpu *v, bool on)
{
    struct hv_vmx_vcpu *x = v->hvm->arch;
    uint32_t proc = on ? x->proc | PROC_INTR_WINDOW : x->proc & ~PROC_INTR_WINDOW;
    if (proc != x->proc)
        hv_vmwrite(PROC_BASED_CONTROLS, x->proc = proc);
}

static void hv_vmx_print_exit_reasons(struct hv_vcpu *v)
{
    struct hv_vmx_vcpu *x = v->hvm->arch;
    hv_printf("nesthv: vmx exits by reason:");
    for (unsigned i = 0; i < VMX_NR_EXIT_REASONS; i++)
        if (x->reasons[i])
            hv_printf(" %s %lu", hv_vmx_exit_name(i), x->reasons[i]);
    hv_printf("\n");
}

const struct hv_backend hv_backend_vmx = {
    .name = "vmx",
    .cpu_has = hv_vmx_usable,
    .built = true,
    .create = hv_vmx_create,
    .run = hv_vmx_run_guest,
    .inject = hv_vmx_inject,
    .deliver_events = hvm_deliver_events,
    .hypercall = hvm_hypercall,
    .irq_window_open = hv_vmx_irq_window_open,
    .inject_irq = hv_vmx_inject_irq,
    .request_irq_window = hv_vmx_request_irq_window,
    .print_exit_reasons = hv_vmx_print_exit_reasons,
};
