/*
 * mem.c - the slow path of memory access: translation, TLB fill, faults,
 * page-crossing accesses and self-modifying code.
 *
 * The fast path (mem.h) only ever sees TLB hits.  Everything else comes here:
 *
 *   linear --(canonical check)--> mem_translate --(paging, later: EPT/NPT)-->
 *   physical --(RAM? then host pointer; else open bus)--> TLB fill
 *
 * A page that holds decoded instructions never gets a writable TLB entry, so
 * every write to it lands in mem_write_slow(), which drops that page's
 * decoded blocks (dcache_invalidate_page) before the write is visible to the
 * next instruction fetch (SDM Vol. 3 11.6, self-modifying code).
 *
 * Paging itself (the page walker) arrives with the system-mode work; until
 * then CR0.PG must be 0 and linear addresses are physical (the flat mode the
 * instruction-level tests use, also in 64-bit code).
 */
#include <stdio.h>

#include "dcache.h"
#include "flags.h"
#include "mem.h"

static bool is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;   /* shift unsigned: no UB */
}

void cpu_tlb_flush(struct cpu *c)
{
	dcache_chain_reset(c);
	for (int k = 0; k < CPU_TLB_SIZE; k++) {
		c->tlb[k].tag_r = c->tlb[k].tag_w = c->tlb[k].tag_x = ~0ull;
		c->tlb[k].addend = 0;
		c->tlb[k].paddr = ~0ull;
	}
	for (int k = 0; k < CPU_ITLB_SIZE; k++) {
		c->itlb[k].tag_r = c->itlb[k].tag_w = c->itlb[k].tag_x = ~0ull;
		c->itlb[k].addend = 0;
		c->itlb[k].paddr = ~0ull;
	}
}

/* Drop the writable bit of every TLB entry that maps physical page pa. */
void cpu_tlb_protect_code(struct cpu *c, uint64_t pa)
{
	pa &= ~0xfffull;
	for (int k = 0; k < CPU_TLB_SIZE; k++)
		if (c->tlb[k].paddr == pa)
			c->tlb[k].tag_w = ~0ull;
}

/* Linear -> physical.  Raises the fault itself; returns false only for
 * reasons that are emulator limits (c->error is then set). */
static uint64_t translate_linear(struct cpu *c, uint64_t lin, enum mem_access acc)
{
	(void)acc;
	if (c->mode == CPU_MODE64 && !is_canonical(lin))
		cpu_gp0(c);
	if (c->cr0 & (1ull << 31)) {
		snprintf(c->error, sizeof c->error,
			 "paging (CR0.PG=1) is not implemented yet (linear %#llx)",
			 (unsigned long long)lin);
		c->stop_request = true;
		cpu_exception_noerr(c, -1);
	}
	return lin;
}

uint8_t *mem_translate(struct cpu *c, uint64_t lin, enum mem_access acc, uint64_t *paddr)
{
	uint64_t pa = translate_linear(c, lin, acc);
	if (paddr)
		*paddr = pa;
	if (pa >= c->ram_size)
		return NULL;
	uint64_t page = lin & ~0xfffull, ppage = pa & ~0xfffull;
	struct cpu_tlb_entry *e;
	if (acc == ACC_EXEC) {
		/* Instruction fetches have their own TLB, as on real CPUs, so code
		 * and data pages never evict each other. */
		e = &c->itlb[(lin >> 12) & (CPU_ITLB_SIZE - 1)];
		e->tag_r = e->tag_w = ~0ull;
		e->tag_x = page;
	} else {
		e = &c->tlb[(lin >> 12) & (CPU_TLB_SIZE - 1)];
		e->tag_r = page;
		e->tag_x = ~0ull;
		e->tag_w = c->page_code[ppage >> 12] ? ~0ull : page;
	}
	e->addend = (uintptr_t)(c->ram + ppage) - page;
	e->paddr = ppage;
	return c->ram + pa;
}

/* Physical addresses outside RAM belong to devices (machine.c's MMIO hook:
 * local APIC, I/O APIC ...); with none there, reads float to all ones. */
static uint64_t mmio_read(struct cpu *c, uint64_t pa, int size)
{
	return c->mmio_read ? c->mmio_read(c, pa, size) & size_mask(size) : size_mask(size);
}

uint64_t mem_read_slow(struct cpu *c, uint64_t lin, int size)
{
	uint64_t pa;
	if (((lin & 0xfff) + (uint64_t)size) <= 4096) {
		const uint8_t *p = mem_translate(c, lin, ACC_READ, &pa);
		return p ? mem_load_host(p, size) : mmio_read(c, pa, size);
	}
	/* Crosses a page: byte by byte, each byte translated on its own. */
	uint64_t v = 0;
	for (int k = 0; k < size; k++) {
		uint64_t a = lin + (uint64_t)k;
		if (c->mode != CPU_MODE64)
			a = (uint32_t)a;
		const uint8_t *p = mem_translate(c, a, ACC_READ, &pa);
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

void mem_write_slow(struct cpu *c, uint64_t lin, int size, uint64_t v)
{
	uint64_t pa1, pa2;
	int n1 = size;
	if ((lin & 0xfff) + (uint64_t)size > 4096)
		n1 = (int)(4096 - (lin & 0xfff));
	/* Translate every page the write touches before writing any byte, so a
	 * fault on the second page leaves memory untouched. */
	uint8_t *p1 = mem_translate(c, lin, ACC_WRITE, &pa1);
	uint8_t *p2 = NULL;
	if (n1 < size) {
		uint64_t a2 = lin + (uint64_t)n1;
		if (c->mode != CPU_MODE64)
			a2 = (uint32_t)a2;
		p2 = mem_translate(c, a2, ACC_WRITE, &pa2);
	}
	write_phys_bytes(c, p1, pa1, n1, v);
	if (n1 < size)
		write_phys_bytes(c, p2, pa2, size - n1, v >> (8 * n1));
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
