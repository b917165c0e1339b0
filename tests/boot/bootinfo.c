/*
 * bootinfo.c - the boot-test kernel reads its Multiboot 1 or Multiboot 2
 * boot information into one small record (kernel.h, struct bootinfo), so the
 * tests do not care which loader protocol started them.
 *
 *   MB1 (EAX 0x2BADB002, spec 3.3): flags, mem_lower, cmdline (flag 2),
 *       modules (flag 3), memory map (flag 6) of {size, base, len, type}.
 *   MB2 (EAX 0x36D76289, spec 3.6): total_size, then 8-aligned tags:
 *       1 cmdline, 3 module {start, end, string}, 4 basic memory,
 *       6 memory map {entry_size, version, entries {base, len, type}}, 0 end.
 */
#include "kernel.h"

struct bootinfo bootinfo;

static void mmap_entry(uint64_t base, uint64_t len, uint32_t type)
{
	if (type == 1 && base == 0x100000)
		bootinfo.ram_at_1m = len;
}

static void read_mb1(const uint32_t *mbi)
{
	bootinfo.protocol = 1;
	bootinfo.mem_lower = mbi[1];
	if (mbi[0] & 4)
		bootinfo.cmdline = (const char *)(uint64_t)mbi[4];
	const uint32_t *mods = (const uint32_t *)(uint64_t)mbi[6];
	for (uint32_t k = 0; (mbi[0] & 8) && k < mbi[5] && k < BOOT_MAX_MODS; k++) {
		bootinfo.mods[k].start = mods[4 * k];
		bootinfo.mods[k].end = mods[4 * k + 1];
		bootinfo.mods[k].string = (const char *)(uint64_t)mods[4 * k + 2];
		bootinfo.nmods++;
	}
	for (uint32_t off = 0; (mbi[0] & 0x40) && off < mbi[11];) {
		const uint8_t *e = (const uint8_t *)(uint64_t)(mbi[12] + off);
		mmap_entry(*(const uint64_t *)(e + 4), *(const uint64_t *)(e + 12),
			   *(const uint32_t *)(e + 20));
		off += *(const uint32_t *)e + 4;
	}
}

static void read_mb2(const uint8_t *p)
{
	bootinfo.protocol = 2;
	uint32_t total = *(const uint32_t *)p;
	for (uint32_t off = 8; off + 8 <= total;) {
		const uint8_t *t = p + off;
		uint32_t type = *(const uint32_t *)t, size = *(const uint32_t *)(t + 4);
		if (type == 0 || size < 8)
			break;
		if (type == 1)
			bootinfo.cmdline = (const char *)(t + 8);
		if (type == 3 && bootinfo.nmods < BOOT_MAX_MODS) {
			struct bootmod *m = &bootinfo.mods[bootinfo.nmods++];
			m->start = *(const uint32_t *)(t + 8);
			m->end = *(const uint32_t *)(t + 12);
			m->string = (const char *)(t + 16);
		}
		if (type == 4)
			bootinfo.mem_lower = *(const uint32_t *)(t + 8);
		if (type == 6) {
			uint32_t esz = *(const uint32_t *)(t + 8);
			for (uint32_t e = 16; esz >= 24 && e + esz <= size; e += esz)
				mmap_entry(*(const uint64_t *)(t + e), *(const uint64_t *)(t + e + 8),
					   *(const uint32_t *)(t + e + 16));
		}
		off += (size + 7) & ~7u;
	}
}

int bootinfo_read(uint32_t magic, uint32_t info)
{
	bootinfo.cmdline = "";
	if (magic == 0x2badb002)
		read_mb1((const uint32_t *)(uint64_t)info);
	else if (magic == 0x36d76289)
		read_mb2((const uint8_t *)(uint64_t)info);
	else
		return -1;
	return 0;
}
