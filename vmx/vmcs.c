/*
 * vmcs.c - the VMCS: which components exist, their widths, and the cached
 * current VMCS with its layout in memory.
 *
 * A field encoding (SDM Vol. 3C 25.11.2, Table 25-21):
 *
 *   14:13 width   0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *   11:10 type    0 control, 1 VM-exit information (read-only), 2 guest, 3 host
 *    9:1  index
 *     0   access  1 = the high 32 bits of a 64-bit field ("high" access)
 *
 * Any other bit set, or a component this model does not have, is
 * "unsupported VMCS component" (VM-instruction error 12).  Values are
 * kept at their width: a VMWRITE of a 16-bit field keeps bits 15:0, a
 * 32-bit field bits 31:0; natural-width fields hold 64 bits (the model
 * supports only the 64-bit architecture, VMX_BASIC bit 48 = 0).
 *
 * The region in memory (the layout is the model's own, as the SDM leaves
 * it to the processor, 25.2):
 *
 *   +0      VMCS revision identifier (bits 30:0), shadow-VMCS bit 31
 *   +4      VMX-abort indicator
 *   +8      launch state: 0 clear, 1 launched (VMCLEAR writes 0)
 *   +0x10   field k (VMCS_FIELDS order), 8 bytes each
 *
 * VMPTRLD reads every field into the cache; VMCLEAR of the current VMCS
 * writes the cache back and marks it clear.  Software that edits the
 * region directly gets what the SDM promises: nothing defined (24.11.1).
 */
#include <string.h>

#include "vmx.h"

static const uint32_t encodings[F_COUNT] = {
#define X(name, enc) enc,
	VMCS_FIELDS(X)
#undef X
};

static const char *const names[F_COUNT] = {
#define X(name, enc) #name,
	VMCS_FIELDS(X)
#undef X
};

/* [width][type][index] -> field + 1 (0: none), built on first use. */
static int16_t map[4][4][32];
static bool map_built;

static void build_map(void)
{
	for (int k = 0; k < F_COUNT; k++) {
		uint32_t e = encodings[k];
		map[(e >> 13) & 3][(e >> 10) & 3][(e >> 1) & 31] = (int16_t)(k + 1);
	}
	map_built = true;
}

int vmcs_index(uint64_t enc)
{
	if (!map_built)
		build_map();
	/* bits 63:15 and 12 reserved; index above 31: none here */
	if (enc & ~0x6fffull || ((enc >> 1) & 0x1ff) > 31)
		return -1;
	unsigned w = (enc >> 13) & 3;
	if ((enc & 1) && w != 1)
		return -1;               /* high access exists only for 64-bit fields */
	int k = map[w][(enc >> 10) & 3][(enc >> 1) & 31];
	return k - 1;
}

const char *vmcs_field_name(int idx)
{
	return idx >= 0 && idx < F_COUNT ? names[idx] : "?";
}

unsigned vmcs_width(uint32_t enc)
{
	static const unsigned w[4] = { 16, 64, 32, 0 };
	if (enc & 1)
		return 32;               /* the high half of a 64-bit field */
	return w[(enc >> 13) & 3];
}

/* Type 1: the VM-exit information fields (VMX_MISC bit 29 = 0: VMWRITE
 * to them fails with error 13, SDM 31 VMWRITE). */
bool vmcs_read_only(uint32_t enc)
{
	return ((enc >> 10) & 3) == 1;
}

uint64_t vmcs_mask_value(uint32_t enc, uint64_t v)
{
	switch (vmcs_width(enc)) {
	case 16: return v & 0xffff;
	case 32: return v & 0xffffffff;
	default: return v;
	}
}

/* The region is read and written by physical address (root operation: the
 * address is physical; a nested model would translate first). */
static uint64_t phys_read64(struct cpu *c, uint64_t pa)
{
	uint64_t v = ~0ull;
	cpu_phys_read(c, pa, &v, 8);
	return v;
}

void vmcs_load(struct cpu *c, struct vmx *s, uint64_t pa)
{
	for (int k = 0; k < F_COUNT; k++)
		s->f[k] = vmcs_mask_value(encodings[k],
					  phys_read64(c, pa + VMCS_OFF_FIELDS + 8 * (uint64_t)k));
	s->launched = vmcs_mem_launch(c, pa) == 1;
	s->current = pa;
}

void vmcs_store(struct cpu *c, struct vmx *s)
{
	if (s->current == VMCS_NONE)
		return;
	cpu_phys_write(c, s->current + VMCS_OFF_FIELDS, s->f, sizeof s->f);
	vmcs_set_mem_launch(c, s->current, s->launched ? 1 : 0);
}

uint32_t vmcs_mem_launch(struct cpu *c, uint64_t pa)
{
	uint32_t v = 0;
	cpu_phys_read(c, pa + VMCS_OFF_LAUNCH, &v, 4);
	return v;
}

void vmcs_set_mem_launch(struct cpu *c, uint64_t pa, uint32_t v)
{
	cpu_phys_write(c, pa + VMCS_OFF_LAUNCH, &v, 4);
}
