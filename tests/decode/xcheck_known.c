/*
 * xcheck_known.c - where Capstone 4.0.2 is wrong, pattern by pattern.
 *
 * The cross-check must not be loosened broadly: each entry here is one exact
 * encoding pattern, with the reason (what the SDM / APM say) in its name, and
 * it counts only if the lengths differ by exactly what the bug explains.
 * xcheck_capstone prints how many strings fell under each entry.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xcheck.h"

const struct form forms[OP__COUNT] = {
#define OP(name, map, byte, ext, pfx, flags) [OP_##name] = { map, byte, pfx, ext, flags },
#include "opcodes.def"
#undef OP
};

/* ---- Capstone 4.0.2's known length bugs ----------------------------------------- */

/* Each entry is one exact encoding pattern where Capstone 4.0.2 is wrong
 * and why (what the SDM says).  A mismatch counts as known only if it is
 * that pattern AND the lengths differ by exactly what the bug explains. */
const char *const bug_names[NBUGS] = {
	[BUG_BRANCH66] = "64-bit E8/E9/0F 8x with 66: Capstone takes rel16 (AMD's reading); "
		"SDM Vol. 2 CALL/JMP/Jcc: operand size is forced to 64 bits in 64-bit mode, "
		"Intel ignores 66H, the displacement stays rel32",
	[BUG_66_THEN_REP] = "66 followed by F2/F3 before 68 PUSH Iz (64-bit) or E8 CALL Jz "
		"(32-bit): Capstone drops the operand-size override; SDM Vol. 2 2.1.1: prefix "
		"order does not matter and F2/F3 do not apply to these opcodes",
	[BUG_RET_REXW] = "REX.W with 66/67 on C2 RET Iw (Capstone reads imm32) or with 67 on "
		"E8 CALL (Capstone reads rel16); SDM Vol. 2 RET: C2 iw is always imm16; CALL: "
		"in 64-bit mode E8 is rel32 whatever REX.W and 67 say",
	[BUG_UD1] = "0F B9 UD1: Capstone 4 decodes no ModRM; SDM Vol. 2 UD: UD1 r32, r/m32 "
		"is 0F B9 /r",
	[BUG_UD0] = "0F FF UD0: Capstone 4 decodes no ModRM; SDM Vol. 2 UD: UD0 r32, r/m32 "
		"is 0F FF /r",
	[BUG_SSE4A_PFX] = "0F 78 register form: Capstone picks EXTRQ/INSERTQ (ib, ib) vs VMREAD "
		"by the prefix byte right before 0F; SDM Vol. 2 2.1.1 / APM: 66 or F2 anywhere "
		"in the prefixes selects, F2/F3 over 66",
	[BUG_EVEX_RC] = "EVEX register form that Capstone prints with a rounding operand "
		"({rn,rd,ru,rz}-sae): Capstone reads one byte too many; SDM Vol. 2 2.7.5: "
		"embedded rounding reuses EVEX.L'L, no byte is added",
	[BUG_EVEX67_DISP] = "64-bit EVEX with 67 and EVEX.X=0, r/m=100 (with EVEX.B=0) or "
		"mod=00 r/m=101: Capstone drops the SIB byte or the disp32 ([r12], [rbp]); "
		"SDM Vol. 2 Table 2-2, 2.2.1.2: r/m 100 always means a SIB, mod 00 r/m 101 "
		"disp32, whatever the extension bits",
	[BUG_XOP_IMM16] = "XOP map 0Ah (TBM BEXTR, LWPINS, LWPVAL) at operand size 16 (16-bit "
		"mode, or 66 in 32/64-bit): Capstone reads an imm16; APM Vol. 3: the "
		"immediate is always imm32 (id)",
};

struct pfx_scan {
	int op;            /* position of the first opcode byte */
	int has66, has67;
	int rep_after_66;  /* an F2/F3 comes after a 66 */
	int rexw;          /* REX.W directly before the opcode */
	int rex;           /* the REX byte directly before the opcode, or 0 */
	int rep;           /* the last F2/F3, or 0 */
	int last_legacy;   /* the last legacy (non-REX) prefix byte, or 0 */
};

/* Skip legacy prefixes and (64-bit) REX, noting what was there. */
static struct pfx_scan scan_prefixes(const uint8_t *b, int mode)
{
	struct pfx_scan s = { 0 };
	int p = 0;
	for (; p < 15; p++) {
		uint8_t x = b[p];
		int rex = mode == CPU_MODE64 && (x & 0xf0) == 0x40;
		if (!rex && x != 0x66 && x != 0x67 && x != 0xf2 && x != 0xf3 && x != 0xf0 &&
		    x != 0x26 && x != 0x2e && x != 0x36 && x != 0x3e && x != 0x64 && x != 0x65)
			break;
		s.has66 |= x == 0x66;
		s.has67 |= x == 0x67;
		if (x == 0xf2 || x == 0xf3)
			s.rep = x;
		if (!rex)
			s.last_legacy = x;
		s.rep_after_66 |= s.has66 && (x == 0xf2 || x == 0xf3);
	}
	s.op = p;
	s.rexw = p > 0 && mode == CPU_MODE64 && (b[p - 1] & 0xf8) == 0x48;
	s.rex = p > 0 && mode == CPU_MODE64 && (b[p - 1] & 0xf0) == 0x40 ? b[p - 1] : 0;
	return s;
}

/* Returns the known Capstone bug this mismatch is, or -1. */
int known_bug(const uint8_t *b, int mode, int ours, int theirs, const char *cs_ops)
{
	struct pfx_scan s = scan_prefixes(b, mode);
	if (s.op > 12)
		return -1;
	uint8_t o0 = b[s.op], o1 = b[s.op + 1], o2 = b[s.op + 2];
	int near_branch = o0 == 0xe8 || o0 == 0xe9 || (o0 == 0x0f && (o1 & 0xf0) == 0x80);
	if (mode == CPU_MODE64 && s.has66 && near_branch && theirs == ours - 2)
		return BUG_BRANCH66;
	if (s.rep_after_66 && theirs == ours + 2 &&
	    ((mode == CPU_MODE64 && o0 == 0x68) || (mode == CPU_MODE32 && o0 == 0xe8)))
		return BUG_66_THEN_REP;
	if (o0 == 0xc2 && s.rexw && (s.has66 || s.has67) && theirs == ours + 2)
		return BUG_RET_REXW;
	if (o0 == 0xe8 && mode == CPU_MODE64 && s.rexw && s.has67 && theirs == ours - 2)
		return BUG_RET_REXW;
	if (o0 == 0x0f && o1 == 0xb9 && theirs < ours)
		return BUG_UD1;
	if (o0 == 0x0f && o1 == 0xff && theirs < ours)
		return BUG_UD0;
	if (o0 == 0x0f && o1 == 0x78 && (o2 >> 6) == 3 && (theirs == ours + 2 || theirs == ours - 2))
		return BUG_SSE4A_PFX;
	/* 62 P0 P1 P2 opcode ModRM: P2 bit 4 is EVEX.b */
	int evex = o0 == 0x62 && (mode == CPU_MODE64 || (o1 >> 6) == 3) && s.op + 5 < 15;
	uint8_t em = evex ? b[s.op + 5] : 0;          /* EVEX ModRM */
	if (evex && (em >> 6) == 3 && strstr(cs_ops, "-sae}") && theirs == ours + 1)
		return BUG_EVEX_RC;
	if (evex && mode == CPU_MODE64 && s.has67 && !(o1 & 0x40) && (em >> 6) != 3 &&
	    (((em & 7) == 4 && !(o1 & 0x20)) || (em & 0xc7) == 0x05) && theirs < ours)
		return BUG_EVEX67_DISP;
	/* 8F [RXB mmmmm]: map 0Ah */
	if (o0 == 0x8f && (o1 & 0x1f) == 0x0a && ((mode == CPU_MODE16) != s.has66) &&
	    theirs == ours - 2)
		return BUG_XOP_IMM16;
	return -1;
}

/* Where Capstone names a different instruction for the same bytes and
 * length, and is wrong (or reads a rule differently), by exact pattern. */
const char *const nbug_names[NNBUGS] = {
	[NBUG_PFX_POS] = "Capstone takes the mandatory prefix (66/F2/F3) only from the last "
		"legacy prefix byte (VMXON/VMCLEAR/VMPTRLD, TZCNT/BSF, LZCNT/BSR); SDM Vol. 2 "
		"2.1.1: prefix order is free, F2/F3 take precedence over 66",
	[NBUG_67_AS_66] = "64-bit, 67 as the last legacy prefix before a REX: Capstone reads "
		"it as the 66 selector (VMCLEAR, EXTRQ); 67 is the address-size override",
	[NBUG_NP_66] = "66 on an NP form (CLFLUSH, SFENCE): Capstone names CLFLUSHOPT/PCOMMIT; "
		"opcodes.def's P_NP takes 66 as an operand-size prefix (see its header)",
	[NBUG_REXB_90] = "66 with REX.B on 90: Capstone says NOP/PAUSE; SDM Vol. 2 XCHG: "
		"only 90 without REX.B is NOP, with REX.B it is XCHG r8, rAX",
	[NBUG_16BIT] = "16-bit mode, a form selected by a mandatory F3/F2/66 (TZCNT, LZCNT, "
		"VMXON, VMCLEAR, MOVSD, PSHUFLW): Capstone 4 names the plain form (BSF, BSR, "
		"VMPTRLD, MOVUPS, PSHUFW); the "
		"SDM's opcode tables do not depend on the mode for these",
	[NBUG_F3_REXW_7E] = "F3 REX.W 0F 7E: Capstone names MOVD/MOVQ r/m64, mm (the NP form); "
		"SDM Vol. 2 MOVQ: F3 0F 7E /r is MOVQ xmm, xmm/m64 and REX.W does not change it",
};

int name_known(const uint8_t *b, int mode, const struct insn *in)
{
	struct pfx_scan s = scan_prefixes(b, mode);
	unsigned pfx = forms[in->op].pfx;
	int decider = s.rep ? s.rep : s.has66 ? 0x66 : 0;
	if (decider && decider != s.last_legacy &&
	    (pfx != P_ANY || in->op == OP_bsf_Gv_Ev || in->op == OP_bsr_Gv_Ev))
		return NBUG_PFX_POS;
	if (decider && pfx != P_ANY && s.last_legacy == 0x67 && s.rex)
		return NBUG_PFX_POS;
	if (mode == CPU_MODE64 && s.last_legacy == 0x67 && s.rex && pfx == P_NP)
		return NBUG_67_AS_66;
	if (pfx == P_NP && s.has66 && !s.rep &&
	    (in->op == OP_clflush_Mb || in->op == OP_sfence))
		return NBUG_NP_66;
	if (in->op == OP_xchg_Zv_rAX && b[s.op] == 0x90 && s.has66 && (s.rex & 1))
		return NBUG_REXB_90;
	if (mode == CPU_MODE16 && (pfx == P_F3 || pfx == P_66 || pfx == P_F2))
		return NBUG_16BIT;
	if (in->op == OP_movq_Vx_Wq && (s.rex & 8))
		return NBUG_F3_REXW_7E;
	return -1;
}

