/*
 * loader.c - Multiboot 1 and 2 kernels and flat binaries into guest RAM.
 *
 * The steps, for a Multiboot image:
 *   1. find the header (MB1: 4-aligned in the first 8 KiB; MB2: 8-aligned in
 *      the first 32 KiB) and check its checksum and flags/tags;
 *   2. load the kernel: by the header's address fields (MB1 flag 16, MB2
 *      address tag) when present, else as an ELF (loader_elf.c);
 *   3. place the modules page-aligned after the kernel and build the boot
 *      information (loader_mbi.c);
 *   4. loader_enter(): the machine state of MB1 spec 3.2 / MB2 spec 3.3.
 *
 * MB1 header (spec 3.1.1)            MB2 header (spec 3.1.1), then tags:
 *   0  magic 0x1BADB002                 0 magic 0xE85250D6   4 architecture
 *   4  flags                            8 header_length     12 checksum
 *   8  checksum (sum of three = 0)      tag: u16 type, u16 flags (bit 0
 *   12 header_addr  16 load_addr             optional), u32 size, padded to 8
 *   20 load_end_addr 24 bss_end_addr    2 address (header/load/load_end/bss_end)
 *   28 entry_addr   (valid if flag 16)  3 entry address, 1 information request
 *
 * When an image carries both headers (nesthv does), QEMU -kernel, which only
 * knows MB1, uses MB1; so do we unless the caller asks for MB2 (GRUB's
 * `multiboot2` command).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "loader.h"
#include "mem.h"

int loader_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int loader_in_ram(const struct cpu *c, uint64_t pa, uint64_t n)
{
	return pa <= c->ram_size && n <= c->ram_size - pa;
}

void loader_zero(struct cpu *c, uint64_t pa, uint64_t n)
{
	static const uint8_t zeros[4096];
	while (n) {
		uint64_t k = n < sizeof zeros ? n : sizeof zeros;
		cpu_phys_write(c, pa, zeros, k);
		pa += k;
		n -= k;
	}
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offset of the first header with `magic` at `align` in the first `limit`
 * bytes, or -1. */
static long find_magic(const uint8_t *d, size_t len, uint32_t magic, size_t align, size_t limit)
{
	for (size_t off = 0; off + 12 <= len && off < limit; off += align)
		if (rd32(d + off) == magic)
			return (long)off;
	return -1;
}

enum loader_kind loader_detect(const struct loader_image *img)
{
	int mb1 = find_magic(img->data, img->len, MB1_HEADER_MAGIC, 4, MB1_SEARCH) >= 0;
	int mb2 = find_magic(img->data, img->len, MB2_HEADER_MAGIC, 8, MB2_SEARCH) >= 0;
	if (mb1 && mb2)
		return img->prefer_mb2 ? LOADER_MB2 : LOADER_MB1;
	return mb1 ? LOADER_MB1 : mb2 ? LOADER_MB2 : LOADER_FLAT;
}

/* The address-fields form (MB1 flag 16, MB2 tag 2): the file from the
 * offset that corresponds to load_addr goes to load_addr, up to load_end
 * (0: the end of the file), then zeroes up to bss_end (0: no bss). */
static int load_by_address(struct cpu *c, const uint8_t *img, size_t len, size_t hoff,
			   const uint32_t a[4], struct loader_layout *lay, char *err, size_t n)
{
	uint32_t header_addr = a[0], load_addr = a[1], load_end = a[2], bss_end = a[3];
	if (load_addr == 0xffffffffu)                  /* MB2: "from the file's start" */
		load_addr = header_addr - (uint32_t)hoff;
	if (load_addr > header_addr || header_addr - load_addr > hoff)
		return loader_err(err, n, "address fields: load_addr %#x and header_addr %#x put the "
				  "load start before the beginning of the file (header at offset %#zx)",
				  load_addr, header_addr, hoff);
	uint64_t foff = hoff - (header_addr - load_addr);
	uint64_t size = load_end ? (uint64_t)load_end - load_addr : len - foff;
	if (load_end && load_end < load_addr)
		return loader_err(err, n, "address fields: load_end_addr %#x is below load_addr %#x",
				  load_end, load_addr);
	if (size > len - foff)
		return loader_err(err, n, "address fields: load_end_addr %#x asks for %#llx bytes from "
				  "file offset %#llx, but the file has %zu bytes", load_end,
				  (unsigned long long)size, (unsigned long long)foff, len);
	uint64_t end = (uint64_t)load_addr + size;
	if (bss_end && bss_end < end)
		return loader_err(err, n, "address fields: bss_end_addr %#x is below the end of the "
				  "loaded data %#llx", bss_end, (unsigned long long)end);
	uint64_t hi = bss_end ? bss_end : end;
	if (!loader_in_ram(c, load_addr, hi - load_addr))
		return loader_err(err, n, "address fields: the kernel at %#x-%#llx is outside guest RAM "
				  "(%llu MiB; try a larger --mem)", load_addr, (unsigned long long)hi,
				  (unsigned long long)(c->ram_size >> 20));
	cpu_phys_write(c, load_addr, img + foff, size);
	loader_zero(c, end, hi - end);
	lay->lo = load_addr;
	lay->hi = hi;
	return 0;
}

static int entry_check(const struct loader_layout *lay, char *err, size_t n)
{
	if (lay->entry < lay->lo || lay->entry >= lay->hi)
		return loader_err(err, n, "entry address %#x is outside the loaded kernel (%#llx-%#llx)",
				  lay->entry, (unsigned long long)lay->lo, (unsigned long long)lay->hi);
	return 0;
}

static int load_mb1(struct cpu *c, const struct loader_image *img, struct loader_layout *lay,
		    char *err, size_t n)
{
	const uint8_t *d = img->data;
	long h = find_magic(d, img->len, MB1_HEADER_MAGIC, 4, MB1_SEARCH);
	uint32_t flags = rd32(d + h + 4), sum = MB1_HEADER_MAGIC + flags + rd32(d + h + 8);
	if (sum != 0)
		return loader_err(err, n, "Multiboot header at offset %#lx: bad checksum "
				  "(magic + flags + checksum = %#x, must be 0)", h, sum);
	if (flags & 0xfff8u)
		return loader_err(err, n, "Multiboot header: required feature bits %#x are unknown "
				  "(bits 3-15; the spec says the loader must refuse)", flags & 0xfff8u);
	lay->mb_flags = flags;
	if (!(flags & 0x10000u))
		return loader_elf(c, d, img->len, lay, err, n);
	if ((size_t)h + 32 > img->len)
		return loader_err(err, n, "Multiboot header: flag 16 set but the address fields run "
				  "past the end of the file");
	uint32_t a[4] = { rd32(d + h + 12), rd32(d + h + 16), rd32(d + h + 20), rd32(d + h + 24) };
	if (load_by_address(c, d, img->len, (size_t)h, a, lay, err, n) < 0)
		return -1;
	lay->entry = rd32(d + h + 28);
	return entry_check(lay, err, n);
}

/* MB2 tags we can satisfy when a kernel requests them (MB2 spec 3.6):
 * command line, boot loader name, modules, basic memory, memory map. */
static int mb2_provides(uint32_t t)
{
	return t == 1 || t == 2 || t == 3 || t == 4 || t == 6;
}

/* Walk the MB2 header's tags; fills addr[]/entry when present. */
static int mb2_tags(const uint8_t *d, size_t hoff, uint32_t hlen, uint32_t addr[4],
		    int *has_addr, uint32_t *entry, int *has_entry, char *err, size_t n)
{
	for (size_t off = hoff + 16; ; ) {
		if (off + 8 > hoff + hlen)
			return loader_err(err, n, "Multiboot2 header: tags run past header_length "
					  "(%u) without an end tag", hlen);
		uint32_t type = d[off] | d[off + 1] << 8, optional = d[off + 2] & 1;
		uint32_t size = rd32(d + off + 4);
		if (size < 8 || size > hoff + hlen - off)
			return loader_err(err, n, "Multiboot2 header: tag type %u at offset %#zx has "
					  "bad size %u", type, off, size);
		if (type == 0)
			return 0;
		if (type == 1) {
			for (uint32_t k = 8; k + 4 <= size; k += 4)
				if (!optional && !mb2_provides(rd32(d + off + k)))
					return loader_err(err, n, "Multiboot2 header: the kernel requires "
							  "boot information tag %u, which nestlab does not "
							  "provide", rd32(d + off + k));
		} else if (type == 2 && size >= 24) {
			for (int k = 0; k < 4; k++)
				addr[k] = rd32(d + off + 8 + 4 * k);
			*has_addr = 1;
		} else if (type == 3 && size >= 12) {
			*entry = rd32(d + off + 8);
			*has_entry = 1;
		} else if (type == 2 || type == 3) {
			return loader_err(err, n, "Multiboot2 header: %s tag too short (%u bytes)",
					  type == 2 ? "address" : "entry address", size);
		} else if (type != 4 && type != 6 && type != 10 && !optional) {
			return loader_err(err, n, "Multiboot2 header: tag type %u (%s) is required by "
					  "the kernel but not supported", type,
					  type == 5 ? "framebuffer" : type >= 7 && type <= 9 ? "EFI" : "unknown");
		}
		off += (size + 7) & ~7u;
	}
}

static int load_mb2(struct cpu *c, const struct loader_image *img, struct loader_layout *lay,
		    char *err, size_t n)
{
	const uint8_t *d = img->data;
	long h = find_magic(d, img->len, MB2_HEADER_MAGIC, 8, MB2_SEARCH);
	if ((size_t)h + 16 > img->len)
		return loader_err(err, n, "Multiboot2 header at offset %#lx is cut off by the end "
				  "of the file", h);
	uint32_t arch = rd32(d + h + 4), hlen = rd32(d + h + 8);
	uint32_t sum = MB2_HEADER_MAGIC + arch + hlen + rd32(d + h + 12);
	if (sum != 0)
		return loader_err(err, n, "Multiboot2 header at offset %#lx: bad checksum (magic + "
				  "architecture + header_length + checksum = %#x, must be 0)", h, sum);
	if (arch != 0)
		return loader_err(err, n, "Multiboot2 header: architecture %u is not i386 (0)", arch);
	if (hlen < 24 || hlen > img->len - (size_t)h)
		return loader_err(err, n, "Multiboot2 header: header_length %u is too small or runs "
				  "past the end of the file", hlen);
	uint32_t addr[4], entry = 0;
	int has_addr = 0, has_entry = 0;
	if (mb2_tags(d, (size_t)h, hlen, addr, &has_addr, &entry, &has_entry, err, n) < 0)
		return -1;
	lay->mb_flags = 1;                          /* modules page-aligned */
	if (has_addr) {
		if (!has_entry)
			return loader_err(err, n, "Multiboot2 header: an address tag but no entry "
					  "address tag");
		if (load_by_address(c, d, img->len, (size_t)h, addr, lay, err, n) < 0)
			return -1;
	} else if (loader_elf(c, d, img->len, lay, err, n) < 0) {
		return -1;
	}
	if (has_entry)
		lay->entry = entry;
	return entry_check(lay, err, n);
}

int loader_multiboot(struct cpu *c, const struct loader_image *img,
		     struct loader_boot *out, char *err, size_t errlen)
{
	struct loader_layout lay = { 0 };
	memset(out, 0, sizeof *out);
	enum loader_kind k = loader_detect(img);
	if (k == LOADER_FLAT)
		return loader_err(err, errlen, "no Multiboot header (magic 0x1BADB002 in the first "
				  "8 KiB or 0xE85250D6 in the first 32 KiB): not a Multiboot kernel "
				  "(a flat binary needs --load ADDR)");
	int r = k == LOADER_MB1 ? load_mb1(c, img, &lay, err, errlen)
				: load_mb2(c, img, &lay, err, errlen);
	if (r < 0)
		return -1;
	out->kind = k;
	out->entry = lay.entry;
	out->magic = k == LOADER_MB1 ? MB1_BOOT_MAGIC : MB2_BOOT_MAGIC;
	out->kernel_lo = lay.lo;
	out->kernel_hi = lay.hi;
	return k == LOADER_MB1 ? loader_mbi1(c, img, &lay, out, err, errlen)
			       : loader_mbi2(c, img, &lay, out, err, errlen);
}

static void put64(struct cpu *c, uint64_t pa, uint64_t v)
{
	uint8_t b[8];
	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)(v >> 8 * k);
	cpu_phys_write(c, pa, b, 8);
}

/* The long-mode environment a flat binary starts in, as a loader leaves a
 * 64-bit kernel (SDM Vol. 3 9.8.5): a GDT with a 64-bit code segment and a
 * data segment, and 4-level page tables identity-mapping the low 4 GiB with
 * 2 MiB pages (RAM, and the local APIC and I/O APIC pages above it), all in
 * RAM the image may not use (LOADER_FLAT_RESERVED_*).  PML4[0] -> PDPT,
 * PDPT[0..3] -> four page directories.  P|RW (|PS for the 2 MiB pages). */
static void flat_tables(struct cpu *c)
{
	loader_zero(c, LOADER_FLAT_RESERVED_LO, LOADER_FLAT_RESERVED_HI - LOADER_FLAT_RESERVED_LO);
	put64(c, LOADER_FLAT_GDT + 8, 0x00af9b000000ffffull);    /* 0x08: code, L=1, DPL 0 */
	put64(c, LOADER_FLAT_GDT + 16, 0x00cf93000000ffffull);   /* 0x10: data, writable */
	put64(c, LOADER_FLAT_PML4, LOADER_FLAT_PDPT | 0x3);
	for (uint64_t k = 0; k < 4; k++)
		put64(c, LOADER_FLAT_PDPT + 8 * k, (LOADER_FLAT_PD + 0x1000 * k) | 0x3);
	for (uint64_t k = 0; k < 4 * 512; k++)
		put64(c, LOADER_FLAT_PD + 8 * k, k << 21 | 0x83);
}

int loader_flat(struct cpu *c, const uint8_t *data, size_t len, uint64_t addr,
		struct loader_boot *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (len == 0)
		return loader_err(err, errlen, "the image is empty");
	if (!loader_in_ram(c, addr, len))
		return loader_err(err, errlen, "a flat image of %zu bytes does not fit in RAM at %#llx "
				  "(RAM is %llu MiB)", len, (unsigned long long)addr,
				  (unsigned long long)(c->ram_size >> 20));
	if (addr < LOADER_FLAT_RESERVED_HI && addr + len > LOADER_FLAT_RESERVED_LO)
		return loader_err(err, errlen, "a flat image at %#llx-%#llx would overwrite the GDT "
				  "and page tables nestlab starts it with (%#x-%#x): load it at "
				  "%#x or above", (unsigned long long)addr,
				  (unsigned long long)(addr + len - 1), LOADER_FLAT_RESERVED_LO,
				  LOADER_FLAT_RESERVED_HI - 1, LOADER_FLAT_RESERVED_HI);
	flat_tables(c);
	cpu_phys_write(c, addr, data, len);
	out->kind = LOADER_FLAT;
	out->entry = (uint32_t)addr;
	out->kernel_lo = addr;
	out->kernel_hi = out->end = addr + len;
	return 0;
}

/* A flat 4 GiB segment in the hidden part, as a loader's GDT would give. */
static void flat_seg(struct cpu_segment *s, uint16_t sel, uint16_t type)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->attr = type | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
}

/* 64-bit mode at CPL 0 with the tables of flat_tables(): CR0.PG|PE (and
 * WP, NE, ET, MP as a 64-bit kernel runs), CR4.PAE and the SSE enables,
 * EFER.LME|LMA, CS 0x08 (L=1), the data segments 0x10, IF = 0, no IDT
 * (IDTR limit 0: a flat binary has none; nestlab stops at its first
 * exception or interrupt instead).  Any x86-64 can be in this state. */
static void enter_flat(struct cpu *c, const struct loader_boot *b)
{
	memset(c->gpr, 0, sizeof c->gpr);
	c->rip = b->entry;
	c->gpr[R_RSP] = b->entry;               /* the stack grows down below the image */
	cpu_set_rflags(c, FLAG_FIXED1);
	c->cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
	c->cr2 = c->cr8 = 0;
	c->cr3 = LOADER_FLAT_PML4;
	c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	c->efer = EFER_LME | EFER_LMA;
	c->cpl = 0;
	flat_seg(&c->seg[SEG_CS], 0x08, 0xb);
	c->seg[SEG_CS].attr = (uint16_t)((c->seg[SEG_CS].attr & ~SEG_ATTR_DB) | SEG_ATTR_L);
	for (int s = 0; s < 6; s++)
		if (s != SEG_CS)
			flat_seg(&c->seg[s], 0x10, 0x3);
	c->gdtr.base = LOADER_FLAT_GDT;
	c->gdtr.limit = 3 * 8 - 1;
	c->idtr.base = 0;
	c->idtr.limit = 0;
	c->ldtr = (struct cpu_segment){ .attr = 0x82, .limit = 0xffff };
	c->tr = (struct cpu_segment){ .attr = 0x8b, .limit = 0xffff };
	cpu_tlb_flush(c);
	c->mode = CPU_MODE16;                   /* force the recomputation below */
	cpu_update_mode(c);
}

void loader_enter(struct cpu *c, const struct loader_boot *b)
{
	if (b->kind == LOADER_FLAT) {
		enter_flat(c, b);
		return;
	}
	/* MB1 3.2 / MB2 3.3: CS a 32-bit read/execute segment, offset 0, limit
	 * 4 GiB; DS ES FS GS SS 32-bit read/write, same; CR0.PG = 0, CR0.PE = 1;
	 * EFLAGS.VM = IF = 0; the GDTR "may be invalid" (the kernel loads its own).
	 * Selectors 0x10 / 0x18 as QEMU's and GRUB's GDTs use. */
	memset(c->gpr, 0, sizeof c->gpr);
	c->gpr[R_RAX] = b->magic;
	c->gpr[R_RBX] = b->info;
	c->rip = b->entry;
	cpu_set_rflags(c, FLAG_FIXED1);
	c->cr0 = CR0_PE | CR0_ET;
	c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
	c->efer = 0;
	c->cpl = 0;
	flat_seg(&c->seg[SEG_CS], 0x10, 0xb);   /* execute/read, accessed */
	for (int s = 0; s < 6; s++)
		if (s != SEG_CS)
			flat_seg(&c->seg[s], 0x18, 0x3);   /* read/write, accessed */
	c->gdtr.base = 0;
	c->gdtr.limit = 0;
	c->idtr.base = 0;
	c->idtr.limit = 0x3ff;
	c->ldtr = (struct cpu_segment){ .attr = 0x82, .limit = 0xffff };
	c->tr = (struct cpu_segment){ .attr = 0x8b, .limit = 0xffff };
	c->mode = CPU_MODE64;                   /* force the recomputation below */
	cpu_update_mode(c);
}
