/*
 * ept.c - extended page tables (SDM Vol. 3C 29.3): guest-physical ->
 * host-physical, for every guest paging-structure access and every final
 * guest-physical address (cpu/virt.h: virt_gpa).
 *
 *   EPTP (25.6.11):  2:0 memory type (0 UC, 6 WB)  5:3 walk length - 1 (3)
 *                    6 A/D enable  11:7 reserved  N-1:12 PML4 table
 *
 *   entry:   0 R  1 W  2 X  5:3 memory type (leaf)  6 ignore PAT  7 page
 *            (PDPTE: 1 GiB, PDE: 2 MiB)  8 accessed  9 dirty (leaf)
 *            N-1:12 address;  51:N reserved
 *
 * An entry with R = W = X = 0 is not present: an EPT violation (exit 48)
 * whose qualification (Table 28-7) says what was accessed and what the
 * entries allowed.  A present entry that is W without R, has reserved bits
 * set, or a leaf memory type of 2, 3 or 7 is an EPT misconfiguration (exit
 * 49, 29.3.3.1).  An entry outside RAM reads as all ones (type 7:
 * misconfiguration), so tables that point outside RAM end the walk
 * architecturally.  Four levels at most: a table that points to itself
 * cannot loop.
 */
#include <string.h>

#include "paging.h"
#include "vmx.h"

#define ADDR_MASK   (PG_PHYS_MASK & ~0xfffull)
#define RSVD_HIGH   (((1ull << 52) - 1) & ~PG_PHYS_MASK)

bool vmx_eptp_ok(const struct vmx *s, uint64_t eptp)
{
	uint64_t cap = vmx_cap(s, 0x48c);
	uint64_t mt = eptp & EPTP_MT_MASK;
	if (!((mt == 0 && (cap & EPT_CAP_UC)) || (mt == 6 && (cap & EPT_CAP_WB))))
		return false;
	if ((eptp & EPTP_WALK_MASK) != (3ull << 3))
		return false;
	if ((eptp & EPTP_AD) && !(cap & EPT_CAP_AD))
		return false;
	return (eptp & 0xf80ull) == 0 && vmx_pa_ok(eptp);
}

static uint64_t entry_read(struct cpu *c, uint64_t pa)
{
	uint64_t e = ~0ull;
	if (pa < c->ram_size && c->ram_size - pa >= 8)
		memcpy(&e, c->ram + pa, 8);
	return e;
}

static void entry_set(struct cpu *c, uint64_t pa, uint64_t e, uint64_t bits)
{
	if ((e & bits) == bits || pa >= c->ram_size || c->ram_size - pa < 8)
		return;
	e |= bits;
	cpu_phys_write(c, pa, &e, 8);
}

/* Misconfigured (29.3.3.1)?  `leaf` with its level's shift. */
static bool misconfigured(uint64_t e, int shift, bool leaf)
{
	if ((e & (EPT_R | EPT_W)) == EPT_W)
		return true;
	if (e & RSVD_HIGH)
		return true;
	if (leaf) {
		unsigned mt = (e >> EPT_MT_SHIFT) & 7;
		if (mt == 2 || mt == 3 || mt == 7)
			return true;
		if (shift > 12 && (e & (((1ull << shift) - 1) & ~0xfffull)))
			return true;      /* large page: address bits below the page */
		return false;
	}
	/* non-leaf: bits 7:3 reserved (PML4E: 7 too; PDPTE/PDE: 6:3) */
	return (e & (shift == 39 ? 0xf8ull : 0x78ull)) != 0;
}

static _Noreturn void ept_exit(struct cpu *c, uint32_t reason, uint64_t qual, uint64_t gpa,
			       unsigned flags, uint64_t lin)
{
	struct vmx *s = vmx_of(c);
	s->ex.gpa = gpa;
	s->ex.gla = (flags & VIRT_GPA_LIN) ? lin : 0;
	vmx_exit_now(c, reason, qual, true);
}

uint64_t vmx_gpa(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin)
{
	struct vmx *s = vmx_of(c);
	uint64_t eptp = s->f[F_EPT_POINTER];
	bool ad = (eptp & EPTP_AD) != 0, probe = (flags & VIRT_GPA_PROBE) != 0;
	unsigned acc = flags & 3;     /* 0 read, 1 write, 2 fetch */
	uint64_t table = eptp & ADDR_MASK, rights = EPT_R | EPT_W | EPT_X;
	if (gpa >> PG_PHYS_BITS)
		goto violation;       /* beyond MAXPHYADDR: no entry can map it */
	for (int shift = 39;; shift -= 9) {
		uint64_t pa = table + ((gpa >> shift) & 511) * 8;
		uint64_t e = entry_read(c, pa);
		if (!(e & (EPT_R | EPT_W | EPT_X))) {
			rights = 0;
			goto violation;
		}
		bool leaf = shift == 12 || ((shift == 21 || shift == 30) && (e & EPT_LARGE));
		if (misconfigured(e, shift, leaf)) {
			if (probe)
				return ~0ull;
			ept_exit(c, VMX_EXIT_EPT_MISCONFIG, 0, gpa, flags, lin);
		}
		rights &= e;
		if (!leaf) {
			if (ad && !probe)
				entry_set(c, pa, e, EPT_A);
			table = e & ADDR_MASK;
			continue;
		}
		bool ok = acc == 1 ? (rights & EPT_W) : acc == 2 ? (rights & EPT_X) : (rights & EPT_R);
		if (!ok)
			goto violation;
		if (ad && !probe)
			entry_set(c, pa, e, EPT_A | (acc == 1 ? EPT_D : 0));
		uint64_t mask = (1ull << shift) - 1;
		return (e & ADDR_MASK & ~mask) | (gpa & mask);
	}
violation:
	if (probe)
		return ~0ull;
	{
		uint64_t q = (acc == 0 ? EPT_Q_READ : acc == 1 ? EPT_Q_WRITE : EPT_Q_FETCH) |
			     (rights & 7) << 3;
		if (flags & VIRT_GPA_LIN)
			q |= EPT_Q_GLA_VALID | ((flags & VIRT_GPA_WALK) ? 0 : EPT_Q_GLA_FINAL);
		ept_exit(c, VMX_EXIT_EPT_VIOLATION, q, gpa, flags, lin);
	}
}
