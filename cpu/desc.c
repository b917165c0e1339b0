/*
 * desc.c - the descriptor-table instructions: LGDT, LIDT, SGDT, SIDT (0F 01),
 * LLDT, LTR, SLDT, STR, VERR, VERW (0F 00), LAR, LSL, and ARPL.
 *
 * GDTR and IDTR are a base and a 16-bit limit (SDM Vol. 3 2.4); the memory
 * operand of LGDT/LIDT/SGDT/SIDT is
 *
 *   +0  limit (16 bits)   +2  base (32 bits; 64 bits in 64-bit mode)
 *
 * LDTR and TR are segment registers whose selectors name system descriptors
 * in the GDT (LDT type 2; available TSS type 1 or 9); LTR marks the TSS busy
 * (type 3/11) in the GDT.  In long mode these descriptors are 16 bytes and
 * carry base bits 63:32 in the second word.
 *
 * LAR, LSL, VERR and VERW never fault on a bad selector: they report in ZF
 * whether the descriptor is visible at this CPL and RPL (SDM Vol. 2 LAR).
 */
#include "flags.h"
#include "seg.h"
#include "virt.h"

/* CPL 0 in protected mode; real mode allows the loads too (that is how a
 * boot loader sets up the GDT before it sets CR0.PE). */
static void need_cpl0(struct cpu *c)
{
	if ((c->cr0 & CR0_PE) && (c->cpl != 0 || (c->rflags & FLAG_VM)))
		cpu_gp0(c);
}

/* SLDT, STR, LLDT, LTR, LAR, LSL, VERR, VERW: #UD outside protected mode. */
static void need_protected(struct cpu *c)
{
	if (!seg_protected(c))
		cpu_ud(c);
}

static void set_zf(struct cpu *c, bool z)
{
	cpu_flags_update(c, FLAG_ZF, z ? FLAG_ZF : 0);
}

/* ---- LGDT, LIDT, SGDT, SIDT ----------------------------------------------------------- */

static void load_dtable(struct cpu *c, const struct insn *i, struct cpu_dtable *t,
			enum virt_desc which)
{
	need_cpl0(c);
	virt_hook(c, DESC, i, which);
	uint64_t lin = insn_lin_chk(c, i, c->mode == CPU_MODE64 ? 10 : 6, false);
	uint32_t limit = (uint32_t)mem_read(c, lin, 2);
	uint64_t a2 = lin + 2;
	if (c->mode != CPU_MODE64)
		a2 = (uint32_t)a2;
	uint64_t base;
	if (c->mode == CPU_MODE64) {
		base = mem_read(c, a2, 8);
		if (!addr_canonical(base))
			cpu_gp0(c);
	} else {
		/* A 16-bit operand size loads only 24 bits of base (SDM Vol. 2). */
		base = mem_read(c, a2, 4) & (i->osize == 2 ? 0xffffff : 0xffffffff);
	}
	t->base = base;
	t->limit = limit;
}

static void store_dtable(struct cpu *c, const struct insn *i, const struct cpu_dtable *t,
			 enum virt_desc which)
{
	if ((c->cr4 & CR4_UMIP) && (c->cr0 & CR0_PE) && c->cpl > 0)
		cpu_gp0(c);
	virt_hook(c, DESC, i, which);
	uint64_t lin = insn_lin_chk(c, i, c->mode == CPU_MODE64 ? 10 : 6, true);
	uint64_t a2 = lin + 2;
	if (c->mode != CPU_MODE64)
		a2 = (uint32_t)a2;
	/* Write the wider part first: either both stores happen or none. */
	mem_write(c, a2, c->mode == CPU_MODE64 ? 8 : 4, t->base);
	mem_write(c, lin, 2, t->limit);
}

void op_lgdt_Ms(struct cpu *c, const struct insn *i) { load_dtable(c, i, &c->gdtr, VIRT_D_LGDT); }
void op_lidt_Ms(struct cpu *c, const struct insn *i) { load_dtable(c, i, &c->idtr, VIRT_D_LIDT); }
void op_sgdt_Ms(struct cpu *c, const struct insn *i) { store_dtable(c, i, &c->gdtr, VIRT_D_SGDT); }
void op_sidt_Ms(struct cpu *c, const struct insn *i) { store_dtable(c, i, &c->idtr, VIRT_D_SIDT); }

/* ---- LLDT, LTR, SLDT, STR ---------------------------------------------------------------- */

/* A system-descriptor load: the selector must name the GDT; returns the
 * segment cache (with the 16-byte long-mode base). */
static uint64_t sys_desc(struct cpu *c, uint16_t sel, struct cpu_segment *s)
{
	if (sel & 4)
		cpu_exception(c, VEC_GP, sel & 0xfffc);
	uint64_t d = seg_read_desc(c, sel, VEC_GP, 0);
	seg_from_desc(s, sel, d);
	if (seg_long(c)) {
		uint64_t hi = seg_read_desc_hi(c, sel, VEC_GP, 0);
		if ((hi >> 40) & 0x1f)
			cpu_exception(c, VEC_GP, sel & 0xfffc);
		s->base |= hi << 32;
		if (!addr_canonical(s->base))
			cpu_exception(c, VEC_GP, sel & 0xfffc);
	}
	return d;
}

void op_lldt_Ew(struct cpu *c, const struct insn *i)
{
	need_protected(c);
	need_cpl0(c);
	virt_hook(c, DESC, i, VIRT_D_LLDT);
	uint16_t sel = (uint16_t)read_E(c, i, 2);
	if ((sel & 0xfffc) == 0) {
		c->ldtr = (struct cpu_segment){ sel, 0, 0, 0 };   /* unusable */
		return;
	}
	struct cpu_segment s;
	uint64_t d = sys_desc(c, sel, &s);
	if (!desc_is_sys(d) || desc_type(d) != SYS_LDT)
		cpu_exception(c, VEC_GP, sel & 0xfffc);
	if (!desc_present(d))
		cpu_exception(c, VEC_NP, sel & 0xfffc);
	c->ldtr = s;
}

void op_ltr_Ew(struct cpu *c, const struct insn *i)
{
	need_protected(c);
	need_cpl0(c);
	virt_hook(c, DESC, i, VIRT_D_LTR);
	uint16_t sel = (uint16_t)read_E(c, i, 2);
	if ((sel & 0xfffc) == 0)
		cpu_gp0(c);
	struct cpu_segment s;
	uint64_t d = sys_desc(c, sel, &s);
	unsigned t = desc_type(d);
	bool ok = desc_is_sys(d) && (t == SYS_TSS_AVAIL || (t == SYS_TSS16_AVAIL && !seg_long(c)));
	if (!ok)
		cpu_exception(c, VEC_GP, sel & 0xfffc);
	if (!desc_present(d))
		cpu_exception(c, VEC_NP, sel & 0xfffc);
	/* Mark the TSS busy in the GDT (type bit 1). */
	sys_write(c, (seg_long(c) ? c->gdtr.base : (uint32_t)c->gdtr.base) + (sel & 0xfff8u) + 5,
		  1, ((d >> 40) & 0xff) | 2);
	s.attr |= 2;
	c->tr = s;
}

/* Memory gets 16 bits; a register the selector zero-extended to osize. */
static void store_sel(struct cpu *c, const struct insn *i, uint16_t sel)
{
	write_E(c, i, (i->flags & I_MEM) ? 2 : i->osize, sel);
}

void op_sldt_Ew(struct cpu *c, const struct insn *i)
{
	need_protected(c);
	if ((c->cr4 & CR4_UMIP) && c->cpl > 0)
		cpu_gp0(c);
	virt_hook(c, DESC, i, VIRT_D_SLDT);
	store_sel(c, i, c->ldtr.sel);
}

void op_str_Ew(struct cpu *c, const struct insn *i)
{
	need_protected(c);
	if ((c->cr4 & CR4_UMIP) && c->cpl > 0)
		cpu_gp0(c);
	virt_hook(c, DESC, i, VIRT_D_STR);
	store_sel(c, i, c->tr.sel);
}

/* ---- LAR, LSL, VERR, VERW ---------------------------------------------------------------- */

/* The descriptor sel names, without faulting on the table limit (page
 * faults still happen); false for null or out-of-table selectors. */
static bool probe_desc(struct cpu *c, uint16_t sel, uint64_t *d)
{
	if ((sel & 0xfffc) == 0)
		return false;
	uint64_t base = c->gdtr.base;
	uint32_t limit = c->gdtr.limit;
	if (sel & 4) {
		if (!(c->ldtr.attr & SEG_ATTR_P))
			return false;
		base = c->ldtr.base;
		limit = c->ldtr.limit;
	}
	if ((uint32_t)(sel & 0xfff8) + 7 > limit)
		return false;
	uint64_t a = base + (sel & 0xfff8u);
	*d = sys_read(c, seg_long(c) ? a : (uint32_t)a, 8);
	return true;
}

/* Visible at this CPL and RPL: conforming code always, else DPL >= both. */
static bool visible(const struct cpu *c, uint16_t sel, uint64_t d)
{
	if (desc_is_code(d) && (desc_type(d) & DESC_TYPE_CONF))
		return true;
	return desc_dpl(d) >= c->cpl && desc_dpl(d) >= (int)(sel & 3);
}

/* System types LAR (lar = true) and LSL accept (SDM Vol. 2 LAR Table 3-56,
 * LSL Table 3-58); long mode narrows them to the 64-bit types. */
static bool sys_type_ok(const struct cpu *c, unsigned t, bool lar)
{
	if (seg_long(c))
		return t == SYS_LDT || t == SYS_TSS_AVAIL || t == SYS_TSS_BUSY || (lar && t == SYS_CALL);
	switch (t) {
	case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY: case SYS_TSS_AVAIL:
	case SYS_TSS_BUSY:
		return true;
	case SYS_CALL16: case SYS_TASK: case SYS_CALL:
		return lar;
	default:
		return false;
	}
}

static void lar_lsl(struct cpu *c, const struct insn *i, bool lar)
{
	need_protected(c);
	uint16_t sel = (uint16_t)read_E(c, i, 2);
	uint64_t d;
	bool ok = probe_desc(c, sel, &d) && visible(c, sel, d) &&
		  (!desc_is_sys(d) || sys_type_ok(c, desc_type(d), lar));
	if (ok) {
		uint64_t v = lar ? (d >> 32) & 0x00f0ff00 : desc_limit(d);
		write_G(c, i, i->osize == 2 ? 2 : (i->osize == 8 ? 8 : 4),
			i->osize == 2 ? v & 0xffff : v);
	}
	set_zf(c, ok);
}

void op_lar_Gv_Ew(struct cpu *c, const struct insn *i) { lar_lsl(c, i, true); }
void op_lsl_Gv_Ew(struct cpu *c, const struct insn *i) { lar_lsl(c, i, false); }

static void verify(struct cpu *c, const struct insn *i, bool write)
{
	need_protected(c);
	uint16_t sel = (uint16_t)read_E(c, i, 2);
	uint64_t d;
	bool ok = probe_desc(c, sel, &d) && !desc_is_sys(d) && visible(c, sel, d);
	if (ok) {
		unsigned t = desc_type(d);
		if (write)
			ok = !(t & DESC_TYPE_CODE) && (t & DESC_TYPE_RW);
		else
			ok = !(t & DESC_TYPE_CODE) || (t & DESC_TYPE_RW);
	}
	set_zf(c, ok);
}

void op_verr_Ew(struct cpu *c, const struct insn *i) { verify(c, i, false); }
void op_verw_Ew(struct cpu *c, const struct insn *i) { verify(c, i, true); }

/* ---- ARPL ------------------------------------------------------------------------------------ */

/* ARPL Ew, Gw: raise the destination selector's RPL to the source's;
 * ZF says whether it changed.  Protected mode only (#UD otherwise). */
void op_arpl_Ew_Gw(struct cpu *c, const struct insn *i)
{
	need_protected(c);
	uint16_t dst = (uint16_t)read_E(c, i, 2);
	uint16_t src = (uint16_t)read_G(c, i, 2);
	bool raise = (dst & 3) < (src & 3);
	if (raise)
		write_E(c, i, 2, (uint16_t)((dst & ~3u) | (src & 3)));
	set_zf(c, raise);
}
