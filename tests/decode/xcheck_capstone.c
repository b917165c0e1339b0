/*
 * xcheck_capstone.c - instruction lengths: our decoder against Capstone 4.
 *
 * Feeds random 15-byte strings to insn_decode() and to Capstone's
 * cs_disasm(count 1) in the same mode.  Wherever Capstone decodes an
 * instruction, the two lengths must agree; a mismatch prints the bytes, both
 * lengths, both readings, and the run fails.  The strings are biased so that
 * the interesting parts of the encoding space are well covered:
 *
 *   1/4  purely random bytes
 *   3/8  random legacy prefixes (+ REX in 64-bit mode), then an escape
 *        (none, 0F, 0F 38, 0F 3A) chosen at random, then random bytes
 *   1/4  an opcode taken from opcodes.def (its escape, its byte, a ModRM
 *        that selects its group, its mandatory prefix), then random bytes
 *   1/8  a VEX, EVEX or XOP escape with a valid map field, then random bytes
 *
 * Capstone 4.0.2 has a few known length bugs.  They are NOT papered over by
 * loosening the comparison: known_bug() names each exact encoding pattern,
 * with the reason checked against the SDM, and the run counts every string
 * that fell under one.  Deterministic: a fixed seed unless --seed is given.
 *
 * With --fields, for every string that decodes to a listed (executed) form,
 * the instruction's name (our form against Capstone's mnemonic, so a wrong
 * group or mandatory-prefix choice shows), its ModRM memory operand (base,
 * index, scale, displacement, segment override) and its immediate (value,
 * or branch target) are compared too; Capstone's naming quirks are listed
 * the same way as its length bugs (name_known()).
 *
 * usage: xcheck_capstone [--mode 16|32|64] [--count N] [--seed S] [--fields] [--quiet]
 *        xcheck_capstone [--mode 16|32|64] --show "66 0f 78 c0"   (both readings)
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "insn.h"

struct form { uint8_t map, byte, pfx; uint16_t ext; uint32_t flags; };
static const struct form forms[] = {
#define OP(name, map, byte, ext, pfx, flags) { map, byte, pfx, ext, flags },
#include "opcodes.def"
#undef OP
};
#define NFORMS (sizeof forms / sizeof forms[0])

static uint64_t rng_state;
static uint64_t rnd(void)              /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static const uint8_t legacy_pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e,
				      0x36, 0x3e, 0x64, 0x65, 0x66, 0x66, 0xf3 };

/* Random prefixes; returns how many bytes were written. */
static int gen_prefixes(uint8_t *b, int mode)
{
	int n = 0, k = (int)rn(4);
	for (int j = 0; j < k; j++)
		b[n++] = legacy_pfx[rn(sizeof legacy_pfx)];
	if (mode == CPU_MODE64 && rn(2))
		b[n++] = (uint8_t)(0x40 | rn(16));
	return n;
}

static void gen_escape(uint8_t *b, int *n, int map)
{
	if (map == M1)
		return;
	b[(*n)++] = 0x0f;
	if (map == M38)
		b[(*n)++] = 0x38;
	else if (map == M3A)
		b[(*n)++] = 0x3a;
}

/* C5/C4 VEX, 62 EVEX, 8F XOP with a map field that exists (SDM Vol. 2 2.3,
 * 2.7; APM Vol. 3 1.8); outside 64-bit mode with the mod=11 bits set. */
static void gen_vex(uint8_t *b, int n, int mode)
{
	static const uint8_t esc[] = { 0xc5, 0xc4, 0x62, 0x8f };
	uint8_t e = esc[rn(4)];
	b[n] = e;
	uint8_t *p = b + n + 1;
	if (e == 0xc4)
		p[0] = (uint8_t)((p[0] & 0xe0) | (1 + rn(3)));
	else if (e == 0x8f)
		p[0] = (uint8_t)((p[0] & 0xe0) | (8 + rn(3)));
	else if (e == 0x62) {
		p[0] = (uint8_t)((p[0] & 0xf0) | (1 + rn(3)));
		p[1] |= 0x04;
	}
	if (mode != CPU_MODE64 && e != 0x8f)
		p[0] |= 0xc0;
}

static void gen(uint8_t *b, int mode)
{
	for (int j = 0; j < 15; j++)
		b[j] = (uint8_t)rnd();
	unsigned kind = rn(8);
	if (kind < 2)
		return;
	int n = kind == 7 && rn(2) ? 0 : gen_prefixes(b, mode);
	if (kind < 5) {
		gen_escape(b, &n, (int)rn(4));
		return;
	}
	if (kind == 7) {
		gen_vex(b, n, mode);
		return;
	}
	const struct form *f = &forms[2 + rn(NFORMS - 2)];   /* skip ud, toolong */
	static const uint8_t mpfx[] = { 0, 0, 0x66, 0xf3, 0xf2 };
	if (f->pfx != P_ANY && mpfx[f->pfx] && n < 5)
		b[n++] = mpfx[f->pfx];
	gen_escape(b, &n, f->map);
	int span = f->flags & F_CC ? 16 : f->flags & F_ZREG ? 8 : 1;
	b[n++] = (uint8_t)(f->byte + rn((unsigned)span));
	uint8_t m = b[n];
	switch (f->ext & 0xf00) {
	case 0x100: m = (uint8_t)((m & 0xc7) | (f->ext & 7) << 3); break;
	case 0x200: m = (uint8_t)((m & 0xc7) | (f->ext & 7) << 3);
		    if ((m >> 6) == 3) m &= 0x7f;
		    break;
	case 0x300: m = (uint8_t)(0xc0 | (m & 7) | (f->ext & 7) << 3); break;
	case 0x400: m = (uint8_t)f->ext; break;
	}
	b[n] = m;
}

/* ---- Capstone 4.0.2's known length bugs ----------------------------------------- */

/* Each entry is one exact encoding pattern where Capstone 4.0.2 is wrong
 * and why (what the SDM says).  A mismatch counts as known only if it is
 * that pattern AND the lengths differ by exactly what the bug explains. */
enum {
	BUG_BRANCH66, BUG_66_THEN_REP, BUG_RET_REXW, BUG_UD1, BUG_UD0, BUG_SSE4A_PFX,
	BUG_EVEX_RC, BUG_EVEX67_DISP, BUG_XOP_IMM16, NBUGS
};
static const char *const bug_names[NBUGS] = {
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
static uint64_t bug_counts[NBUGS];

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
static int known_bug(const uint8_t *b, int mode, int ours, int theirs, const char *cs_ops)
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

/* ---- memory operand fields ------------------------------------------------------------ */

/* GPR number (0-15) of a Capstone register name of any width, 16 for
 * RIP/EIP, -1 for none or anything else. */
static int gpr_num(csh cs, x86_reg r)
{
	static const char *const names[16][4] = {
		{ "rax", "eax", "ax", "al" }, { "rcx", "ecx", "cx", "cl" },
		{ "rdx", "edx", "dx", "dl" }, { "rbx", "ebx", "bx", "bl" },
		{ "rsp", "esp", "sp", "spl" }, { "rbp", "ebp", "bp", "bpl" },
		{ "rsi", "esi", "si", "sil" }, { "rdi", "edi", "di", "dil" },
	};
	if (r == X86_REG_INVALID)
		return -1;
	const char *n = cs_reg_name(cs, r);
	if (!n)
		return -1;
	if (!strcmp(n, "rip") || !strcmp(n, "eip"))
		return 16;
	for (int k = 0; k < 8; k++)
		for (int w = 0; w < 4; w++)
			if (!strcmp(n, names[k][w]))
				return k;
	if (n[0] == 'r' && n[1] >= '0' && n[1] <= '9') {
		int v = atoi(n + 1);
		return v >= 8 && v <= 15 ? v : -1;
	}
	return -1;
}

/* Compare our ModRM memory operand with Capstone's first memory operand:
 * base, index, scale, displacement (modulo the address size), segment
 * override.  Returns 0 when they agree. */
static int mem_fields_differ(csh cs, const cs_insn *ci, const struct insn *in, int mode)
{
	const cs_x86 *x = &ci->detail->x86;
	const x86_op_mem *m = NULL;
	for (int k = 0; k < x->op_count; k++)
		if (x->operands[k].type == X86_OP_MEM) {
			m = &x->operands[k].mem;
			break;
		}
	if (!m)
		return 1;
	int base = gpr_num(cs, m->base), index = gpr_num(cs, m->index);
	int our_base = in->flags & I_RIPREL ? 16 : in->base == REG_NONE ? -1 : in->base;
	int our_index = in->index == REG_NONE ? -1 : in->index;
	uint64_t amask = in->asize == 8 ? ~0ull : (1ull << (8 * in->asize)) - 1;
	if (base != our_base || index != our_index)
		return 1;
	if (index >= 0 && m->scale != (1 << in->scale))
		return 1;
	if ((((uint64_t)m->disp - (uint64_t)(int64_t)in->disp) & amask) != 0)
		return 1;
	static const x86_reg sregs[6] = { X86_REG_ES, X86_REG_CS, X86_REG_SS,
					  X86_REG_DS, X86_REG_FS, X86_REG_GS };
	/* Capstone names an override only when there is one; in 64-bit mode
	 * it also names the ignored CS/DS/ES/SS ones, which we drop. */
	if (m->segment != X86_REG_INVALID) {
		int fsgs = m->segment == X86_REG_FS || m->segment == X86_REG_GS;
		if ((mode != CPU_MODE64 || fsgs) &&
		    (!(in->flags & I_SEGOVR) || sregs[in->seg] != m->segment))
			return 1;
	} else if (in->flags & I_SEGOVR) {
		return 1;
	}
	return 0;
}

/* Compare our immediate with Capstone's last immediate operand, modulo the
 * immediate's own width (Capstone prints some signed and some unsigned;
 * our sign-extension is the unit tests' business).  A branch's is compared
 * as its target, modulo 16 bits: Capstone wraps targets by the address size
 * and by AMD's 66H reading, neither of which is a length question.  ENTER
 * has two immediates, a far pointer a selector and an offset.  Returns 0 when
 * they agree, 1 when not, -1 when Capstone shows no immediate (AAM/AAD 10). */
static int imm_differs(const cs_insn *ci, const struct insn *in, uint32_t flags)
{
	const cs_x86 *x = &ci->detail->x86;
	int64_t v[2];
	int n = 0;
	for (int k = 0; k < x->op_count && n < 2; k++)
		if (x->operands[k].type == X86_OP_IMM)
			v[n++] = x->operands[k].imm;
	if (n == 0)
		return -1;
	uint64_t last = (uint64_t)v[n - 1];
	int zbytes = in->osize == 2 ? 2 : 4;
	if (flags & F_REL)
		return (uint16_t)(ci->address + ci->size + in->imm) != (uint16_t)last;
	if (flags & F_IWIB)
		return n != 2 || (uint16_t)v[0] != in->imm || (uint8_t)v[1] != in->imm2;
	if (flags & F_FAR)
		return n != 2 || (uint16_t)v[0] != (uint16_t)in->disp || (uint64_t)v[1] != in->imm;
	if (flags & F_IB)
		return (uint8_t)last != (uint8_t)in->imm;
	if (flags & F_IW)
		return (uint16_t)last != (uint16_t)in->imm;
	if (flags & F_IZ)
		return zbytes == 2 ? (uint16_t)last != (uint16_t)in->imm
				   : (uint32_t)last != (uint32_t)in->imm;
	return last != in->imm;                           /* Iv: the whole value */
}

/* ---- driver ------------------------------------------------------------------------ */

static void print_bytes(const uint8_t *b, int n)
{
	for (int j = 0; j < n; j++)
		printf("%02x%s", b[j], j + 1 < n ? " " : "");
}

/* ---- instruction names ---------------------------------------------------------------- */

/* Does Capstone's mnemonic name the form we chose?  Our names are Intel
 * operand notation ("add_Ev_Gv"): the part before the first '_' is the
 * mnemonic, with these differences in spelling (cc forms are checked with
 * their condition, string and size-suffixed forms by their stem). */
static const char *const cc_names[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
					  "s", "ns", "p", "np", "l", "ge", "le", "g" };
static const struct { const char *ours, *stem; } name_alias[] = {
	{ "callf", "lcall" }, { "jmpf", "ljmp" }, { "retf", "ret" }, { "sal", "sh" },
	{ "cbw", "c" }, { "cwd", "c" }, { "xlat", "xlat" }, { "fwait", "wait" },
	{ "insb", "insb" }, { "insv", "ins" }, { "outsb", "outsb" }, { "outsv", "outs" },
	{ "movsb", "movsb" }, { "movsv", "movs" }, { "cmpsb", "cmpsb" }, { "cmpsv", "cmps" },
	{ "stosb", "stosb" }, { "stosv", "stos" }, { "lodsb", "lodsb" }, { "lodsv", "lods" },
	{ "scasb", "scasb" }, { "scasv", "scas" }, { "iret", "iret" }, { "pushf", "pushf" },
	{ "popf", "popf" }, { "pusha", "pusha" }, { "popa", "popa" }, { "mov", "mov" },
	{ "cmpxchg8b", "cmpxchg" }, { "fxsave", "fxsave" }, { "fxrstor", "fxrstor" },
	{ "sysret", "sysret" }, { "sysexit", "sysexit" }, { "jrcxz", "j" }, { "nop", "" },
	{ "test", "test" }, { "push", "push" }, { "pop", "pop" }, { "ret", "ret" },
};

static int name_ok(const struct insn *in, const char *mnem)
{
	/* Capstone puts prefixes into the mnemonic: "lock add", "rep stosb". */
	for (const char *sp; (sp = strchr(mnem, ' ')) != NULL; )
		mnem = sp + 1;
	const char *ours = insn_op_name(in->op);
	char base[32];
	size_t n = strcspn(ours, "_");
	if (n >= sizeof base)
		return 0;
	memcpy(base, ours, n);
	base[n] = 0;
	char want[32];
	const char *cc = cc_names[in->imm2 & 15];
	if (!strcmp(base, "jcc") || !strcmp(base, "setcc") || !strcmp(base, "cmovcc")) {
		snprintf(want, sizeof want, "%s%s", base[0] == 'j' ? "j" : base[0] == 's' ? "set"
			 : "cmov", cc);
		return !strcmp(mnem, want);
	}
	if (!strcmp(mnem, base))
		return 1;
	for (size_t k = 0; k < sizeof name_alias / sizeof name_alias[0]; k++)
		if (!strcmp(base, name_alias[k].ours))
			return !strncmp(mnem, name_alias[k].stem, strlen(name_alias[k].stem));
	return 0;
}

/* Where Capstone names a different instruction for the same bytes and
 * length, and is wrong (or reads a rule differently), by exact pattern. */
enum { NBUG_PFX_POS, NBUG_67_AS_66, NBUG_NP_66, NBUG_REXB_90, NBUG_16BIT, NNBUGS };
static const char *const nbug_names[NNBUGS] = {
	[NBUG_PFX_POS] = "Capstone takes the mandatory prefix (66/F2/F3) only from the last "
		"legacy prefix byte (VMXON/VMCLEAR/VMPTRLD, TZCNT/BSF, LZCNT/BSR); SDM Vol. 2 "
		"2.1.1: prefix order is free, F2/F3 take precedence over 66",
	[NBUG_67_AS_66] = "64-bit, 67 as the last legacy prefix before a REX: Capstone reads "
		"it as the 66 selector (VMCLEAR, EXTRQ); 67 is the address-size override",
	[NBUG_NP_66] = "66 on an NP form (CLFLUSH, SFENCE): Capstone names CLFLUSHOPT/PCOMMIT; "
		"opcodes.def's P_NP takes 66 as an operand-size prefix (see its header)",
	[NBUG_REXB_90] = "66 with REX.B on 90: Capstone says NOP/PAUSE; SDM Vol. 2 XCHG: "
		"only 90 without REX.B is NOP, with REX.B it is XCHG r8, rAX",
	[NBUG_16BIT] = "16-bit mode, a form selected by a mandatory F3/66 (TZCNT, LZCNT, "
		"VMXON, VMCLEAR): Capstone 4 names the plain form (BSF, BSR, VMPTRLD); the "
		"SDM's opcode tables do not depend on the mode for these",
};
static uint64_t nbug_counts[NNBUGS];

static int name_known(const uint8_t *b, int mode, const struct insn *in)
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
	if (mode == CPU_MODE16 && (pfx == P_F3 || pfx == P_66))
		return NBUG_16BIT;
	return -1;
}

struct xstats {
	uint64_t decoded, agree, ud_agree, known, mismatches;
	uint64_t mem_checked, mem_differ, imm_checked, imm_differ, name_checked, name_differ;
};

/* The operand fields of a string whose lengths agree (--fields). */
static void check_fields(csh cs, const cs_insn *ci, const uint8_t *b, const struct insn *in,
			 int mode, int quiet, struct xstats *st)
{
	uint32_t ff = forms[in->op].flags;
	if (in->op == OP_ud || in->op == OP_toolong)
		return;
	st->name_checked++;
	int nk = name_ok(in, ci->mnemonic) ? -2 : name_known(b, mode, in);
	if (nk >= 0)
		nbug_counts[nk]++;
	if (nk == -1) {
		if (!quiet || st->name_differ < 20) {
			printf("NAME mode %d: ", 16 << mode);
			print_bytes(b, in->len);
			printf("  ours %s  capstone %s %s\n", insn_op_name(in->op), ci->mnemonic,
			       ci->op_str);
		}
		st->name_differ++;
	}
	if (ff & (F_IB | F_IW | F_IZ | F_IV | F_IWIB | F_FAR)) {
		int d = imm_differs(ci, in, ff);
		st->imm_checked += d >= 0;
		if (d > 0 && (!quiet || st->imm_differ < 20)) {
			printf("IMM mode %d: ", 16 << mode);
			print_bytes(b, in->len);
			printf("  ours %s imm %#llx imm2 %d osize %d  capstone %s %s\n",
			       insn_op_name(in->op), (unsigned long long)in->imm, in->imm2,
			       in->osize, ci->mnemonic, ci->op_str);
		}
		st->imm_differ += d > 0;
	}
	if (in->flags & I_MEM) {
		st->mem_checked++;
		int d = mem_fields_differ(cs, ci, in, mode);
		if (d && (!quiet || st->mem_differ < 20)) {
			printf("FIELDS mode %d: ", 16 << mode);
			print_bytes(b, in->len);
			printf("  ours %s base %d index %d scale %d disp %d seg %d%s  capstone %s %s\n",
			       insn_op_name(in->op), in->base, in->index, in->scale, in->disp,
			       in->seg, in->flags & I_RIPREL ? " rip" : "", ci->mnemonic, ci->op_str);
		}
		st->mem_differ += d != 0;
	}
}

/* Decode one 15-byte string both ways and account for it. */
static void check_one(csh cs, cs_insn *ci, const uint8_t *b, int mode, int fields,
		      int quiet, struct xstats *st)
{
	struct insn in;
	int ours = insn_decode(b, 15, mode, &in);
	const uint8_t *code = b;
	size_t size = 15;
	uint64_t addr = 0x1000;
	if (!cs_disasm_iter(cs, &code, &size, &addr, ci))
		return;
	st->decoded++;
	int theirs = ci->size;
	if (ours == theirs) {
		st->agree++;
		st->ud_agree += in.op == OP_ud;
		if (fields)
			check_fields(cs, ci, b, &in, mode, quiet, st);
		return;
	}
	int k = known_bug(b, mode, ours, theirs, ci->op_str);
	if (k >= 0) {
		st->known++;
		bug_counts[k]++;
		return;
	}
	if (!quiet || st->mismatches < 20) {
		printf("MISMATCH mode %d: ", 16 << mode);
		print_bytes(b, 15);
		printf("  ours %d (%s)  capstone %d (%s %s)\n", ours, insn_op_name(in.op),
		       theirs, ci->mnemonic, ci->op_str);
	}
	st->mismatches++;
}

/* --show HEX: both readings of one byte string, for debugging. */
static int show(csh cs, int mode, const char *hex)
{
	uint8_t b[15] = { 0 };
	int n = 0;
	while (*hex && n < 15) {
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		if (end == hex)
			break;
		b[n++] = (uint8_t)v;
		hex = end;
	}
	struct insn in;
	int ours = insn_decode(b, n, mode, &in);
	printf("ours: len %d %s osize %d asize %d reg %d rm %d base %d index %d scale %d "
	       "disp %d imm %#llx imm2 %d seg %d flags %#x\n", ours, insn_op_name(in.op),
	       in.osize, in.asize, in.reg, in.rm, in.base, in.index, in.scale, in.disp,
	       (unsigned long long)in.imm, in.imm2, in.seg, in.flags);
	cs_insn *ci;
	size_t c = cs_disasm(cs, b, (size_t)n, 0x1000, 1, &ci);
	if (c) {
		printf("capstone: len %d %s %s\n", ci->size, ci->mnemonic, ci->op_str);
		cs_free(ci, c);
	} else {
		printf("capstone: no decode\n");
	}
	return 0;
}

static void print_summary(int mode_bits, uint64_t count, int fields, const struct xstats *st)
{
	printf("mode %d: %" PRIu64 " strings, capstone decoded %" PRIu64 ", lengths agree %"
	       PRIu64 " (%" PRIu64 " of them #UD here), known capstone bugs %" PRIu64
	       ", mismatches %" PRIu64 "\n", mode_bits, count, st->decoded, st->agree,
	       st->ud_agree, st->known, st->mismatches);
	for (int k = 0; k < NBUGS; k++)
		printf("  known capstone bug %d (%s): %" PRIu64 "\n", k, bug_names[k],
		       bug_counts[k]);
	if (fields) {
		printf("mode %d: names compared %" PRIu64 ", differing %" PRIu64 "; memory "
		       "operands compared %" PRIu64 ", differing %" PRIu64 "; immediates "
		       "compared %" PRIu64 ", differing %" PRIu64 "\n", mode_bits,
		       st->name_checked, st->name_differ, st->mem_checked, st->mem_differ,
		       st->imm_checked, st->imm_differ);
		for (int k = 0; k < NNBUGS; k++)
			printf("  known capstone name difference %d (%s): %" PRIu64 "\n", k,
			       nbug_names[k], nbug_counts[k]);
	}
	uint64_t bad = st->mem_differ + st->imm_differ + st->name_differ;
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n",
	       st->agree + st->known - bad, st->mismatches + bad);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--mode 16|32|64] [--count N] [--seed S] [--fields] [--quiet]\n"
		"       %s [--mode 16|32|64] --show \"66 0f 78 c0\"\n", argv0, argv0);
	return 2;
}

int main(int argc, char **argv)
{
	int mode_bits = 64, quiet = 0, fields = 0;
	const char *show_hex = NULL;
	uint64_t count = 100000, seed = 0x4e45535444454331ull;   /* "NESTDEC1" */
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--mode") && a + 1 < argc)
			mode_bits = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--count") && a + 1 < argc)
			count = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--show") && a + 1 < argc)
			show_hex = argv[++a];
		else if (!strcmp(argv[a], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[a], "--fields"))
			fields = 1;
		else
			return usage(argv[0]);
	}
	int mode = mode_bits == 16 ? CPU_MODE16 : mode_bits == 32 ? CPU_MODE32 : CPU_MODE64;
	cs_mode csm = mode_bits == 16 ? CS_MODE_16 : mode_bits == 32 ? CS_MODE_32 : CS_MODE_64;
	if (mode_bits != 16 && mode_bits != 32 && mode_bits != 64) {
		fprintf(stderr, "xcheck_capstone: --mode must be 16, 32 or 64\n");
		return 2;
	}
	csh cs;
	if (cs_open(CS_ARCH_X86, csm, &cs) != CS_ERR_OK) {
		fprintf(stderr, "xcheck_capstone: cs_open failed\n");
		return 2;
	}
	if (show_hex) {
		show(cs, mode, show_hex);
		cs_close(&cs);
		return 0;
	}
	if (fields)
		cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	rng_state = seed ^ (uint64_t)mode_bits;
	struct xstats st = { 0 };
	cs_insn *ci = cs_malloc(cs);
	for (uint64_t t = 0; t < count; t++) {
		uint8_t b[15];
		gen(b, mode);
		check_one(cs, ci, b, mode, fields, quiet, &st);
	}
	cs_free(ci, 1);
	cs_close(&cs);
	print_summary(mode_bits, count, fields, &st);
	return st.mismatches || st.mem_differ || st.imm_differ || st.name_differ ? 1 : 0;
}
