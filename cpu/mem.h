/*
 * mem.h - how handlers reach memory and operands.
 *
 * A memory operand goes through three steps:
 *
 *   effective address   cpu_ea(): base + index << scale + disp, wrapped to
 *                       the address size (SDM Vol. 1 3.7.5)
 *   linear address      cpu_linear(): + segment base (in 64-bit mode only FS
 *                       and GS have one), wrapped to 32 bits outside long mode
 *   host pointer        the software TLB: one compare on the fast path; a
 *                       miss, a page crossing or a write to a page holding
 *                       decoded code takes the slow path in mem.c, which
 *                       translates (paging), checks and raises faults.
 *
 * The TLB tag is compared with the page of the *last* byte of the access, in
 * the entry chosen by the first byte: one compare catches both a miss and an
 * access that crosses into the next page (the Bochs trick).  An entry holds
 * the rights of one privilege: bank 0 serves supervisor-mode accesses (CPL
 * 0-2, and the implicit accesses the CPU makes to descriptor tables, the IDT
 * and the TSS at any CPL: mem_read_sys/mem_write_sys), bank 1 user-mode
 * accesses (CPL 3).  A CPL change only switches banks; nothing is flushed.
 * tag_w is set only for a page that may be written at that privilege, whose
 * D bit is already set, and that holds no decoded code.
 *
 * Operand helpers read and write the E (ModRM r/m) and G (ModRM reg) operands
 * at the instruction's size; 32-bit register writes zero the upper half
 * (SDM Vol. 1 3.4.1.1), 8- and 16-bit ones leave it.
 */
#ifndef NESTLAB_MEM_H
#define NESTLAB_MEM_H

#include <string.h>

#include "cpu.h"
#include "insn.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum mem_access { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

/* TLB banks, and the flags kept in bits 11:0 of cpu_tlb_entry.paddr. */
#define TLB_SUP  0u
#define TLB_USER 1u
#define TLB_F_GLOBAL 0x1u            /* G page: survives CR3 writes */
#define TLB_F_LARGE  0x6u            /* size class: 0 4K, 2 2M, 4 4M, 6 1G */

/* The bank for the current privilege: CPL 3 is user mode (SDM Vol. 3 4.6).
 * The bank follows c->cpl itself, so whoever changes the CPL (a far
 * transfer, an interrupt, a test) needs no call into mem.c.  CPL 0-2 give
 * 0, CPL 3 gives 1; the mask keeps even a nonsense CPL in range. */
static inline unsigned mem_bank(const struct cpu *c)
{
	return ((unsigned)c->cpl + 1) >> 2 & 1;
}

/* The data-TLB entry for `lin` in the bank of the current privilege, as a
 * byte offset computed without multiplications (the hot path): (cpl + 1) & 4
 * is 4 for CPL 3 and 0 for CPL 0-2, and 4 << 11 is the size of one bank. */
_Static_assert(sizeof(struct cpu_tlb_entry) == 32, "TLB entries are 32 bytes");
static inline const struct cpu_tlb_entry *mem_tlb_cur(const struct cpu *c, uint64_t lin)
{
	uintptr_t off = (uintptr_t)((lin >> 7) & ((CPU_TLB_SIZE - 1) << 5)) +
			((((uintptr_t)c->cpl + 1) & 4) << 11);
	return (const struct cpu_tlb_entry *)((const char *)c->tlb + off);
}
_Static_assert(CPU_TLB_SIZE * 32 == 4 << 11, "mem_tlb_cur: bank stride");

/* Slow paths (mem.c): at the current privilege, or through a given bank.
 * The first pair finds the bank itself so the inline fast path need not
 * keep it live across the compare. */
uint64_t mem_read_slow(struct cpu *c, uint64_t lin, int size);
void mem_write_slow(struct cpu *c, uint64_t lin, int size, uint64_t v);
uint64_t mem_read_slow_bank(struct cpu *c, uint64_t lin, int size, unsigned bank);
void mem_write_slow_bank(struct cpu *c, uint64_t lin, int size, uint64_t v, unsigned bank);
/* Translate a linear address for `acc` at the current privilege; raises the
 * fault on failure.  Returns a host pointer valid up to the end of that
 * page, or NULL for physical addresses outside RAM (MMIO). */
uint8_t *mem_translate(struct cpu *c, uint64_t lin, enum mem_access acc, uint64_t *paddr);
uint8_t *mem_translate_bank(struct cpu *c, uint64_t lin, enum mem_access acc, unsigned bank,
			    uint64_t *paddr);

/* TLB maintenance; each also forgets block chains (dcache_chain_reset). */
void cpu_tlb_flush(struct cpu *c);             /* everything, global pages too */
void cpu_tlb_flush_nonglobal(struct cpu *c);   /* MOV CR3 (SDM Vol. 3 4.10.4.1) */
void cpu_tlb_invlpg(struct cpu *c, uint64_t lin);   /* INVLPG: the page of lin */

/* Instruction fetch: the physical address of linear `lin` if the fetch TLB
 * has it for the current privilege (dcache.c's fast path). */
static inline bool mem_itlb_hit(const struct cpu *c, uint64_t lin, uint64_t *pa)
{
	const struct cpu_tlb_entry *e =
		&c->itlb[mem_bank(c)][(lin >> 12) & (CPU_ITLB_SIZE - 1)];
	if (e->tag_r != (lin & ~0xfffull))
		return false;
	*pa = (e->paddr & ~0xfffull) | (lin & 0xfff);
	return true;
}

static inline uint64_t cpu_ea(const struct cpu *c, const struct insn *i)
{
	uint64_t a = (uint64_t)(int64_t)i->disp + c->ea_regs[i->base]
		   + (c->ea_regs[i->index] << i->scale);
	/* No I_RIPREL test: every record that runs went through dcache.c's
	 * dcache_prepare(), which turns a RIP-relative base into EA_RIP. */
	if (i->asize == 4)
		a = (uint32_t)a;
	else if (i->asize == 2)
		a = (uint16_t)a;
	return a;
}

static inline uint64_t cpu_linear(const struct cpu *c, int seg, uint64_t off)
{
	if (c->mode == CPU_MODE64)
		return seg >= SEG_FS && seg <= SEG_GS ? off + c->seg[seg].base : off;
	return (uint32_t)(off + c->seg[seg].base);
}

/* Segment limit and rights of a data access outside 64-bit mode (SDM
 * Vol. 3 5.3).  The inline test passes what needs no more thought: a
 * present, expand-up segment that allows the access (data: read, or write
 * if writable; code: read if readable; the type-nibble masks below), with
 * the whole access inside the limit.  Everything else, real mode and
 * expand-down segments included, gets the full rules in seg_check_slow()
 * (seg.c), which faults (#GP(0), #SS(0) for SS) or returns.  64-bit mode
 * has no limits and never gets here. */
void seg_check_slow(struct cpu *c, int seg, uint64_t off, int size, bool write);
static inline bool seg_fast_ok(const struct cpu *c, int seg, uint64_t off, uint64_t size,
			       bool write)
{
	const struct cpu_segment *s = &c->seg[seg];
	unsigned a = s->attr;
	return off + size - 1 <= s->limit && (a & 0x90) == 0x90 &&
	       (((write ? 0x000cu : 0xcc0fu) >> (a & 15)) & 1);
}

/* Bits 63:47 all equal (48-bit linear addresses, SDM Vol. 1 3.3.7.1). */
static inline bool addr_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* cpu_linear() with the segment check for an access of `size` bytes. */
static inline uint64_t seg_linear(struct cpu *c, int seg, uint64_t off, int size, bool write)
{
	if (c->mode == CPU_MODE64) {
		/* In 64-bit mode a non-canonical address faults with #SS(0) when
		 * it is a stack-segment reference, else #GP(0) (SDM Vol. 3 6.15,
		 * "Interrupt 12"); mem.c raises the #GP. */
		if (seg == SEG_SS && unlikely(!addr_canonical(off)))
			cpu_exception(c, VEC_SS, 0);
		return seg >= SEG_FS && seg <= SEG_GS ? off + c->seg[seg].base : off;
	}
	if (unlikely(!seg_fast_ok(c, seg, off, (uint64_t)size, write)))
		seg_check_slow(c, seg, off, size, write);
	return (uint32_t)(off + c->seg[seg].base);
}

static inline uint64_t mem_load_host(const uint8_t *p, int size)
{
	switch (size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static inline void mem_store_host(uint8_t *p, int size, uint64_t v)
{
	switch (size) {
	case 1: *p = (uint8_t)v; break;
	case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); break; }
	case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

/* Linear-address reads and writes of 1, 2, 4 or 8 bytes through one bank. */
static inline uint64_t mem_read_in(struct cpu *c, unsigned bank, uint64_t lin, int size)
{
	const struct cpu_tlb_entry *e = &c->tlb[bank][(lin >> 12) & (CPU_TLB_SIZE - 1)];
	if (likely(e->tag_r == ((lin + size - 1) & ~0xfffull)))
		return mem_load_host((const uint8_t *)(uintptr_t)(lin + e->addend), size);
	return mem_read_slow_bank(c, lin, size, bank);
}

static inline void mem_write_in(struct cpu *c, unsigned bank, uint64_t lin, int size, uint64_t v)
{
	const struct cpu_tlb_entry *e = &c->tlb[bank][(lin >> 12) & (CPU_TLB_SIZE - 1)];
	if (likely(e->tag_w == ((lin + size - 1) & ~0xfffull))) {
		mem_store_host((uint8_t *)(uintptr_t)(lin + e->addend), size, v);
		return;
	}
	mem_write_slow_bank(c, lin, size, v, bank);
}

/* Accesses at the current privilege (the instruction's own operands). */
static inline uint64_t mem_read(struct cpu *c, uint64_t lin, int size)
{
	const struct cpu_tlb_entry *e = mem_tlb_cur(c, lin);
	if (likely(e->tag_r == ((lin + size - 1) & ~0xfffull)))
		return mem_load_host((const uint8_t *)(uintptr_t)(lin + e->addend), size);
	return mem_read_slow(c, lin, size);
}
static inline void mem_write(struct cpu *c, uint64_t lin, int size, uint64_t v)
{
	const struct cpu_tlb_entry *e = mem_tlb_cur(c, lin);
	if (likely(e->tag_w == ((lin + size - 1) & ~0xfffull))) {
		mem_store_host((uint8_t *)(uintptr_t)(lin + e->addend), size, v);
		return;
	}
	mem_write_slow(c, lin, size, v);
}

/* Implicit supervisor-mode accesses (SDM Vol. 3 4.6: the CPU's own accesses
 * to the GDT, LDT, IDT and TSS are supervisor-mode accesses even at CPL 3):
 * the supervisor bank, and a #PF error code with U/S = 0. */
static inline uint64_t mem_read_sys(struct cpu *c, uint64_t lin, int size)
{
	return mem_read_in(c, TLB_SUP, lin, size);
}
static inline void mem_write_sys(struct cpu *c, uint64_t lin, int size, uint64_t v)
{
	mem_write_in(c, TLB_SUP, lin, size, v);
}

/* Segment:offset reads and writes (the offset already wrapped). */
static inline uint64_t cpu_read(struct cpu *c, int seg, uint64_t off, int size)
{
	return mem_read(c, seg_linear(c, seg, off, size, false), size);
}
static inline void cpu_write(struct cpu *c, int seg, uint64_t off, int size, uint64_t v)
{
	mem_write(c, seg_linear(c, seg, off, size, true), size, v);
}

/* Byte registers: 0-15 are the low bytes (with REX), 16-19 AH CH DH BH. */
static inline uint64_t reg_read(const struct cpu *c, int r, int size)
{
	switch (size) {
	case 1: return r >= REG8_AH ? (uint8_t)(c->gpr[r - REG8_AH] >> 8) : (uint8_t)c->gpr[r];
	case 2: return (uint16_t)c->gpr[r];
	case 4: return (uint32_t)c->gpr[r];
	default: return c->gpr[r];
	}
}

static inline void reg_write(struct cpu *c, int r, int size, uint64_t v)
{
	switch (size) {
	case 1:
		if (r >= REG8_AH)
			c->gpr[r - REG8_AH] = (c->gpr[r - REG8_AH] & ~0xff00ull) | ((v & 0xff) << 8);
		else
			c->gpr[r] = (c->gpr[r] & ~0xffull) | (v & 0xff);
		break;
	case 2: c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff); break;
	case 4: c->gpr[r] = (uint32_t)v; break;
	default: c->gpr[r] = v; break;
	}
}

/* The memory operand's linear address (no segment check: callers that
 * access memory use insn_lin_chk). */
static inline uint64_t insn_lin(const struct cpu *c, const struct insn *i)
{
	return cpu_linear(c, i->seg, cpu_ea(c, i));
}

/* The same, checked for an access of `size` bytes (read, or write). */
static inline uint64_t insn_lin_chk(struct cpu *c, const struct insn *i, int size, bool write)
{
	return seg_linear(c, i->seg, cpu_ea(c, i), size, write);
}

/* E operand (ModRM r/m) at size `size`. */
static inline uint64_t read_E(struct cpu *c, const struct insn *i, int size)
{
	if (!(i->flags & I_MEM))
		return reg_read(c, i->rm, size);
	return mem_read(c, insn_lin_chk(c, i, size, false), size);
}

static inline void write_E(struct cpu *c, const struct insn *i, int size, uint64_t v)
{
	if (!(i->flags & I_MEM))
		reg_write(c, i->rm, size, v);
	else
		mem_write(c, insn_lin_chk(c, i, size, true), size, v);
}

/* G operand (ModRM reg). */
static inline uint64_t read_G(const struct cpu *c, const struct insn *i, int size)
{
	return reg_read(c, i->reg, size);
}
static inline void write_G(struct cpu *c, const struct insn *i, int size, uint64_t v)
{
	reg_write(c, i->reg, size, v);
}

#endif
