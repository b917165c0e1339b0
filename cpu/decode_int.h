/*
 * decode_int.h - what decode.c and decode_len.c share (private to them).
 *
 * decode.c decodes the forms listed in opcodes.def; decode_len.c knows the
 * LENGTH of every other x86 encoding (x87, MMX/SSE, VEX, EVEX, XOP, 3DNow!)
 * so that those still occupy the right number of bytes and decode to a #UD
 * record.  Both read the instruction bytes through one cursor, `struct
 * dstate`, which refuses to read past min(avail, 15) bytes: a read past that
 * limit returns 0 and sets `err`, and insn_decode() then answers "need more
 * bytes" (0) or, when 15 bytes were there, "too long" (SDM Vol. 2 2.3.11).
 */
#ifndef NESTLAB_DECODE_INT_H
#define NESTLAB_DECODE_INT_H

#include <stdint.h>

#include "insn.h"

struct dstate {
	const uint8_t *b;
	int lim;          /* readable bytes: min(avail, 15) */
	int pos;          /* next byte to read */
	int err;          /* a read went past lim */
	int mode;         /* enum cpu_mode */
	uint8_t rex;      /* the REX byte that applies (0x40-0x4F), or 0 */
	uint8_t p66;      /* 66 seen */
	uint8_t p67;      /* 67 seen */
	uint8_t rep;      /* the last of F2/F3, or 0 */
	uint8_t lock;     /* F0 seen */
	uint8_t seg;      /* last segment prefix (enum cpu_seg) or SEG_NONE */
	uint8_t osize;    /* operand size before per-form rules: 2, 4 or 8 */
	uint8_t asize;    /* address size: 2, 4 or 8 */
};

#define REX_W(s) (((s)->rex >> 3) & 1)
#define REX_R(s) (((s)->rex >> 2) & 1)
#define REX_X(s) (((s)->rex >> 1) & 1)
#define REX_B(s) ((s)->rex & 1)

static inline uint8_t ds_peek(struct dstate *s)
{
	if (s->pos >= s->lim) {
		s->err = 1;
		return 0;
	}
	return s->b[s->pos];
}

static inline uint8_t ds_get(struct dstate *s)
{
	uint8_t v = ds_peek(s);
	if (!s->err)
		s->pos++;
	return v;
}

/* n little-endian bytes (n <= 8), zero-extended. */
static inline uint64_t ds_getn(struct dstate *s, int n)
{
	uint64_t v = 0;
	for (int k = 0; k < n; k++)
		v |= (uint64_t)ds_get(s) << (8 * k);
	return v;
}

/* decode.c: read ModRM (+SIB, displacement) into *o.  `force_reg` treats
 * any mod as the register form (MOV to/from CRn/DRn ignore mod). */
void decode_modrm(struct dstate *s, struct insn *o, int force_reg);

/* decode_len.c: lengths of encodings opcodes.def does not list. */
int dlen_has_modrm(int map, int opc);
/* Immediate bytes of (map, opc) given its ModRM byte (if any). */
int dlen_imm_size(const struct dstate *s, int map, int opc, uint8_t modrm);
/* Is one-byte opcode `opc` (C4 C5 62 8F) a VEX/EVEX/XOP escape here? */
int dlen_is_vex(struct dstate *s, int opc);
/* Consume a VEX/EVEX/XOP instruction whose escape byte was just read. */
void dlen_skip_vex(struct dstate *s, struct insn *o, int opc);
/* Consume the rest of an encoding without a form: ModRM, immediates. */
void dlen_skip_unlisted(struct dstate *s, struct insn *o, int map, int opc);

#endif
