/*
 * xcheck.h - the parts of the Capstone cross-check (xcheck_capstone.c):
 * the list of Capstone 4.0.2's known bugs (xcheck_known.c) and the operand
 * and name comparisons (xcheck_fields.c).
 */
#ifndef NESTLAB_XCHECK_H
#define NESTLAB_XCHECK_H

#include <capstone/capstone.h>
#include <stdint.h>

#include "cpu.h"
#include "insn.h"

/* opcodes.def as data, indexed by op id. */
struct form { uint8_t map, byte, pfx; uint16_t ext; uint32_t flags; };
extern const struct form forms[OP__COUNT];

/* Known Capstone length bugs: known_bug() returns one of these, or -1. */
enum {
	BUG_BRANCH66, BUG_66_THEN_REP, BUG_RET_REXW, BUG_UD1, BUG_UD0, BUG_SSE4A_PFX,
	BUG_EVEX_RC, BUG_EVEX67_DISP, BUG_XOP_IMM16, NBUGS
};
extern const char *const bug_names[NBUGS];
int known_bug(const uint8_t *b, int mode, int ours, int theirs, const char *cs_ops);

/* Known Capstone naming differences: name_known() returns one, or -1. */
enum { NBUG_PFX_POS, NBUG_67_AS_66, NBUG_NP_66, NBUG_REXB_90, NBUG_16BIT, NBUG_F3_REXW_7E,
       NNBUGS };
extern const char *const nbug_names[NNBUGS];
int name_known(const uint8_t *b, int mode, const struct insn *in);

/* Field comparisons for strings whose lengths agree: 0 agree, 1 differ
 * (imm_differs: -1 when Capstone shows no immediate). */
int name_ok(const struct insn *in, const char *mnem);
int mem_fields_differ(csh cs, const cs_insn *ci, const struct insn *in, int mode);
int imm_differs(const cs_insn *ci, const struct insn *in, uint32_t flags);

#endif
