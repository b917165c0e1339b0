/*
 * string.c - MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP/REPE/REPNE.
 *
 * Operands (SDM Vol. 1 7.3.9, Vol. 2 MOVS ...):
 *
 *   source       seg:rSI   seg = DS, or the segment-override prefix
 *   destination  ES:rDI    never overridable
 *   step         +size when DF = 0, -size when DF = 1
 *
 * rSI, rDI and the REP counter rCX are used at the ADDRESS size (SI/DI/CX,
 * ESI/EDI/ECX or RSI/RDI/RCX) and wrap there; with a 32-bit address size in
 * 64-bit mode the updates are 32-bit register writes and clear bits 63:32.
 *
 * A REP loop (SDM Vol. 2 REP/REPE/REPZ/REPNE/REPNZ, "Operation"):
 *
 *   while rCX != 0:
 *       do one element; rCX -= 1
 *       REPE: stop if ZF = 0     REPNE: stop if ZF = 1     (CMPS, SCAS only)
 *
 * Each element commits rSI/rDI/rCX before the next one starts, so when an
 * element faults the run loop puts RIP back on the instruction and a
 * restart continues exactly where it stopped, as on hardware.  For the same
 * reason a long REP hands control back every STR_BUDGET elements (RIP left
 * on the instruction): the run loop can then stop, or later take an
 * interrupt, between iterations.  Each such slice counts as one retired
 * instruction of virtual time.
 *
 * Fast path: REP MOVS and REP STOS move the part of the string that lies
 * inside one page (of both the source and the destination) with memcpy or
 * memset-like loops on host memory, and commit the registers once.  Where
 * source and destination overlap it copies element by element in the
 * architectural order, so the result is the same as the slow path's.
 *
 * Under the debug rules (breakpoints enabled in DR7, or TF; debug.c) a REP
 * instruction does one element per step and never takes the fast path.
 *
 * INS/OUTS go through the one I/O path of io.c: the IOPL / TSS-bitmap check
 * (#GP(0)) and the VMX/SVM I/O intercept for each element, then the access
 * to memory, then the bus (c->io_read/io_write).
 */
#include "dcache.h"
#include "flags.h"
#include "mem.h"
#include "virt.h"

#define STR_BUDGET 65536u

enum str_kind { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

static int64_t str_step(const struct cpu *c, int size)
{
	return (c->rflags & FLAG_DF) ? -size : size;
}

/* Advance an index register by `elems` elements, at the address size. */
static void str_advance(struct cpu *c, const struct insn *i, int reg, int size, uint64_t elems)
{
	uint64_t v = reg_read(c, reg, i->asize) + (uint64_t)str_step(c, size) * elems;
	reg_write(c, reg, i->asize, v & size_mask(i->asize));
}

/* INS/OUTS take the one I/O path (io.c): protection check and the VMX/SVM
 * intercept for every element, before its memory access. */
static void io_allow(struct cpu *c, const struct insn *i, uint16_t port, int size, bool in,
		     uint64_t lin)
{
	struct virt_io io = { .port = port, .size = (uint8_t)size, .in = in, .string = true,
			      .rep = (i->flags & (I_REP | I_REPNE)) != 0, .lin = lin };
	cpu_io_allow(c, &io);
}

/* Raise now any fault a write of `size` bytes at `lin` would raise, so INS
 * does not consume a port read and then fault. */
static void probe_write(struct cpu *c, uint64_t lin, int size)
{
	mem_translate(c, lin, ACC_WRITE, NULL);
	uint64_t last = lin + (uint64_t)size - 1;
	if (c->mode != CPU_MODE64)
		last = (uint32_t)last;
	if ((last ^ lin) & ~0xfffull)
		mem_translate(c, last, ACC_WRITE, NULL);
}

/* One element: every access first, then the register updates. */
static void str_one(struct cpu *c, const struct insn *i, int size, enum str_kind k)
{
	uint64_t si = reg_read(c, R_RSI, i->asize), di = reg_read(c, R_RDI, i->asize);
	uint16_t port = (uint16_t)c->gpr[R_RDX];
	uint64_t a, b;
	switch (k) {
	case S_MOVS:
		cpu_write(c, SEG_ES, di, size, cpu_read(c, i->seg, si, size));
		str_advance(c, i, R_RSI, size, 1);
		str_advance(c, i, R_RDI, size, 1);
		break;
	case S_CMPS:        /* flags of [seg:rSI] - [ES:rDI] */
		a = cpu_read(c, i->seg, si, size);
		b = cpu_read(c, SEG_ES, di, size);
		lf_sub(c, a, b, (a - b) & size_mask(size), size);
		str_advance(c, i, R_RSI, size, 1);
		str_advance(c, i, R_RDI, size, 1);
		break;
	case S_STOS:
		cpu_write(c, SEG_ES, di, size, reg_read(c, R_RAX, size));
		str_advance(c, i, R_RDI, size, 1);
		break;
	case S_LODS:
		reg_write(c, R_RAX, size, cpu_read(c, i->seg, si, size));
		str_advance(c, i, R_RSI, size, 1);
		break;
	case S_SCAS:        /* flags of rAX - [ES:rDI] */
		a = reg_read(c, R_RAX, size);
		b = cpu_read(c, SEG_ES, di, size);
		lf_sub(c, a, b, (a - b) & size_mask(size), size);
		str_advance(c, i, R_RDI, size, 1);
		break;
	case S_INS:
		io_allow(c, i, port, size, true, cpu_linear(c, SEG_ES, di));
		probe_write(c, seg_linear(c, SEG_ES, di, size, true), size);
		cpu_write(c, SEG_ES, di, size, cpu_io_read(c, port, size));
		str_advance(c, i, R_RDI, size, 1);
		break;
	case S_OUTS:
		io_allow(c, i, port, size, false, cpu_linear(c, i->seg, si));
		cpu_io_write(c, port, size, cpu_read(c, i->seg, si, size));
		str_advance(c, i, R_RSI, size, 1);
		break;
	}
}

/* ---- the REP MOVS / REP STOS fast path ----------------------------------------------- */

/* Whole elements, from offset `off` at linear `lin` on, that stay inside
 * lin's page and do not wrap the offset at the address size. */
static uint64_t str_room(const struct cpu *c, const struct insn *i, uint64_t off,
			 uint64_t lin, int size)
{
	uint64_t pg = lin & 0xfff, in_page, in_range;
	uint64_t top = size_mask(i->asize);
	if (pg + (uint64_t)size > 4096 || off > top - (uint64_t)(size - 1))
		return 0;                     /* the first element crosses */
	if (!(c->rflags & FLAG_DF)) {
		in_page = (4096 - pg) / (uint64_t)size;
		in_range = (top - off) / (uint64_t)size + 1;
	} else {
		in_page = pg / (uint64_t)size + 1;
		in_range = off / (uint64_t)size + 1;
	}
	return in_page < in_range ? in_page : in_range;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;
	return m < c ? m : c;
}

/* Do m elements from offset off on pass seg_fast_ok (mem.h)? */
static bool str_seg_ok(const struct cpu *c, int seg, uint64_t off, uint64_t m, int size,
		       bool down, bool write)
{
	uint64_t span = m * (uint64_t)size;
	uint64_t lo = down ? off - (span - (uint64_t)size) : off;
	return seg_fast_ok(c, seg, lo, span, write);
}

/* Copy m elements in the order the slow path would (they overlap). */
static void copy_ordered(uint8_t *d, const uint8_t *s, uint64_t m, int size, bool down)
{
	int64_t step = down ? -size : size;
	for (uint64_t j = 0; j < m; j++)
		mem_store_host(d + (int64_t)j * step, size, mem_load_host(s + (int64_t)j * step, size));
}

/* Do up to n elements of REP MOVS/STOS inside one page; returns how many
 * were done (0: not possible here, take the slow path). */
static uint64_t str_fast(struct cpu *c, const struct insn *i, int size, enum str_kind k,
			 uint64_t n)
{
	bool down = (c->rflags & FLAG_DF) != 0;
	uint64_t di = reg_read(c, R_RDI, i->asize), dlin = cpu_linear(c, SEG_ES, di);
	uint64_t m = min3(n, STR_BUDGET, str_room(c, i, di, dlin, size));
	uint64_t si = 0, slin = 0;
	if (k == S_MOVS) {
		si = reg_read(c, R_RSI, i->asize);
		slin = cpu_linear(c, i->seg, si);
		m = min3(m, m, str_room(c, i, si, slin, size));
	}
	if (m < 2)
		return 0;
	/* Outside 64-bit mode the whole run must pass the segment checks, or
	 * the element-by-element path finds the element that faults. */
	if (c->mode != CPU_MODE64 && (!str_seg_ok(c, SEG_ES, di, m, size, down, true) ||
				      (k == S_MOVS && !str_seg_ok(c, i->seg, si, m, size, down, false))))
		return 0;
	uint64_t dpa;
	uint8_t *d = mem_translate(c, dlin, ACC_WRITE, &dpa);
	const uint8_t *s = k == S_MOVS ? mem_translate(c, slin, ACC_READ, NULL) : NULL;
	if (!d || (k == S_MOVS && !s))
		return 0;                     /* outside RAM: the slow path knows */
	if (c->page_code[dpa >> 12])
		dcache_invalidate_page(c, dpa);   /* self-modifying code, as mem.c */
	uint64_t span = m * (uint64_t)size, back = (m - 1) * (uint64_t)size;
	uint8_t *dlo = down ? d - back : d;
	if (k == S_STOS) {
		uint64_t v = reg_read(c, R_RAX, size);
		if (size == 1)
			memset(dlo, (int)(v & 0xff), span);
		else
			for (uint64_t j = 0; j < m; j++)
				mem_store_host(dlo + j * (uint64_t)size, size, v);
	} else {
		const uint8_t *slo = down ? s - back : s;
		if (dlo + span <= slo || slo + span <= dlo)
			memcpy(dlo, slo, span);
		else
			copy_ordered(d, s, m, size, down);
		str_advance(c, i, R_RSI, size, m);
	}
	str_advance(c, i, R_RDI, size, m);
	reg_write(c, R_RCX, i->asize, n - m);
	return m;
}

/* ---- the REP loop and the handlers ------------------------------------------------------ */

static void str_run(struct cpu *c, const struct insn *i, int size, enum str_kind k)
{
	if (!(i->flags & (I_REP | I_REPNE))) {
		str_one(c, i, size, k);
		return;
	}
	/* F2 on MOVS/STOS/LODS/INS/OUTS repeats like F3 (it has no condition). */
	bool conditional = k == S_CMPS || k == S_SCAS;
	/* Under the debug rules (debug.c) each element is a step of its own:
	 * single-step and breakpoint traps come between elements. */
	uint64_t done = 0, budget = unlikely(c->dbg_active | (c->rflags & FLAG_TF)) ? 1 : STR_BUDGET;
	while (done < budget) {
		uint64_t n = reg_read(c, R_RCX, i->asize);
		if (n == 0)
			return;
		if ((k == S_MOVS || k == S_STOS) && budget > 1) {
			uint64_t m = str_fast(c, i, size, k, n);
			if (m) {
				done += m;
				continue;
			}
		}
		str_one(c, i, size, k);
		reg_write(c, R_RCX, i->asize, n - 1);
		done++;
		if (conditional && ((i->flags & I_REPNE) ? cpu_zf(c) : !cpu_zf(c)))
			return;
	}
	/* More to do: run it again.  RF = 1 marks the instruction as begun, so
	 * an interrupt taken before it resumes pushes RF = 1 and the IRET back
	 * does not re-trigger an instruction breakpoint on it (SDM Vol. 3
	 * 18.3.1.1); the run loop clears RF when an instruction completes. */
	if (reg_read(c, R_RCX, i->asize) != 0) {
		c->rip = c->insn_rip;
		c->rflags |= FLAG_RF;
	}
}

/* INS/OUTS move at most 32 bits (REX.W does not widen them). */
static int io_size(const struct insn *i)
{
	return i->osize == 8 ? 4 : i->osize;
}

void op_movsb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_MOVS); }
void op_movsv(struct cpu *c, const struct insn *i) { str_run(c, i, i->osize, S_MOVS); }
void op_cmpsb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_CMPS); }
void op_cmpsv(struct cpu *c, const struct insn *i) { str_run(c, i, i->osize, S_CMPS); }
void op_stosb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_STOS); }
void op_stosv(struct cpu *c, const struct insn *i) { str_run(c, i, i->osize, S_STOS); }
void op_lodsb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_LODS); }
void op_lodsv(struct cpu *c, const struct insn *i) { str_run(c, i, i->osize, S_LODS); }
void op_scasb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_SCAS); }
void op_scasv(struct cpu *c, const struct insn *i) { str_run(c, i, i->osize, S_SCAS); }
void op_insb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_INS); }
void op_insv(struct cpu *c, const struct insn *i) { str_run(c, i, io_size(i), S_INS); }
void op_outsb(struct cpu *c, const struct insn *i) { str_run(c, i, 1, S_OUTS); }
void op_outsv(struct cpu *c, const struct insn *i) { str_run(c, i, io_size(i), S_OUTS); }
