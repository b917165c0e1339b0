/* mm.c - physical memory: what the boot loader reports (Multiboot 1 and 2),
 * the frame allocator and nesthv's own page tables.
 *
 * The frame allocator is a bitmap, one bit per 4 KiB frame below 4 GiB, set
 * when the frame is free.  Multiboot's memory map adds the RAM ranges, then
 * everything already in use (first MiB, nesthv image, boot structures,
 * modules) is reserved.  Simple and easy to print - a teaching hypervisor
 * needs no buddy allocator.
 *
 * hv_paging_init() then builds nesthv's own tables from fresh frames and
 * switches CR3 to them (the boot.S tables only got us here):
 *
 *   L4[256] -> direct map, physical 0..4 GiB, 2 MiB pages (SDM 3A 5.5.4)
 *   L4[511] -> L3[510] -> the image: 0xffffffff80000000 -> physical 0..1 GiB
 *
 * Everything is supervisor-only (U/S = 0, SDM 3A 5.6), and the identity
 * mapping of boot.S (L4[0]) is gone: the lower half is the guest's.
 */
#include "hv_mm.h"

#define MAX_FRAMES (1ULL << 20)          /* 4 GiB of 4 KiB frames */

static uint64_t free_bitmap[MAX_FRAMES / 64];
static uint64_t max_pfn, nr_free;
static uint64_t root_pa;

static inline bool frame_free(uint64_t pfn)
{ return free_bitmap[pfn / 64] >> (pfn % 64) & 1; }

static void set_range(uint64_t base, uint64_t len, bool free)
{
    uint64_t first = HV_ALIGN_UP(base, 4096) >> 12;
    uint64_t end = (base + len) >> 12;
    if (!free) {                           /* reserve whole frames touched */
        first = base >> 12;
        end = HV_ALIGN_UP(base + len, 4096) >> 12;
    }
    if (end > MAX_FRAMES)
        end = MAX_FRAMES;
    for (uint64_t p = first; p < end; p++) {
        if (free)
            free_bitmap[p / 64] |= 1ULL << (p % 64);
        else
            free_bitmap[p / 64] &= ~(1ULL << (p % 64));
    }
    if (free && end > max_pfn)
        max_pfn = end;
}

void hv_frames_add_ram(uint64_t base, uint64_t len) { set_range(base, len, true); }
void hv_frames_reserve(uint64_t base, uint64_t len) { if (len) set_range(base, len, false); }

void hv_frames_done(void)
{
    nr_free = 0;
    for (uint64_t p = 0; p < max_pfn; p++)
        nr_free += frame_free(p);
    hv_printf("nesthv: memory: frames tracked up to %lu MiB (RAM below 4 GiB), %lu free\n",
              (max_pfn * 4096) >> 20, nr_free);
}

uint64_t hv_frames_max_pfn(void) { return max_pfn; }
uint64_t hv_frames_free_count(void) { return nr_free; }

uint64_t hv_frame_alloc_contig(uint64_t n)
{
    uint64_t run = 0;
    for (uint64_t p = 0; p < max_pfn; p++) {
        run = frame_free(p) ? run + 1 : 0;
        if (run == n) {
            uint64_t first = p + 1 - n;
            set_range(first << 12, n << 12, false);
            nr_free -= n;
            memset(hv_phys_to_virt(first << 12), 0, n << 12);
            return first;
        }
    }
    hv_panic("out of memory: no %lu contiguous free frames", n);
}

uint64_t hv_frame_alloc(void)
{
    return hv_frame_alloc_contig(1);
}

void *hv_alloc(size_t bytes)
{
    return hv_frame_table(hv_frame_alloc_contig(HV_ALIGN_UP(bytes, HV_PAGE_SIZE) >> 12));
}

/* Fill a fresh table with 2 MiB mappings of phys [base, base + 512 * 2 MiB). */
static uint64_t new_pd(uint64_t base)
{
    uint64_t pfn = hv_frame_alloc();
    uint64_t *pd = hv_frame_table(pfn);
    for (int i = 0; i < 512; i++)
        pd[i] = (base + ((uint64_t)i << 21)) | PTE_P | PTE_RW | PTE_PS;
    return pfn;
}

void hv_paging_init(void)
{
    uint64_t l4 = hv_frame_alloc();
    uint64_t direct_l3 = hv_frame_alloc();
    uint64_t image_l3 = hv_frame_alloc();
    uint64_t *t;

    t = hv_frame_table(direct_l3);
    for (int i = 0; i < 4; i++)                 /* 4 x 1 GiB */
        t[i] = (new_pd((uint64_t)i << 30) << 12) | PTE_P | PTE_RW;
    t = hv_frame_table(image_l3);
    t[510] = (new_pd(0) << 12) | PTE_P | PTE_RW;
    t = hv_frame_table(l4);
    t[256] = (direct_l3 << 12) | PTE_P | PTE_RW;
    t[511] = (image_l3 << 12) | PTE_P | PTE_RW;

    root_pa = l4 << 12;
    hv_write_cr3(root_pa);
    hv_printf("nesthv: paging: own tables at %lx (direct map, image; lower half free)\n",
              root_pa);
}

uint64_t hv_root_table(void) { return root_pa; }

/* Reading what the boot loader tells us.
 *
 * Multiboot 1 (spec 0.6.96 section 3.3, "Boot information format"): EAX =
 * 0x2BADB002, EBX = physical address of a structure whose 'flags' word says
 * which fields are valid: bit 2 cmdline, bit 3 mods, bit 6 mmap.
 * Multiboot 2 (spec 2.0 section 3.6): EAX = 0x36D76289, EBX = a list of tags
 * (type, size), 8-byte aligned; we read tags 1 (cmdline), 3 (module) and 6
 * (memory map).
 *
 * Both feed the same things: the RAM ranges go to the frame allocator
 * (mm.c), the structures themselves and the modules are reserved so no
 * frame under them is handed out, and hv_bootinfo collects the command line
 * and the modules (the first module is the guest).
 */
#define MB1_BOOT_MAGIC 0x2BADB002
#define MB2_BOOT_MAGIC 0x36D76289

struct mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
} __attribute__((packed));

struct mb1_module { uint32_t start, end, cmdline, reserved; };

struct mb1_mmap {
    uint32_t size;
    uint64_t base, len;
    uint32_t type;                 /* 1 = available RAM */
} __attribute__((packed));

/* The loader's strings sit in memory we are about to hand out (QEMU puts
 * them right after the image), so keep copies. */
static char strings[5][256];

static const char *keep(unsigned slot, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < sizeof strings[slot]; i++)
        strings[slot][i] = s[i];
    strings[slot][i] = 0;
    return strings[slot];
}

static void add_module(struct hv_bootinfo *bi, uint64_t s, uint64_t e, const char *cmd)
{
    hv_frames_reserve(s, e - s);
    if (bi->nr_mods < 4) {
        bi->mods[bi->nr_mods] = (struct hv_module){ s, e, keep(1 + bi->nr_mods, cmd) };
        bi->nr_mods++;
    }
}

static void parse_mb1(uint64_t pa, struct hv_bootinfo *bi)
{
    const struct mb1_info *mi = hv_phys_to_virt(pa);
    if (!(mi->flags & (1u << 6)))
        hv_panic("Multiboot 1 info has no memory map (flags %x)", mi->flags);
    for (uint64_t off = 0; off < mi->mmap_length;) {
        const struct mb1_mmap *m = hv_phys_to_virt(mi->mmap_addr + off);
        if (m->type == 1)
            hv_frames_add_ram(m->base, m->len);
        off += m->size + 4;
    }
    hv_frames_reserve(pa & ~0xfffULL, 4096);
    hv_frames_reserve(mi->mmap_addr, mi->mmap_length);
    if (mi->flags & (1u << 2))
        bi->cmdline = keep(0, hv_phys_to_virt(mi->cmdline));
    if (mi->flags & (1u << 3)) {
        const struct mb1_module *mod = hv_phys_to_virt(mi->mods_addr);
        hv_frames_reserve(mi->mods_addr, mi->mods_count * sizeof *mod);
        for (uint32_t i = 0; i < mi->mods_count; i++)
            add_module(bi, mod[i].start, mod[i].end,
                       mod[i].cmdline ? hv_phys_to_virt(mod[i].cmdline) : "");
    }
}

/* Two passes: the memory map first, so that reserving the info structure
 * and the modules afterwards cannot be undone by a later RAM range. */
static void parse_mb2(uint64_t pa, struct hv_bootinfo *bi)
{
    uint32_t total = *(const uint32_t *)hv_phys_to_virt(pa);
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t off = 8; off + 8 <= total;) {
            const uint32_t *tag = hv_phys_to_virt(pa + off);
            uint32_t type = tag[0], size = tag[1];
            if (type == 0)
                break;
            if (pass == 1 && type == 1)
                bi->cmdline = keep(0, (const char *)&tag[2]);
            if (pass == 1 && type == 3)
                add_module(bi, tag[2], tag[3], (const char *)&tag[4]);
            for (uint32_t e = 16; pass == 0 && type == 6 && e + tag[2] <= size; e += tag[2]) {
                const uint8_t *ent = (const uint8_t *)tag + e;
                if (*(const uint32_t *)(ent + 16) == 1)
                    hv_frames_add_ram(*(const uint64_t *)ent, *(const uint64_t *)(ent + 8));
            }
            off += HV_ALIGN_UP(size, 8);
        }
    }
    hv_frames_reserve(pa, total);
}

void hv_multiboot_parse(uint32_t magic, uint64_t info_pa, struct hv_bootinfo *bi)
{
    bi->cmdline = "";
    bi->nr_mods = 0;
    if (magic == MB1_BOOT_MAGIC)
        parse_mb1(info_pa, bi);
    else if (magic == MB2_BOOT_MAGIC)
        parse_mb2(info_pa, bi);
    else
        hv_panic("not booted by a Multiboot loader (EAX = %x)", magic);
    /* Never hand out the first MiB (BIOS data, the loader's structures) or
     * the nesthv image itself. */
    hv_frames_reserve(0, 0x100000);
    hv_frames_reserve(0x100000, hv_virt_to_phys(__hv_bss_end) - 0x100000);
    hv_frames_done();
}
