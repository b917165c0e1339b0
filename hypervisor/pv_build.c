/* pv_build.c - the domain builder: from an ELF file to a PV guest ready to
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
#include "pv.h"

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

void pv_build_domain(struct hv_vcpu *v, const struct hv_module *m)
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
