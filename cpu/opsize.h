/*
 * opsize.h - small helpers the instruction handlers share for operand sizes
 * and immediates.
 *
 * Handlers of "v"-sized forms (Ev, Gv: 16, 32 or 64 bits by prefixes and
 * REX.W, decided by the decoder and stored in insn.osize) call their inline
 * worker through BY_OSIZE, which hands it the size as the compile-time
 * constant SZ.  The compiler then folds every `switch (size)` inside the
 * worker (register access, masks, sign extension), so the common 32- and
 * 64-bit register paths are straight-line code.
 */
#ifndef NESTLAB_OPSIZE_H
#define NESTLAB_OPSIZE_H

#include "insn.h"

/* A worker that must be folded into each handler (its operation and size
 * are constants there); and one kept out of line, for the memory paths, so
 * that the register path of a handler needs no stack frame. */
#define OP_INLINE  static inline __attribute__((always_inline))
#define OP_OUTLINE static __attribute__((noinline))

#define BY_OSIZE(i, body) do { \
	switch ((i)->osize) { \
	case 8: { enum { SZ = 8 }; body; break; } \
	case 4: { enum { SZ = 4 }; body; break; } \
	default: { enum { SZ = 2 }; body; break; } \
	} } while (0)

/* Immediates, sign-extended here whatever width the decoder stored them at:
 * Ib in 83, 6B is sign-extended to the operand size, Iz (16 or 32 bits) too
 * (SDM Vol. 2 2.2.1.5: with REX.W a 32-bit immediate is sign-extended). */
#define IMM8(i)   ((uint64_t)(int64_t)(int8_t)(i)->imm)
#define IMMZ(i)   ((uint64_t)(int64_t)(int32_t)(i)->imm)

/* CL as a shift or rotate count. */
#define COUNT_CL(c) ((unsigned)(uint8_t)(c)->gpr[R_RCX])

#endif
