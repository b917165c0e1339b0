/*
 * flags.h - lazy arithmetic flags.
 *
 * Most instructions that set CF, PF, AF, ZF, SF and OF have their flags
 * overwritten by the next such instruction before anyone reads them, so the
 * ALU does not compute them.  It stores two words (the scheme Bochs uses):
 *
 *   lf.res  the result, sign-extended to 64 bits
 *           SF = bit 63, ZF = (res == 0), PF = even parity of bits 7:0
 *   lf.aux  bit 63 = CF, bit 62 = CF ^ OF, bit 3 = AF
 *
 * For ADD and SUB the carry (borrow) out of every bit position is one
 * expression, the "carry-out vector"; CF is its top bit, OF the XOR of its
 * two top bits (carry into and out of the sign bit), AF its bit 3
 * (SDM Vol. 1 3.4.3.1 and Appendix A).  Storing CF and CF^OF side by side
 * lets lf_from_cout() take both with one shift, whatever the operand size.
 *
 * lf.live = false means RFLAGS itself holds the six flags; instructions
 * that set only some flags (BT, rotates, CLC ...) materialize first.
 */
#ifndef NESTLAB_FLAGS_H
#define NESTLAB_FLAGS_H

#include "cpu.h"

static inline uint64_t sext_size(uint64_t v, int size)
{
	switch (size) {
	case 1: return (uint64_t)(int64_t)(int8_t)v;
	case 2: return (uint64_t)(int64_t)(int16_t)v;
	case 4: return (uint64_t)(int64_t)(int32_t)v;
	default: return v;
	}
}

static inline uint64_t size_mask(int size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Store result r and carry-out vector cout of a size-byte operation. */
static inline void lf_from_cout(struct cpu *c, uint64_t r, uint64_t cout, int size)
{
	int bits = size * 8;
	c->lf.res = sext_size(r, size);
	c->lf.aux = ((cout << (64 - bits)) & (3ull << 62)) | (cout & 8);
	c->lf.live = true;
}

/* r = a + b (+ carry in): flags of ADD, ADC, INC. */
static inline void lf_add(struct cpu *c, uint64_t a, uint64_t b, uint64_t r, int size)
{
	lf_from_cout(c, r, (a & b) | ((a | b) & ~r), size);
}

/* r = a - b (- borrow in): flags of SUB, SBB, CMP, NEG, DEC. */
static inline void lf_sub(struct cpu *c, uint64_t a, uint64_t b, uint64_t r, int size)
{
	lf_from_cout(c, r, (~a & b) | ((~a | b) & r), size);
}

/* AND, OR, XOR, TEST: CF = OF = 0; AF is undefined (we give 0). */
static inline void lf_logic(struct cpu *c, uint64_t r, int size)
{
	c->lf.res = sext_size(r, size);
	c->lf.aux = 0;
	c->lf.live = true;
}

/* Explicit flags with SF/ZF/PF taken from result r. */
static inline void lf_explicit(struct cpu *c, uint64_t r, int size, bool cf, bool of, bool af)
{
	c->lf.res = sext_size(r, size);
	c->lf.aux = ((uint64_t)cf << 63) | ((uint64_t)(cf ^ of) << 62) | ((uint64_t)af << 3);
	c->lf.live = true;
}

/* Individual flags, whichever form holds them. */
static inline bool cpu_cf(const struct cpu *c)
{
	return c->lf.live ? (c->lf.aux >> 63) : (c->rflags & FLAG_CF) != 0;
}
static inline bool cpu_of(const struct cpu *c)
{
	return c->lf.live ? (((c->lf.aux >> 63) ^ (c->lf.aux >> 62)) & 1) : (c->rflags & FLAG_OF) != 0;
}
static inline bool cpu_af(const struct cpu *c)
{
	return c->lf.live ? ((c->lf.aux >> 3) & 1) : (c->rflags & FLAG_AF) != 0;
}
static inline bool cpu_zf(const struct cpu *c)
{
	return c->lf.live ? c->lf.res == 0 : (c->rflags & FLAG_ZF) != 0;
}
static inline bool cpu_sf(const struct cpu *c)
{
	return c->lf.live ? (c->lf.res >> 63) : (c->rflags & FLAG_SF) != 0;
}
static inline bool cpu_pf(const struct cpu *c)
{
	return c->lf.live ? !__builtin_parity((unsigned)(c->lf.res & 0xff)) : (c->rflags & FLAG_PF) != 0;
}

/* Fold lazy flags into RFLAGS; afterwards RFLAGS is authoritative. */
static inline void cpu_flags_materialize(struct cpu *c)
{
	if (!c->lf.live)
		return;
	c->rflags = cpu_get_rflags(c);
	c->lf.live = false;
}

/* Set or clear some arithmetic flags, leaving the others alone. */
static inline void cpu_flags_update(struct cpu *c, uint64_t mask, uint64_t value)
{
	cpu_flags_materialize(c);
	c->rflags = (c->rflags & ~mask) | (value & mask);
}

/* Condition codes tttn (SDM Vol. 2 Appendix B.1.4.7). */
static inline bool cpu_cond(const struct cpu *c, unsigned cc)
{
	bool r;
	switch (cc >> 1) {
	case 0: r = cpu_of(c); break;                           /* O  */
	case 1: r = cpu_cf(c); break;                           /* B  */
	case 2: r = cpu_zf(c); break;                           /* E  */
	case 3: r = cpu_cf(c) || cpu_zf(c); break;              /* BE */
	case 4: r = cpu_sf(c); break;                           /* S  */
	case 5: r = cpu_pf(c); break;                           /* P  */
	case 6: r = cpu_sf(c) != cpu_of(c); break;              /* L  */
	default: r = cpu_zf(c) || (cpu_sf(c) != cpu_of(c)); break; /* LE */
	}
	return r ^ (cc & 1);
}

#endif
