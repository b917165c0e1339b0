/*
 * loader_mbi.c - the boot information a Multiboot kernel finds at EBX.
 *
 * Modules go page-aligned after the kernel (both specs let the kernel ask
 * for that; we always do it); for Multiboot 1, as QEMU, the module list and
 * the strings take the page(s) between the kernel and its modules.  The
 * rest of the information goes to low memory at 0x9500 as QEMU puts it, or,
 * if the kernel or a module sits there, to the first page after the last
 * module.  It is built in a host buffer with its
 * final guest address known, then copied in.
 *
 * MB1 (spec 3.3)                          MB2 (spec 3.6): u32 total_size,
 *   0 flags  4 mem_lower  8 mem_upper     u32 reserved, then 8-aligned tags
 *   16 cmdline  20 mods_count 24 mods_addr  u32 type, u32 size, data:
 *   44 mmap_length  48 mmap_addr            1 cmdline  2 loader name
 *   64 boot_loader_name                     3 module (start, end, string)
 *   module: start, end, string, 0           4 basic memory (lower, upper KiB)
 *   mmap entry: u32 size (=20), u64 base,   6 memory map (entry_size 24,
 *     u64 length, u32 type (1 RAM, 2 res.)    version 0, base len type 0)
 *                                           0 end (size 8)
 *
 * The memory map is a PC's: conventional memory up to the EBDA at 0x9FC00,
 * the BIOS area 0xF0000-0xFFFFF reserved, then RAM from 1 MiB to 128 KiB
 * below the end of guest RAM, that last 128 KiB reserved as SeaBIOS does
 * (devices live above it: the I/O APIC and local APIC MMIO).
 */
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define PAGE_UP(x) (((x) + 0xfffull) & ~0xfffull)

struct mmap_ent { uint64_t base, len; uint32_t type; };

/* SeaBIOS keeps the top 128 KiB of RAM for its ACPI tables and reports it
 * reserved (E820), and QEMU's Multiboot info carries that map: with -m 128M
 * a kernel finds RAM from 1 MiB to 0x7fe0000 (nesthv counts 32 fewer free
 * frames on QEMU than it did here).  We reserve the same, so a kernel that
 * prints its memory sees QEMU's numbers. */
#define PC_FIRMWARE_TOP 0x20000u

static int pc_memory_map(const struct cpu *c, struct mmap_ent e[5])
{
	uint64_t ram = c->ram_size;
	int n = 0;
	e[n++] = (struct mmap_ent){ 0, ram < 0x9fc00 ? ram : 0x9fc00, 1 };
	if (ram > 0x9fc00)
		e[n++] = (struct mmap_ent){ 0x9fc00, 0x400, 2 };
	if (ram > 0xf0000)
		e[n++] = (struct mmap_ent){ 0xf0000, 0x10000, 2 };
	if (ram > 0x100000 + 2 * PC_FIRMWARE_TOP) {
		e[n++] = (struct mmap_ent){ 0x100000, ram - 0x100000 - PC_FIRMWARE_TOP, 1 };
		e[n++] = (struct mmap_ent){ ram - PC_FIRMWARE_TOP, PC_FIRMWARE_TOP, 2 };
	} else if (ram > 0x100000) {
		e[n++] = (struct mmap_ent){ 0x100000, ram - 0x100000, 1 };
	}
	return n;
}

static uint32_t mem_upper_kib(const struct cpu *c)
{
	uint64_t kib = c->ram_size > 0x100000 ? (c->ram_size - 0x100000) >> 10 : 0;
	return kib > 0xffffffffull ? 0xffffffffu : (uint32_t)kib;
}

/* A growing image of the information at guest address `base`. */
struct mbw {
	uint8_t *buf;
	size_t cap, pos;
	uint64_t base;
};

static size_t w_alloc(struct mbw *w, size_t n, size_t align)
{
	w->pos = (w->pos + align - 1) & ~(align - 1);
	size_t at = w->pos;
	w->pos += n;          /* cap is an upper bound computed from the inputs */
	return at;
}

static void w_put(struct mbw *w, size_t at, uint64_t v, int n)
{
	for (int k = 0; k < n; k++)
		w->buf[at + k] = (uint8_t)(v >> (8 * k));
}

static uint32_t w_str(struct mbw *w, const char *s)
{
	size_t n = strlen(s) + 1, at = w_alloc(w, n, 1);
	memcpy(w->buf + at, s, n);
	return (uint32_t)(w->base + at);
}

/* Modules after the kernel; the info area; an upper bound of its size. */
static int place(struct cpu *c, const struct loader_image *img, const struct loader_layout *lay,
		 uint64_t *mod_at, struct mbw *w, char *err, size_t n)
{
	uint64_t at = PAGE_UP(lay->hi);
	size_t bound = 512 + strlen(img->cmdline ? img->cmdline : "") + sizeof LOADER_NAME;
	for (unsigned k = 0; k < img->nmods; k++) {
		const struct loader_module *m = &img->mods[k];
		if (!loader_in_ram(c, at, m->len))
			return loader_err(err, n, "module %u (%zu bytes) does not fit in guest RAM at "
					  "%#llx (%llu MiB; try a larger --mem)", k + 1, m->len,
					  (unsigned long long)at, (unsigned long long)(c->ram_size >> 20));
		cpu_phys_write(c, at, m->data, m->len);
		mod_at[k] = at;
		at = PAGE_UP(at + m->len + (m->len == 0));
		bound += 48 + strlen(m->cmdline ? m->cmdline : "");
	}
	w->cap = bound;
	w->base = LOADER_INFO_BASE;
	/* Kernel and modules occupy [lay->lo, at): the low area must miss them. */
	if (LOADER_INFO_BASE + bound > LOADER_INFO_LIMIT || !loader_in_ram(c, LOADER_INFO_BASE, bound) ||
	    (lay->lo < LOADER_INFO_BASE + bound && at > LOADER_INFO_BASE))
		w->base = at;          /* the kernel is in low memory: after it instead */
	if (!loader_in_ram(c, w->base, bound))
		return loader_err(err, n, "no room in guest RAM for the boot information at %#llx",
				  (unsigned long long)w->base);
	w->buf = calloc(1, bound);
	if (!w->buf)
		return loader_err(err, n, "out of memory building the boot information");
	return 0;
}

/* Copy the finished information into RAM and fill in the result. */
static int finish(struct cpu *c, struct mbw *w, const struct loader_image *img,
		  const uint64_t *mod_at, const struct loader_layout *lay, struct loader_boot *b)
{
	cpu_phys_write(c, w->base, w->buf, w->pos);
	free(w->buf);
	b->info = (uint32_t)w->base;
	uint64_t end = PAGE_UP(lay->hi);
	if (img->nmods)
		end = PAGE_UP(mod_at[img->nmods - 1] + img->mods[img->nmods - 1].len);
	if (w->base + w->pos > end)
		end = w->base + w->pos;
	b->end = end;
	return 0;
}

int loader_mbi1(struct cpu *c, const struct loader_image *img, const struct loader_layout *lay,
		struct loader_boot *b, char *err, size_t n)
{
	uint64_t *mod_at = calloc(img->nmods + 1, sizeof *mod_at);
	struct mbw w = { 0 };
	/* QEMU (hw/i386/multiboot.c) keeps the module list, the command lines
	 * and its loader name in the page(s) right after the kernel, and loads
	 * the modules after those; the MBI and memory map stay low.  Do the
	 * same, so module addresses and the frames a kernel finds reserved (e.g.
	 * nesthv's "mfn" lines) are QEMU's.  hw: that area (base 0: not used,
	 * when it would not fit in RAM). */
	struct loader_layout ql = *lay;
	struct mbw hw = { 0 };
	size_t strs = 16u * img->nmods + strlen(img->cmdline ? img->cmdline : "") + 1 + sizeof LOADER_NAME;
	for (unsigned k = 0; k < img->nmods; k++)
		strs += strlen(img->mods[k].cmdline ? img->mods[k].cmdline : "") + 1;
	if (loader_in_ram(c, PAGE_UP(lay->hi), PAGE_UP(strs)) && (hw.buf = calloc(1, strs))) {
		hw.cap = strs;
		hw.base = PAGE_UP(lay->hi);
		ql.hi = hw.base + PAGE_UP(strs);
	}
	if (!mod_at || place(c, img, &ql, mod_at, &w, err, n) < 0) {
		free(mod_at);
		free(hw.buf);
		return mod_at ? -1 : loader_err(err, n, "out of memory");
	}
	struct mbw *sw = hw.buf ? &hw : &w;    /* where module list and strings go */
	size_t info = w_alloc(&w, 88, 8);
	struct mmap_ent e[5];
	int ne = pc_memory_map(c, e);
	size_t mm = w_alloc(&w, 24u * ne, 8);
	for (int k = 0; k < ne; k++) {
		w_put(&w, mm + 24u * k, 20, 4);
		w_put(&w, mm + 24u * k + 4, e[k].base, 8);
		w_put(&w, mm + 24u * k + 12, e[k].len, 8);
		w_put(&w, mm + 24u * k + 20, e[k].type, 4);
	}
	size_t mods = w_alloc(sw, 16u * img->nmods, 8);
	for (unsigned k = 0; k < img->nmods; k++) {
		w_put(sw, mods + 16u * k, mod_at[k], 4);
		w_put(sw, mods + 16u * k + 4, mod_at[k] + img->mods[k].len, 4);
		w_put(sw, mods + 16u * k + 8, w_str(sw, img->mods[k].cmdline ? img->mods[k].cmdline : ""), 4);
	}
	/* flags: 0 memory, 2 cmdline, 3 modules, 6 memory map, 9 loader name */
	w_put(&w, info, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9), 4);
	w_put(&w, info + 4, c->ram_size < 0xa0000 ? c->ram_size >> 10 : 639, 4);
	w_put(&w, info + 8, mem_upper_kib(c), 4);
	w_put(&w, info + 16, w_str(sw, img->cmdline ? img->cmdline : ""), 4);
	w_put(&w, info + 20, img->nmods, 4);
	w_put(&w, info + 24, sw->base + mods, 4);
	w_put(&w, info + 44, 24u * ne, 4);
	w_put(&w, info + 48, w.base + mm, 4);
	w_put(&w, info + 64, w_str(sw, LOADER_NAME), 4);
	if (hw.buf) {
		cpu_phys_write(c, hw.base, hw.buf, hw.pos);
		free(hw.buf);
	}
	finish(c, &w, img, mod_at, &ql, b);
	free(mod_at);
	return 0;
}

/* Start an MB2 tag; returns its offset (the size is written by tag_end). */
static size_t tag_begin(struct mbw *w, uint32_t type)
{
	size_t at = w_alloc(w, 8, 8);
	w_put(w, at, type, 4);
	return at;
}

static void tag_end(struct mbw *w, size_t at)
{
	w_put(w, at + 4, w->pos - at, 4);
}

int loader_mbi2(struct cpu *c, const struct loader_image *img, const struct loader_layout *lay,
		struct loader_boot *b, char *err, size_t n)
{
	uint64_t *mod_at = calloc(img->nmods + 1, sizeof *mod_at);
	struct mbw w = { 0 };
	if (!mod_at || place(c, img, lay, mod_at, &w, err, n) < 0) {
		free(mod_at);
		return mod_at ? -1 : loader_err(err, n, "out of memory");
	}
	size_t head = w_alloc(&w, 8, 8), t;
	t = tag_begin(&w, 1);
	w_str(&w, img->cmdline ? img->cmdline : "");
	tag_end(&w, t);
	t = tag_begin(&w, 2);
	w_str(&w, LOADER_NAME);
	tag_end(&w, t);
	for (unsigned k = 0; k < img->nmods; k++) {
		t = tag_begin(&w, 3);
		size_t f = w_alloc(&w, 8, 4);
		w_put(&w, f, mod_at[k], 4);
		w_put(&w, f + 4, mod_at[k] + img->mods[k].len, 4);
		w_str(&w, img->mods[k].cmdline ? img->mods[k].cmdline : "");
		tag_end(&w, t);
	}
	t = tag_begin(&w, 4);
	size_t f = w_alloc(&w, 8, 4);
	w_put(&w, f, c->ram_size < 0xa0000 ? c->ram_size >> 10 : 639, 4);
	w_put(&w, f + 4, mem_upper_kib(c), 4);
	tag_end(&w, t);
	struct mmap_ent e[5];
	int ne = pc_memory_map(c, e);
	t = tag_begin(&w, 6);
	f = w_alloc(&w, 8 + 24u * ne, 8);
	w_put(&w, f, 24, 4);                    /* entry_size */
	w_put(&w, f + 4, 0, 4);                 /* entry_version */
	for (int k = 0; k < ne; k++) {
		w_put(&w, f + 8 + 24u * k, e[k].base, 8);
		w_put(&w, f + 16 + 24u * k, e[k].len, 8);
		w_put(&w, f + 24 + 24u * k, e[k].type, 4);
	}
	tag_end(&w, t);
	t = tag_begin(&w, 0);
	tag_end(&w, t);
	w_put(&w, head, w.pos - head, 4);       /* total_size */
	finish(c, &w, img, mod_at, lay, b);
	free(mod_at);
	return 0;
}
