/*
 * seg.c - segment-register loads with their protection checks, the segment
 * limit and rights checks of data accesses, and LDS/LES/LSS/LFS/LGS.
 *
 * Loading a segment register in protected mode (SDM Vol. 3 5.4-5.6 and
 * 3.4.3) reads the descriptor the selector names, checks its type and
 * privilege against CPL and the selector's RPL, and copies it into the
 * hidden part of the register (struct cpu_segment).  From then on accesses
 * use the cache; a later change to the GDT does not affect a loaded
 * register.  In real and virtual-8086 mode a load only sets base = sel * 16.
 *
 *   selector   15                 3  2  1 0
 *             [ index              ][TI][RPL]   TI: 0 = GDT, 1 = LDT
 *
 * The fault a failed load raises names the selector (error code sel & ~3):
 * #GP for a wrong type or privilege, #NP (#SS for SS) for a descriptor
 * whose P bit is clear.  Null selectors (index 0 in the GDT) may go into
 * DS/ES/FS/GS, which then raise #GP(0) on use; SS only in 64-bit mode.
 */
#include <stdio.h>

#include "dcache.h"
#include "flags.h"
#include "seg.h"
#include "stack.h"

/* Supervisor-mode accesses whatever the CPL: the TLB's supervisor bank,
 * and a #PF error code with U/S = 0 (mem.h). */
uint64_t sys_read(struct cpu *c, uint64_t lin, int size)
{
	return mem_read_sys(c, lin, size);
}

void sys_write(struct cpu *c, uint64_t lin, int size, uint64_t v)
{
	mem_write_sys(c, lin, size, v);
}

void seg_from_desc(struct cpu_segment *s, uint16_t sel, uint64_t d)
{
	s->sel = sel;
	s->attr = desc_attr(d);
	s->limit = desc_limit(d);
	s->base = desc_base(d);
}

/* The linear address of a selector's descriptor, after the table-limit check
 * (SDM Vol. 3 3.5.1: the descriptor's last byte must be within the limit). */
static uint64_t desc_addr(struct cpu *c, uint16_t sel, int bytes, int vec, uint32_t ext)
{
	uint64_t base;
	uint32_t limit;
	if (sel & 4) {
		if (!(c->ldtr.attr & SEG_ATTR_P))
			cpu_exception(c, vec, (sel & 0xfffc) | ext);
		base = c->ldtr.base;
		limit = c->ldtr.limit;
	} else {
		base = c->gdtr.base;
		limit = c->gdtr.limit;
	}
	uint32_t off = sel & 0xfff8u;
	if ((uint64_t)off + (uint64_t)bytes - 1 > limit)
		cpu_exception(c, vec, (sel & 0xfffc) | ext);
	uint64_t a = base + off;
	return seg_long(c) ? a : (uint32_t)a;
}

uint64_t seg_read_desc(struct cpu *c, uint16_t sel, int vec, uint32_t ext)
{
	return sys_read(c, desc_addr(c, sel, 8, vec, ext), 8);
}

uint64_t seg_read_desc_hi(struct cpu *c, uint16_t sel, int vec, uint32_t ext)
{
	return sys_read(c, desc_addr(c, sel, 16, vec, ext) + 8, 8);
}

/* The accessed bit lives in the descriptor; the CPU sets it (a locked
 * write) on the first load, which lets an OS find unused segments. */
void seg_set_accessed(struct cpu *c, uint16_t sel, uint64_t d)
{
	if (d & (1ull << 40))
		return;
	uint64_t a = desc_addr(c, sel, 8, VEC_GP, 0) + 5;
	sys_write(c, a, 1, ((d >> 40) & 0xff) | 1);
}

void seg_commit_cs(struct cpu *c, const struct cpu_segment *cs)
{
	/* Field by field: *cs was usually just built field by field, and one
	 * 16-byte load of four fresh narrower stores stalls store forwarding
	 * (a measurable share of an exception's cost). */
	struct cpu_segment *d = &c->seg[SEG_CS];
	bool moved = d->base != cs->base;
	d->sel = cs->sel;
	d->attr = cs->attr;
	d->limit = cs->limit;
	d->base = cs->base;
	c->cpl = cs->sel & 3;
	cpu_update_mode(c);       /* a new code size flushes the chains itself */
	/* Block chains are keyed by RIP and by privilege (dcache.c), so only
	 * a new CS base makes them wrong; a CPL change alone does not. */
	if (moved)
		dcache_chain_reset(c);
}

void seg_real(struct cpu *c, int seg, uint16_t sel)
{
	struct cpu_segment *s = &c->seg[seg];
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (c->rflags & FLAG_VM) {
		/* Virtual-8086 mode: a 64 KiB DPL-3 segment (SDM Vol. 3 20.2.1). */
		s->limit = 0xffff;
		s->attr = seg == SEG_CS ? 0xfb : 0xf3;
	}
	if (seg == SEG_CS)
		dcache_chain_reset(c);
}

void seg_check_ss(struct cpu *c, uint16_t sel, uint64_t d, int cpl, int vec, uint32_t ext)
{
	uint32_t err = (sel & 0xfffc) | ext;
	if ((int)(sel & 3) != cpl || desc_is_sys(d) || (desc_type(d) & DESC_TYPE_CODE) ||
	    !(desc_type(d) & DESC_TYPE_RW) || desc_dpl(d) != cpl)
		cpu_exception(c, vec, err);
	if (!desc_present(d))
		cpu_exception(c, VEC_SS, err);
}

/* SDM Vol. 3 IRET / RET "Operation": for ES, FS, GS, DS, if the register
 * holds a data or non-conforming code segment with DPL < CPL, load a null
 * selector.  Like Bochs and the CPUs Linux runs on, the hidden base is
 * kept: a null FS/GS with a base set through the MSRs survives a return
 * to ring 3. */
void seg_null_inaccessible(struct cpu *c)
{
	static const int segs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (int k = 0; k < 4; k++) {
		struct cpu_segment *s = &c->seg[segs[k]];
		unsigned type = s->attr & SEG_ATTR_TYPE;
		bool conf_code = (s->attr & SEG_ATTR_S) && (type & DESC_TYPE_CODE) &&
				 (type & DESC_TYPE_CONF);
		if ((int)SEG_ATTR_DPL(s->attr) < c->cpl && !conf_code) {
			s->sel = 0;
			s->attr &= (uint16_t)~SEG_ATTR_P;
		}
	}
}

uint64_t seg_check_return_cs(struct cpu *c, uint16_t sel)
{
	if ((sel & 0xfffc) == 0)
		cpu_gp0(c);
	uint64_t d = seg_read_desc(c, sel, VEC_GP, 0);
	int rpl = sel & 3;
	if (!desc_is_code(d) || rpl < c->cpl)
		cpu_exception(c, VEC_GP, sel & 0xfffc);
	if (desc_type(d) & DESC_TYPE_CONF) {
		if (desc_dpl(d) > rpl)
			cpu_exception(c, VEC_GP, sel & 0xfffc);
	} else if (desc_dpl(d) != rpl) {
		cpu_exception(c, VEC_GP, sel & 0xfffc);
	}
	if (!desc_present(d))
		cpu_exception(c, VEC_NP, sel & 0xfffc);
	if (seg_long(c) && (d & (1ull << 53)) && (d & (1ull << 54)))
		cpu_exception(c, VEC_GP, sel & 0xfffc);   /* L and D both set */
	return d;
}

/* The SS popped by IRET or a far RET to an outer ring (null allowed only
 * for 64-bit code below ring 3, SDM Vol. 2 IRET "IA-32e mode"). */
void seg_ret_ss(struct cpu *c, uint16_t sel, int cpl, bool to64, struct cpu_segment *ss)
{
	if ((sel & 0xfffc) == 0) {
		if (!to64 || cpl == 3)
			cpu_gp0(c);
		ss->sel = sel;
		ss->attr = (uint16_t)(0x93 | (cpl << 5));
		ss->base = 0;
		ss->limit = 0xffffffff;
		return;
	}
	uint64_t d = seg_read_desc(c, sel, VEC_GP, 0);
	seg_check_ss(c, sel, d, cpl, VEC_GP, 0);
	seg_set_accessed(c, sel, d);
	seg_from_desc(ss, sel, d | (1ull << 40));
}

/* ---- data-segment loads (MOV, POP, LxS) --------------------------------------- */

/* The descriptor checks of a data-segment load (SDM Vol. 3 5.10.1 and MOV
 * "Operation"), selector not null, protected mode. */
static uint64_t check_data_desc(struct cpu *c, int seg, uint16_t sel)
{
	uint64_t d = seg_read_desc(c, sel, VEC_GP, 0);
	uint32_t err = sel & 0xfffc;
	if (seg == SEG_SS) {
		seg_check_ss(c, sel, d, c->cpl, VEC_GP, 0);
		return d;
	}
	unsigned type = desc_type(d);
	if (desc_is_sys(d) || ((type & DESC_TYPE_CODE) && !(type & DESC_TYPE_RW)))
		cpu_exception(c, VEC_GP, err);            /* system or execute-only */
	bool conforming = (type & DESC_TYPE_CODE) && (type & DESC_TYPE_CONF);
	if (!conforming && ((int)(sel & 3) > desc_dpl(d) || c->cpl > desc_dpl(d)))
		cpu_exception(c, VEC_GP, err);
	if (!desc_present(d))
		cpu_exception(c, VEC_NP, err);
	return d;
}

void seg_load_data(struct cpu *c, int seg, uint16_t sel)
{
	struct cpu_segment *s = &c->seg[seg];
	if (!seg_protected(c)) {
		/* Real mode keeps limit and attributes (that is how "unreal mode"
		 * works); virtual-8086 mode sets a 64 KiB segment. */
		seg_real(c, seg, sel);
		return;
	}
	if ((sel & 0xfffc) == 0) {
		/* A null selector may go into DS, ES, FS, GS (the segment is then
		 * unusable: P = 0 here); into SS only in 64-bit mode below CPL 3
		 * with RPL = CPL (SDM Vol. 3 5.4.1.1, MOV/POP "Operation"). */
		if (seg == SEG_SS && !(c->mode == CPU_MODE64 && c->cpl < 3 &&
				       (sel & 3) == (unsigned)c->cpl))
			cpu_gp0(c);
		s->sel = sel;
		/* SS keeps DPL = CPL and stays usable for 64-bit pushes. */
		s->attr = seg == SEG_SS ? (uint16_t)(0x93 | (c->cpl << 5)) : 0;
		s->base = 0;    /* Intel clears the base; some AMD parts keep it */
		s->limit = 0;
		return;
	}
	uint64_t d = check_data_desc(c, seg, sel);
	seg_set_accessed(c, sel, d);
	seg_from_desc(s, sel, d | (1ull << 40));
}

/* LDS/LES/LSS/LFS/LGS r, m16:16/32/64: offset first, selector after it
 * (SDM Vol. 2 LDS).  The selector load may fault; the register is written
 * only after it. */
static void load_far_ptr(struct cpu *c, const struct insn *i, int seg)
{
	uint64_t lin = insn_lin_chk(c, i, i->osize + 2, false);
	uint64_t off = mem_read(c, lin, i->osize);
	uint64_t a2 = lin + (uint64_t)i->osize;
	if (c->mode != CPU_MODE64)
		a2 = (uint32_t)a2;
	uint16_t sel = (uint16_t)mem_read(c, a2, 2);
	seg_load_data(c, seg, sel);
	if (seg == SEG_SS)
		c->intr_inhibit_until = c->icount + 2;
	write_G(c, i, i->osize, off);
}

void op_les_Gv_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, SEG_ES); }
void op_lds_Gv_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, SEG_DS); }
void op_lss_Gv_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, SEG_SS); }
void op_lfs_Gv_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, SEG_FS); }
void op_lgs_Gv_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, SEG_GS); }

/* ---- limit and rights checks of data accesses ------------------------------------ */

static _Noreturn void seg_fault(struct cpu *c, int seg)
{
	cpu_exception(c, seg == SEG_SS ? VEC_SS : VEC_GP, 0);
}

/*
 * The full check of an access outside 64-bit mode (SDM Vol. 3 5.3, 5.4.1):
 *
 *   unusable (null-loaded) segment       #GP(0)
 *   write to code or read-only data      #GP(0)
 *   read of execute-only code            #GP(0)
 *   expand-up:   offset..last within 0..limit
 *   expand-down: offset..last within limit+1..FFFFh (FFFFFFFFh if B)
 *
 * Stack-segment violations raise #SS(0).  Real and virtual-8086 mode check
 * the limit only (an access past FFFFh faults rather than wraps).
 */
void seg_check_slow(struct cpu *c, int seg, uint64_t off, int size, bool write)
{
	const struct cpu_segment *s = &c->seg[seg];
	uint64_t last = off + (uint64_t)size - 1;
	if (seg_protected(c)) {
		unsigned type = s->attr & SEG_ATTR_TYPE;
		if (!(s->attr & SEG_ATTR_P))
			seg_fault(c, seg);
		if (type & DESC_TYPE_CODE) {
			if (write || !(type & DESC_TYPE_RW))
				seg_fault(c, seg);
		} else {
			if (write && !(type & DESC_TYPE_RW))
				seg_fault(c, seg);
			if (type & DESC_TYPE_EXPDN) {
				uint64_t upper = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
				if (off <= s->limit || last > upper)
					seg_fault(c, seg);
				return;
			}
		}
	}
	if (last > s->limit)
		seg_fault(c, seg);
}
