/*
 * loader.h - putting a kernel into guest RAM and the CPU into its entry state.
 *
 * Three kinds of image, as QEMU (-kernel) and GRUB load them:
 *
 *   Multiboot 1   header in the first 8 KiB (magic 0x1BADB002), the kernel an
 *                 ELF32, an ELF64 (GRUB accepts it; QEMU does not), or any
 *                 file described by the header's address fields (flag bit
 *                 16, the "a.out kludge"); EAX = 0x2BADB002 at entry.
 *   Multiboot 2   header in the first 32 KiB (magic 0xE85250D6), ELF32/64 or
 *                 the address tag; EAX = 0x36D76289 at entry.
 *   flat binary   copied to an address and started there in 64-bit mode at
 *                 CPL 0 with paging on, as a loader leaves a 64-bit kernel:
 *                 identity-mapped page tables and a GDT at 0x1000-0x7fff
 *                 (nestlab's own test convention, --load ADDR).
 *
 * A Multiboot kernel starts as both specifications say (MB1 3.2, MB2 3.3):
 * 32-bit protected mode, flat 4 GiB code and data segments, paging off, A20
 * on, IF = 0, EBX = physical address of the boot information, which
 * loader_mbi.c builds (memory map, command line, modules, loader name).
 *
 * Every function checks the image completely before trusting a field of it;
 * a malformed image gives -1 and a message in `err` naming the problem.
 */
#ifndef NESTLAB_LOADER_H
#define NESTLAB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_BOOT_MAGIC   0x2BADB002u
#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_BOOT_MAGIC   0x36D76289u
#define MB1_SEARCH       8192          /* MB1 spec 3.1.1 */
#define MB2_SEARCH       32768         /* MB2 spec 3.1.1 */

/* Where the boot information goes (as QEMU: low memory, the MBI at 0x9500 -
 * QEMU's hw/i386/multiboot.c puts its E820 buffer at 0x9000 and the MBI
 * 0x500 above it; a kernel's register dump shows the address, so nesthv's
 * panic output differed), unless the kernel sits there; then right after
 * the kernel and its modules. */
#define LOADER_INFO_BASE  0x9500u
#define LOADER_INFO_LIMIT 0x9fc00u     /* start of the EBDA, reserved */
#define LOADER_NAME "nestlab"          /* boot loader name tag/field */

/* A flat binary's start state lives here (loader_flat, loader_enter): the
 * GDT (0x08 64-bit code, 0x10 data), the PML4, one PDPT and four page
 * directories identity-mapping 0-4 GiB with 2 MiB pages.  The image must
 * not overlap [LO, HI). */
#define LOADER_FLAT_RESERVED_LO 0x1000u
#define LOADER_FLAT_GDT         0x1000u
#define LOADER_FLAT_PML4        0x2000u
#define LOADER_FLAT_PDPT        0x3000u
#define LOADER_FLAT_PD          0x4000u    /* four pages, 0x4000-0x7fff */
#define LOADER_FLAT_RESERVED_HI 0x8000u

struct loader_module {
	const uint8_t *data;
	size_t len;
	const char *cmdline;           /* the module's string ("file args") */
};

/* What to load and what to tell the kernel. */
struct loader_image {
	const uint8_t *data;
	size_t len;
	const char *cmdline;           /* kernel command line ("" if none) */
	const struct loader_module *mods;
	unsigned nmods;
	int prefer_mb2;                /* both headers present: use MB2 (GRUB's
	                                  multiboot2) instead of MB1 (QEMU) */
};

enum loader_kind { LOADER_FLAT, LOADER_MB1, LOADER_MB2 };

/* A kernel's place in memory, filled in by the header/ELF parsers. */
struct loader_layout {
	uint32_t entry;
	uint64_t lo, hi;               /* lowest and highest+1 address it occupies */
	uint32_t mb_flags;             /* MB1 header flags (bit 0: page-align mods) */
};

/* The result: how to enter the kernel. */
struct loader_boot {
	enum loader_kind kind;
	uint32_t entry;
	uint32_t magic;                /* EAX at entry */
	uint32_t info;                 /* EBX at entry: boot information address */
	uint64_t kernel_lo, kernel_hi; /* the kernel's memory, for messages */
	uint64_t end;                  /* first byte after everything loaded */
};

/* Which Multiboot header an image has: LOADER_MB1, LOADER_MB2, or
 * LOADER_FLAT for none (honours prefer_mb2 when both are present). */
enum loader_kind loader_detect(const struct loader_image *img);

/* Load a Multiboot kernel, its modules and the boot information. */
int loader_multiboot(struct cpu *c, const struct loader_image *img,
		     struct loader_boot *out, char *err, size_t errlen);

/* Copy a flat binary to `addr`. */
int loader_flat(struct cpu *c, const uint8_t *data, size_t len, uint64_t addr,
		struct loader_boot *out, char *err, size_t errlen);

/* Put the CPU in the entry state of `b` (Multiboot: 32-bit protected mode;
 * flat: 64-bit mode at CPL 0, CR0.PG, CR4.PAE, EFER.LMA, CR3 = the
 * identity map at LOADER_FLAT_PML4, CS 0x08, RSP = the load address, no
 * IDT). */
void loader_enter(struct cpu *c, const struct loader_boot *b);

/* --- internal to loader.c / loader_elf.c / loader_mbi.c ------------------- */
int loader_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Is [pa, pa+n) inside RAM?  (No overflow for any pa, n.) */
int loader_in_ram(const struct cpu *c, uint64_t pa, uint64_t n);
/* Zero [pa, pa+n) of RAM (checked by the caller), dropping decoded code. */
void loader_zero(struct cpu *c, uint64_t pa, uint64_t n);
/* Load the PT_LOAD segments of an ELF32/ELF64 image by physical address. */
int loader_elf(struct cpu *c, const uint8_t *img, size_t len,
	       struct loader_layout *lay, char *err, size_t errlen);
/* Build the boot information at/after the kernel; sets b->info and b->end. */
int loader_mbi1(struct cpu *c, const struct loader_image *img,
		const struct loader_layout *lay, struct loader_boot *b,
		char *err, size_t errlen);
int loader_mbi2(struct cpu *c, const struct loader_image *img,
		const struct loader_layout *lay, struct loader_boot *b,
		char *err, size_t errlen);

#endif
