/*
 * npt.c - nested paging (APM Vol. 2 15.25): with NP_ENABLE, every address
 * the guest thinks physical (gPA) - each guest page-table entry the walker
 * reads, and the final address of each access - is translated again
 * through the host's nested page table at N_CR3 to a host physical address.
 *
 *   guest linear --guest CR3 tables--> gPA --N_CR3 tables--> host PA
 *                 (paging.c; each entry's                 (here, 4-level
 *                  address is a gPA too)                   long-mode format)
 *
 * The nested table has the long-mode format whatever the guest's mode
 * (the host runs in long mode; APM 15.25.3: nested paging uses the host's
 * paging mode at VMRUN, and this model supports only a long-mode host).
 * Every nested access is a user access (15.25.5): U/S must be 1 at every
 * level; R/W must be 1 for a write; NX (with the host's EFER.NXE) forbids
 * fetches.  Accessed bits are set on the way down and the dirty bit in the
 * leaf of a write, as the guest's own walk does.
 *
 * A failure is #VMEXIT(NPF) (15.25.6): EXITINFO1 has the #PF error-code
 * bits (P: the entry was present; RW; US = 1; RSV; ID) and bit 32 when the
 * final gPA failed or bit 33 when a guest page-table access did;
 * EXITINFO2 is the faulting gPA.  A nested table that points outside RAM
 * reads as not present (an NPF, never a host access out of bounds); a walk
 * has four levels, so it cannot loop.
 */
#include <string.h>

#include "svm.h"

#include "arch.h"
#include "paging.h"
#include "virt.h"

#define NPT_P   (1ull << 0)
#define NPT_RW  (1ull << 1)
#define NPT_US  (1ull << 2)
#define NPT_A   (1ull << 5)
#define NPT_D   (1ull << 6)
#define NPT_PS  (1ull << 7)
#define NPT_NX  (1ull << 63)
#define NPT_ADDR (PG_PHYS_MASK & ~0xfffull)
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* Reserved bits of an entry at `level` (4 = PML4E ... 1 = PTE) that is a
 * leaf (`large`) or not: MAXPHYADDR..51, NX without EFER.NXE, PS in a
 * PML4E, the low address bits of a 1 GiB or 2 MiB page (APM 5.3.5). */
static uint64_t rsvd_bits(int level, bool large, bool nxe)
{
	uint64_t r = BITS(51, PG_PHYS_BITS) | (nxe ? 0 : NPT_NX);
	if (level == 4)
		r |= NPT_PS;
	if (large && level == 3)
		r |= BITS(29, 13);
	if (large && level == 2)
		r |= BITS(20, 13);
	return r;
}

static uint64_t read_entry(struct cpu *c, uint64_t pa)
{
	uint64_t e = 0;
	if (pa + 8 <= c->ram_size)
		memcpy(&e, c->ram + pa, 8);
	return e;
}

static void set_bits(struct cpu *c, uint64_t pa, uint64_t e, uint64_t bits)
{
	if ((e & bits) != bits) {
		e |= bits;
		cpu_phys_write(c, pa, &e, 8);
	}
}

void svm_npt_walk(struct cpu *c, uint64_t ncr3, bool nxe, uint64_t gpa, unsigned flags,
		  bool probe, struct svm_npt_result *r)
{
	bool write = flags & VIRT_GPA_WRITE, fetch = flags & VIRT_GPA_EXEC;
	uint64_t table = ncr3 & NPT_ADDR, err = SVM_NPF_US;
	uint64_t epa[4], ent[4];
	bool rw = true, us = true, nx = false;
	memset(r, 0, sizeof *r);
	if (write)
		err |= SVM_NPF_RW;
	if (fetch && nxe)
		err |= SVM_NPF_ID;
	for (int level = 4; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((gpa >> shift) & 0x1ff) * 8;
		uint64_t e = read_entry(c, pa);
		epa[4 - level] = pa;
		ent[4 - level] = e;
		r->levels++;
		if (!(e & NPT_P)) {
			r->info1 = err;
			return;
		}
		bool leaf = level == 1 || (level <= 3 && (e & NPT_PS));
		if (e & rsvd_bits(level, leaf, nxe)) {
			r->info1 = err | SVM_NPF_P | SVM_NPF_RSV;
			return;
		}
		rw &= (e & NPT_RW) != 0;
		us &= (e & NPT_US) != 0;
		nx |= nxe && (e & NPT_NX);
		if (leaf) {
			uint64_t size = 1ull << shift;
			r->hpa = (e & NPT_ADDR & ~(size - 1)) | (gpa & (size - 1));
			break;
		}
		table = e & NPT_ADDR;
	}
	if (!us || (write && !rw) || (fetch && nx)) {
		r->info1 = err | SVM_NPF_P;
		return;
	}
	r->ok = true;
	if (probe)
		return;
	for (int k = 0; k < r->levels; k++) {
		bool last = k == r->levels - 1;
		set_bits(c, epa[k], ent[k], NPT_A | (last && write ? NPT_D : 0));
	}
}

uint64_t svm_npt_translate(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin)
{
	struct svm_state *s = svm_of(c);
	struct svm_npt_result r;
	bool probe = flags & VIRT_GPA_PROBE;
	(void)lin;
	svm_npt_walk(c, s->vmcb.n_cr3, s->host_nxe, gpa, flags, probe, &r);
	if (r.ok)
		return r.hpa;
	if (probe)
		return ~0ull;
	r.info1 |= (flags & VIRT_GPA_WALK) ? SVM_NPF_GPT : SVM_NPF_FINAL;
	s->exit_rule = (r.info1 & SVM_NPF_RSV) ? "a reserved bit is set in a nested entry" :
		       !(r.info1 & SVM_NPF_P) ? "the nested entry is not present" :
		       "the nested entries forbid this access";
	s->exit_section = "APM 15.25.6";
	svm_exit(c, SVM_EXIT_NPF, r.info1, gpa, false);
}
