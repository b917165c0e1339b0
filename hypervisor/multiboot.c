/* multiboot.c - read what the boot loader tells us.
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
#include "hv_mm.h"

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
