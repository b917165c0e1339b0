/*
 * mem.c - the slow path of memory access: translation, the software TLB,
 * faults, page-crossing accesses and self-modifying code.
 *
 * The fast path (mem.h) only ever sees TLB hits.  Everything else comes here:
 *
 *   linear --(canonical check)--> paging_walk (paging.c) or, with CR0.PG = 0,
 *   linear = physical --(RAM? host pointer; else MMIO hooks)--> TLB fill
 *
 * The TLB caches 4 KiB pieces: a 2 MiB, 4 MiB or 1 GiB page fills one entry
 * per 4 KiB touched, each marked with the size class of its page so that
 * INVLPG of any address in a large page drops all its pieces (SDM Vol. 3
 * 4.10.4.1).  Entries of global pages (G = 1 with CR4.PGE) are marked too,
 * and survive MOV to CR3.  A paging-structure cache is not kept: every miss
 * walks the tables in memory, which SDM Vol. 3 4.10.3 permits.
 *
 * A page that holds decoded instructions never gets a writable TLB entry, so
 * every write to it lands in mem_write_slow(), which drops that page's
 * decoded blocks (dcache_invalidate_page) before the write is visible to the
 * next instruction fetch (SDM Vol. 3 11.6, self-modifying code).  A page
 * holding a data breakpoint (DR0-DR3, debug.c) gets no fast entry either,
 * so every access to it is checked here.
 */
#include <stdio.h>

#include "arch.h"
#include "dcache.h"
#include "debug.h"
#include "flags.h"
#include "mem.h"
#include "paging.h"
#include "virt.h"

static bool is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;   /* shift unsigned: no UB */
}

/* Tag bit 0 marks a device page (physical address outside RAM): the fast
 * path never matches it, but the slow path finds its translation there
 * instead of walking the tables again for every APIC or I/O APIC access. */
#define TLB_TAG_MMIO 1ull

static void tlb_clear(struct cpu_tlb_entry *e)
{
	e->tag_r = e->tag_w = ~0ull;
	e->addend = 0;
	e->paddr = 0;
}

/* The four entry arrays: data and fetch TLB, supervisor and user bank. */
struct tlb_arrays {
	struct cpu_tlb_entry *e[4];
	int n[4];
};

static struct tlb_arrays tlb_arrays(struct cpu *c)
{
	struct tlb_arrays t = {
		{ c->tlb[0], c->tlb[1], c->itlb[0], c->itlb[1] },
		{ CPU_TLB_SIZE, CPU_TLB_SIZE, CPU_ITLB_SIZE, CPU_ITLB_SIZE },
	};
	return t;
}

void cpu_tlb_flush(struct cpu *c)
{
	struct tlb_arrays t = tlb_arrays(c);
	dcache_chain_reset(c);
	for (int a = 0; a < 4; a++)
		for (int k = 0; k < t.n[a]; k++)
			tlb_clear(&t.e[a][k]);
	c->tlb_large = 0;
}

void cpu_tlb_flush_nonglobal(struct cpu *c)
{
	struct tlb_arrays t = tlb_arrays(c);
	dcache_chain_reset(c);
	c->tlb_large = 0;
	for (int a = 0; a < 4; a++) {
		for (int k = 0; k < t.n[a]; k++) {
			struct cpu_tlb_entry *e = &t.e[a][k];
			if (!(e->paddr & TLB_F_GLOBAL))
				tlb_clear(e);
			else if (e->paddr & TLB_F_LARGE)
				c->tlb_large = 1;
		}
	}
}

/* Bytes covered by the page an entry came from, minus one. */
static uint64_t large_mask(uint64_t flags)
{
	switch (flags & TLB_F_LARGE) {
	case 2:  return (1ull << 21) - 1;
	case 4:  return (1ull << 22) - 1;
	case 6:  return (1ull << 30) - 1;
	default: return 0xfff;
	}
}

void cpu_tlb_invlpg(struct cpu *c, uint64_t lin)
{
	uint64_t page = lin & ~0xfffull;
	dcache_chain_reset(c);
	c->block_break = true;
	for (unsigned b = 0; b < 2; b++) {
		struct cpu_tlb_entry *d = &c->tlb[b][(lin >> 12) & (CPU_TLB_SIZE - 1)];
		struct cpu_tlb_entry *x = &c->itlb[b][(lin >> 12) & (CPU_ITLB_SIZE - 1)];
		if ((d->tag_r & ~TLB_TAG_MMIO) == page)
			tlb_clear(d);
		if (x->tag_r == page)
			tlb_clear(x);
	}
	if (!c->tlb_large)
		return;
	struct tlb_arrays t = tlb_arrays(c);
	for (int a = 0; a < 4; a++) {
		for (int k = 0; k < t.n[a]; k++) {
			struct cpu_tlb_entry *e = &t.e[a][k];
			if ((e->paddr & TLB_F_LARGE) && e->tag_r != ~0ull &&
			    ((e->tag_r ^ lin) & ~large_mask(e->paddr)) == 0)
				tlb_clear(e);
		}
	}
}

/* Drop the writable bit of every TLB entry that maps physical page pa. */
void cpu_tlb_protect_code(struct cpu *c, uint64_t pa)
{
	pa &= ~0xfffull;
	for (unsigned b = 0; b < 2; b++)
		for (int k = 0; k < CPU_TLB_SIZE; k++)
			if (c->tlb[b][k].tag_r != ~0ull && (c->tlb[b][k].paddr & ~0xfffull) == pa)
				c->tlb[b][k].tag_w = ~0ull;
}

/* #PF: CR2 gets the linear address (SDM Vol. 3 6.15, interrupt 14). */
static _Noreturn void page_fault(struct cpu *c, uint64_t lin, uint32_t pfec)
{
	c->cr2 = lin;
	cpu_exception(c, VEC_PF, pfec);
}

/* Linear -> physical for `acc` in `bank`; raises #GP or #PF.  *flags gets
 * the TLB_F_* bits, *writable whether the page may take writes in this
 * bank without another walk (permitted, and already dirty). */
static uint64_t translate_linear(struct cpu *c, uint64_t lin, enum mem_access acc,
				 unsigned bank, unsigned *flags, bool *writable, bool *slow)
{
	*slow = false;
	if (c->mode == CPU_MODE64 && !is_canonical(lin))
		cpu_gp0(c);
	*flags = 0;
	*writable = true;
	if (!(c->cr0 & CR0_PG)) {
		if (c->icpt & ICPT(GPA))
			*writable = acc == ACC_WRITE;    /* as below */
		return virt_gpa(c, lin, (unsigned)acc | VIRT_GPA_LIN, lin);
	}
	struct pg_walk w;
	if (!paging_walk(c, lin, acc, bank == TLB_USER, false, &w))
		page_fault(c, lin, w.pfec);
	/* The final guest-physical address through EPT/NPT (virt.h).  A 4 KiB
	 * TLB piece is filled per walk, so a large guest page over small EPT
	 * pages stays correct. */
	w.pa = virt_gpa(c, w.pa, (unsigned)acc | VIRT_GPA_LIN | (bank == TLB_USER ? VIRT_GPA_USER : 0), lin);
	bool may_write = bank == TLB_USER ? w.user && w.write
					  : w.write || !(c->cr0 & CR0_WP);
	/* With EPT/NPT a read's translation says nothing of whether the second
	 * level allows writes: only a write fills a writable entry. */
	*writable = may_write && w.dirty && (!(c->icpt & ICPT(GPA)) || acc == ACC_WRITE);
	/* Under SMAP a user page's supervisor rights follow EFLAGS.AC, which
	 * STAC/CLAC/POPF change without a flush: no fast entry for it. */
	if (bank == TLB_SUP && w.user && (c->cr4 & CR4_SMAP) && acc != ACC_EXEC)
		*slow = true;
	*flags = (w.global ? TLB_F_GLOBAL : 0) |
		 (w.size == (1ull << 21) ? 2 : w.size == (1ull << 22) ? 4 :
		  w.size == (1ull << 30) ? 6 : 0);
	return w.pa;
}

/* A data-TLB hit for this access: true, with *host the host pointer (NULL
 * for a device page) and *paddr the physical address.  Callers such as INS
 * (one probe per element) then pay no page walk. */
static bool tlb_hit(struct cpu *c, uint64_t lin, enum mem_access acc, unsigned bank,
		    uint64_t *paddr, uint8_t **host)
{
	const struct cpu_tlb_entry *e = &c->tlb[bank][(lin >> 12) & (CPU_TLB_SIZE - 1)];
	uint64_t tag = acc == ACC_WRITE ? e->tag_w : e->tag_r;
	if ((tag & ~TLB_TAG_MMIO) != (lin & ~0xfffull))
		return false;
	if (paddr)
		*paddr = (e->paddr & ~0xfffull) | (lin & 0xfff);
	*host = tag & TLB_TAG_MMIO ? NULL : (uint8_t *)(uintptr_t)(lin + e->addend);
	return true;
}

uint8_t *mem_translate_bank(struct cpu *c, uint64_t lin, enum mem_access acc, unsigned bank,
			    uint64_t *paddr)
{
	unsigned flags;
	bool writable, slow;
	uint8_t *host;
	if (acc != ACC_EXEC && tlb_hit(c, lin, acc, bank, paddr, &host))
		return host;
	uint64_t pa = translate_linear(c, lin, acc, bank, &flags, &writable, &slow);
	if (paddr)
		*paddr = pa;
	uint64_t page = lin & ~0xfffull, ppage = pa & ~0xfffull;
	bool mmio = pa >= c->ram_size;
	struct cpu_tlb_entry *e;
	if (acc == ACC_EXEC) {
		/* Instruction fetches have their own TLB, as on real CPUs, so code
		 * and data pages never evict each other. */
		if (mmio)
			return NULL;
		e = &c->itlb[bank][(lin >> 12) & (CPU_ITLB_SIZE - 1)];
		e->tag_r = page;
		e->tag_w = ~0ull;
	} else if (mmio) {
		e = &c->tlb[bank][(lin >> 12) & (CPU_TLB_SIZE - 1)];
		e->tag_r = page | TLB_TAG_MMIO;
		e->tag_w = writable ? page | TLB_TAG_MMIO : ~0ull;
	} else {
		e = &c->tlb[bank][(lin >> 12) & (CPU_TLB_SIZE - 1)];
		e->tag_r = page;
		e->tag_w = writable && !c->page_code[ppage >> 12] ? page : ~0ull;
	}
	e->addend = mmio ? 0 : (uintptr_t)(c->ram + ppage) - page;
	e->paddr = ppage | flags;
	/* A page with a data breakpoint (debug.c) stays out of the fast path:
	 * each access to it comes back here to be checked. */
	if (unlikely(slow) ||
	    (unlikely(c->dbg_active & DBG_DATA) && acc != ACC_EXEC && dbg_page_watched(c, page)))
		e->tag_r = e->tag_w = ~0ull;
	if (flags & TLB_F_LARGE)
		c->tlb_large = 1;
	return mmio ? NULL : c->ram + pa;
}

uint8_t *mem_translate(struct cpu *c, uint64_t lin, enum mem_access acc, uint64_t *paddr)
{
	return mem_translate_bank(c, lin, acc, mem_bank(c), paddr);
}

/* Physical addresses outside RAM belong to devices (machine.c's MMIO hook:
 * local APIC, I/O APIC ...); with none there, reads float to all ones. */
static uint64_t mmio_read(struct cpu *c, uint64_t pa, int size)
{
	return c->mmio_read ? c->mmio_read(c, pa, size) & size_mask(size) : size_mask(size);
}

uint64_t mem_read_slow_bank(struct cpu *c, uint64_t lin, int size, unsigned bank)
{
	uint64_t pa;
	if (unlikely(c->dbg_active & DBG_DATA))
		dbg_data_access(c, lin, size, false);
	if (((lin & 0xfff) + (uint64_t)size) <= 4096) {
		const uint8_t *p = mem_translate_bank(c, lin, ACC_READ, bank, &pa);
		return p ? mem_load_host(p, size) : mmio_read(c, pa, size);
	}
	/* Crosses a page: byte by byte, each byte translated on its own. */
	uint64_t v = 0;
	for (int k = 0; k < size; k++) {
		uint64_t a = lin + (uint64_t)k;
		if (c->mode != CPU_MODE64)
			a = (uint32_t)a;
		const uint8_t *p = mem_translate_bank(c, a, ACC_READ, bank, &pa);
		v |= (p ? *p : mmio_read(c, pa, 1)) << (8 * k);
	}
	return v;
}

static void write_phys_bytes(struct cpu *c, uint8_t *p, uint64_t pa, int n, uint64_t v)
{
	if (!p) {               /* outside RAM: a device, or nothing */
		if (c->mmio_write)
			c->mmio_write(c, pa, n, v & size_mask(n));
		return;
	}
	if (c->page_code[pa >> 12])
		dcache_invalidate_page(c, pa);
	for (int k = 0; k < n; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

void mem_write_slow_bank(struct cpu *c, uint64_t lin, int size, uint64_t v, unsigned bank)
{
	uint64_t pa1, pa2;
	int n1 = size;
	if (unlikely(c->dbg_active & DBG_DATA))
		dbg_data_access(c, lin, size, true);
	if ((lin & 0xfff) + (uint64_t)size > 4096)
		n1 = (int)(4096 - (lin & 0xfff));
	/* Translate every page the write touches before writing any byte, so a
	 * fault on the second page leaves memory untouched. */
	uint8_t *p1 = mem_translate_bank(c, lin, ACC_WRITE, bank, &pa1);
	uint8_t *p2 = NULL;
	if (n1 < size) {
		uint64_t a2 = lin + (uint64_t)n1;
		if (c->mode != CPU_MODE64)
			a2 = (uint32_t)a2;
		p2 = mem_translate_bank(c, a2, ACC_WRITE, bank, &pa2);
	}
	write_phys_bytes(c, p1, pa1, n1, v);
	if (n1 < size)
		write_phys_bytes(c, p2, pa2, size - n1, v >> (8 * n1));
}

uint64_t mem_read_slow(struct cpu *c, uint64_t lin, int size)
{
	return mem_read_slow_bank(c, lin, size, mem_bank(c));
}

void mem_write_slow(struct cpu *c, uint64_t lin, int size, uint64_t v)
{
	mem_write_slow_bank(c, lin, size, v, mem_bank(c));
}

int cpu_phys_write(struct cpu *c, uint64_t pa, const void *src, size_t n)
{
	if (pa > c->ram_size || n > c->ram_size - pa)
		return -1;
	for (uint64_t p = pa & ~0xfffull; p < pa + n; p += 4096)
		if (c->page_code[p >> 12])
			dcache_invalidate_page(c, p);
	memcpy(c->ram + pa, src, n);
	return 0;
}

int cpu_phys_read(struct cpu *c, uint64_t pa, void *dst, size_t n)
{
	if (pa > c->ram_size || n > c->ram_size - pa)
		return -1;
	memcpy(dst, c->ram + pa, n);
	return 0;
}
