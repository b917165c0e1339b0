/*
 * shift.c - group 2 shifts and rotates (ROL ROR RCL RCR SHL SHR SAL SAR, each
 * as Eb,Ib  Ev,Ib  Eb,1  Ev,1  Eb,CL  Ev,CL) and the double shifts SHLD/SHRD.
 *
 * The rules, from SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR" and
 * "SHLD"/"SHRD":
 *
 *   count      masked to 5 bits (6 with a 64-bit operand), also for 8- and
 *              16-bit operands, so `shl al, 9` shifts by 9 and gives 0.
 *   count 0    (after masking) no flag changes.  The destination is still
 *              written: a 32-bit register has its upper half cleared, as on
 *              real processors (checked on the host: `shl eax, cl` with CL=0
 *              turns FFFFFFFF_FFFFFFFF into 00000000_FFFFFFFF), and a memory
 *              operand is read and written back like any read-modify-write.
 *   CF         the last bit shifted (rotated) out.
 *   OF         defined only for count 1.  For larger counts we use the
 *              count-1 formula applied to the result, as Bochs does
 *              (SHL/ROL/RCL: MSB(r) ^ CF; SHR/ROR/RCR: the XOR of the two top
 *              bits of r; SAR: 0).  On the AMD EPYC host this agrees with the
 *              hardware for every count and size (compared while writing
 *              tests/unit/test_shift.c); Intel documents nothing, so the
 *              differential tests mask OF for counts above 1.
 *   CF         for SHL/SHR by a count >= the operand size (possible for 8-
 *              and 16-bit operands) the SDM leaves CF undefined; shifting a
 *              64-bit copy gives the bit the hardware gives (same host check).
 *   SF ZF PF   set from the result by the shifts, untouched by rotates.
 *   AF         undefined for shifts; we clear it (QEMU does the same).
 *   RCL/RCR    rotate through CF: a (size+1)-bit rotate, count taken modulo
 *              9 for bytes and 17 for words after the 5-bit mask.
 *
 * Every form funnels into shift_rm() with the operation constant.
 */
#include "flags.h"
#include "mem.h"
#include "opsize.h"

enum shift_kind { S_ROL, S_ROR, S_RCL, S_RCR, S_SHL, S_SHR, S_SAL, S_SAR };

struct shift_out {
	uint64_t r;            /* result (unmasked above the operand size) */
	bool cf, of;
};

/* A (bits+1)-bit rotate of CF:a, left (RCL) or right (RCR), by n (0..bits). */
static struct shift_out rotate_through_carry(uint64_t a, int bits, unsigned n, bool cf, bool left)
{
	unsigned w = (unsigned)bits + 1;
	unsigned __int128 x = ((unsigned __int128)cf << bits) | a;
	unsigned __int128 m = ((unsigned __int128)1 << w) - 1;
	if (n) {
		x = left ? (x << n) | (x >> (w - n)) : (x >> n) | (x << (w - n));
		x &= m;
	}
	struct shift_out o = { (uint64_t)x & size_mask(bits / 8), (bool)((x >> bits) & 1), false };
	return o;
}

/* Result and flags of kind k on a (already masked to size) by a non-zero
 * masked count n. */
OP_INLINE struct shift_out shift_calc(int k, uint64_t a, int size, unsigned n, bool cf_in)
{
	int bits = size * 8;
	uint64_t t;
	struct shift_out o;
	switch (k) {
	case S_ROL:
	case S_ROR: {
		unsigned m = n & (unsigned)(bits - 1);    /* bits is a power of two */
		if (k == S_ROR)
			m = (bits - m) & (bits - 1);
		o.r = m ? ((a << m) | (a >> (bits - m))) & size_mask(size) : a;
		o.cf = k == S_ROL ? (o.r & 1) : (o.r >> (bits - 1)) & 1;
		break;
	}
	case S_RCL:
	case S_RCR:
		if (bits < 32)
			n %= (unsigned)bits + 1;
		o = rotate_through_carry(a, bits, n, cf_in, k == S_RCL);
		break;
	case S_SHL:
	case S_SAL:
		t = a << (n - 1);                      /* n - 1 <= 62 */
		o.cf = (t >> (bits - 1)) & 1;
		o.r = (t << 1) & size_mask(size);
		break;
	case S_SHR:
		t = a >> (n - 1);
		o.cf = t & 1;
		o.r = t >> 1;
		break;
	default: /* S_SAR */
		t = (uint64_t)((int64_t)sext_size(a, size) >> (n - 1));
		o.cf = t & 1;
		o.r = (uint64_t)((int64_t)t >> 1) & size_mask(size);
		break;
	}
	uint64_t msb = (o.r >> (bits - 1)) & 1, msb2 = (o.r >> (bits - 2)) & 1;
	switch (k) {
	case S_ROL: case S_RCL: case S_SHL: case S_SAL: o.of = msb ^ o.cf; break;
	case S_ROR: case S_RCR: case S_SHR: o.of = msb ^ msb2; break;
	default: o.of = false; break;
	}
	return o;
}

/* Commit the flags of a shift by a non-zero count: rotates change CF and OF
 * only, shifts all six (SF ZF PF from the result, AF cleared). */
OP_INLINE void shift_flags(struct cpu *c, int k, int size, const struct shift_out *o)
{
	if (k <= S_RCR)
		cpu_flags_update(c, FLAG_CF | FLAG_OF,
				 (o->cf ? FLAG_CF : 0) | (o->of ? FLAG_OF : 0));
	else
		lf_explicit(c, o->r, size, o->cf, o->of, false);
}

/* Memory operand: read, compute, write (also for count 0), then flags. */
OP_OUTLINE void shift_mem(struct cpu *c, const struct insn *i, int k, int size, unsigned n)
{
	uint64_t lin = insn_lin_chk(c, i, size, true);
	uint64_t a = mem_read(c, lin, size);
	struct shift_out o = { a, false, false };
	if (n)
		o = shift_calc(k, a, size, n, cpu_cf(c));
	mem_write(c, lin, size, o.r);
	if (n)
		shift_flags(c, k, size, &o);
}

OP_INLINE void shift_rm(struct cpu *c, const struct insn *i, int k, int size, unsigned count)
{
	unsigned n = count & (size == 8 ? 63 : 31);
	if (unlikely(i->flags & I_MEM)) {
		shift_mem(c, i, k, size, n);
		return;
	}
	uint64_t a = reg_read(c, i->rm, size);
	if (!n) {
		reg_write(c, i->rm, size, a);     /* a 32-bit register is still zero-extended */
		return;
	}
	struct shift_out o = shift_calc(k, a, size, n, cpu_cf(c));
	reg_write(c, i->rm, size, o.r);
	shift_flags(c, k, size, &o);
}

#define SHIFT_HANDLERS(name, k) \
void op_##name##_Eb_Ib(struct cpu *c, const struct insn *i) \
{ shift_rm(c, i, k, 1, (uint8_t)i->imm); } \
void op_##name##_Ev_Ib(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, shift_rm(c, i, k, SZ, (uint8_t)i->imm)); } \
void op_##name##_Eb_1(struct cpu *c, const struct insn *i) \
{ shift_rm(c, i, k, 1, 1); } \
void op_##name##_Ev_1(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, shift_rm(c, i, k, SZ, 1)); } \
void op_##name##_Eb_CL(struct cpu *c, const struct insn *i) \
{ shift_rm(c, i, k, 1, COUNT_CL(c)); } \
void op_##name##_Ev_CL(struct cpu *c, const struct insn *i) \
{ BY_OSIZE(i, shift_rm(c, i, k, SZ, COUNT_CL(c))); }

SHIFT_HANDLERS(rol, S_ROL)
SHIFT_HANDLERS(ror, S_ROR)
SHIFT_HANDLERS(rcl, S_RCL)
SHIFT_HANDLERS(rcr, S_RCR)
SHIFT_HANDLERS(shl, S_SHL)
SHIFT_HANDLERS(shr, S_SHR)
SHIFT_HANDLERS(sal, S_SAL)
SHIFT_HANDLERS(sar, S_SAR)

/*
 * SHLD/SHRD: shift the destination, filling from the source register.
 * We shift one wide value and take the destination's window from it:
 *
 *   SHLD  v = dest : src          result = top `bits` of v << n
 *   SHRD  v = src : dest          result = low `bits` of v >> n
 *
 * A 16-bit operand may be shifted by 16..31; the result is undefined there,
 * and Intel processors then shift dest:src:dest (QEMU models the same), so
 * both use v = dest:src:dest, a 48-bit value, for words.
 */
static inline void shiftd_rm(struct cpu *c, const struct insn *i, int size, unsigned count, bool left)
{
	int bits = size * 8;
	unsigned n = count & (size == 8 ? 63 : 31);
	bool mem = i->flags & I_MEM;
	uint64_t lin = mem ? insn_lin_chk(c, i, size, true) : 0;
	uint64_t a = mem ? mem_read(c, lin, size) : reg_read(c, i->rm, size);
	uint64_t s = reg_read(c, i->reg, size);
	uint64_t r = a;
	bool cf = false;
	if (n) {
		unsigned __int128 v;
		int w;                         /* bits below the destination in SHLD's v */
		if (size == 2) {
			v = (a << 32) | (s << 16) | a;
			w = 32;
		} else {
			v = left ? ((unsigned __int128)a << bits) | s : ((unsigned __int128)s << bits) | a;
			w = bits;
		}
		if (left) {
			r = (uint64_t)(v >> (w - (int)n)) & size_mask(size);
			cf = (v >> (w + bits - (int)n)) & 1;
		} else {
			r = (uint64_t)(v >> n) & size_mask(size);
			cf = (v >> (n - 1)) & 1;
		}
	}
	if (mem)
		mem_write(c, lin, size, r);
	else
		reg_write(c, i->rm, size, r);
	if (!n)
		return;
	/* OF for count 1: the sign changed.  Same formula for larger counts
	 * as Bochs (SHLD: MSB(r) ^ CF; SHRD: the two top bits of r). */
	bool msb = (r >> (bits - 1)) & 1;
	bool of = left ? msb ^ cf : msb ^ ((r >> (bits - 2)) & 1);
	lf_explicit(c, r, size, cf, of, false);
}

void op_shld_Ev_Gv_Ib(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, shiftd_rm(c, i, SZ, (uint8_t)i->imm, true)); }
void op_shld_Ev_Gv_CL(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, shiftd_rm(c, i, SZ, COUNT_CL(c), true)); }
void op_shrd_Ev_Gv_Ib(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, shiftd_rm(c, i, SZ, (uint8_t)i->imm, false)); }
void op_shrd_Ev_Gv_CL(struct cpu *c, const struct insn *i)
{ BY_OSIZE(i, shiftd_rm(c, i, SZ, COUNT_CL(c), false)); }
