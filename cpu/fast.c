/*
 * fast.c - specialised handlers for the hottest instruction forms.
 *
 * A handler such as op_mov_Gv_Ev serves every operand size, register and
 * memory operands, every address size and every mode, and pays for that
 * generality with a test for each.  Once a block is decoded, its mode and
 * each instruction's form are fixed, so dcache.c asks fast_handler() here
 * whether a narrower handler does the same work for this record; the
 * answer is one of the handlers below or NULL (keep the general one).
 *
 * Every specialised handler computes exactly what the general one does for
 * the records it is chosen for; the random differential tests (tests/diff)
 * run through the decoded cache and so check both.  The forms chosen are the
 * loads and stores of flat 64-bit code: 64-bit addressing, a segment whose
 * base 64-bit mode ignores (not FS or GS), 32- or 64-bit operands.
 */
#include "fast.h"
#include "mem.h"

/* Effective address = linear address here: no wrap, no segment base. */
static inline uint64_t ea_flat64(const struct cpu *c, const struct insn *i)
{
	return (uint64_t)(int64_t)i->disp + c->ea_regs[i->base]
	       + (c->ea_regs[i->index] << i->scale);
}

/* The same for stack-segment references (base RSP or RBP): a TLB entry
 * is never non-canonical, but the fault for one is #SS(0), not #GP(0). */
static inline uint64_t ea_flat64_ss(struct cpu *c, const struct insn *i)
{
	uint64_t a = ea_flat64(c, i);
	if (unlikely(!addr_canonical(a)))
		cpu_exception(c, VEC_SS, 0);
	return a;
}

/* MOV r64, m64 / MOV r32, m32 (8B /r) and MOV m64, r64 / MOV m32, r32
 * (89 /r), each for a DS-style and an SS reference. */
#define FAST_MOV(suffix, EA) \
static void op_mov_Gq_Mq_##suffix(struct cpu *c, const struct insn *i) \
{ c->gpr[i->reg] = mem_read(c, EA(c, i), 8); } \
static void op_mov_Gd_Md_##suffix(struct cpu *c, const struct insn *i) \
{ c->gpr[i->reg] = (uint32_t)mem_read(c, EA(c, i), 4); } \
static void op_mov_Mq_Gq_##suffix(struct cpu *c, const struct insn *i) \
{ mem_write(c, EA(c, i), 8, c->gpr[i->reg]); } \
static void op_mov_Md_Gd_##suffix(struct cpu *c, const struct insn *i) \
{ mem_write(c, EA(c, i), 4, (uint32_t)c->gpr[i->reg]); }
FAST_MOV(flat, ea_flat64)
FAST_MOV(flat_ss, ea_flat64_ss)
#undef FAST_MOV

/* A memory operand addressed the flat 64-bit way. */
static bool is_flat64_mem(const struct insn *i)
{
	return i->mode == CPU_MODE64 && (i->flags & I_MEM) && i->asize == 8
	       && i->seg != SEG_FS && i->seg != SEG_GS
	       && !(i->flags & I_RIPREL);     /* dcache made it base EA_RIP */
}

insn_handler_fn fast_handler(const struct insn *i)
{
	if (!is_flat64_mem(i) || (i->osize != 8 && i->osize != 4))
		return NULL;
	bool q = i->osize == 8;
	if (i->seg == SEG_SS) {
		switch (i->op) {
		case OP_mov_Gv_Ev: return q ? op_mov_Gq_Mq_flat_ss : op_mov_Gd_Md_flat_ss;
		case OP_mov_Ev_Gv: return q ? op_mov_Mq_Gq_flat_ss : op_mov_Md_Gd_flat_ss;
		default: return NULL;
		}
	}
	switch (i->op) {
	case OP_mov_Gv_Ev: return q ? op_mov_Gq_Mq_flat : op_mov_Gd_Md_flat;
	case OP_mov_Ev_Gv: return q ? op_mov_Mq_Gq_flat : op_mov_Md_Gd_flat;
	default: return NULL;
	}
}
