/*
 * compare.c - comparing two executors' results, and printing sequences.
 *
 * What is compared: the exception vector (or none), RIP (the end address or
 * the faulting instruction), the sixteen GPRs, RFLAGS, the data page and the
 * stack page.  RFLAGS is compared on CMP_FLAGS: every bit a user-mode
 * sequence can see or change, less RF (set in the RFLAGS image of a fault,
 * SDM Vol. 3 18.3.1.1, so only the native executor's fault context has it).
 * Of the arithmetic flags, exactly those the SDM leaves undefined at that
 * point of the sequence are left out (seq_undef_at, computed by seq.c).
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"


static const char *const gpr_name[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

const char *reg_name64(int r)
{
	return r >= 0 && r < 16 ? gpr_name[r] : "?";
}

#define OUT(...) do { \
	if (o < outlen) o += (size_t)snprintf(out + o, outlen - o, __VA_ARGS__); \
} while (0)

static void vec_str(int v, char *b, size_t n)
{
	if (v == XV_NONE)
		snprintf(b, n, "none");
	else if (v == XV_TIMEOUT)
		snprintf(b, n, "timeout");
	else
		snprintf(b, n, "#%d", v);
}

/* The x87/MMX/SSE state: control, status and (abridged) tag words, MXCSR,
 * the eight 80-bit registers and the sixteen XMM registers.  Unicorn 2.0.1
 * (QEMU 5) leaves bits 79:64 of a register alone when an MMX instruction
 * writes it (SDM Vol. 1 9.5.1: they become all ones): against Unicorn
 * (st_sig_only) only the significand of ST0-7 is compared. */
static int compare_fpu(const struct xresult *ra, const char *an, const struct xresult *rb,
		       const char *bn, char *out, size_t outlen, size_t *op)
{
	const struct seq_fpu *a = &ra->fpu, *b = &rb->fpu;
	size_t o = *op;
	int ndiff = 0;
	if (a->fcw != b->fcw || a->fsw != b->fsw || a->ftw != b->ftw || a->mxcsr != b->mxcsr) {
		OUT("  fpu: %s=fcw %#x fsw %#x ftw %#x mxcsr %#x  %s=fcw %#x fsw %#x ftw %#x "
		    "mxcsr %#x\n", an, a->fcw, a->fsw, a->ftw, a->mxcsr, bn, b->fcw, b->fsw,
		    b->ftw, b->mxcsr);
		ndiff++;
	}
	bool uc = ra->st_sig_only || rb->st_sig_only;
	for (int k = 0; k < 8; k++)
		if (memcmp(a->st[k], b->st[k], uc ? 8 : 10)) {
			uint64_t ma, mb;
			uint16_t ea, eb;
			memcpy(&ma, a->st[k], 8);
			memcpy(&mb, b->st[k], 8);
			memcpy(&ea, a->st[k] + 8, 2);
			memcpy(&eb, b->st[k] + 8, 2);
			OUT("  st%d: %s=%04x:%016" PRIx64 " %s=%04x:%016" PRIx64 "\n", k, an, ea, ma,
			    bn, eb, mb);
			ndiff++;
		}
	for (int k = 0; k < 16; k++)
		if (memcmp(a->xmm[k], b->xmm[k], 16)) {
			uint64_t qa[2], qb[2];
			memcpy(qa, a->xmm[k], 16);
			memcpy(qb, b->xmm[k], 16);
			OUT("  xmm%d: %s=%016" PRIx64 "_%016" PRIx64 " %s=%016" PRIx64 "_%016" PRIx64
			    "\n", k, an, qa[1], qa[0], bn, qb[1], qb[0]);
			ndiff++;
		}
	*op = o;
	return ndiff;
}

int compare_results(const struct seq_code *c, const struct xresult *a, const char *an,
		    const struct xresult *b, const char *bn, char *out, size_t outlen)
{
	size_t o = 0;
	int ndiff = 0;
	out[0] = 0;
	if (a->error || b->error) {
		OUT("  executor error: %s=%s %s=%s\n", an, a->error ? a->err : "ok",
		    bn, b->error ? b->err : "ok");
		return 1;
	}
	if (a->vector != b->vector) {
		char va[16], vb[16];
		vec_str(a->vector, va, sizeof va);
		vec_str(b->vector, vb, sizeof vb);
		OUT("  exception: %s=%s %s=%s\n", an, va, bn, vb);
		ndiff++;
	}
	if (a->rip != b->rip) {
		OUT("  rip: %s=%#" PRIx64 " %s=%#" PRIx64 "\n", an, a->rip, bn, b->rip);
		ndiff++;
	}
	for (int k = 0; k < 16; k++)
		if (a->gpr[k] != b->gpr[k]) {
			OUT("  %s: %s=%#018" PRIx64 " %s=%#018" PRIx64 "\n", gpr_name[k], an,
			    a->gpr[k], bn, b->gpr[k]);
			ndiff++;
		}
	uint64_t mask = CMP_FLAGS & ~(uint64_t)seq_undef_at(c, a->rip);
	if ((a->rflags ^ b->rflags) & mask) {
		OUT("  rflags: %s=%#" PRIx64 " %s=%#" PRIx64 " (differ %#" PRIx64
		    ", undefined here %#x)\n", an, a->rflags, bn, b->rflags,
		    (a->rflags ^ b->rflags) & mask, seq_undef_at(c, a->rip));
		ndiff++;
	}
	ndiff += compare_fpu(a, an, b, bn, out, outlen, &o);
	const uint8_t *pa[2] = { a->data, a->stack }, *pb[2] = { b->data, b->stack };
	for (int p = 0; p < 2; p++) {
		int shown = 0;
		for (unsigned k = 0; k < SEQ_PAGE; k++) {
			if (pa[p][k] == pb[p][k])
				continue;
			ndiff++;
			if (shown++ < 12)
				OUT("  [%#" PRIx64 "]: %s=%02x %s=%02x\n",
				    (uint64_t)((p ? SEQ_STACK : SEQ_DATA) + k), an, pa[p][k], bn, pb[p][k]);
		}
		if (shown > 12)
			OUT("  ... %d differing bytes in the %s page\n", shown, p ? "stack" : "data");
	}
	return ndiff;
}

void print_sequence(FILE *f, const struct seq *s, const struct seq_code *c)
{
	csh h;
	cs_insn *insn;
	fprintf(f, "  initial state (memory base %s = data+%#" PRIx64 ", index %s = %" PRIu64 "):\n",
		gpr_name[s->base_reg], (uint64_t)(s->init.gpr[s->base_reg] - SEQ_DATA),
		gpr_name[s->index_reg], s->init.gpr[s->index_reg]);
	for (int k = 0; k < 16; k++)
		fprintf(f, "    %-3s = %#018" PRIx64 "%s", gpr_name[k], s->init.gpr[k],
			k % 4 == 3 ? "\n" : "");
	fprintf(f, "    rflags = %#" PRIx64 "\n", s->init.rflags);
	fprintf(f, "  code at %#llx (%u bytes):\n", (unsigned long long)(SEQ_CODE + c->start),
		c->len - c->start);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		fprintf(f, "    (capstone unavailable)\n");
		return;
	}
	for (int k = 0; k < c->ninsn; k++) {
		uint32_t off = c->insn_off[k];
		uint32_t len = (k + 1 < c->ninsn ? c->insn_off[k + 1] : c->len) - off;
		char hex[64] = "";
		for (uint32_t b = 0; b < len && b < 15; b++)
			snprintf(hex + 3 * b, sizeof hex - 3 * b, "%02x ", c->bytes[off + b]);
		size_t n = cs_disasm(h, c->bytes + off, len, SEQ_CODE + off, 1, &insn);
		const char *note = "";
		if (!n && c->bytes[off] == 0xf0) {
			/* Capstone 4 refuses LOCK where it is invalid (#UD):
			 * show the instruction without it */
			n = cs_disasm(h, c->bytes + off + 1, len - 1, SEQ_CODE + off + 1, 1, &insn);
			note = "  (with LOCK: invalid, #UD)";
		}
		int cls = c->insn_item[k] >= 0 ? s->it[c->insn_item[k]].cls : -1;
		char text[200];
		snprintf(text, sizeof text, "%.32s %.120s%s", n ? insn[0].mnemonic : "(Capstone 4: no decode)",
			 n ? insn[0].op_str : "", note);
		fprintf(f, "    %#7llx: %-45s %-44s ; %s\n", (unsigned long long)(SEQ_CODE + off), hex,
			text, gclass_name(cls));
		if (n)
			cs_free(insn, n);
	}
	fprintf(f, "    %#7llx: (end)\n", (unsigned long long)(SEQ_CODE + c->len));
	cs_close(&h);
}
