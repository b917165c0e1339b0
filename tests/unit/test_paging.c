/*
 * test_paging.c - cpu/paging.c and the TLB in cpu/mem.c: 4-level, PAE and
 * 32-bit walks with 4K/2M/4M/1G pages, accessed and dirty bits, U/S, R/W
 * with CR0.WP, NX, reserved bits, #PF error codes and CR2, global pages
 * across CR3 writes, INVLPG of large pages, the supervisor/user TLB banks
 * (a CPL change without a flush), implicit supervisor accesses, fetch
 * faults and block chains that must not carry user code into a
 * supervisor page.  Each test runs real instructions at CPL 0 or 3.
 */
#include <setjmp.h>

#include "paging.h"
#include "paging_util.h"

static const uint8_t ld_rax_rbx[] = { 0x48, 0x8b, 0x03 };   /* mov rax, [rbx] */
static const uint8_t st_rbx_rax[] = { 0x48, 0x89, 0x03 };   /* mov [rbx], rax */
static const uint8_t jmp_rbx[] = { 0xff, 0xe3 };            /* jmp rbx */

static enum cpu_stop load(struct cpu *c, uint64_t lin)
{
	c->gpr[R_RBX] = lin;
	return SN_RUN(c, ld_rax_rbx);
}

static enum cpu_stop store(struct cpu *c, uint64_t lin, uint64_t v)
{
	c->gpr[R_RBX] = lin;
	c->gpr[R_RAX] = v;
	return SN_RUN(c, st_rbx_rax);
}

/* A load or store at CPL 3 that must get through: it stops at the HLT. */
static void user_ok(struct cpu *c, enum cpu_stop why, const uint8_t *code, size_t len)
{
	CU_ASSERT_EQUAL(why, CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + len);
	(void)code;
}

static void test_walk_4level(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t alias = 0x7f0000001000ull;
	pu_map4(c, alias, SN_DATA, PU_UP);
	sn_poke(c, SN_DATA, 8, 0x1122334455667788ull);
	CU_ASSERT_EQUAL(load(c, alias), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x1122334455667788ull);
	/* A set at every level, D not yet */
	for (int s = 39; s >= 12; s -= 9)
		CU_ASSERT(sn_peek(c, pu_slot4(c, alias, s), 8) & PTE_A);
	CU_ASSERT_FALSE(sn_peek(c, pu_slot4(c, alias, 12), 8) & PTE_D);
	CU_ASSERT_FALSE(sn_peek(c, pu_slot4(c, alias, 21), 8) & PTE_D);
	/* the write through a clean, cached page comes back to set D */
	CU_ASSERT_EQUAL(store(c, alias + 8, 42), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 8, 8), 42);
	CU_ASSERT(sn_peek(c, pu_slot4(c, alias, 12), 8) & PTE_D);
	CU_ASSERT_FALSE(sn_peek(c, pu_slot4(c, alias, 21), 8) & PTE_D);
	/* the probe walk sees the same and changes nothing */
	struct pg_walk w;
	sn_poke(c, pu_slot4(c, alias, 12), 8, SN_DATA | PU_UP);
	CU_ASSERT(paging_walk(c, alias + 0x123, ACC_WRITE, true, true, &w));
	CU_ASSERT_EQUAL(w.pa, SN_DATA + 0x123);
	CU_ASSERT_EQUAL(w.levels, 4);
	CU_ASSERT_EQUAL(sn_peek(c, pu_slot4(c, alias, 12), 8), SN_DATA | PU_UP);
}

static void test_not_present(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t hole = 0x500000;           /* past the 4 MiB mapped */
	PU_ASSERT_PF(c, load(c, hole + 8), 0, hole + 8);
	CU_ASSERT_EQUAL(c->rip, UT_CODE);         /* the faulting instruction */
	PU_ASSERT_PF(c, store(c, hole, 1), PFEC_W, hole);
	c->cpl = 3;
	PU_ASSERT_PF(c, load(c, hole), PFEC_U, hole);
	PU_ASSERT_PF(c, store(c, hole, 1), PFEC_U | PFEC_W, hole);
	/* non-canonical: #GP, not #PF */
	c->cpl = 0;
	PU_ASSERT_EXC(c, load(c, 0x0000800000000000ull), VEC_GP);
}

static void test_protection(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t sup = SN_DATA, ro = SN_DATA + 0x1000;
	pu_map4(c, sup, sup, PTE_P | PTE_RW);     /* supervisor only */
	pu_map4(c, ro, ro, PTE_P | PTE_US);       /* read-only, user */
	sn_poke(c, ro, 8, 77);
	/* CPL 0: reads anything; writes read-only pages only with WP = 0 */
	CU_ASSERT_EQUAL(load(c, sup), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(load(c, ro), CPU_STOP_HLT);
	PU_ASSERT_PF(c, store(c, ro + 16, 5), PFEC_P | PFEC_W, ro + 16);
	CU_ASSERT_EQUAL(sn_peek(c, ro + 16, 8), 0);
	c->cr0 &= ~CR0_WP;
	cpu_tlb_flush(c);
	CU_ASSERT_EQUAL(store(c, ro + 16, 5), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, ro + 16, 8), 5);
	/* CPL 3: no supervisor page, no write to a read-only page, WP or not */
	c->cpl = 3;
	PU_ASSERT_PF(c, load(c, sup), PFEC_P | PFEC_U, sup);
	user_ok(c, load(c, ro), ld_rax_rbx, sizeof ld_rax_rbx);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 77);
	PU_ASSERT_PF(c, store(c, ro, 1), PFEC_P | PFEC_U | PFEC_W, ro);
	/* U/S = 0 in an upper level is enough to refuse user access */
	c->cpl = 0;
	uint64_t pde = pu_slot4(c, 0x600000, 21);
	pu_map4(c, 0x600000, SN_DATA, PU_UP);
	sn_poke(c, pde, 8, sn_peek(c, pde, 8) & ~PTE_US);
	c->cpl = 3;
	PU_ASSERT_PF(c, load(c, 0x600000), PFEC_P | PFEC_U, 0x600000);
	/* a refused access leaves the leaf's A bit clear */
	CU_ASSERT_FALSE(sn_peek(c, pu_slot4(c, 0x600000, 12), 8) & PTE_A);
}

/* The TLB keeps supervisor and user rights apart: a page the kernel has
 * just used is still refused to user code after a CPL change with no flush. */
static void test_bank_switch(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t sup = SN_DATA;
	pu_map4(c, sup, sup, PTE_P | PTE_RW);
	CU_ASSERT_EQUAL(store(c, sup, 9), CPU_STOP_HLT);
	c->cpl = 3;
	PU_ASSERT_PF(c, load(c, sup), PFEC_P | PFEC_U, sup);
	PU_ASSERT_PF(c, store(c, sup, 1), PFEC_P | PFEC_U | PFEC_W, sup);
	c->cpl = 0;
	CU_ASSERT_EQUAL(load(c, sup), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 9);
}

/* Every path uses the TLB the same way: after a PTE changes without a
 * flush, the string fast path (mem_translate) still writes the old frame,
 * as the ordinary store does, until INVLPG. */
static void test_translate_uses_tlb(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t a = 0x600000, f1 = SN_DATA, f2 = SN_DATA + 0x1000;
	pu_map4(c, a, f1, PU_UP);
	CU_ASSERT_EQUAL(store(c, a, 1), CPU_STOP_HLT);      /* cached, dirty */
	pu_map4(c, a, f2, PU_UP | PTE_A | PTE_D);
	static const uint8_t rep_stosb[] = { 0xf3, 0xaa };
	c->gpr[R_RDI] = a + 64;
	c->gpr[R_RCX] = 16;
	c->gpr[R_RAX] = 0x5a;
	CU_ASSERT_EQUAL(SN_RUN(c, rep_stosb), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, f1 + 64, 8), 0x5a5a5a5a5a5a5a5aull);
	CU_ASSERT_EQUAL(sn_peek(c, f2 + 64, 8), 0);
	cpu_tlb_invlpg(c, a);
	c->gpr[R_RDI] = a + 64;
	c->gpr[R_RCX] = 16;
	CU_ASSERT_EQUAL(SN_RUN(c, rep_stosb), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, f2 + 64, 8), 0x5a5a5a5a5a5a5a5aull);
}

/* Device pages (physical addresses outside RAM) are translated, checked
 * and cached like RAM pages; the accesses reach the MMIO hooks. */
static uint64_t mmio_last_pa;
static int mmio_reads, mmio_writes;
static uint64_t mmio_rd(struct cpu *c, uint64_t pa, int size)
{
	(void)c;
	(void)size;
	mmio_last_pa = pa;
	mmio_reads++;
	return 0x600d;
}
static void mmio_wr(struct cpu *c, uint64_t pa, int size, uint64_t v)
{
	(void)c;
	(void)size;
	(void)v;
	mmio_last_pa = pa;
	mmio_writes++;
}

static void test_mmio_pages(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	c->mmio_read = mmio_rd;
	c->mmio_write = mmio_wr;
	const uint64_t a = 0x600000;
	pu_map4(c, a, 0xfee00000, PU_UP);
	CU_ASSERT_EQUAL(load(c, a + 0xb0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x600d);
	CU_ASSERT_EQUAL(mmio_last_pa, 0xfee000b0);
	CU_ASSERT_EQUAL(store(c, a + 0x80, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(mmio_writes, 1);
	CU_ASSERT(sn_peek(c, pu_slot4(c, a, 12), 8) & PTE_D);
	/* cached: a PTE change shows only after INVLPG */
	pu_map4(c, a, 0xfec00000, PU_UP);
	CU_ASSERT_EQUAL(load(c, a + 0x10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(mmio_last_pa, 0xfee00010);
	cpu_tlb_invlpg(c, a);
	CU_ASSERT_EQUAL(load(c, a + 0x10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(mmio_last_pa, 0xfec00010);
	CU_ASSERT_EQUAL(mmio_reads, 3);
	/* rights apply: read-only, supervisor-only */
	pu_map4(c, a, 0xfee00000, PTE_P);
	cpu_tlb_invlpg(c, a);
	CU_ASSERT_EQUAL(load(c, a), CPU_STOP_HLT);
	PU_ASSERT_PF(c, store(c, a, 1), PFEC_P | PFEC_W, a);
	c->cpl = 3;
	PU_ASSERT_PF(c, load(c, a), PFEC_P | PFEC_U, a);
	CU_ASSERT_EQUAL(mmio_writes, 1);
	CU_ASSERT_EQUAL(mmio_reads, 4);
}

/* Implicit supervisor accesses (descriptor tables ...) at CPL 3. */
static void test_sys_access(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t sup = SN_DATA, ro = SN_DATA + 0x1000;
	pu_map4(c, sup, sup, PTE_P | PTE_RW);
	pu_map4(c, ro, ro, PTE_P);
	sn_poke(c, sup, 8, 0xabcdef);
	c->cpl = 3;
	jmp_buf jb;
	c->unwind = &jb;
	CU_ASSERT_EQUAL(mem_read_sys(c, sup, 8), 0xabcdef);
	mem_write_sys(c, sup + 8, 4, 0x1234);
	CU_ASSERT_EQUAL(sn_peek(c, sup + 8, 4), 0x1234);
	volatile int faults = 0;
	if (setjmp(jb) == 0)
		mem_read(c, sup, 8);                 /* the user-mode access faults */
	else
		faults++;
	CU_ASSERT_EQUAL(faults, 1);
	CU_ASSERT_EQUAL(c->exc_error, PFEC_P | PFEC_U);
	if (setjmp(jb) == 0)
		mem_write_sys(c, ro, 8, 1);          /* WP: supervisor write, U = 0 */
	else
		faults++;
	CU_ASSERT_EQUAL(faults, 2);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_PF);
	CU_ASSERT_EQUAL(c->exc_error, PFEC_P | PFEC_W);
	CU_ASSERT_EQUAL(c->cr2, ro);
	c->unwind = NULL;
}

static void test_nx(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, true);
	const uint64_t code = 0x40000000, pa = 0x210000;   /* own PDPTE: NX there is local */
	sn_poke(c, pa, 1, 0xf4);                              /* hlt */
	pu_map4(c, code, pa, PU_UP | PTE_NX);
	c->gpr[R_RBX] = code;
	PU_ASSERT_PF(c, SN_RUN(c, jmp_rbx), PFEC_P | PFEC_I, code);
	CU_ASSERT_EQUAL(c->rip, code);
	CU_ASSERT_EQUAL(load(c, code), CPU_STOP_HLT);       /* data reads are fine */
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 0xf4);
	/* NX in an upper level counts too */
	pu_map4(c, code, pa, PU_UP);
	uint64_t pdpte = pu_slot4(c, code, 30);
	sn_poke(c, pdpte, 8, sn_peek(c, pdpte, 8) | PTE_NX);
	cpu_tlb_flush(c);
	PU_ASSERT_PF(c, SN_RUN(c, jmp_rbx), PFEC_P | PFEC_I, code);
	sn_poke(c, pdpte, 8, sn_peek(c, pdpte, 8) & ~PTE_NX);
	cpu_tlb_invlpg(c, code);
	CU_ASSERT_EQUAL(SN_RUN(c, jmp_rbx), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->rip, code + 1);
	/* user fetch from a supervisor page */
	pu_map4(c, code, pa, PTE_P | PTE_RW);
	cpu_tlb_invlpg(c, code);
	c->cpl = 3;
	PU_ASSERT_PF(c, SN_RUN(c, jmp_rbx), PFEC_P | PFEC_U | PFEC_I, code);
	/* XD with EFER.NXE = 0 is a reserved bit; no I/D flag without NXE */
	c->cpl = 0;
	c->efer &= ~EFER_NXE;
	cpu_tlb_flush(c);
	pu_map4(c, code, pa, PU_UP | PTE_NX);
	PU_ASSERT_PF(c, SN_RUN(c, jmp_rbx), PFEC_P | PFEC_RSVD, code);
	PU_ASSERT_PF(c, load(c, code), PFEC_P | PFEC_RSVD, code);
}

/* A fetch that crosses into a page that is not there: CR2 is that page. */
static void test_fetch_cross(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, true);
	const uint64_t at = 0x3fdffb;                        /* 5 bytes before 0x3fe000 */
	static const uint8_t mov_rax[] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 0xf4 };
	pu_map4(c, 0x3fe000, 0, 0);
	cpu_phys_write(c, at, mov_rax, sizeof mov_rax);
	c->rip = at;
	enum cpu_stop why = cpu_run(c, 100);
	PU_ASSERT_PF(c, why, PFEC_I, 0x3fe000);
	CU_ASSERT_EQUAL(c->rip, at);
	pu_map4(c, 0x3fe000, 0x3fe000, PU_UP);
	c->rip = at;
	CU_ASSERT_EQUAL(cpu_run(c, 100), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x0807060504030201ull);
}

/* Chains between decoded blocks are per privilege: after the kernel ran
 * user-page code that jumps into a supervisor page, user code taking the
 * same jump must still fault. */
static void test_chain_privilege(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, true);
	const uint64_t kern = 0x600000, kpa = 0x220000;
	static const uint8_t to_kern[] = { 0x48, 0xbb, 0, 0, 0x60, 0, 0, 0, 0, 0, 0xff, 0xe3 };
	sn_poke(c, kpa, 1, 0xf4);
	pu_map4(c, kern, kpa, PTE_P | PTE_RW);
	cpu_phys_write(c, UT_CODE, to_kern, sizeof to_kern);
	for (int k = 0; k < 3; k++) {                         /* make the chain */
		c->rip = UT_CODE;
		c->halted = false;
		CU_ASSERT_EQUAL(cpu_run(c, 100), CPU_STOP_HLT);
		CU_ASSERT_EQUAL(c->rip, kern + 1);
	}
	c->cpl = 3;
	c->rip = UT_CODE;
	c->halted = false;
	PU_ASSERT_PF(c, cpu_run(c, 100), PFEC_P | PFEC_U | PFEC_I, kern);
}

static void test_reserved(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, true);
	const uint64_t a = 0x600000;
	pu_map4(c, a, SN_DATA | (1ull << 45), PU_UP);        /* above MAXPHYADDR */
	PU_ASSERT_PF(c, load(c, a + 4), PFEC_P | PFEC_RSVD, a + 4);
	c->cpl = 3;
	PU_ASSERT_PF(c, store(c, a, 1), PFEC_P | PFEC_RSVD | PFEC_U | PFEC_W, a);
	c->cpl = 0;
	/* bits 62:52 are ignored in 4-level entries */
	pu_map4(c, a, SN_DATA | (0x7ffull << 52), PU_UP);
	CU_ASSERT_EQUAL(load(c, a), CPU_STOP_HLT);
	/* PS in a PML4E; address bits below a 2 MiB page */
	const uint64_t b = 0x10000000000ull;
	uint64_t pml4e = pu_slot4(c, b, 39);
	pu_slot4(c, b, 12);
	sn_poke(c, pml4e, 8, sn_peek(c, pml4e, 8) | PTE_PS);
	PU_ASSERT_PF(c, load(c, b), PFEC_P | PFEC_RSVD, b);
	sn_poke(c, pml4e, 8, sn_peek(c, pml4e, 8) & ~PTE_PS);
	sn_poke(c, pu_slot4(c, b, 21), 8, 0x200000 | (1ull << 13) | PTE_PS | PU_UP);
	PU_ASSERT_PF(c, load(c, b), PFEC_P | PFEC_RSVD, b);
	/* entries of a non-present level are not checked */
	sn_poke(c, pu_slot4(c, b, 21), 8, ~1ull);
	PU_ASSERT_PF(c, load(c, b), 0, b);
}

static void test_large_pages(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	const uint64_t two = 0x40000000, one = 0x8000000000ull;
	sn_poke(c, SN_DATA + 0x10, 8, 0x2222);
	sn_poke(c, SN_DATA + 0x1010, 8, 0x3333);
	sn_poke(c, pu_slot4(c, two, 21), 8, 0x200000 | PTE_PS | PU_UP);
	CU_ASSERT_EQUAL(load(c, two + 0x10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x2222);
	CU_ASSERT_EQUAL(load(c, two + 0x1010), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x3333);
	CU_ASSERT(sn_peek(c, pu_slot4(c, two, 21), 8) & PTE_A);
	/* 1 GiB page at physical 0 */
	sn_poke(c, pu_slot4(c, one, 30), 8, PTE_PS | PU_UP);
	CU_ASSERT_EQUAL(load(c, one + SN_DATA + 0x10), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x2222);
	struct pg_walk w;
	CU_ASSERT(paging_walk(c, one + 0x3fffffff, ACC_READ, false, true, &w));
	CU_ASSERT_EQUAL(w.size, 1ull << 30);
	CU_ASSERT_EQUAL(w.pa, 0x3fffffff);
	/* INVLPG of one address drops every cached piece of the 2 MiB page */
	sn_poke(c, pu_slot4(c, two, 21), 8, 0x0 | PTE_PS | PU_UP);
	CU_ASSERT_EQUAL(load(c, two + 0x1010), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x3333);              /* stale: no flush yet */
	static const uint8_t invlpg_rbx[] = { 0x0f, 0x01, 0x3b };
	c->gpr[R_RBX] = two + 0x1ff000;
	CU_ASSERT_EQUAL(SN_RUN(c, invlpg_rbx), CPU_STOP_HLT);
	sn_poke(c, 0x1010, 8, 0x4444);
	CU_ASSERT_EQUAL(load(c, two + 0x1010), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x4444);
}

static void test_global(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	c->cr4 |= CR4_PGE;
	const uint64_t g = 0x700000, ng = 0x701000;
	sn_poke(c, SN_DATA, 8, 1);
	sn_poke(c, SN_DATA + 0x2000, 8, 2);
	pu_map4(c, g, SN_DATA, PU_UP | PTE_G);
	pu_map4(c, ng, SN_DATA, PU_UP);
	CU_ASSERT_EQUAL(load(c, g), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(load(c, ng), CPU_STOP_HLT);
	pu_map4(c, g, SN_DATA + 0x2000, PU_UP | PTE_G);
	pu_map4(c, ng, SN_DATA + 0x2000, PU_UP);
	static const uint8_t reload_cr3[] = { 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8 };
	CU_ASSERT_EQUAL(SN_RUN(c, reload_cr3), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(load(c, g), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 1);                   /* global: survived */
	CU_ASSERT_EQUAL(load(c, ng), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 2);                   /* flushed */
	c->gpr[R_RBX] = g;
	static const uint8_t invlpg_rbx[] = { 0x0f, 0x01, 0x3b };
	CU_ASSERT_EQUAL(SN_RUN(c, invlpg_rbx), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(load(c, g), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 2);                   /* INVLPG drops it */
	/* a CR4.PGE write drops global entries as well */
	pu_map4(c, g, SN_DATA, PU_UP | PTE_G);
	static const uint8_t toggle_pge[] = {
		0x0f, 0x20, 0xe0,                 /* mov rax, cr4 */
		0x48, 0x35, 0x80, 0, 0, 0,        /* xor rax, PGE */
		0x0f, 0x22, 0xe0,                 /* mov cr4, rax */
		0x48, 0x35, 0x80, 0, 0, 0,
		0x0f, 0x22, 0xe0,
	};
	CU_ASSERT_EQUAL(SN_RUN(c, toggle_pge), CPU_STOP_HLT);
	CU_ASSERT(c->cr4 & CR4_PGE);
	CU_ASSERT_EQUAL(load(c, g), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 1);
}

/* PAE paging in 32-bit code: PDPTE registers loaded by MOV CR3. */
static void test_pae(void)
{
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->gpr[R_RSP] = 0x300000;
	pu_next = PU_TABLES;
	uint64_t pdpt = pu_alloc(c), pd = pu_alloc(c), pt = pu_alloc(c);
	sn_poke(c, pdpt, 8, pd | PTE_P);
	sn_poke(c, pd, 8, 0 | PTE_PS | PU_UP);               /* 0-2 MiB: one 2 MiB page */
	sn_poke(c, pd + 8, 8, pt | PU_UP);                   /* 2-4 MiB: 4 KiB pages */
	for (int k = 0; k < 512; k++)
		sn_poke(c, pt + 8 * (uint64_t)k, 8, (0x200000 + 4096 * (uint64_t)k) | PU_UP);
	sn_poke(c, pt + 8 * 5, 8, SN_DATA | PU_UP | PTE_NX); /* 0x205000 -> SN_DATA, XD */
	c->cr4 = CR4_PAE;
	c->efer = EFER_NXE;
	c->cr3 = pdpt;
	CU_ASSERT(paging_load_pdptes(c, pdpt));
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	cpu_tlb_flush(c);
	sn_poke(c, SN_DATA + 4, 4, 0xcafe);
	static const uint8_t ld32[] = { 0x8b, 0x43, 0x04 };  /* mov eax, [ebx+4] */
	c->gpr[R_RBX] = 0x205000;
	CU_ASSERT_EQUAL(SN_RUN(c, ld32), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xcafe);
	/* NX works in PAE paging */
	static const uint8_t jmp_ebx[] = { 0xff, 0xe3 };
	PU_ASSERT_PF(c, SN_RUN(c, jmp_ebx), PFEC_P | PFEC_I, 0x205000);
	/* PDPTE 1 not present */
	c->gpr[R_RBX] = 0x40000000;
	PU_ASSERT_PF(c, SN_RUN(c, ld32), 0, 0x40000004);
	/* MOV CR3 loads the PDPTEs; a reserved bit there is #GP(0) */
	static const uint8_t mov_cr3_eax[] = { 0x0f, 0x22, 0xd8 };
	uint64_t pdpt2 = pu_alloc(c);
	sn_poke(c, pdpt2, 8, pd | PTE_P);
	sn_poke(c, pdpt2 + 8, 8, pd | PTE_P | PTE_RW);       /* R/W is reserved in a PDPTE */
	c->gpr[R_RAX] = pdpt2;
	PU_ASSERT_EXC(c, SN_RUN(c, mov_cr3_eax), VEC_GP);
	CU_ASSERT_EQUAL(c->cr3, pdpt);
	sn_poke(c, pdpt2 + 8, 8, pd | PTE_P);
	CU_ASSERT_EQUAL(SN_RUN(c, mov_cr3_eax), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr3, pdpt2);
	CU_ASSERT_EQUAL(c->pdpte[1], pd | PTE_P);
	c->gpr[R_RBX] = 0x40205000;                           /* now through PDPTE 1 */
	CU_ASSERT_EQUAL(SN_RUN(c, ld32), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xcafe);
	/* PAE entries: bits 62:MAXPHYADDR reserved (unlike 4-level) */
	sn_poke(c, pt + 8 * 6, 8, (SN_DATA | PU_UP) | (1ull << 55));
	c->gpr[R_RBX] = 0x206000;
	PU_ASSERT_PF(c, SN_RUN(c, ld32), PFEC_P | PFEC_RSVD, 0x206004);
}

/* 32-bit paging: 4 KiB and PSE 4 MiB pages, PSE-36, no NX. */
static void test_32bit(void)
{
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->gpr[R_RSP] = 0x300000;
	pu_next = PU_TABLES;
	uint64_t pd = pu_alloc(c), pt = pu_alloc(c);
	sn_poke(c, pd, 4, 0 | PTE_PS | PU_UP);              /* 0-4 MiB identity, 4 MiB page */
	sn_poke(c, pd + 4, 4, pt | PU_UP);                   /* 4-8 MiB: table */
	sn_poke(c, pt + 4 * 3, 4, SN_DATA | PU_UP);          /* 0x403000 -> SN_DATA */
	sn_poke(c, pt + 4 * 4, 4, SN_DATA | PTE_P);          /* 0x404000 supervisor, RO */
	c->cr4 = CR4_PSE;
	c->efer = 0;
	c->cr3 = pd;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_WP;
	cpu_tlb_flush(c);
	sn_poke(c, SN_DATA + 4, 4, 0xbeef);
	static const uint8_t ld32[] = { 0x8b, 0x43, 0x04 };  /* mov eax, [ebx+4] */
	static const uint8_t st32[] = { 0x89, 0x43, 0x04 };  /* mov [ebx+4], eax */
	c->gpr[R_RBX] = 0x403000;
	CU_ASSERT_EQUAL(SN_RUN(c, ld32), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xbeef);
	CU_ASSERT(sn_peek(c, pd, 4) & PTE_A);                /* the code's 4 MiB page */
	CU_ASSERT(sn_peek(c, pd + 4, 4) & PTE_A);
	CU_ASSERT(sn_peek(c, pt + 12, 4) & PTE_A);
	c->gpr[R_RBX] = 0x404000;
	PU_ASSERT_PF(c, SN_RUN(c, st32), PFEC_P | PFEC_W, 0x404004);
	c->cpl = 3;
	PU_ASSERT_PF(c, SN_RUN(c, ld32), PFEC_P | PFEC_U, 0x404004);
	/* a user fetch from a supervisor page: no I/D flag without PAE + NXE */
	static const uint8_t jmp_ebx[] = { 0xff, 0xe3 };
	PU_ASSERT_PF(c, SN_RUN(c, jmp_ebx), PFEC_P | PFEC_U, 0x404000);
	c->cpl = 0;
	/* PSE-36: bits 20:13 of a 4 MiB PDE are physical bits 39:32; 21 is reserved */
	sn_poke(c, pd + 8, 4, 0x00c00000 | (0x12u << 13) | PTE_PS | PTE_P);
	struct pg_walk w;
	CU_ASSERT(paging_walk(c, 0x00812345, ACC_READ, false, true, &w));
	CU_ASSERT_EQUAL(w.pa, 0x1200c12345ull);
	CU_ASSERT_EQUAL(w.size, 4u << 20);
	sn_poke(c, pd + 8, 4, 0x00c00000 | (1u << 21) | PTE_PS | PTE_P);
	c->gpr[R_RBX] = 0x800000;
	PU_ASSERT_PF(c, SN_RUN(c, ld32), PFEC_P | PFEC_RSVD, 0x800004);
	/* without CR4.PSE the PS bit is ignored: the PDE points to a table */
	c->cr4 = 0;
	cpu_tlb_flush(c);
	CU_ASSERT(paging_walk(c, 0x00403000, ACC_READ, false, true, &w));
	CU_ASSERT_EQUAL(w.pa, SN_DATA);
	CU_ASSERT_FALSE(paging_walk(c, 0x3000, ACC_READ, false, true, &w));
	CU_ASSERT_EQUAL(w.levels, 2);                        /* PDE 0 read as a table */
	CU_ASSERT_EQUAL(w.entry_pa[1], 0 + 3 * 4);           /* ... at physical 0 */
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "4-level walk, A and D bits, probe", test_walk_4level },
		{ "not present: error codes and CR2", test_not_present },
		{ "U/S, R/W, CR0.WP", test_protection },
		{ "TLB banks: CPL change without flush", test_bank_switch },
		{ "implicit supervisor accesses at CPL 3", test_sys_access },
		{ "mem_translate goes through the TLB", test_translate_uses_tlb },
		{ "device pages: cached, checked", test_mmio_pages },
		{ "NX, I/D flag, user fetch", test_nx },
		{ "fetch crossing into a missing page", test_fetch_cross },
		{ "block chains per privilege", test_chain_privilege },
		{ "reserved bits", test_reserved },
		{ "2 MiB and 1 GiB pages, INVLPG", test_large_pages },
		{ "global pages, MOV CR3, CR4.PGE", test_global },
		{ "PAE paging and PDPTE loading", test_pae },
		{ "32-bit paging, PSE, PSE-36", test_32bit },
		{ NULL, NULL },
	};
	return ut_main("paging", cases);
}
