/*
 * decode_len.c - the length of every x86 encoding Nestlab does not execute.
 *
 * opcodes.def lists the forms Nestlab runs.  Everything else that a real
 * CPU accepts (x87, MMX, SSE..SSE4.2, AES, SHA, VEX, EVEX, AMD XOP, 3DNow!)
 * must still be stepped over with its true length, so that a disassembly, a
 * decoded block and the #UD the handler raises all point at the right bytes.
 * An instruction's length is fixed by four things only (SDM Vol. 2 2.1):
 *
 *   prefixes | escape (0F, 0F 38, 0F 3A, VEX/EVEX/XOP) | opcode
 *            | ModRM? (+SIB, disp by mod/rm)            | immediate size
 *
 * so this file is two compact tables per opcode map -- "has a ModRM byte" and
 * "immediate size" -- transcribed from the opcode maps of SDM Vol. 2
 * Appendix A (Tables) and, for VEX/EVEX/XOP, from SDM
 * Vol. 2 2.3 / 2.7 and the AMD APM Vol. 3 1.8 (XOP).  tests/decode checks
 * these tables against opcodes.def (every listed form gets the same length
 * either way) and against Capstone on a million random byte strings.
 */
#include "cpu.h"
#include "decode_int.h"

/* "Has ModRM" bitmaps: bit c of row r is opcode 0xrc. */

/* One-byte map, SDM Vol. 2 Table A-2 (x87 D8-DF: Table A-7..A-22). */
static const uint16_t modrm_1[16] = {
	0x0f0f, 0x0f0f, 0x0f0f, 0x0f0f,   /* 0x-3x: ALU E,G / G,E (cols 0-3, 8-B) */
	0x0000, 0x0000,                   /* 4x-5x: INC/DEC/REX, PUSH/POP reg */
	0x0a0c,                           /* 62 BOUND, 63 ARPL/MOVSXD, 69, 6B IMUL */
	0x0000,                           /* 7x: Jcc Jb */
	0xffff,                           /* 8x: groups 1, TEST..POP Ev */
	0x0000, 0x0000, 0x0000,           /* 9x-Bx */
	0x00f3,                           /* C0 C1 grp2, C4 C5 LES/LDS, C6 C7 MOV */
	0xff0f,                           /* D0-D3 grp2, D8-DF x87 */
	0x0000,                           /* Ex */
	0xc0c0,                           /* F6 F7 grp3, FE FF grp4/5 */
};

/* Two-byte map 0F xx, SDM Vol. 2 Table A-3 (0F 0F is 3DNow!, decode.c). */
static const uint16_t modrm_0f[16] = {
	0x200f,   /* 00 grp6, 01 grp7, 02 LAR, 03 LSL, 0D PREFETCHW */
	0xffff,   /* 10-17 SSE moves, 18-1F hint NOPs */
	0xff0f,   /* 20-23 MOV CR/DR, 28-2F SSE */
	0x0000,   /* 30-37 WRMSR..GETSEC, 38/3A are escapes */
	0xffff,   /* 40-4F CMOVcc */
	0xffff,   /* 50-5F SSE */
	0xffff,   /* 60-6F MMX/SSE2 */
	0xf37f,   /* 70-76, 78 79 VMREAD/VMWRITE, 7C-7F (77 EMMS has none) */
	0x0000,   /* 80-8F Jcc Jz */
	0xffff,   /* 90-9F SETcc */
	0xf8f8,   /* A3-A5 BT SHLD, A6 A7 VIA PadLock, AB-AF BTS SHRD grp15 IMUL */
	0xffff,   /* B0-BF CMPXCHG .. MOVSX */
	0x00ff,   /* C0-C7 XADD .. grp9 (C8-CF BSWAP has none) */
	0xffff, 0xffff, 0xffff,   /* D0-FF MMX/SSE2, FF UD0 */
};

/* Immediate kinds, one character per opcode of a row:
 *   .  none            b  imm8            w  imm16
 *   z  imm16/32 (by operand size)         v  imm16/32/64 (by operand size)
 *   m  moffs (by address size)            e  imm16 + imm8 (ENTER)
 *   p  ptr16:16/32 (far CALL/JMP)
 *   g  imm8 for ModRM.reg 0/1 only (F6 TEST)   G  same, immz (F7 TEST) */
static const char imm_1[16][17] = {
	"....bz......bz..", "....bz......bz..",   /* 0x 1x: ALU AL,Ib / rAX,Iz */
	"....bz......bz..", "....bz......bz..",   /* 2x 3x */
	"................", "................",   /* 4x 5x */
	"........zzbb....",                       /* 68 PUSH Iz, 69 IMUL, 6A, 6B */
	"bbbbbbbbbbbbbbbb",                       /* 7x Jcc Jb */
	"bzbb............",                       /* 80-83 group 1 */
	"..........p.....",                       /* 9A CALLF Ap */
	"mmmm....bz......",                       /* A0-A3 MOV moffs, A8 A9 TEST */
	"bbbbbbbbvvvvvvvv",                       /* B0-BF MOV reg, imm */
	"bbw...bze.w..b..",                       /* C0 C1 C2 C6 C7 C8 CA CD */
	"....bb..........",                       /* D4 AAM, D5 AAD */
	"bbbbbbbbzzpb....",                       /* E0-E7, E8 E9 Jz, EA JMPF, EB */
	"......gG........",                       /* F6 F7 group 3 TEST */
};

static const char imm_0f[16][17] = {
	"................", "................", "................", "................",
	"................", "................", "................",
	"bbbb............",                       /* 70 PSHUF*, 71-73 shift groups */
	"zzzzzzzzzzzzzzzz",                       /* 80-8F Jcc Jz */
	"................",
	"....b.......b...",                       /* A4 SHLD, AC SHRD Ib */
	"..........b.....",                       /* BA group 8 */
	"..b.bbb.........",                       /* C2 CMPPS, C4 PINSRW, C5, C6 */
	"................", "................", "................",
};

int dlen_has_modrm(int map, int opc)
{
	switch (map) {
	case M1:  return (modrm_1[opc >> 4] >> (opc & 15)) & 1;
	case M0F: return (modrm_0f[opc >> 4] >> (opc & 15)) & 1;
	default:  return 1;   /* every 0F 38 / 0F 3A opcode has ModRM */
	}
}

static int imm_kind_size(const struct dstate *s, char k, uint8_t modrm)
{
	int z = s->osize == 2 ? 2 : 4;
	int reg = (modrm >> 3) & 7;
	switch (k) {
	case 'b': return 1;
	case 'w': return 2;
	case 'z': return z;
	case 'v': return s->osize;
	case 'm': return s->asize;
	case 'e': return 3;
	case 'p': return z + 2;
	case 'g': return reg < 2 ? 1 : 0;
	case 'G': return reg < 2 ? z : 0;
	default:  return 0;
	}
}

int dlen_imm_size(const struct dstate *s, int map, int opc, uint8_t modrm)
{
	switch (map) {
	case M1:
		return imm_kind_size(s, imm_1[opc >> 4][opc & 15], modrm);
	case M0F:
		/* AMD SSE4a (APM Vol. 4): 66 0F 78 /0 EXTRQ xmm, ib, ib and
		 * F2 0F 78 INSERTQ xmm, xmm, ib, ib, register forms only;
		 * otherwise 0F 78 is VMREAD. */
		if (opc == 0x78 && (modrm >> 6) == 3 && (s->rep == 0xf2 || (s->p66 && !s->rep)))
			return 2;
		return imm_kind_size(s, imm_0f[opc >> 4][opc & 15], modrm);
	case M38:
		return 0;     /* Table A-4: no 0F 38 opcode has an immediate */
	default:
		return 1;     /* Table A-5: every 0F 3A opcode has an imm8 */
	}
}

/* C4/C5 (VEX), 62 (EVEX) and 8F (XOP) are escapes rather than LES, LDS,
 * BOUND and POP Ev when (SDM Vol. 2 2.3.5, 2.7.1; APM Vol. 3 1.8.1):
 *   - in 64-bit mode, C4 C5 62 always (LES LDS BOUND do not exist there);
 *   - elsewhere, when the next byte has mod == 11b, which LES/LDS/BOUND
 *     (memory operands only) cannot have;
 *   - 8F in any mode when the next byte's low 5 bits (XOP map_select) are
 *     8 or more: POP Ev needs ModRM.reg == 0, so bits 4:3 are clear. */
int dlen_is_vex(struct dstate *s, int opc)
{
	if (opc == 0x8f) {
		uint8_t nb = ds_peek(s);
		return !s->err && (nb & 0x1f) >= 8;
	}
	if (s->mode == CPU_MODE64)
		return 1;
	uint8_t nb = ds_peek(s);
	return !s->err && (nb >> 6) == 3;
}

/* The rest of a VEX/EVEX/XOP instruction:
 *
 *   C5 [R vvvv L pp]                   opcode ModRM ...   (map 0F)
 *   C4 [R X B mmmmm] [W vvvv L pp]     opcode ModRM ...   (mmmmm: 1 0F, 2 0F38, 3 0F3A)
 *   62 [R X B R' 0 mm] [W vvvv 1 pp] [z L'L b V' aaa]  opcode ModRM ...
 *   8F [R X B mmmmm] [W vvvv L pp]     opcode ModRM ...   (mmmmm: 8, 9, A)
 *
 * Every VEX/EVEX/XOP opcode has ModRM except VEX 0F 77 (VZEROUPPER/ALL).
 * Immediates: map 0F3A imm8; map 0F only at 70-73 and C2 C4 C5 C6 (as in the
 * legacy map); XOP map 8 imm8, map A imm32 (TBM BEXTR etc.). */
void dlen_skip_vex(struct dstate *s, struct insn *o, int opc)
{
	int map;
	uint8_t b1 = ds_get(s);
	if (opc == 0xc5) {
		map = 1;
	} else if (opc == 0x62) {
		map = b1 & 3;
		ds_get(s);
		ds_get(s);
	} else {
		map = b1 & 0x1f;
		ds_get(s);
	}
	uint8_t op = ds_get(s);
	int xop = opc == 0x8f;
	if ((!xop && (map < 1 || map > 3)) || (xop && (map < 8 || map > 10)))
		return;       /* no such map: #UD at the opcode */
	if (!xop && map == 1 && op == 0x77 && opc != 0x62)
		return;
	decode_modrm(s, o, 0);
	int imm = 0;
	if (xop)
		imm = map == 8 ? 1 : map == 10 ? 4 : 0;
	else if (map == 3)
		imm = 1;
	else if (map == 1)
		imm = imm_0f[op >> 4][op & 15] == 'b';
	ds_getn(s, imm);
}

void dlen_skip_unlisted(struct dstate *s, struct insn *o, int map, int opc)
{
	uint8_t modrm = 0;
	if (map == M0F && opc == 0x0f) {
		/* 3DNow! (AMD APM Vol. 5): 0F 0F ModRM ... imm8, the imm8
		 * being the real opcode. */
		decode_modrm(s, o, 0);
		ds_get(s);
		return;
	}
	if (dlen_has_modrm(map, opc)) {
		/* MOV to/from CRn/DRn ignore mod (SDM Vol. 2 MOV-Control Regs). */
		int force_reg = map == M0F && opc >= 0x20 && opc <= 0x23;
		decode_modrm(s, o, force_reg);
		modrm = o->modrm;
	}
	ds_getn(s, dlen_imm_size(s, map, opc, modrm));
}
