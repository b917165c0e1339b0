/*
 * decode.c - x86 instruction decoder: bytes -> struct insn (insn.h).
 *
 * The decoder is driven by opcodes.def, the one list of instruction forms:
 * the same X-macro that gives the enum and the handler table gives here a
 * per-form description (map, opcode byte, ModRM selection, mandatory prefix,
 * F_* flags) and, built once on first use, an index from (map, opcode byte)
 * to the forms that live there.  Decoding one instruction (SDM Vol. 2 2.1):
 *
 *   1. legacy prefixes and REX          parse_prefixes()
 *   2. escape bytes: 0F, 0F 38, 0F 3A   (C4 C5 62 8F may be VEX/EVEX/XOP)
 *   3. pick the form: the candidates at (map, byte) are filtered by mode
 *      (F_I64/F_O64), ModRM group (X_*) and mandatory prefix (P_*); the
 *      most specific match wins                          pick_form()
 *   4. ModRM/SIB/displacement, immediates, operand/address size
 *   5. checks that turn a form into #UD: F_MEM/F_REG, LOCK (SDM Vol. 2
 *      "LOCK": only listed forms with a memory destination)
 *
 * Anything without a form (x87, SSE, VEX, undefined bytes) is stepped over
 * by decode_len.c's length tables and decodes to OP_ud.  Instructions longer
 * than 15 bytes decode to OP_toolong (#GP(0), SDM Vol. 2 2.3.11).
 *
 * Conventions of the record (insn.h) that are fixed here:
 *   - F_REL: the sign-extended branch displacement is in imm (and disp);
 *   - F_MOFFS: the offset is in imm (zero-extended), base = index = REG_NONE;
 *   - F_FAR: imm = offset, disp = selector;  F_IWIB: imm = imm16, imm2 = imm8;
 *   - F_CC: the condition code is in imm2, and in reg for the forms whose
 *     ModRM.reg is not an operand (Jcc, SETcc); CMOVcc keeps reg = G;
 *   - imm8 is sign-extended, except port numbers, vectors and AAM/AAD's base.
 */
#include <string.h>

#include "cpu.h"
#include "decode_int.h"

/* ---- the opcode list, as data -------------------------------------------- */

struct odef {
	uint8_t map, byte, pfx;
	uint16_t ext;
	uint32_t flags;
};

static const struct odef op_defs[OP__COUNT] = {
#define OP(name, map, byte, ext, pfx, flags) [OP_##name] = { map, byte, pfx, ext, flags },
#include "opcodes.def"
#undef OP
};

static const char *const op_names[OP__COUNT] = {
#define OP(name, map, byte, ext, pfx, flags) [OP_##name] = #name,
#include "opcodes.def"
#undef OP
};

const char *insn_op_name(unsigned op)
{
	return op < OP__COUNT ? op_names[op] : "?";
}

/* Index: the forms at (map, byte) are idx_ops[idx_start[k] .. idx_start[k+1])
 * with k = map * 256 + byte.  F_ZREG forms cover 8 bytes, F_CC forms 16.
 * Built on the first decode (Nestlab's CPU runs in one thread). */
static uint16_t idx_start[4 * 256 + 1];
static uint16_t idx_ops[OP__COUNT * 16];
static int idx_built;

static int op_span(unsigned op)
{
	uint32_t f = op_defs[op].flags;
	return f & F_CC ? 16 : f & F_ZREG ? 8 : 1;
}

static void build_index(void)
{
	static uint16_t fill[4 * 256];
	memset(idx_start, 0, sizeof idx_start);
	for (unsigned op = 0; op < OP__COUNT; op++) {
		if (op == OP_ud || op == OP_toolong)
			continue;
		for (int k = 0; k < op_span(op); k++)
			idx_start[op_defs[op].map * 256 + op_defs[op].byte + k + 1]++;
	}
	for (int k = 0; k < 4 * 256; k++)
		idx_start[k + 1] += idx_start[k];
	memcpy(fill, idx_start, sizeof fill);
	for (unsigned op = 0; op < OP__COUNT; op++) {
		if (op == OP_ud || op == OP_toolong)
			continue;
		for (int k = 0; k < op_span(op); k++) {
			int slot = fill[op_defs[op].map * 256 + op_defs[op].byte + k]++;
			idx_ops[slot] = (uint16_t)op;
		}
	}
	idx_built = 1;
}
_Static_assert(OP__COUNT * 16 < 65536, "op ids fit the index");

/* ---- prefixes ---------------------------------------------------------------- */

/* Legacy prefixes in any order, then at most one REX that counts only if the
 * opcode follows it directly (SDM Vol. 2 2.2.1: a REX followed by a legacy
 * prefix is ignored).  Among F2/F3 the last one wins; so do segments. */
static void parse_prefixes(struct dstate *s)
{
	for (;;) {
		uint8_t b = ds_peek(s);
		if (s->err)
			return;
		switch (b) {
		case 0x66: s->p66 = 1; break;
		case 0x67: s->p67 = 1; break;
		case 0xf2: case 0xf3: s->rep = b; break;
		case 0xf0: s->lock = 1; break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			s->seg = (b >> 3) & 3;     /* ES CS SS DS */
			break;
		case 0x64: s->seg = SEG_FS; break;
		case 0x65: s->seg = SEG_GS; break;
		default:
			if (s->mode == CPU_MODE64 && (b & 0xf0) == 0x40) {
				s->rex = b;
				s->pos++;
				continue;
			}
			return;
		}
		s->rex = 0;
		s->pos++;
	}
}

/* Default sizes before per-form rules (SDM Vol. 1 3.6, Vol. 2 2.2.1.2). */
static void base_sizes(struct dstate *s)
{
	switch (s->mode) {
	case CPU_MODE16:
		s->osize = s->p66 ? 4 : 2;
		s->asize = s->p67 ? 4 : 2;
		break;
	case CPU_MODE32:
		s->osize = s->p66 ? 2 : 4;
		s->asize = s->p67 ? 2 : 4;
		break;
	default:
		s->osize = REX_W(s) ? 8 : s->p66 ? 2 : 4;
		s->asize = s->p67 ? 4 : 8;
		break;
	}
}

/* ---- ModRM, SIB, displacement (SDM Vol. 2 2.1.5, Tables 2-1 .. 2-3) ------ */

/* 16-bit forms:  rm  0 BX+SI  1 BX+DI  2 BP+SI  3 BP+DI  4 SI  5 DI  6 BP  7 BX */
static const uint8_t base16[8] = { R_RBX, R_RBX, R_RBP, R_RBP, R_RSI, R_RDI, R_RBP, R_RBX };
static const uint8_t index16[8] = { R_RSI, R_RDI, R_RSI, R_RDI,
				    REG_NONE, REG_NONE, REG_NONE, REG_NONE };

static void modrm_mem16(struct dstate *s, struct insn *o, int mod, int rm)
{
	if (mod == 0 && rm == 6) {         /* [disp16] */
		o->disp = (int16_t)ds_getn(s, 2);
		return;
	}
	o->base = base16[rm];
	o->index = index16[rm];
	if (mod == 1)
		o->disp = (int8_t)ds_get(s);
	else if (mod == 2)
		o->disp = (int16_t)ds_getn(s, 2);
}

/*   SIB:  7   6 5   3 2   0
 *        [scale][index][base]    index 100b (no REX.X) = none;
 *                                base 101b with mod 00 = disp32, no base */
static void modrm_mem32(struct dstate *s, struct insn *o, int mod, int rm)
{
	if (rm == 4) {
		uint8_t sib = ds_get(s);
		int idx = ((sib >> 3) & 7) | (REX_X(s) << 3);
		if (idx != 4) {
			o->index = (uint8_t)idx;
			o->scale = sib >> 6;
		}
		if ((sib & 7) == 5 && mod == 0) {
			o->disp = (int32_t)ds_getn(s, 4);
			return;
		}
		o->base = (uint8_t)((sib & 7) | (REX_B(s) << 3));
	} else if (rm == 5 && mod == 0) {
		/* [disp32]; in 64-bit mode RIP-relative (SDM Vol. 2 2.2.1.6) */
		o->disp = (int32_t)ds_getn(s, 4);
		if (s->mode == CPU_MODE64)
			o->flags |= I_RIPREL;
		return;
	} else {
		o->base = (uint8_t)(rm | (REX_B(s) << 3));
	}
	if (mod == 1)
		o->disp = (int8_t)ds_get(s);
	else if (mod == 2)
		o->disp = (int32_t)ds_getn(s, 4);
}

/*   ModRM:  7 6   5   3   2  0
 *          [mod]  [reg]  [r/m]    mod 11b: r/m names a register */
void decode_modrm(struct dstate *s, struct insn *o, int force_reg)
{
	uint8_t m = ds_get(s);
	int mod = m >> 6, rm = m & 7;
	o->modrm = m;
	o->reg = (uint8_t)(((m >> 3) & 7) | (REX_R(s) << 3));
	if (mod == 3 || force_reg) {
		o->rm = (uint8_t)(rm | (REX_B(s) << 3));
		return;
	}
	o->flags |= I_MEM;
	if (s->asize == 2)
		modrm_mem16(s, o, mod, rm);
	else
		modrm_mem32(s, o, mod, rm);
	/* rBP and rSP based addressing defaults to SS (SDM Vol. 1 3.7.4). */
	if (o->base == R_RBP || o->base == R_RSP)
		o->seg = SEG_SS;
}

/* ---- choosing the form ---------------------------------------------------------- */

/* Score of a form's ModRM selection against ModRM byte m, -1 if no match. */
static int ext_score(unsigned ext, uint8_t m)
{
	int reg = (m >> 3) & 7, mem = (m >> 6) != 3;
	switch (ext & 0xf00) {
	case 0x000: return 0;
	case 0x100: return reg == (int)(ext & 7) ? 1 : -1;
	case 0x200: return reg == (int)(ext & 7) && mem ? 2 : -1;
	case 0x300: return reg == (int)(ext & 7) && !mem ? 2 : -1;
	default:    return m == (ext & 0xff) ? 3 : -1;
	}
}

/* Mandatory prefixes (opcodes.def header): F2/F3 (the last one) take
 * precedence over 66 as the SSE-style selector, as on hardware. */
static int pfx_score(const struct dstate *s, unsigned pfx)
{
	switch (pfx) {
	case P_ANY: return 0;
	case P_NP:  return s->rep ? -1 : 1;
	case P_66:  return !s->rep && s->p66 ? 2 : -1;
	case P_F3:  return s->rep == 0xf3 ? 2 : -1;
	default:    return s->rep == 0xf2 ? 2 : -1;
	}
}

/* The best form at (map, opc) for ModRM byte m; OP_ud when none fits. */
static unsigned pick_form(const struct dstate *s, int map, int opc, uint8_t m)
{
	unsigned best = OP_ud;
	int best_score = -1;
	int k = map * 256 + opc;
	for (int j = idx_start[k]; j < idx_start[k + 1]; j++) {
		unsigned op = idx_ops[j];
		const struct odef *d = &op_defs[op];
		if ((d->flags & F_I64) && s->mode == CPU_MODE64)
			continue;
		if ((d->flags & F_O64) && s->mode != CPU_MODE64)
			continue;
		int e = ext_score(d->ext, m), p = pfx_score(s, d->pfx);
		if (e < 0 || p < 0)
			continue;
		if (e * 4 + p > best_score) {
			best_score = e * 4 + p;
			best = op;
		}
	}
	return best;
}

/* ---- operands of a listed form ---------------------------------------------------- */

static uint8_t form_osize(const struct dstate *s, const struct odef *d)
{
	if (d->flags & F_BYTE)
		return 1;
	int o66 = s->p66 && !(d->flags & F_NOSIZE) && d->pfx != P_66;
	switch (s->mode) {
	case CPU_MODE16: return o66 ? 4 : 2;
	case CPU_MODE32: return o66 ? 2 : 4;
	default:
		if ((d->flags & F_F64) || REX_W(s))
			return 8;
		if (o66)
			return 2;
		return d->flags & F_D64 ? 8 : 4;
	}
}

/* imm8 operands that are unsigned: I/O ports, vectors, AAM/AAD's base. */
static int imm8_unsigned(unsigned op)
{
	return op == OP_in_AL_Ib || op == OP_in_eAX_Ib || op == OP_out_Ib_AL ||
	       op == OP_out_Ib_eAX || op == OP_int_Ib || op == OP_aam_Ib || op == OP_aad_Ib;
}

static void read_imm(struct dstate *s, struct insn *o, uint32_t f)
{
	int z = o->osize == 2 ? 2 : 4;
	if (f & F_IB) {
		uint8_t b = ds_get(s);
		o->imm = imm8_unsigned(o->op) ? b : (uint64_t)(int64_t)(int8_t)b;
	}
	if (f & F_IW)
		o->imm = ds_getn(s, 2);
	if (f & F_IZ) {
		uint64_t v = ds_getn(s, z);
		o->imm = z == 2 ? (uint64_t)(int64_t)(int16_t)v : (uint64_t)(int64_t)(int32_t)v;
	}
	if (f & F_IV)
		o->imm = ds_getn(s, o->osize);
	if (f & F_MOFFS)
		o->imm = ds_getn(s, o->asize);
	if (f & F_IWIB) {
		o->imm = ds_getn(s, 2);
		o->imm2 = ds_get(s);
	}
	if (f & F_FAR) {
		o->imm = ds_getn(s, z);
		o->disp = (int32_t)ds_getn(s, 2);
	}
	if (f & F_REL)
		o->disp = (int32_t)o->imm;
}

/* Without any REX, byte registers 4-7 are AH CH DH BH (SDM Vol. 2 2.1.5). */
static uint8_t byte_reg(const struct dstate *s, uint8_t r)
{
	return !s->rex && r >= 4 && r < 8 ? (uint8_t)(REG8_AH + r - 4) : r;
}

/* Decode the operands of listed form `op`; the opcode byte was `opc`. */
static void decode_form(struct dstate *s, struct insn *o, unsigned op, int opc)
{
	const struct odef *d = &op_defs[op];
	uint32_t f = d->flags;
	o->op = (uint16_t)op;
	o->osize = form_osize(s, d);
	if (d->pfx == P_F3 || d->pfx == P_F2)
		o->flags &= (uint8_t)~(I_REP | I_REPNE);   /* consumed as opcode */
	if (f & F_MODRM) {
		/* MOV to/from CRn/DRn: mod is ignored (always registers) and
		 * the size is 32 bits, 64 in 64-bit mode, whatever 66 says
		 * (SDM Vol. 2 MOV-Move to/from Control/Debug Registers). */
		int crdr = d->map == M0F && opc >= 0x20 && opc <= 0x23;
		decode_modrm(s, o, crdr);
		if (crdr)
			o->osize = s->mode == CPU_MODE64 ? 8 : 4;
	}
	if (f & F_ZREG && !(f & F_MODRM))
		o->reg = (uint8_t)((opc & 7) | (REX_B(s) << 3));
	if (f & F_CC) {
		o->imm2 = opc & 15;
		if (!(f & F_MODRM) || (f & F_BYTE))   /* Jcc, SETcc */
			o->reg = opc & 15;
	}
	if ((f & F_BYTE) && !(f & F_CC))
		o->reg = byte_reg(s, o->reg);
	if ((f & (F_BYTE | F_EB)) && !(o->flags & I_MEM) && (f & F_MODRM))
		o->rm = byte_reg(s, o->rm);
	read_imm(s, o, f);
	if (f & F_MOFFS)
		o->base = o->index = REG_NONE;
	int mem = (o->flags & I_MEM) != 0;
	if (((f & F_MEM) && !mem) || ((f & F_REG) && mem))
		o->op = OP_ud;
	/* LOCK: only the listed read-modify-write forms, with a memory
	 * destination; anything else is #UD (SDM Vol. 2 "LOCK"). */
	if ((o->flags & I_LOCK) && !((f & F_LOCK) && mem))
		o->op = OP_ud;
}

/* ---- the entry point ----------------------------------------------------------------- */

static void start_record(struct dstate *s, struct insn *o)
{
	memset(o, 0, sizeof *o);
	o->mode = (uint8_t)s->mode;
	o->base = o->index = REG_NONE;
	o->seg = SEG_DS;
	o->osize = s->osize;
	o->asize = s->asize;
	o->flags = (uint8_t)((s->lock ? I_LOCK : 0) | (s->rex ? I_REX : 0) |
			     (s->rep == 0xf3 ? I_REP : 0) | (s->rep == 0xf2 ? I_REPNE : 0));
}

/* In 64-bit mode only FS and GS overrides do anything (SDM Vol. 1 3.3.7.1). */
static void apply_segment(const struct dstate *s, struct insn *o)
{
	if (s->seg == SEG_NONE)
		return;
	if (s->mode == CPU_MODE64 && s->seg != SEG_FS && s->seg != SEG_GS)
		return;
	o->seg = s->seg;
	o->flags |= I_SEGOVR;
}

static int finish(struct dstate *s, struct insn *o)
{
	if (s->err) {
		if (s->lim < 15)
			return 0;         /* the instruction goes on past avail */
		o->op = OP_toolong;       /* it would need a 16th byte */
		o->len = 15;
		return 15;
	}
	o->len = (uint8_t)s->pos;
	return s->pos;
}

/* The opcode and its map, past the escapes 0F, 0F 38, 0F 3A (SDM Vol. 2
 * 2.1.2; Appendix A.3). */
static int read_opcode(struct dstate *s, int *map)
{
	int opc = ds_get(s);
	*map = M1;
	if (opc != 0x0f)
		return opc;
	opc = ds_get(s);
	*map = M0F;
	if (opc == 0x38 || opc == 0x3a) {
		*map = opc == 0x38 ? M38 : M3A;
		opc = ds_get(s);
	}
	return opc;
}

/* Does (map, opc) have a ModRM byte?  The listed forms say so themselves
 * (all forms at one byte agree: tests/decode checks it); other bytes ask
 * decode_len.c's tables. */
static int has_modrm(int map, int opc)
{
	int k = map * 256 + opc;
	if (idx_start[k] < idx_start[k + 1])
		return (op_defs[idx_ops[idx_start[k]]].flags & F_MODRM) != 0;
	return dlen_has_modrm(map, opc);
}

int insn_decode(const uint8_t *bytes, int avail, int mode, struct insn *out)
{
	struct dstate s = { .b = bytes, .lim = avail < 0 ? 0 : avail < 15 ? avail : 15,
			    .mode = mode, .seg = SEG_NONE };
	if (!idx_built)
		build_index();
	parse_prefixes(&s);
	base_sizes(&s);
	start_record(&s, out);
	int map;
	int opc = read_opcode(&s, &map);
	if (s.err)
		return finish(&s, out);
	if (map == M1 && (opc == 0xc4 || opc == 0xc5 || opc == 0x62 || opc == 0x8f) &&
	    dlen_is_vex(&s, opc)) {
		dlen_skip_vex(&s, out, opc);
		out->op = OP_ud;
		return finish(&s, out);
	}
	uint8_t m = has_modrm(map, opc) ? ds_peek(&s) : 0;
	if (s.err)
		return finish(&s, out);
	unsigned op = pick_form(&s, map, opc, m);
	/* AMD SSE4a shares 0F 78/79 with VMREAD/VMWRITE: with 66 or F2 and a
	 * register ModRM they are EXTRQ/INSERTQ (APM Vol. 4), not run here. */
	if (map == M0F && (opc == 0x78 || opc == 0x79) && (m >> 6) == 3 &&
	    (s.rep == 0xf2 || (s.p66 && !s.rep)))
		op = OP_ud;
	/* 90 is NOP unless REX.B makes it XCHG r8, rAX (F3 90 is PAUSE). */
	if (map == M1 && opc == 0x90)
		op = REX_B(&s) ? OP_xchg_Zv_rAX : OP_nop;
	if (op == OP_ud) {
		dlen_skip_unlisted(&s, out, map, opc);
		out->op = OP_ud;
	} else {
		decode_form(&s, out, op, opc);
	}
	apply_segment(&s, out);
	return finish(&s, out);
}
