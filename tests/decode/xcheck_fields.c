/*
 * xcheck_fields.c - compare what we decoded with what Capstone decoded, for
 * strings whose lengths agree: the ModRM memory operand, the immediate, and
 * the instruction's name (our form name against Capstone's mnemonic).
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xcheck.h"

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
int mem_fields_differ(csh cs, const cs_insn *ci, const struct insn *in, int mode)
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
int imm_differs(const cs_insn *ci, const struct insn *in, uint32_t flags)
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
	/* REX.W makes MOVD MOVQ; the register forms of MOVLPS/MOVHPS are
	 * MOVHLPS/MOVLHPS (one form each in opcodes.def: mod selects). */
	{ "movd", "movq" }, { "movlps", "movhlps" }, { "movhps", "movlhps" },
};

int name_ok(const struct insn *in, const char *mnem)
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
