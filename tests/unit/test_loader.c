/*
 * test_loader.c - cpu/loader*.c: Multiboot 1 (ELF32, ELF64, address fields)
 * and Multiboot 2 (ELF, address tag, modules, command line, memory map)
 * images built here byte by byte, the boot information they get, the entry
 * state, a kernel that runs and reads its boot information, flat binaries,
 * and one malformed image per check, each with an error naming the problem.
 */
#include <string.h>

#include "arch.h"
#include "loader.h"
#include "unit_util.h"

static uint8_t img[16384];
static char err[256];

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int k = 0; k < n; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t ram32(struct cpu *c, uint64_t pa)
{
	uint32_t v = 0;
	cpu_phys_read(c, pa, &v, 4);
	return v;
}

static const char *ram_str(struct cpu *c, uint64_t pa)
{
	return (const char *)c->ram + pa;
}

/* The test kernel's code, at file offset 0x200: ECX = [EBX] (MB1 flags or
 * MB2 total_size), EDX = EAX, HLT. */
static const uint8_t kcode[] = { 0x8b, 0x0b, 0x89, 0xc2, 0xf4 };

/* An ELF with one PT_LOAD: file offset 0 .. 0x400 to paddr (vaddr) with
 * memsz 0x2000 (bss after), entry at vaddr + 0x200; MB1 header at 0x100. */
static size_t mk_elf(int is64, uint64_t vaddr, uint64_t paddr, uint32_t mb1_flags)
{
	memset(img, 0, sizeof img);
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	put(img + 16, 2, 2);
	put(img + 18, is64 ? 62 : 3, 2);
	if (is64) {
		put(img + 24, vaddr + 0x200, 8);
		put(img + 32, 64, 8);
		put(img + 54, 56, 2);
		put(img + 56, 1, 2);
		uint8_t *ph = img + 64;
		put(ph, 1, 4);
		put(ph + 8, 0, 8);
		put(ph + 16, vaddr, 8);
		put(ph + 24, paddr, 8);
		put(ph + 32, 0x400, 8);
		put(ph + 40, 0x2000, 8);
	} else {
		put(img + 24, vaddr + 0x200, 4);
		put(img + 28, 52, 4);
		put(img + 42, 32, 2);
		put(img + 44, 1, 2);
		uint8_t *ph = img + 52;
		put(ph, 1, 4);
		put(ph + 4, 0, 4);
		put(ph + 8, vaddr, 4);
		put(ph + 12, paddr, 4);
		put(ph + 16, 0x400, 4);
		put(ph + 20, 0x2000, 4);
	}
	put(img + 0x100, MB1_HEADER_MAGIC, 4);
	put(img + 0x104, mb1_flags, 4);
	put(img + 0x108, -(MB1_HEADER_MAGIC + mb1_flags), 4);
	memcpy(img + 0x200, kcode, sizeof kcode);
	img[0x3ff] = 0xaa;                   /* last file byte; bss follows */
	return 0x400;
}

static struct cpu *fresh(void)
{
	struct cpu *c = ut_cpu();
	memset(c->ram + 0x100000, 0x55, 0x4000);   /* so bss zeroing shows */
	return c;
}

static int load(struct cpu *c, size_t len, const char *cmd, struct loader_boot *b)
{
	struct loader_module mods[2] = {
		{ (const uint8_t *)"module-one", 10, "mod1 arg=1" },
		{ (const uint8_t *)"2", 1, "mod2" },
	};
	struct loader_image im = { img, len, cmd, mods, 2, 0 };
	err[0] = 0;
	return loader_multiboot(c, &im, b, err, sizeof err);
}

static void check_mbi1(struct cpu *c, const struct loader_boot *b)
{
	uint32_t mbi = b->info;
	CU_ASSERT_EQUAL(mbi, 0x9500);          /* QEMU's MBI address (a kernel may show it) */
	CU_ASSERT_EQUAL(ram32(c, mbi), 0x24d);                 /* flags 0 2 3 6 9 */
	CU_ASSERT_EQUAL(ram32(c, mbi + 4), 639);
	CU_ASSERT_EQUAL(ram32(c, mbi + 8), (UT_RAM - 0x100000) >> 10);
	CU_ASSERT_STRING_EQUAL(ram_str(c, ram32(c, mbi + 16)), "kernel a=b");
	CU_ASSERT_EQUAL(ram32(c, mbi + 20), 2);
	uint32_t mods = ram32(c, mbi + 24);
	CU_ASSERT_EQUAL(ram32(c, mods) % 4096, 0);
	CU_ASSERT(ram32(c, mods) >= b->kernel_hi);
	/* QEMU's layout: module list and strings in the page after the kernel,
	 * the modules after that page. */
	uint32_t after = (uint32_t)((b->kernel_hi + 0xfff) & ~0xfffull);
	CU_ASSERT_EQUAL(mods, after);
	CU_ASSERT_EQUAL(ram32(c, mods), after + 0x1000);
	CU_ASSERT_EQUAL(ram32(c, mods + 8), after + 32);   /* first module string */
	CU_ASSERT_EQUAL(ram32(c, mods + 4) - ram32(c, mods), 10);
	CU_ASSERT(memcmp(c->ram + ram32(c, mods), "module-one", 10) == 0);
	CU_ASSERT_STRING_EQUAL(ram_str(c, ram32(c, mods + 8)), "mod1 arg=1");
	CU_ASSERT_EQUAL(ram32(c, mods + 16), ram32(c, mods) + 4096);
	CU_ASSERT_STRING_EQUAL(ram_str(c, ram32(c, mods + 24)), "mod2");
	CU_ASSERT_EQUAL(ram32(c, mbi + 44), 5 * 24);
	uint32_t mm = ram32(c, mbi + 48);
	CU_ASSERT_EQUAL(ram32(c, mm), 20);
	CU_ASSERT_EQUAL(ram32(c, mm + 4 + 3 * 24), 0x100000);  /* entry 3: RAM at 1 MiB */
	CU_ASSERT_EQUAL(ram32(c, mm + 12 + 3 * 24), UT_RAM - 0x100000 - 0x20000);
	CU_ASSERT_EQUAL(ram32(c, mm + 20 + 3 * 24), 1);
	CU_ASSERT_EQUAL(ram32(c, mm + 4 + 4 * 24), UT_RAM - 0x20000);  /* SeaBIOS's top */
	CU_ASSERT_EQUAL(ram32(c, mm + 12 + 4 * 24), 0x20000);          /* 128 KiB, as */
	CU_ASSERT_EQUAL(ram32(c, mm + 20 + 4 * 24), 2);                /* on QEMU */
	CU_ASSERT_EQUAL(ram32(c, mm + 20 + 1 * 24), 2);        /* EBDA reserved */
	CU_ASSERT_STRING_EQUAL(ram_str(c, ram32(c, mbi + 64)), "nestlab");
}

/* Enter the kernel and run it to its HLT: it reads its boot information. */
static void run_kernel(struct cpu *c, const struct loader_boot *b, uint32_t first_word)
{
	loader_enter(c, b);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE32);
	CU_ASSERT_EQUAL(c->cr0 & (CR0_PE | CR0_PG), CR0_PE);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].limit, 0xffffffffu);
	CU_ASSERT_FALSE(cpu_get_rflags(c) & FLAG_IF);
	CU_ASSERT_EQUAL(cpu_run(c, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], b->magic);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], first_word);
	CU_ASSERT_EQUAL(c->icount, 3);
}

static void test_mb1_elf32(void)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	size_t len = mk_elf(0, 0x100000, 0x100000, 3);
	CU_ASSERT_EQUAL_FATAL(load(c, len, "kernel a=b", &b), 0);
	CU_ASSERT_EQUAL(b.kind, LOADER_MB1);
	CU_ASSERT_EQUAL(b.entry, 0x100200);
	CU_ASSERT_EQUAL(b.magic, MB1_BOOT_MAGIC);
	CU_ASSERT_EQUAL(c->ram[0x1003ff], 0xaa);
	CU_ASSERT_EQUAL(c->ram[0x100400], 0);              /* bss zeroed */
	CU_ASSERT_EQUAL(c->ram[0x101fff], 0);
	CU_ASSERT_EQUAL(b.kernel_hi, 0x102000);            /* and no further */
	check_mbi1(c, &b);
	run_kernel(c, &b, 0x24d);
}

/* Higher-half ELF64: loaded at p_paddr, entry translated to physical. */
static void test_mb1_elf64_higher_half(void)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	size_t len = mk_elf(1, 0xffffffff80100000ull, 0x100000, 0);
	CU_ASSERT_EQUAL_FATAL(load(c, len, "kernel a=b", &b), 0);
	CU_ASSERT_EQUAL(b.entry, 0x100200);
	CU_ASSERT_EQUAL(c->ram[0x100200], kcode[0]);
	run_kernel(c, &b, 0x24d);
}

/* Not an ELF at all: the address fields say where everything goes. */
static void test_mb1_aout_kludge(void)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	memset(img, 0, sizeof img);
	uint32_t f = 0x10003;
	put(img + 8, MB1_HEADER_MAGIC, 4);
	put(img + 12, f, 4);
	put(img + 16, -(MB1_HEADER_MAGIC + f), 4);
	put(img + 20, 0x200008, 4);     /* header_addr: file offset 8 */
	put(img + 24, 0x200000, 4);     /* load_addr = file offset 0 */
	put(img + 28, 0x200300, 4);     /* load_end_addr */
	put(img + 32, 0x201000, 4);     /* bss_end_addr */
	put(img + 36, 0x200200, 4);     /* entry_addr */
	memcpy(img + 0x200, kcode, sizeof kcode);
	img[0x2ff] = 0xbb;
	img[0x300] = 0xcc;              /* beyond load_end_addr: not loaded */
	memset(c->ram + 0x200000, 0x55, 0x2000);
	CU_ASSERT_EQUAL_FATAL(load(c, 0x400, "kernel a=b", &b), 0);
	CU_ASSERT_EQUAL(b.entry, 0x200200);
	CU_ASSERT_EQUAL(c->ram[0x2002ff], 0xbb);
	CU_ASSERT_EQUAL(c->ram[0x200300], 0);
	CU_ASSERT_EQUAL(c->ram[0x200fff], 0);
	CU_ASSERT_EQUAL(b.kernel_hi, 0x201000);
	check_mbi1(c, &b);
	run_kernel(c, &b, 0x24d);
}

/* An MB2 header at 0x100 (ELF32 from mk_elf, MB1 header wiped). */
static size_t mk_mb2(size_t len, int addr_tag, uint32_t extra_type, uint16_t extra_flags)
{
	memset(img + 0x100, 0, 12);
	uint8_t *h = img + 0x100, *t = h + 16;
	if (addr_tag) {
		put(t, 2, 2); put(t + 4, 24, 4);
		put(t + 8, 0x300100, 4); put(t + 12, 0x300000, 4);
		put(t + 16, 0x300400, 4); put(t + 20, 0x302000, 4);
		t += 24;
		put(t, 3, 2); put(t + 4, 12, 4); put(t + 8, 0x300200, 4);
		t += 16;
	}
	if (extra_type) {
		put(t, extra_type, 2); put(t + 2, extra_flags, 2); put(t + 4, 16, 4);
		put(t + 8, 6, 4); put(t + 12, 1, 4);   /* as an info request: mmap, cmdline */
		t += 16;
	}
	put(t, 0, 2); put(t + 4, 8, 4);
	t += 8;
	uint32_t hl = (uint32_t)(t - h);
	put(h, MB2_HEADER_MAGIC, 4);
	put(h + 8, hl, 4);
	put(h + 12, -(MB2_HEADER_MAGIC + hl), 4);
	return len;
}

/* Find MB2 tag `type` in the information at `mbi`; 0 if absent. */
static uint32_t mb2_find(struct cpu *c, uint32_t mbi, uint32_t type)
{
	uint32_t total = ram32(c, mbi);
	for (uint32_t off = 8; off + 8 <= total; off += (ram32(c, mbi + off + 4) + 7) & ~7u) {
		if (ram32(c, mbi + off) == type)
			return mbi + off;
		if (ram32(c, mbi + off) == 0)
			break;
	}
	return 0;
}

static void test_mb2_elf(void)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	size_t len = mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 0, 1, 0);
	CU_ASSERT_EQUAL_FATAL(load(c, len, "a=b", &b), 0);
	CU_ASSERT_EQUAL(b.kind, LOADER_MB2);
	CU_ASSERT_EQUAL(b.magic, MB2_BOOT_MAGIC);
	CU_ASSERT_EQUAL(b.info % 8, 0);
	uint32_t t = mb2_find(c, b.info, 1);
	CU_ASSERT(t && strcmp(ram_str(c, t + 8), "a=b") == 0);
	t = mb2_find(c, b.info, 2);
	CU_ASSERT(t && strcmp(ram_str(c, t + 8), "nestlab") == 0);
	t = mb2_find(c, b.info, 3);
	CU_ASSERT_FATAL(t != 0);
	CU_ASSERT_EQUAL(ram32(c, t + 12) - ram32(c, t + 8), 10);
	CU_ASSERT_STRING_EQUAL(ram_str(c, t + 16), "mod1 arg=1");
	t = mb2_find(c, b.info, 4);
	CU_ASSERT(t && ram32(c, t + 8) == 639);
	t = mb2_find(c, b.info, 6);
	CU_ASSERT_FATAL(t != 0);
	CU_ASSERT_EQUAL(ram32(c, t + 4), 16 + 5 * 24);
	CU_ASSERT_EQUAL(ram32(c, t + 8), 24);
	CU_ASSERT_EQUAL(ram32(c, t + 16 + 3 * 24), 0x100000);
	CU_ASSERT(mb2_find(c, b.info, 0) != 0);             /* end tag */
	run_kernel(c, &b, ram32(c, b.info));
}

static void test_mb2_address_tag(void)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	size_t len = mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 1, 0, 0);
	memset(c->ram + 0x300000, 0x55, 0x3000);
	CU_ASSERT_EQUAL_FATAL(load(c, len, "", &b), 0);
	CU_ASSERT_EQUAL(b.entry, 0x300200);
	CU_ASSERT_EQUAL(c->ram[0x3003ff], 0xaa);
	CU_ASSERT_EQUAL(c->ram[0x301fff], 0);
	CU_ASSERT_EQUAL(b.kernel_hi, 0x302000);
	run_kernel(c, &b, ram32(c, b.info));
}

/* Both headers: MB1 as QEMU unless MB2 is asked for. */
static void test_both_headers(void)
{
	size_t len = mk_elf(0, 0x100000, 0x100000, 0);   /* MB1 header at 0x100 */
	uint8_t *h = img + 0x180;                         /* MB2 header at 0x180 */
	put(h, MB2_HEADER_MAGIC, 4);
	put(h + 8, 24, 4);
	put(h + 12, -(MB2_HEADER_MAGIC + 24), 4);
	put(h + 16, 0, 2);
	put(h + 20, 8, 4);
	struct loader_image im = { img, len, "", NULL, 0, 0 };
	CU_ASSERT_EQUAL(loader_detect(&im), LOADER_MB1);
	im.prefer_mb2 = 1;
	CU_ASSERT_EQUAL(loader_detect(&im), LOADER_MB2);
	struct cpu *c = fresh();
	struct loader_boot bt;
	CU_ASSERT_EQUAL(loader_multiboot(c, &im, &bt, err, sizeof err), 0);
	CU_ASSERT_EQUAL(bt.magic, MB2_BOOT_MAGIC);
}

static void test_flat(void)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	static const uint8_t code[] = { 0x90, 0xf4 };
	CU_ASSERT_EQUAL(loader_flat(c, code, 2, 0x100000, &b, err, sizeof err), 0);
	loader_enter(c, &b);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE64);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->rip, 0x100000);
	/* A state a real x86-64 can be in (issue 15): long mode needs paging. */
	CU_ASSERT((c->cr0 & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE));
	CU_ASSERT(c->cr4 & CR4_PAE);
	CU_ASSERT_EQUAL(c->efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	CU_ASSERT_EQUAL(c->cr3, LOADER_FLAT_PML4);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, 0x08);
	CU_ASSERT(c->seg[SEG_CS].attr & SEG_ATTR_L);
	CU_ASSERT_EQUAL(c->gdtr.base, LOADER_FLAT_GDT);
	CU_ASSERT_EQUAL(c->idtr.limit, 0);
	uint64_t pml4 = 0, pde = 0;
	cpu_phys_read(c, LOADER_FLAT_PML4, &pml4, 8);
	cpu_phys_read(c, LOADER_FLAT_PD + 8 * 3 * 512 + 8 * 511, &pde, 8);   /* 4 GiB - 2 MiB */
	CU_ASSERT_EQUAL(pml4, LOADER_FLAT_PDPT | 0x3);
	CU_ASSERT_EQUAL(pde, 0xffe00000ull | 0x83);
	CU_ASSERT_EQUAL(cpu_run(c, 10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(loader_flat(c, code, 2, 0x7fff, &b, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "would overwrite the GDT and page tables") != NULL);
	CU_ASSERT_EQUAL(loader_flat(c, code, 2, 0x8000, &b, err, sizeof err), 0);
	CU_ASSERT_EQUAL(loader_flat(c, code, 2, 0xffe, &b, err, sizeof err), 0);
	CU_ASSERT_EQUAL(loader_flat(c, code, 2, UT_RAM - 1, &b, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "does not fit") != NULL);
	CU_ASSERT_EQUAL(loader_flat(c, code, 0, 0x1000, &b, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "empty") != NULL);
}

/* One broken field at a time; the message must name it. */
static void expect_error(size_t len, const char *words)
{
	struct cpu *c = fresh();
	struct loader_boot b;
	CU_ASSERT_EQUAL(load(c, len, "", &b), -1);
	if (!strstr(err, words)) {
		fprintf(stderr, "\n  error '%s' does not mention '%s'\n", err, words);
		CU_FAIL("error message does not name the problem");
	}
}

static void expect_ok(size_t len)
{
	struct loader_boot b;
	CU_ASSERT_EQUAL(load(fresh(), len, "", &b), 0);
	CU_ASSERT_EQUAL(err[0], 0);
}

static void test_errors(void)
{
	size_t len = mk_elf(0, 0x100000, 0x100000, 0);
	expect_ok(len);                                        /* the unbroken image loads */
	mk_elf(0, 0x100000, 0x100000, 0);
	img[0x108]++;
	expect_error(len, "bad checksum");
	mk_elf(0, 0x100000, 0x100000, 0x8);
	expect_error(len, "required feature bits 0x8");
	mk_elf(0, 0x100000, 0x100000, 0);
	memset(img + 0x100, 0, 12);
	expect_error(len, "no Multiboot header");
	mk_elf(0, 0x100000, 0x100000, 0);
	put(img + 52 + 12, UT_RAM - 0x100, 4);                 /* paddr near the top */
	expect_error(len, "outside guest RAM");
	mk_elf(0, 0x100000, 0x100000, 0);
	put(img + 28, 0x3f0, 4);                               /* phoff */
	expect_error(len, "run past the end of the file");
	mk_elf(0, 0x100000, 0x100000, 0);
	put(img + 52 + 16, 0x3000, 4);                         /* filesz > memsz */
	expect_error(len, "p_filesz");
	mk_elf(0, 0x100000, 0x100000, 0);
	put(img + 24, 0x500000, 4);
	expect_error(len, "entry point 0x500000 is in no loaded segment");
	mk_elf(0, 0x100000, 0x100000, 0);
	put(img + 18, 40, 2);
	expect_error(len, "machine 40");
	mk_elf(0, 0x100000, 0x100000, 0);
	memset(img, 0, 4);
	expect_error(len, "not an ELF");
	mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 0, 1, 0);
	put(img + 0x100 + 16 + 8, 8, 4);                       /* request framebuffer info */
	expect_error(len, "requires boot information tag 8");
	mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 0, 5, 0);
	expect_error(len, "tag type 5 (framebuffer)");
	mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 0, 5, 1);     /* optional: fine */
	expect_ok(len);
	mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 0, 0, 0);
	put(img + 0x104, 4, 4);
	put(img + 0x10c, -(MB2_HEADER_MAGIC + 4 + 24), 4);
	expect_error(len, "architecture 4");
	mk_mb2(mk_elf(0, 0x100000, 0x100000, 0), 0, 0, 0);
	put(img + 0x100 + 16 + 4, 0x1000, 4);                  /* end tag with a huge size */
	expect_error(len, "bad size");
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "MB1 ELF32: segments, bss, boot info, entry state", test_mb1_elf32 },
		{ "MB1 ELF64 higher half: paddr, entry translated", test_mb1_elf64_higher_half },
		{ "MB1 address fields (a.out kludge)", test_mb1_aout_kludge },
		{ "MB2 ELF: tags cmdline, name, modules, meminfo, mmap", test_mb2_elf },
		{ "MB2 address and entry tags", test_mb2_address_tag },
		{ "both headers: MB1 unless MB2 preferred", test_both_headers },
		{ "flat binary", test_flat },
		{ "malformed images: errors name the problem", test_errors },
		{ NULL, NULL },
	};
	return ut_main("loader", cases);
}
