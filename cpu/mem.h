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
 * access that crosses into the next page (the Bochs trick).
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

/* Slow paths (mem.c). */
uint64_t mem_read_slow(struct cpu *c, uint64_t lin, int size);
void mem_write_slow(struct cpu *c, uint64_t lin, int size, uint64_t v);
void cpu_tlb_flush(struct cpu *c);
/* Translate a linear address for `acc`; raises the fault on failure.
 * Returns a host pointer valid up to the end of that page, or NULL for
 * physical addresses outside RAM (reads give all ones, writes are dropped). */
uint8_t *mem_translate(struct cpu *c, uint64_t lin, enum mem_access acc, uint64_t *paddr);

static inline uint64_t cpu_ea(const struct cpu *c, const struct insn *i)
{
	uint64_t a = (uint64_t)(int64_t)i->disp + c->ea_regs[i->base]
		   + (c->ea_regs[i->index] << i->scale);
	if (unlikely(i->flags & I_RIPREL))
		a += c->rip;              /* not rewritten to EA_RIP (see dcache.c) */
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

/* Linear-address reads and writes of 1, 2, 4 or 8 bytes. */
static inline uint64_t mem_read(struct cpu *c, uint64_t lin, int size)
{
	const struct cpu_tlb_entry *e = &c->tlb[(lin >> 12) & (CPU_TLB_SIZE - 1)];
	if (likely(e->tag_r == ((lin + size - 1) & ~0xfffull)))
		return mem_load_host((const uint8_t *)(uintptr_t)(lin + e->addend), size);
	return mem_read_slow(c, lin, size);
}

static inline void mem_write(struct cpu *c, uint64_t lin, int size, uint64_t v)
{
	const struct cpu_tlb_entry *e = &c->tlb[(lin >> 12) & (CPU_TLB_SIZE - 1)];
	if (likely(e->tag_w == ((lin + size - 1) & ~0xfffull))) {
		mem_store_host((uint8_t *)(uintptr_t)(lin + e->addend), size, v);
		return;
	}
	mem_write_slow(c, lin, size, v);
}

/* Segment:offset reads and writes (the offset already wrapped). */
static inline uint64_t cpu_read(struct cpu *c, int seg, uint64_t off, int size)
{
	return mem_read(c, cpu_linear(c, seg, off), size);
}
static inline void cpu_write(struct cpu *c, int seg, uint64_t off, int size, uint64_t v)
{
	mem_write(c, cpu_linear(c, seg, off), size, v);
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

/* The memory operand's linear address. */
static inline uint64_t insn_lin(const struct cpu *c, const struct insn *i)
{
	return cpu_linear(c, i->seg, cpu_ea(c, i));
}

/* E operand (ModRM r/m) at size `size`. */
static inline uint64_t read_E(struct cpu *c, const struct insn *i, int size)
{
	if (!(i->flags & I_MEM))
		return reg_read(c, i->rm, size);
	return mem_read(c, insn_lin(c, i), size);
}

static inline void write_E(struct cpu *c, const struct insn *i, int size, uint64_t v)
{
	if (!(i->flags & I_MEM))
		reg_write(c, i->rm, size, v);
	else
		mem_write(c, insn_lin(c, i), size, v);
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
