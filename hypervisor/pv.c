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
 *   #UD on "ud2; 'xen'; cpuid"   -> HV_EXIT_CPUID (Xen's forced emulation)
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

/* Xen's forced-emulation prefix: "ud2; .ascii \"xen\"; cpuid".  CPUID does
 * not fault in ring 3 (no CPUID faulting here), so a PV kernel that wants
 * the hypervisor's view of CPUID asks with this #UD-raising sequence. */
static bool decode_forced_cpuid(struct hv_vcpu *v, struct hv_exit *e)
{
    static const uint8_t seq[7] = { 0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2 };
    uint8_t b[7];
    if (pv_copy_from_guest(v, b, v->regs->rip, sizeof b) || memcmp(b, seq, sizeof b))
        return false;
    e->kind = HV_EXIT_CPUID;
    e->insn = "cpuid";
    e->insn_len = sizeof seq;
    return true;
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
    } else if (vec == PV_SYSCALL_VECTOR && v->pv->user_mode &&
               (v->pv->traps[vec].flags & PV_TI_DPL_MASK) != 3) {
        /* The guest's gate for INT 0x80 is not open to user mode: what the
         * CPU does for a gate with DPL < CPL (SDM 3A 7.12.1.1). */
        r->rip -= 2;
        *e = (struct hv_exit){ .kind = HV_EXIT_EXCEPTION, .vector = 13, .has_error = true,
                               .error = PV_SYSCALL_VECTOR * 8 + 2 };
    } else if (vec == PV_SYSCALL_VECTOR) {
        e->kind = HV_EXIT_SOFTINT;
    } else if (vec == HV_VEC_TIMER || vec == HV_VEC_SPURIOUS) {
        e->kind = HV_EXIT_INTERRUPT;
    } else if (vec == 13 && r->error == 0 && decode_privileged(v, e)) {
        /* e filled in by decode_privileged */
    } else if (vec == 6 && decode_forced_cpuid(v, e)) {
        /* e filled in by decode_forced_cpuid */
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
    if (d->user_mode && !d->kernel_sp) {
        hv_guest_crash(v, "%s in user mode, but no kernel stack (stack_switch)",
                       hv_vector_name(vector));
        return;
    }
    if (d->user_mode) {                   /* user -> kernel: switch tables, stack */
        d->user_mode = false;
        pv_load_cr3(v);
        sp = d->kernel_sp;
    } else {
        sp = r->rsp;
    }
    sp = (sp & ~15ULL) - n * 8;
    if (pv_copy_to_guest(v, sp, frame, n * 8)) {
        hv_guest_crash(v, "cannot push the bounce frame for vector %u at %lx (%s)",
                       vector, sp, pv_copy_error());
        return;
    }
    r->rip = ti->address;
    r->cs = PV_KERNEL_CS;
    r->ss = PV_DS;
    r->rsp = sp;
    r->rflags = (r->rflags & ~(uint64_t)(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF)) | HV_RFLAGS_IF;
    if ((ti->flags & PV_TI_MASK_EVENTS) || vector == PV_EVENT_VECTOR)
        d->shared->vcpu.upcall_mask = 1;
    if (v->trace)
        hv_printf("nesthv: trace: bounce vector %u to guest kernel handler %lx, frame at %lx\n",
                  vector, ti->address, sp);
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

/* The domain builder: from an ELF file to a PV guest ready to
 * run its first instruction (Xen's xen/arch/x86/pv/dom0_build.c, in small).
 *
 * The guest gets GUEST_PAGES contiguous machine frames.  Pseudo-physical
 * frame p is machine frame first_mfn + p, and the guest kernel starts with
 * virtual = pseudo-physical.  Layout of its pseudo-physical memory:
 *
 *   0            page 0: never mapped (catches null pointers)
 *   0x100000     the ELF segments, at their p_paddr
 *   image end    start info | shared info | L4 | L3 | L2 | L1 x 2 | stack x 4
 *   first_free   free for the guest's own allocator, up to 4 MiB
 *
 * The boot page tables map pages 1..1023 at virtual = pseudo-physical with
 * 4 KiB pages; the page-table pages themselves read-only (the direct-paging
 * rule, pv_mm.c).  nesthv then validates them exactly as it would validate
 * tables the guest built - by taking an L4 type reference on the root, which
 * also serves as the kernel's base pointer.  A builder bug is therefore a
 * panic here, not a hole.
 */
#define GUEST_PAGES 1024                  /* 4 MiB */
#define GUEST_STACK_PAGES 4

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static struct pv_domain domain;

/* Copy the PT_LOAD segments; return the first pfn after the image. */
static uint64_t load_elf(const uint8_t *img, uint64_t size, uint64_t first_mfn, uint64_t *entry)
{
    const struct elf64_ehdr *eh = (const void *)img;
    if (size < sizeof *eh || memcmp(eh->ident, "\x7f" "ELF", 4) || eh->ident[4] != 2 ||
        eh->machine != 62 || eh->phentsize != sizeof(struct elf64_phdr) ||
        eh->phoff > size || eh->phnum > (size - eh->phoff) / sizeof(struct elf64_phdr))
        hv_panic("guest module is not a 64-bit x86-64 ELF executable");
    uint64_t end = 0;
    const struct elf64_phdr *ph = (const void *)(img + eh->phoff);
    for (unsigned i = 0; i < eh->phnum; i++) {
        if (ph[i].type != 1)              /* PT_LOAD */
            continue;
        uint64_t lim = (uint64_t)(GUEST_PAGES - 16) << 12;
        if (ph[i].paddr < 0x1000 || ph[i].memsz > lim || ph[i].paddr > lim - ph[i].memsz ||
            ph[i].filesz > ph[i].memsz || ph[i].offset > size || ph[i].filesz > size - ph[i].offset)
            hv_panic("guest ELF segment %u (paddr %lx, size %lx) does not fit the guest's "
                     "%u KiB", i, ph[i].paddr, ph[i].memsz, GUEST_PAGES * 4);
        memcpy(hv_phys_to_virt((first_mfn << 12) + ph[i].paddr), img + ph[i].offset, ph[i].filesz);
        if (ph[i].paddr + ph[i].memsz > end)
            end = ph[i].paddr + ph[i].memsz;
    }
    if (!end)
        hv_panic("guest ELF has no loadable segment");
    if (eh->entry < 0x1000 || eh->entry >= ((uint64_t)GUEST_PAGES << 12))
        hv_panic("guest ELF entry point %lx is outside the guest's memory", eh->entry);
    *entry = eh->entry;
    return HV_ALIGN_UP(end, 4096) >> 12;
}

/* Boot page tables: L4[0] -> L3[0] -> L2[0..1] -> two L1s (pfn 0..1023). */
static void build_tables(uint64_t first_mfn, uint64_t pt_pfn, uint64_t nr_l1)
{
    uint64_t *l4 = hv_frame_table(first_mfn + pt_pfn);
    uint64_t *l3 = hv_frame_table(first_mfn + pt_pfn + 1);
    uint64_t *l2 = hv_frame_table(first_mfn + pt_pfn + 2);
    const uint64_t link = PTE_P | PTE_RW | PTE_US;
    l4[0] = ((first_mfn + pt_pfn + 1) << 12) | link;
    l3[0] = ((first_mfn + pt_pfn + 2) << 12) | link;
    for (uint64_t i = 0; i < nr_l1; i++) {
        uint64_t l1_pfn = pt_pfn + 3 + i;
        uint64_t *l1 = hv_frame_table(first_mfn + l1_pfn);
        l2[i] = ((first_mfn + l1_pfn) << 12) | link;
        for (uint64_t j = 0; j < 512; j++) {
            uint64_t pfn = i * 512 + j;
            bool is_pt = pfn >= pt_pfn && pfn < pt_pfn + 3 + nr_l1;
            if (pfn)
                l1[j] = ((first_mfn + pfn) << 12) | PTE_P | PTE_US | (is_pt ? 0 : PTE_RW);
        }
    }
}

static void pv_build_domain(struct hv_vcpu *v, const struct hv_module *m)
{
    struct pv_domain *d = &domain;
    uint64_t entry;
    v->pv = d;
    pv_mm_init();
    d->first_mfn = hv_frame_alloc_contig(GUEST_PAGES);
    d->nr_pages = GUEST_PAGES;
    for (uint64_t i = 0; i < GUEST_PAGES; i++)
        pv_page(d->first_mfn + i)->owner = PV_OWNER_GUEST;

    uint64_t img_end = load_elf(hv_phys_to_virt(m->start), m->end - m->start,
                                d->first_mfn, &entry);
    uint64_t si_pfn = img_end, sh_pfn = img_end + 1, pt_pfn = img_end + 2;
    uint64_t nr_l1 = GUEST_PAGES / 512, nr_pt = 3 + nr_l1;
    uint64_t stack_top = (pt_pfn + nr_pt + GUEST_STACK_PAGES) << 12;
    uint64_t first_free = stack_top >> 12;

    build_tables(d->first_mfn, pt_pfn, nr_l1);
    if (pv_get_type(d->first_mfn + pt_pfn, PGT_L4))
        hv_panic("domain builder: boot page tables failed validation");
    d->kernel_l4 = d->first_mfn + pt_pfn;

    struct pv_start_info *si = hv_phys_to_virt((d->first_mfn + si_pfn) << 12);
    memcpy(si->magic, PV_START_MAGIC, sizeof PV_START_MAGIC);
    si->nr_pages = GUEST_PAGES;
    si->first_mfn = d->first_mfn;
    si->shared_info = sh_pfn << 12;
    si->pt_base = pt_pfn << 12;
    si->nr_pt_frames = nr_pt;
    si->first_free_pfn = first_free;
    for (unsigned i = 0; i + 1 < sizeof si->cmdline && m->cmdline[i]; i++)
        si->cmdline[i] = m->cmdline[i];
    d->shared = hv_phys_to_virt((d->first_mfn + sh_pfn) << 12);
    d->shared->vcpu.upcall_mask = 1;      /* events masked until the guest is ready */

    v->regs = (struct hv_regs *)(hv_trap_stack_top() - sizeof(struct hv_regs));
    memset(v->regs, 0, sizeof *v->regs);
    v->regs->rip = entry;
    v->regs->cs = PV_KERNEL_CS;
    v->regs->ss = PV_DS;
    v->regs->rsp = stack_top;
    v->regs->rflags = HV_RFLAGS_IF | 2;
    v->regs->rsi = si_pfn << 12;
    hv_printf("nesthv: guest: %lu KiB image, entry %lx, %u KiB at mfn %lx, start info at %lx\n",
              (img_end << 12 >> 10) - 1024, entry, GUEST_PAGES * 4, d->first_mfn, si_pfn << 12);
}

static void pv_create(struct hv_vcpu *v, const struct hv_module *m)
{
    pv_build_domain(v, m);
    v->pv->hv_text_sum = text_sum();
    pv_load_cr3(v);
}

static bool pv_cpu_has(const char *cmdline) { (void)cmdline; return true; }

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
