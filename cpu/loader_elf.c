/*
 * loader_elf.c - loading the PT_LOAD segments of an ELF32 or ELF64 kernel.
 *
 * A Multiboot loader places each loadable segment at its PHYSICAL address
 * (p_paddr), copies p_filesz bytes from the file and zeroes the rest up to
 * p_memsz (the .bss), as GRUB does.  The entry point e_entry is a virtual
 * address; when it falls in a segment linked at a different virtual address
 * (a higher-half kernel) it is translated to the physical one, again as GRUB
 * does, since the kernel starts with paging off.
 *
 *   ELF header (ELF32 / ELF64 offsets)     program header (ELF32 / ELF64)
 *   0x00 e_ident "\x7fELF" class data ver   p_type    0 / 0
 *   0x10 e_type, e_machine                  p_offset  4 / 8
 *   0x18 e_entry (4 / 8 bytes)              p_vaddr   8 / 16
 *   0x1c/0x20 e_phoff                       p_paddr  12 / 24
 *   0x2a/0x36 e_phentsize, e_phnum          p_filesz 16 / 32,  p_memsz 20 / 40
 *
 * (System V ABI, "ELF Header" and "Program Header"; every field is checked
 * against the file size and RAM before use.)
 */
#include <string.h>

#include "loader.h"

#define PT_LOAD 1
#define EM_386 3
#define EM_X86_64 62

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int k = n - 1; k >= 0; k--)
		v = (v << 8) | p[k];
	return v;
}

struct elf_seg {
	uint64_t off, vaddr, paddr, filesz, memsz;
};

/* Read program header k; returns its type. */
static uint32_t elf_phdr(const uint8_t *ph, int is64, struct elf_seg *s)
{
	if (is64) {
		s->off = rd(ph + 8, 8);
		s->vaddr = rd(ph + 16, 8);
		s->paddr = rd(ph + 24, 8);
		s->filesz = rd(ph + 32, 8);
		s->memsz = rd(ph + 40, 8);
	} else {
		s->off = rd(ph + 4, 4);
		s->vaddr = rd(ph + 8, 4);
		s->paddr = rd(ph + 12, 4);
		s->filesz = rd(ph + 16, 4);
		s->memsz = rd(ph + 20, 4);
	}
	return (uint32_t)rd(ph, 4);
}

/* The identification and the program header table's place. */
static int elf_check(const uint8_t *img, size_t len, int *is64, uint64_t *phoff,
		     unsigned *phnum, unsigned *phent, char *err, size_t errlen)
{
	if (len < 52 || memcmp(img, "\x7f" "ELF", 4) != 0)
		return loader_err(err, errlen, "not an ELF file and no address fields "
				  "(Multiboot header flag bit 16) to load it by");
	if (img[4] != 1 && img[4] != 2)
		return loader_err(err, errlen, "ELF: unknown class %u (want 1 = ELF32 or 2 = ELF64)", img[4]);
	*is64 = img[4] == 2;
	if (img[5] != 1)
		return loader_err(err, errlen, "ELF: not little-endian (EI_DATA %u)", img[5]);
	if (*is64 && len < 64)
		return loader_err(err, errlen, "ELF: file too short for an ELF64 header (%zu bytes)", len);
	unsigned type = (unsigned)rd(img + 16, 2), machine = (unsigned)rd(img + 18, 2);
	if (type != 2)
		return loader_err(err, errlen, "ELF: type %u is not an executable (ET_EXEC = 2)", type);
	if (machine != (*is64 ? EM_X86_64 : EM_386))
		return loader_err(err, errlen, "ELF: machine %u is not %s", machine,
				  *is64 ? "x86-64 (62)" : "i386 (3)");
	*phoff = *is64 ? rd(img + 32, 8) : rd(img + 28, 4);
	*phent = (unsigned)rd(img + (*is64 ? 54 : 42), 2);
	*phnum = (unsigned)rd(img + (*is64 ? 56 : 44), 2);
	if (*phent < (*is64 ? 56u : 32u))
		return loader_err(err, errlen, "ELF: program header entry size %u is too small", *phent);
	if (*phnum == 0)
		return loader_err(err, errlen, "ELF: no program headers");
	if (*phoff > len || (uint64_t)*phnum * *phent > len - *phoff)
		return loader_err(err, errlen, "ELF: program headers (offset %#llx, %u x %u bytes) "
				  "run past the end of the file (%zu bytes)",
				  (unsigned long long)*phoff, *phnum, *phent, len);
	return 0;
}

static int seg_check(const struct cpu *c, const struct elf_seg *s, unsigned k, size_t len,
		     char *err, size_t errlen)
{
	if (s->filesz > s->memsz)
		return loader_err(err, errlen, "ELF: segment %u has p_filesz %#llx > p_memsz %#llx",
				  k, (unsigned long long)s->filesz, (unsigned long long)s->memsz);
	if (s->off > len || s->filesz > len - s->off)
		return loader_err(err, errlen, "ELF: segment %u (file offset %#llx, %#llx bytes) "
				  "runs past the end of the file (%zu bytes)", k,
				  (unsigned long long)s->off, (unsigned long long)s->filesz, len);
	if (!loader_in_ram(c, s->paddr, s->memsz))
		return loader_err(err, errlen, "ELF: segment %u at physical %#llx (%#llx bytes) is "
				  "outside guest RAM (%llu MiB; try a larger --mem)", k,
				  (unsigned long long)s->paddr, (unsigned long long)s->memsz,
				  (unsigned long long)(c->ram_size >> 20));
	return 0;
}

int loader_elf(struct cpu *c, const uint8_t *img, size_t len,
	       struct loader_layout *lay, char *err, size_t errlen)
{
	int is64 = 0;
	uint64_t phoff = 0;
	unsigned phnum = 0, phent = 0;
	if (elf_check(img, len, &is64, &phoff, &phnum, &phent, err, errlen) < 0)
		return -1;
	uint64_t entry = is64 ? rd(img + 24, 8) : rd(img + 24, 4), pentry = entry;
	int nload = 0, entry_found = 0;
	lay->lo = UINT64_MAX;
	lay->hi = 0;
	/* Check every segment before writing any byte of guest memory. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned k = 0; k < phnum; k++) {
			struct elf_seg s;
			if (elf_phdr(img + phoff + (uint64_t)k * phent, is64, &s) != PT_LOAD ||
			    s.memsz == 0)
				continue;
			if (pass == 0) {
				if (seg_check(c, &s, k, len, err, errlen) < 0)
					return -1;
				nload++;
				if (!entry_found && entry >= s.vaddr && entry - s.vaddr < s.memsz) {
					pentry = entry - s.vaddr + s.paddr;
					entry_found = 1;
				}
				lay->lo = s.paddr < lay->lo ? s.paddr : lay->lo;
				lay->hi = s.paddr + s.memsz > lay->hi ? s.paddr + s.memsz : lay->hi;
				continue;
			}
			loader_zero(c, s.paddr + s.filesz, s.memsz - s.filesz);
			cpu_phys_write(c, s.paddr, img + s.off, s.filesz);
		}
		if (pass == 0 && nload == 0)
			return loader_err(err, errlen, "ELF: no loadable (PT_LOAD) segment");
		if (pass == 0 && !entry_found)
			return loader_err(err, errlen, "ELF: entry point %#llx is in no loaded segment",
					  (unsigned long long)entry);
		if (pass == 0 && pentry > 0xffffffffull)
			return loader_err(err, errlen, "ELF: entry point %#llx (physical %#llx) is above "
					  "4 GiB; a Multiboot kernel starts in 32-bit mode",
					  (unsigned long long)entry, (unsigned long long)pentry);
	}
	lay->entry = (uint32_t)pentry;
	return 0;
}
