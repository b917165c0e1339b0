/*
 * move.c - data movement: MOV in all its forms, MOVZX/MOVSX/MOVSXD, LEA,
 * XCHG, CMPXCHG (and 8B/16B), XADD, CBW/CWD and their wider names, BSWAP,
 * MOVBE, CMOVcc and SETcc, XLAT, and the flag movers LAHF/SAHF and
 * CLC/STC/CMC/CLD/STD, plus every NOP form.
 *
 * One rule runs through the register results here (SDM Vol. 1 3.4.1.1):
 * writing a 32-bit register zeroes bits 63:32, writing an 8- or 16-bit one
 * leaves them.  reg_write() (mem.h) does this, so most handlers only pick
 * the right size.  The exceptions are marked where they occur (CMOVcc with
 * a false condition still zero-extends; CMPXCHG's register form writes only
 * one of its two registers).
 *
 * Handlers that write memory and a register do the memory write first: a
 * fault there must leave the registers untouched (the run loop restarts the
 * instruction).
 */
#include "flags.h"
#include "mem.h"
#include "model.h"
#include "stack.h"
#include "virt.h"

/* ---- MOV ---------------------------------------------------------------------- */

void op_mov_Eb_Gb(struct cpu *c, const struct insn *i) { write_E(c, i, 1, read_G(c, i, 1)); }
void op_mov_Ev_Gv(struct cpu *c, const struct insn *i) { write_E(c, i, i->osize, read_G(c, i, i->osize)); }
void op_mov_Gb_Eb(struct cpu *c, const struct insn *i) { write_G(c, i, 1, read_E(c, i, 1)); }
void op_mov_Gv_Ev(struct cpu *c, const struct insn *i) { write_G(c, i, i->osize, read_E(c, i, i->osize)); }
void op_mov_Eb_Ib(struct cpu *c, const struct insn *i) { write_E(c, i, 1, i->imm); }
/* The Iz immediate is already sign-extended to 64 bits (MOV r/m64, imm32). */
void op_mov_Ev_Iz(struct cpu *c, const struct insn *i) { write_E(c, i, i->osize, i->imm); }
void op_mov_Zb_Ib(struct cpu *c, const struct insn *i) { reg_write(c, i->reg, 1, i->imm); }
/* B8+r: the only form with a full 64-bit immediate (MOV r64, imm64). */
void op_mov_Zv_Iv(struct cpu *c, const struct insn *i) { reg_write(c, i->reg, i->osize, i->imm); }

/*
 * A0-A3: the address is a bare offset ("moffs") as wide as the ADDRESS size
 * (8 bytes in 64-bit mode), in the instruction's segment (DS unless
 * overridden).  The decoder puts it in i->imm.
 *
 *   A0 MOV AL, moffs8   A1 MOV rAX, moffs   A2 MOV moffs8, AL   A3 MOV moffs, rAX
 */
static uint64_t moffs_lin(struct cpu *c, const struct insn *i, int size, bool write)
{
	return seg_linear(c, i->seg, i->imm & size_mask(i->asize), size, write);
}

void op_mov_AL_Ob(struct cpu *c, const struct insn *i) { reg_write(c, R_RAX, 1, mem_read(c, moffs_lin(c, i, 1, false), 1)); }
void op_mov_rAX_Ov(struct cpu *c, const struct insn *i) { reg_write(c, R_RAX, i->osize, mem_read(c, moffs_lin(c, i, i->osize, false), i->osize)); }
void op_mov_Ob_AL(struct cpu *c, const struct insn *i) { mem_write(c, moffs_lin(c, i, 1, true), 1, reg_read(c, R_RAX, 1)); }
void op_mov_Ov_rAX(struct cpu *c, const struct insn *i) { mem_write(c, moffs_lin(c, i, i->osize, true), i->osize, reg_read(c, R_RAX, i->osize)); }

/* MOV r/m, Sreg: memory always gets 16 bits; a 32/64-bit register gets the
 * selector zero-extended (SDM Vol. 2 MOV: P6 and later fill with zeros). */
void op_mov_Ev_Sw(struct cpu *c, const struct insn *i)
{
	if ((i->reg & 7) > SEG_GS)
		cpu_ud(c);
	int size = (i->flags & I_MEM) ? 2 : i->osize;
	write_E(c, i, size, c->seg[i->reg & 7].sel);
}

/* MOV Sreg, r/m: CS is not a legal destination (#UD). */
void op_mov_Sw_Ew(struct cpu *c, const struct insn *i)
{
	int s = i->reg & 7;
	if (s == SEG_CS || s > SEG_GS)
		cpu_ud(c);
	seg_load_data(c, s, (uint16_t)read_E(c, i, 2));
	/* MOV SS blocks interrupts until the next instruction has run (SDM
	 * Vol. 2 MOV), so that MOV SS; MOV rSP switches stacks atomically. */
	if (s == SEG_SS)
		c->intr_inhibit_until = c->icount + 2;
}

/* ---- MOVZX, MOVSX, MOVSXD ---------------------------------------------------------- */

void op_movzx_Gv_Eb(struct cpu *c, const struct insn *i) { write_G(c, i, i->osize, read_E(c, i, 1)); }
void op_movzx_Gv_Ew(struct cpu *c, const struct insn *i) { write_G(c, i, i->osize, read_E(c, i, 2)); }
void op_movsx_Gv_Eb(struct cpu *c, const struct insn *i) { write_G(c, i, i->osize, sext_size(read_E(c, i, 1), 1)); }
void op_movsx_Gv_Ew(struct cpu *c, const struct insn *i) { write_G(c, i, i->osize, sext_size(read_E(c, i, 2), 2)); }

/* 63 /r in 64-bit mode.  With REX.W it sign-extends r/m32 to 64 bits; the
 * SDM also lists MOVSXD r32, r/m32 and r16, r/m16, which are plain moves
 * of their own size (the r32 one zero-extends, as every 32-bit write). */
void op_movsxd_Gv_Ed(struct cpu *c, const struct insn *i)
{
	if (i->osize == 8)
		write_G(c, i, 8, sext_size(read_E(c, i, 4), 4));
	else
		write_G(c, i, i->osize, read_E(c, i, i->osize));
}

/*
 * LEA: the effective address (no segment, no memory access).  Address size
 * and operand size combine as in SDM Vol. 2 LEA, Table 3-54:
 *
 *   osize  asize   result
 *   16     any     low 16 bits of the address
 *   32     16      address zero-extended       32  32/64  low 32 bits
 *   64     32      address zero-extended       64  64     the address
 *
 * cpu_ea() already wraps to the address size; writing at the operand size
 * does the rest.
 */
void op_lea_Gv_M(struct cpu *c, const struct insn *i)
{
	write_G(c, i, i->osize, cpu_ea(c, i));
}

/* ---- XCHG, CMPXCHG, XADD ------------------------------------------------------------- */

/* XCHG with memory is always locked (SDM Vol. 2 XCHG); with one CPU and
 * instructions that never interleave, that needs no extra work. */
static void xchg_common(struct cpu *c, const struct insn *i, int size)
{
	uint64_t e = read_E(c, i, size), g = read_G(c, i, size);
	write_E(c, i, size, g);
	write_G(c, i, size, e);
}

void op_xchg_Eb_Gb(struct cpu *c, const struct insn *i) { xchg_common(c, i, 1); }
void op_xchg_Ev_Gv(struct cpu *c, const struct insn *i) { xchg_common(c, i, i->osize); }

/* 91-97 (and 90 with REX.B): exchange rAX with a register.  Plain 90 is
 * NOP, not XCHG EAX,EAX, so it does not zero RAX[63:32]; the decoder
 * gives it OP_nop. */
void op_xchg_Zv_rAX(struct cpu *c, const struct insn *i)
{
	uint64_t a = reg_read(c, R_RAX, i->osize), r = reg_read(c, i->reg, i->osize);
	reg_write(c, R_RAX, i->osize, r);
	reg_write(c, i->reg, i->osize, a);
}

/*
 * CMPXCHG r/m, r (SDM Vol. 2 CMPXCHG):
 *
 *   flags as CMP accumulator, dest
 *   equal:     dest <- src
 *   not equal: accumulator <- dest, and a MEMORY dest is written back with
 *              its own value (the write cycle always happens)
 *
 * Register form with 32-bit operands, as measured on the host (AMD EPYC):
 * when equal only the destination is written (zero-extended) and RAX keeps
 * bits 63:32; when not equal only EAX is written (RAX zero-extended) and
 * the destination register keeps bits 63:32.
 */
static void cmpxchg_common(struct cpu *c, const struct insn *i, int size)
{
	uint64_t dest = read_E(c, i, size), acc = reg_read(c, R_RAX, size);
	uint64_t src = read_G(c, i, size);
	uint64_t r = (acc - dest) & size_mask(size);
	if (acc == dest) {
		write_E(c, i, size, src);
	} else {
		if (i->flags & I_MEM)
			write_E(c, i, size, dest);
		reg_write(c, R_RAX, size, dest);
	}
	lf_sub(c, acc, dest, r, size);
}

void op_cmpxchg_Eb_Gb(struct cpu *c, const struct insn *i) { cmpxchg_common(c, i, 1); }
void op_cmpxchg_Ev_Gv(struct cpu *c, const struct insn *i) { cmpxchg_common(c, i, i->osize); }

/*
 * CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W) (SDM Vol. 2 CMPXCHG8B/16B):
 *
 *   if EDX:EAX (RDX:RAX) == m: ZF = 1, m <- ECX:EBX (RCX:RBX)
 *   else: ZF = 0, m written back unchanged, EDX:EAX (RDX:RAX) <- m
 *
 * Only ZF changes.  CMPXCHG16B needs a 16-byte aligned operand, else
 * #GP(0).  The 8B form's EAX/EDX writes are 32-bit writes (zero-extended);
 * on success they are not written at all (host-measured).
 */
void op_cmpxchg8b_Mq(struct cpu *c, const struct insn *i)
{
	uint64_t lin = insn_lin_chk(c, i, i->osize == 8 ? 16 : 8, true);
	bool eq;
	if (i->osize == 8) {
		if (lin & 15)
			cpu_gp0(c);
		uint64_t lo = mem_read(c, lin, 8), hi = mem_read(c, lin + 8, 8);
		eq = lo == c->gpr[R_RAX] && hi == c->gpr[R_RDX];
		mem_write(c, lin, 8, eq ? c->gpr[R_RBX] : lo);
		mem_write(c, lin + 8, 8, eq ? c->gpr[R_RCX] : hi);
		if (!eq) {
			c->gpr[R_RAX] = lo;
			c->gpr[R_RDX] = hi;
		}
	} else {
		uint64_t m = mem_read(c, lin, 8);
		uint64_t edx_eax = (reg_read(c, R_RDX, 4) << 32) | reg_read(c, R_RAX, 4);
		eq = m == edx_eax;
		uint64_t ecx_ebx = (reg_read(c, R_RCX, 4) << 32) | reg_read(c, R_RBX, 4);
		mem_write(c, lin, 8, eq ? ecx_ebx : m);
		if (!eq) {
			reg_write(c, R_RAX, 4, m);
			reg_write(c, R_RDX, 4, m >> 32);
		}
	}
	cpu_flags_update(c, FLAG_ZF, eq ? FLAG_ZF : 0);
}

/* XADD: tmp = src + dest; src <- dest; dest <- tmp; flags as ADD.  With
 * the same register on both sides the sum wins (dest is written last). */
static void xadd_common(struct cpu *c, const struct insn *i, int size)
{
	uint64_t dest = read_E(c, i, size), src = read_G(c, i, size);
	uint64_t sum = (dest + src) & size_mask(size);
	if (i->flags & I_MEM) {
		write_E(c, i, size, sum);
		write_G(c, i, size, dest);
	} else {
		write_G(c, i, size, dest);
		write_E(c, i, size, sum);
	}
	lf_add(c, dest, src, sum, size);
}

void op_xadd_Eb_Gb(struct cpu *c, const struct insn *i) { xadd_common(c, i, 1); }
void op_xadd_Ev_Gv(struct cpu *c, const struct insn *i) { xadd_common(c, i, i->osize); }

/* ---- CBW/CWDE/CDQE, CWD/CDQ/CQO ----------------------------------------------------- */

/* 98: sign-extend the lower half of rAX into all of it, by operand size:
 * CBW (AL -> AX), CWDE (AX -> EAX, RAX[63:32] zeroed), CDQE (EAX -> RAX). */
void op_cbw(struct cpu *c, const struct insn *i)
{
	int half = i->osize / 2;
	reg_write(c, R_RAX, i->osize, sext_size(reg_read(c, R_RAX, half), half));
}

/* 99: fill rDX with the sign of rAX: CWD, CDQ, CQO. */
void op_cwd(struct cpu *c, const struct insn *i)
{
	uint64_t a = reg_read(c, R_RAX, i->osize);
	bool neg = (a >> (i->osize * 8 - 1)) & 1;
	reg_write(c, R_RDX, i->osize, neg ? ~0ull : 0);
}

/* ---- BSWAP, MOVBE ----------------------------------------------------------------------- */

static uint64_t bswap_size(uint64_t v, int size)
{
	switch (size) {
	case 2: return __builtin_bswap16((uint16_t)v);
	case 4: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

/* BSWAP r32/r64.  With a 16-bit operand the SDM leaves the result
 * undefined; the host CPU (AMD EPYC) and Intel parts clear the low 16 bits
 * (bits 63:16 unchanged), and so do we.  QEMU 5 (Unicorn 2.0.1) swaps the
 * 32-bit register instead, so the differential tests must not generate
 * 66 0F C8+r. */
void op_bswap_Zv(struct cpu *c, const struct insn *i)
{
	if (i->osize == 2)
		reg_write(c, i->reg, 2, 0);
	else
		reg_write(c, i->reg, i->osize, bswap_size(reg_read(c, i->reg, i->osize), i->osize));
}

/* MOVBE (0F 38 F0/F1): a load or store with the bytes reversed, 2/4/8. */
void op_movbe_Gv_Mv(struct cpu *c, const struct insn *i)
{
	write_G(c, i, i->osize, bswap_size(read_E(c, i, i->osize), i->osize));
}

void op_movbe_Mv_Gv(struct cpu *c, const struct insn *i)
{
	write_E(c, i, i->osize, bswap_size(read_G(c, i, i->osize), i->osize));
}

/* ---- CMOVcc, SETcc (the condition code is in i->imm2) -------------------------------- */

/* The source is read whatever the condition (a memory source can fault
 * even when nothing moves), and a 32-bit CMOV zero-extends the destination
 * even when the condition is false (SDM Vol. 2 CMOVcc, 64-bit mode note). */
void op_cmovcc_Gv_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t v = read_E(c, i, i->osize);
	if (cpu_cond(c, i->imm2))
		write_G(c, i, i->osize, v);
	else if (i->osize == 4)
		write_G(c, i, 4, read_G(c, i, 4));
}

void op_setcc_Eb(struct cpu *c, const struct insn *i)
{
	write_E(c, i, 1, cpu_cond(c, i->imm2) ? 1 : 0);
}

/* ---- XLAT ------------------------------------------------------------------------------- */

/* AL <- [seg:rBX + zero-extended AL], rBX and the sum at the address size;
 * the segment is DS unless overridden. */
void op_xlat(struct cpu *c, const struct insn *i)
{
	uint64_t off = (reg_read(c, R_RBX, i->asize) + reg_read(c, R_RAX, 1)) & size_mask(i->asize);
	reg_write(c, R_RAX, 1, cpu_read(c, i->seg, off, 1));
}

/* ---- LAHF, SAHF, CLC ... STD ----------------------------------------------------------- */

#define AH_FLAGS (FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF)

/* In 64-bit mode LAHF/SAHF exist only if CPUID.80000001H:ECX.LAHF-SAHF[0]
 * says so (SDM Vol. 2 LAHF); all Nestlab models claim it. */
static void lahf_sahf_check(struct cpu *c)
{
	if (c->mode == CPU_MODE64) {
		uint32_t r[4];
		cpu_model_cpuid(c->model, 0x80000001u, 0, r);
		if (!(r[2] & 1))
			cpu_ud(c);
	}
}

/* AH <- SF:ZF:0:AF:0:PF:1:CF */
void op_lahf(struct cpu *c, const struct insn *i)
{
	(void)i;
	lahf_sahf_check(c);
	reg_write(c, R_RAX + REG8_AH, 1, (cpu_get_rflags(c) & AH_FLAGS) | FLAG_FIXED1);
}

/* SF ZF AF PF CF <- AH bits 7 6 4 2 0; OF is untouched. */
void op_sahf(struct cpu *c, const struct insn *i)
{
	(void)i;
	lahf_sahf_check(c);
	cpu_flags_update(c, AH_FLAGS, reg_read(c, R_RAX + REG8_AH, 1));
}

void op_clc(struct cpu *c, const struct insn *i) { (void)i; cpu_flags_update(c, FLAG_CF, 0); }
void op_stc(struct cpu *c, const struct insn *i) { (void)i; cpu_flags_update(c, FLAG_CF, FLAG_CF); }
void op_cmc(struct cpu *c, const struct insn *i) { (void)i; cpu_flags_update(c, FLAG_CF, cpu_cf(c) ? 0 : FLAG_CF); }
/* DF is never lazy: it lives in c->rflags. */
void op_cld(struct cpu *c, const struct insn *i) { (void)i; c->rflags &= ~FLAG_DF; }
void op_std(struct cpu *c, const struct insn *i) { (void)i; c->rflags |= FLAG_DF; }

/* ---- NOPs --------------------------------------------------------------------------------- */

/* 90 (also F3 90 PAUSE).  A NOP with a memory operand (0F 1F /0, the hint
 * space 0F 18-1F, PREFETCH 0F 0D) computes nothing and touches no memory,
 * so it cannot fault. */
/* F3 90 is PAUSE: PAUSE exiting (VMX) / the PAUSE intercept (SVM). */
void op_nop(struct cpu *c, const struct insn *i)
{
	if (unlikely(c->icpt & ICPT(PAUSE)) && (i->flags & I_REP))
		virt_intercept(c, VIRT_PAUSE, i, 0);
}
void op_nop_Ev(struct cpu *c, const struct insn *i) { (void)c; (void)i; }
void op_nop_Ev_0d(struct cpu *c, const struct insn *i) { (void)c; (void)i; }

/* FWAIT: there is no x87 unit, so the only thing left is its #NM rule
 * (CR0.MP = 1 and CR0.TS = 1, SDM Vol. 2 WAIT/FWAIT); otherwise a NOP. */
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
void op_fwait(struct cpu *c, const struct insn *i)
{
	(void)i;
	if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		cpu_exception_noerr(c, VEC_NM);
}
