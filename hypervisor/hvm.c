/* hvm.c - guest memory and the guest's boot, shared by vmx.c and svm.c.
 *
 * Memory.  The guest gets HVM_MEM_SIZE bytes of host frames in one run;
 * guest-physical g is host-physical mem_pa + g.  The second-level tables
 * (EPT for VT-x, NPT for AMD-V) map exactly that range; both are 4-level
 * radix trees with 512 eight-byte entries per 4 KiB table, and differ in
 * what the low bits of an entry mean:
 *
 *   EPT entry (SDM Vol. 3C 29.3.2, tables 29-1..29-6)
 *     bit 0 read, 1 write, 2 execute; bits 5:3 memory type (leaf; 6 = WB)
 *   NPT entry (APM Vol. 2 15.25.5: an ordinary long-mode PTE)
 *     bit 0 present, 1 writable, 2 user - NPT walks are user accesses, so
 *     U=1 at every level
 *
 * so "7" means "everything allowed" in both, and only the EPT leaf adds a
 * memory type.  The local APIC page (0xFEE00000) is left out: the guest's
 * accesses to it become EPT violations / nested page faults, which vcpu.c
 * turns into MMIO on the virtual APIC (hvm_dev.c).
 *
 * Boot.  nesthv is the guest's Multiboot 1 loader: it finds the header
 * (magic 0x1BADB002 in the first 8 KiB, spec 3.1.1), copies the image by
 * its address fields, builds a Multiboot information structure with the
 * memory sizes and the module's command line, and starts the guest at
 * entry_addr with EAX = 0x2BADB002, EBX = that structure (spec 3.2).
 *
 * Guest virtual memory (hypercall buffers, instruction bytes) is read by
 * walking the guest's own page tables in software (SDM 3A 5.5).
 */
#include "hvm.h"

void *hvm_gpa_ptr(struct hv_vcpu *v, uint64_t gpa, uint64_t len)
{
    struct hvm_guest *g = v->hvm;
    if (gpa >= g->mem_size || len > g->mem_size - gpa)
        return NULL;
    return hv_phys_to_virt(g->mem_pa + gpa);
}

/* One level of the second-level tree; allocates the next table on demand. */
static uint64_t *next_table(uint64_t *entry)
{
    if (!(*entry & 7))
        *entry = (hv_frame_alloc() << 12) | 7;
    return hv_phys_to_virt(*entry & PTE_ADDR_MASK);
}

void hvm_build_nested_tables(struct hv_vcpu *v, uint64_t *root_pa, bool ept)
{
    struct hvm_guest *g = v->hvm;
    uint64_t root = hv_frame_alloc();
    uint64_t *l4 = hv_frame_table(root);
    for (uint64_t gpa = 0; gpa < g->mem_size; gpa += HV_PAGE_SIZE) {
        uint64_t *l3 = next_table(&l4[gpa >> 39 & 511]);
        uint64_t *l2 = next_table(&l3[gpa >> 30 & 511]);
        uint64_t *l1 = next_table(&l2[gpa >> 21 & 511]);
        l1[gpa >> 12 & 511] = (g->mem_pa + gpa) | 7 | (ept ? 6 << 3 : 0);
    }
    *root_pa = root << 12;
}

/* Walk the guest's page tables for one byte address (4-level paging or
 * paging off; the teaching guest uses nothing else). */
static bool gva_to_gpa(struct hv_vcpu *v, uint64_t gva, uint64_t *gpa)
{
    struct hvm_guest *g = v->hvm;
    if (!(g->cr0 & CR0_PG)) {
        *gpa = gva;
        return true;
    }
    if (!(g->efer & EFER_LMA))
        return false;                       /* 32-bit paging: not used */
    uint64_t table = g->cr3 & PTE_ADDR_MASK;
    for (int level = 4, shift = 39; level >= 1; level--, shift -= 9) {
        uint64_t *e = hvm_gpa_ptr(v, table + (gva >> shift & 511) * 8, 8);
        if (!e || !(*e & PTE_P))
            return false;
        if (level == 1 || (level <= 3 && (*e & PTE_PS))) {
            uint64_t mask = (1ULL << shift) - 1;
            *gpa = (*e & PTE_ADDR_MASK & ~mask) | (gva & mask);
            return true;
        }
        table = *e & PTE_ADDR_MASK;
    }
    return false;
}

int hvm_read_gva(struct hv_vcpu *v, uint64_t gva, void *dst, uint64_t n)
{
    uint8_t *d = dst;
    while (n) {
        uint64_t gpa, chunk = HV_PAGE_SIZE - (gva & (HV_PAGE_SIZE - 1));
        if (chunk > n)
            chunk = n;
        const void *src;
        if (!gva_to_gpa(v, gva, &gpa) || !(src = hvm_gpa_ptr(v, gpa, chunk)))
            return -1;
        memcpy(d, src, chunk);
        d += chunk, gva += chunk, n -= chunk;
    }
    return 0;
}

struct mb1_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Load the guest by its Multiboot 1 address fields; return the entry and
 * where its image ends (bss included). */
static uint32_t load_multiboot(struct hv_vcpu *v, const uint8_t *img, uint64_t size,
                               uint64_t *end)
{
    for (uint64_t off = 0; off + sizeof(struct mb1_header) <= size && off < 8192; off += 4) {
        const struct mb1_header *h = (const void *)(img + off);
        if (h->magic != 0x1BADB002 || h->magic + h->flags + h->checksum != 0)
            continue;
        if (!(h->flags & (1u << 16)))
            break;
        uint64_t file_off = off - (h->header_addr - h->load_addr);
        uint64_t len = h->load_end_addr - h->load_addr;
        uint8_t *dst = hvm_gpa_ptr(v, h->load_addr, h->bss_end_addr - h->load_addr);
        if (file_off > size || len > size - file_off || !dst || h->bss_end_addr < h->load_end_addr)
            hv_panic("guest image: Multiboot address fields outside the image or guest RAM");
        memcpy(dst, img + file_off, len);
        memset(dst + len, 0, h->bss_end_addr - h->load_end_addr);
        *end = h->bss_end_addr;
        return h->entry_addr;
    }
    hv_panic("guest image: no Multiboot 1 header with address fields in its first 8 KiB");
}

/* A string into guest memory, at most 255 bytes. */
static uint32_t put_string(struct hv_vcpu *v, uint64_t gpa, const char *s)
{
    char *d = hvm_gpa_ptr(v, gpa, 0x100);
    size_t n = s ? strlen(s) : 0;
    if (n > 0xff)
        n = 0xff;
    memcpy(d, s ? s : "", n);
    d[n] = 0;
    return (uint32_t)gpa;
}

/* The guest's own modules (nesthv's modules after the first), copied after
 * its image as a Multiboot loader would, listed at 0x9300 (spec 3.3:
 * start, end, string, reserved), their strings from 0x9400. */
static void load_modules(struct hv_vcpu *v, uint32_t *mbi, uint64_t end)
{
    uint32_t *list = hvm_gpa_ptr(v, HVM_MBI_GPA + 0x300, 0x100);
    uint64_t at = HV_ALIGN_UP(end, HV_PAGE_SIZE);
    unsigned n = v->nr_more_mods < 3 ? v->nr_more_mods : 3;
    for (unsigned i = 0; i < n; i++) {
        const struct hv_module *m = &v->more_mods[i];
        uint64_t len = m->end - m->start;
        void *dst = hvm_gpa_ptr(v, at, len);
        if (!dst)
            hv_panic("guest module %u (%lu bytes) does not fit in guest RAM", i + 1, len);
        memcpy(dst, hv_phys_to_virt(m->start), len);
        list[4 * i] = (uint32_t)at;
        list[4 * i + 1] = (uint32_t)(at + len);
        list[4 * i + 2] = put_string(v, HVM_MBI_GPA + 0x400 + 0x100 * i, m->cmdline);
        list[4 * i + 3] = 0;
        at = HV_ALIGN_UP(at + len, HV_PAGE_SIZE);
    }
    mbi[0] |= 1u << 3;
    mbi[5] = n;
    mbi[6] = (uint32_t)(HVM_MBI_GPA + 0x300);
}

/* Multiboot information (spec 3.3): flags, mem_lower, mem_upper, ...,
 * cmdline at offset 16, modules (when nesthv has more than the guest's
 * image), and a memory map (0x9200: the 640 KiB below the BIOS area and
 * everything above 1 MiB), which nesthv itself needs when it is the guest. */
static void build_mbi(struct hv_vcpu *v, const char *cmdline, uint64_t end)
{
    uint32_t *mbi = hvm_gpa_ptr(v, HVM_MBI_GPA, 0x200);
    mbi[0] = (1u << 0) | (1u << 2) | (1u << 6);  /* mem_*, cmdline, mmap */
    mbi[1] = 639;
    mbi[2] = (uint32_t)((v->hvm->mem_size >> 10) - 1024);
    mbi[4] = put_string(v, HVM_MBI_GPA + 0x100, cmdline);
    struct { uint32_t size; uint64_t base, len; uint32_t type; } __attribute__((packed))
        map[2] = { { 20, 0, 639 << 10, 1 }, { 20, 1 << 20, v->hvm->mem_size - (1 << 20), 1 } };
    memcpy(hvm_gpa_ptr(v, HVM_MBI_GPA + 0x200, sizeof map), map, sizeof map);
    mbi[11] = sizeof map;
    mbi[12] = (uint32_t)(HVM_MBI_GPA + 0x200);
    if (v->nr_more_mods)
        load_modules(v, mbi, end);
}

void hvm_create(struct hv_vcpu *v, const struct hv_module *m)
{
    struct hvm_guest *g = hv_alloc(sizeof *g);
    v->hvm = g;
    v->regs = &g->regs;
    /* A guest with modules of its own is a loader or a hypervisor (nesthv
     * as L1): it gets the room to give its own guest RAM. */
    g->mem_size = v->nr_more_mods ? HVM_MEM_SIZE_HOST : HVM_MEM_SIZE;
    g->mem_pa = hv_frame_alloc_contig(g->mem_size >> 12) << 12;
    uint64_t end;
    uint32_t entry = load_multiboot(v, hv_phys_to_virt(m->start), m->end - m->start, &end);
    build_mbi(v, m->cmdline, end);
    g->regs.rip = entry;
    g->regs.rax = 0x2BADB002;
    g->regs.rbx = HVM_MBI_GPA;
    g->regs.rflags = 2;
    g->cr0 = CR0_PE | (1ULL << 4);           /* protected mode, ET */
    g->ctl_dirty = true;
    g->pic_mask[0] = g->pic_mask[1] = 0xff;
    hv_printf("nesthv: guest: %lu MiB at host %lx, Multiboot entry %x\n",
              g->mem_size >> 20, g->mem_pa, entry);
}
