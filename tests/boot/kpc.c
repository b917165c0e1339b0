/*
 * kpc.c - boot tests of the rest of the PC the CPU sees: the local APIC's
 * conformance rules and the CPUID leaves kernels read for time.
 *
 * Both are nestlab only, their expected transcripts the SDM's, because
 * QEMU 7.2's TCG differs:
 *
 *   apicconf  CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (SDM Vol. 3
 *             11.4.3), also when EN is set again (QEMU keeps the bit 0 and
 *             the APIC "disabled for good", the P6 rule); the xAPIC page
 *             moves with APIC_BASE (11.4.5) and comes back (QEMU's page
 *             stays at FEE00000h)
 *   pcx       (QEMU's TCG has no x2APIC, and its qemu64 CPU stops at basic
 *             leaf 0Dh and has no SMEP/SMAP): disabled ->
 *             x2APIC is #GP (11.12.5), x2APIC -> xAPIC is #GP, RDMSR of the
 *             APR (809h, no x2APIC register) is #GP, reserved bits of the
 *             SELF IPI MSR (83Fh) are #GP and a good one is delivered; CPUID
 *             leaves 7 (UMIP), 15h and 16h, and the TSC measured against
 *             the APIC timer at the rate those leaves give; SMEP and SMAP
 *             (SDM Vol. 3 4.6.1: #PF with P, and I/D for a fetch) with
 *             STAC/CLAC (qemu64 offers neither)
 */
#include "kernel.h"

#define APIC_BASE_MSR 0x1b
#define EN   (1ull << 11)
#define EXTD (1ull << 10)
#define BSP  (1ull << 8)

static int failures;
static void check(int ok, const char *what)
{
	kprintf("%s: %s\n", what, ok ? "ok" : "FAILED");
	failures += !ok;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* RDMSR / WRMSR that report a fault instead of dying: the vector, or -1. */
static int try_wrmsr(uint32_t m, uint64_t v)
{
	last_fault.hit = 0;
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, fault_resume(%%rip)\n\t"
			 "wrmsr\n1:\n\tmovq $0, fault_resume(%%rip)"
			 :: "c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "r11", "memory");
	int r = last_fault.hit ? (int)last_fault.vec : -1;
	last_fault.hit = 0;
	return r;
}
static int try_rdmsr(uint32_t m, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;
	last_fault.hit = 0;
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, fault_resume(%%rip)\n\t"
			 "rdmsr\n1:\n\tmovq $0, fault_resume(%%rip)"
			 : "+a"(lo), "+d"(hi) : "c"(m) : "r11", "memory");
	*v = (uint64_t)hi << 32 | lo;
	int r = last_fault.hit ? (int)last_fault.vec : -1;
	last_fault.hit = 0;
	return r;
}

static const char *fault_name(int v)
{
	return v < 0 ? "no fault" : v == 13 ? "#GP" : "another fault";
}

static void test_apicconf(void)
{
	uint32_t r[4];
	uint64_t base = rdmsr(APIC_BASE_MSR);
	cpuid(1, r);
	kprintf("apicconf: APIC_BASE.EN %lu, CPUID.1:EDX.APIC %u\n", base >> 11 & 1, r[3] >> 9 & 1);
	wrmsr(APIC_BASE_MSR, base & ~EN);
	cpuid(1, r);
	kprintf("apicconf: APIC_BASE.EN 0, CPUID.1:EDX.APIC %u\n", r[3] >> 9 & 1);
	wrmsr(APIC_BASE_MSR, base);
	cpuid(1, r);
	kprintf("apicconf: APIC_BASE.EN 1 again, CPUID.1:EDX.APIC %u\n", r[3] >> 9 & 1);
	/* Relocation: the registers answer at the new page. */
	uint64_t moved = 0xfef00000ull;
	uint32_t ver = mmio_rd(0xfee00030);
	wrmsr(APIC_BASE_MSR, moved | (base & 0xfff));
	kprintf("apicconf: APIC_BASE moved to %lx: version at the new page %x\n",
		rdmsr(APIC_BASE_MSR) & ~0xfffull, mmio_rd(moved + 0x30));
	mmio_wr(moved + 0x80, 0x20);                     /* TPR through the new page */
	wrmsr(APIC_BASE_MSR, base);
	kprintf("apicconf: back at %lx: version %x, TPR written at the moved page %x\n",
		rdmsr(APIC_BASE_MSR) & ~0xfffull, mmio_rd(0xfee00030), mmio_rd(0xfee00080));
	check(ver == mmio_rd(0xfee00030), "apicconf: same version register at both pages");
	mmio_wr(0xfee00080, 0);
}

/* Vector 41h in x2APIC mode: counted, and EOI through MSR 80Bh (the xAPIC
 * page, where kernel.c's handler writes its EOI, is off in x2APIC mode). */
static volatile uint64_t self_ipis;
static int x2_hook(struct frame *f)
{
	if (f->vec != 0x41)
		return 0;
	self_ipis++;
	wrmsr(0x80b, 0);
	return 1;
}

static void test_x2apic(void)
{
	uint64_t base = rdmsr(APIC_BASE_MSR), v;
	wrmsr(APIC_BASE_MSR, base & ~(EN | EXTD));
	kprintf("pcx: disabled -> x2APIC: %s\n", fault_name(try_wrmsr(APIC_BASE_MSR, base | EN | EXTD)));
	kprintf("pcx: disabled -> xAPIC: %s\n", fault_name(try_wrmsr(APIC_BASE_MSR, base | EN)));
	kprintf("pcx: xAPIC -> x2APIC: %s\n", fault_name(try_wrmsr(APIC_BASE_MSR, base | EN | EXTD)));
	int f = try_rdmsr(0x803, &v);
	kprintf("pcx: x2APIC version MSR 803h: %s, %lx\n", fault_name(f), v);
	kprintf("pcx: RDMSR 809h (APR, none in x2APIC mode): %s\n", fault_name(try_rdmsr(0x809, &v)));
	kprintf("pcx: RDMSR 831h (ICR high, none in x2APIC mode): %s\n",
		fault_name(try_rdmsr(0x831, &v)));
	kprintf("pcx: SELF IPI with bit 8 set: %s\n", fault_name(try_wrmsr(0x83f, 0x141)));
	trap_hook = x2_hook;
	kprintf("pcx: SELF IPI vector 41h: %s", fault_name(try_wrmsr(0x83f, 0x41)));
	__asm__ volatile("sti; nop; cli");
	trap_hook = 0;
	kprintf(", interrupts on vector 41h: %lu\n", self_ipis);
	kprintf("pcx: x2APIC -> xAPIC: %s\n", fault_name(try_wrmsr(APIC_BASE_MSR, base | EN)));
	wrmsr(APIC_BASE_MSR, base & ~(EN | EXTD));
	wrmsr(APIC_BASE_MSR, base);
	kprintf("pcx: x2APIC -> disabled -> xAPIC: APIC_BASE %lx\n", rdmsr(APIC_BASE_MSR));
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void test_time_leaves(void)
{
	uint32_t r[4];
	cpuid(0, r);
	kprintf("pcx: max basic leaf %x\n", r[0]);
	cpuid(7, r);
	kprintf("pcx: leaf 7: EBX %x ECX %x (UMIP %u)\n", r[1], r[2], r[2] >> 2 & 1);
	cpuid(0x15, r);
	kprintf("pcx: leaf 15h: TSC/crystal %u/%u, crystal %u Hz\n", r[1], r[0], r[2]);
	uint64_t tsc_hz = (uint64_t)r[2] * r[1] / r[0];
	cpuid(0x16, r);
	kprintf("pcx: leaf 16h: base %u MHz, max %u MHz, bus %u MHz\n", r[0], r[1], r[2]);
	/* The TSC against the APIC timer (one-shot, divide by 1, which counts
	 * the crystal per leaf 15h): both should advance at the stated rate. */
	uint64_t a = 0xfee00000;
	mmio_wr(a + 0x3e0, 0xb);
	mmio_wr(a + 0x320, 0x10000 | 0x40);             /* masked, one-shot */
	uint64_t t0 = rdtsc();
	mmio_wr(a + 0x380, 1000000);
	while (mmio_rd(a + 0x390) > 500000)
		;
	uint64_t t1 = rdtsc();
	uint32_t left = mmio_rd(a + 0x390);
	uint64_t counts = 1000000 - left, ticks = t1 - t0;
	mmio_wr(a + 0x380, 0);
	/* within 1%: the loop's own instructions sit between the reads */
	check(ticks * 100 >= counts * 99 && ticks * 100 <= counts * 101 && tsc_hz == 1000000000ull,
	      "pcx: TSC ticks per APIC timer count = TSC Hz / crystal Hz (1)");
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | (1ull << 11)));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	kprintf("pcx: CR4.UMIP set: %lu\n", cr4 >> 11 & 1);
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 & ~(1ull << 11)));
}

/* SMEP and SMAP on a user page at 5 GiB.  The boot map gives every 2 MiB
 * page U/S = 1, so the kernel's own first 2 MiB (all of it: code, data,
 * stacks) become supervisor pages for the time of the test. */
#define SM_VA (5ull << 30)
static uint64_t sm_pd[512] __attribute__((aligned(4096)));
static uint64_t sm_pt[512] __attribute__((aligned(4096)));
static uint8_t sm_frame[4096] __attribute__((aligned(4096)));

static void reload_cr3(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
}

static void set_cr4(uint64_t bits, int on)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 = on ? cr4 | bits : cr4 & ~bits;
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4) : "memory");
}

static void test_smep_smap(void)
{
	uint32_t r[4];
	cpuid(7, r);
	kprintf("pcx: leaf 7 SMEP %u SMAP %u\n", r[1] >> 7 & 1, r[1] >> 20 & 1);
	pdpt[5] = (uint64_t)sm_pd | 7;
	sm_pd[0] = (uint64_t)sm_pt | 7;
	sm_pt[0] = (uint64_t)sm_frame | 7;               /* user, writable */
	sm_frame[0] = 0xc3;                              /* ret */
	sm_frame[16] = 0x5a;
	pd[0] &= ~4ull;                                  /* the kernel: supervisor */
	reload_cr3();
	void (*user_fn)(void) = (void (*)(void))SM_VA;
	volatile uint8_t *user_data = (volatile uint8_t *)(SM_VA + 16);
	user_fn();
	kprintf("pcx: supervisor call into a user page without SMEP: returned\n");
	set_cr4(1ull << 20, 1);
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, fault_resume(%%rip)\n\t"
			 "jmp *%0\n1:\n\tmovq $0, fault_resume(%%rip)" :: "r"(SM_VA) : "r11", "memory");
	fault_print("pcx: SMEP: supervisor jump into a user page");
	set_cr4(1ull << 20, 0);
	set_cr4(1ull << 21, 1);
	uint8_t v = 0;
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, fault_resume(%%rip)\n\t"
			 "movb (%1), %0\n1:\n\tmovq $0, fault_resume(%%rip)"
			 : "+q"(v) : "r"(user_data) : "r11", "memory");
	fault_print("pcx: SMAP: supervisor read of a user page, AC 0");
	__asm__ volatile("stac" ::: "memory");
	v = *user_data;
	__asm__ volatile("clac" ::: "memory");
	kprintf("pcx: SMAP: the same read after STAC: %x\n", v);
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, fault_resume(%%rip)\n\t"
			 "movb $1, (%0)\n1:\n\tmovq $0, fault_resume(%%rip)"
			 :: "r"(user_data) : "r11", "memory");
	fault_print("pcx: SMAP: supervisor write after CLAC");
	set_cr4(1ull << 21, 0);
	pd[0] |= 4;
	pdpt[5] = 0;
	reload_cr3();
}

/* The HPET's registers and main counter (compared with QEMU's "hpet"). */
static uint64_t hpet_rd(uint64_t off) { return *(volatile uint64_t *)(0xfed00000ull + off); }
static void hpet_wr(uint64_t off, uint64_t v) { *(volatile uint64_t *)(0xfed00000ull + off) = v; }

static void test_hpet(void)
{
	uint64_t caps = hpet_rd(0);
	kprintf("hpet: vendor %lx, 64-bit %lu, legacy capable %lu, timers %lu, period %lu fs\n",
		caps >> 16 & 0xffff, caps >> 13 & 1, caps >> 15 & 1, (caps >> 8 & 0x1f) + 1, caps >> 32);
	kprintf("hpet: configuration %lx\n", hpet_rd(0x10) & 3);
	hpet_wr(0x10, 0);
	hpet_wr(0xf0, 0x12345);
	uint64_t a = hpet_rd(0xf0), b = hpet_rd(0xf0);
	kprintf("hpet: stopped, counter written 12345: reads %lx, %lx\n", a, b);
	hpet_wr(0x10, 1);
	a = hpet_rd(0xf0);
	for (volatile int k = 0; k < 1000; k++)
		;
	b = hpet_rd(0xf0);
	kprintf("hpet: enabled: counter advances %s\n", b > a && a >= 0x12345 ? "yes" : "no");
	hpet_wr(0x10, 0);
	a = hpet_rd(0xf0);
	for (volatile int k = 0; k < 1000; k++)
		;
	kprintf("hpet: disabled again: counter holds %s\n", hpet_rd(0xf0) == a ? "yes" : "no");
	hpet_wr(0x108, 0xabcdef);
	kprintf("hpet: timer 0 comparator reads back %lx\n", hpet_rd(0x108));
}

int run_pc_test(const char *name)
{
	failures = 0;
	if (fs_streq(name, "hpet")) {
		test_hpet();
	} else if (fs_streq(name, "apicconf")) {
		test_apicconf();
	} else if (fs_streq(name, "pcx")) {
		test_x2apic();
		test_time_leaves();
		test_smep_smap();
	} else {
		return 0;
	}
	test_failures += failures;
	return 1;
}
