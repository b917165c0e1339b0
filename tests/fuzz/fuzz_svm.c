/*
 * fuzz_svm.c - random VMCBs and random guest code through the emulated
 * AMD-V (svm/): VMRUN must either refuse the VMCB (VMEXIT_INVALID with a
 * named rule) or run the guest until some #VMEXIT, and nestlab must never
 * crash, hang past its budget or touch memory it does not own (run it in
 * the ASan+UBSan build too: label fuzz).
 *
 *   fuzz_svm [--seconds S] [--iters N] [--seed X]
 *
 * Each iteration: a fresh `--cpu svm` CPU with 4 MiB, flat 64-bit host code
 * at 0x10000 that sets EFER.SVME and VM_HSAVE_PA and then loops on VMRUN
 * (so every #VMEXIT re-enters with the state the VMCB got back), a VMCB at
 * 0x100000 filled with random bytes of which some fields are then made
 * plausible (so both the checks and the guest run get exercised: the VMRUN
 * intercept, an ASID, EFER.SVME, CR0.PE, a code segment, RIP in the random
 * code, nested tables within or outside RAM, random IOPM/MSRPM bases and
 * EVENTINJ), and 64 KiB of random guest code at 0x200000.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "arch/svm.h"
#include "cpu.h"
#include "model.h"

#define HOST_CODE 0x10000ull
#define VMCB 0x100000ull
#define HSAVE 0x101000ull
#define GCODE 0x200000ull
#define RAM (4ull << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* mov ecx,EFER; rdmsr; bts eax,12; wrmsr; mov ecx,HSAVE_PA; mov eax,HSAVE;
 * xor edx,edx; wrmsr; loop: mov eax,VMCB; vmrun; jmp loop */
static const uint8_t host[] = {
	0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0f, 0xba, 0xe8, 0x0c, 0x0f, 0x30,
	0xb9, 0x17, 0x01, 0x01, 0xc0, 0xb8, 0x00, 0x10, 0x10, 0x00, 0x31, 0xd2, 0x0f, 0x30,
	0xb8, 0x00, 0x00, 0x10, 0x00, 0x0f, 0x01, 0xd8, 0xeb, 0xf7,
};

static void plausible(struct svm_vmcb *v)
{
	if (rnd() % 8)
		v->icpt[4] |= 1;                        /* the VMRUN intercept */
	if (rnd() % 8)
		v->guest_asid = 1 + (uint32_t)(rnd() % 16);
	if (rnd() % 4) {
		v->efer = EFER_SVME | (rnd() % 2 ? EFER_NXE : 0);
		v->cr0 = CR0_PE | (rnd() % 4 ? 0 : CR0_NE | CR0_WP);
		v->cr4 = rnd() % 2 ? CR4_PAE : 0;
		v->dr6 = 0xffff0ff0;
		v->dr7 = 0x400;
		v->cs = (struct svm_vmcb_seg){ 0x08, (uint16_t)(rnd() % 2 ? 0xc9b : 0x29b), 0xffffffff, 0 };
		v->ss = v->ds = v->es = (struct svm_vmcb_seg){ 0x10, 0xc93, 0xffffffff, 0 };
		v->rip = GCODE + rnd() % 0x10000;
		v->rflags = 2 | (rnd() % 2 ? (1u << 9) : 0);
		v->cr3 = rnd() & 0x3ff000;
		v->iopm_base_pa = 0x300000;
		v->msrpm_base_pa = 0x304000;
		v->eventinj = 0;
		v->np_enable = 0;
	}
	if (rnd() % 4 == 0)
		v->iopm_base_pa = rnd();
	if (rnd() % 4 == 0)
		v->msrpm_base_pa = rnd();
	if (rnd() % 2)
		v->np_enable = 1, v->n_cr3 = rnd() % 4 ? 0x380000 : rnd();
	if (rnd() % 4 == 0)
		v->eventinj = rnd() & 0xffffffff80000fffull;
	v->exitcode = 0;
}

static long n_invalid, n_exit, n_other;

static void one(uint64_t budget)
{
	struct cpu c;
	if (cpu_init(&c, cpu_model_find("svm"), RAM) < 0)
		abort();
	c.exceptions_stop = true;
	c.cpl = 0;
	c.seg[SEG_CS].attr = 0xa09b;
	c.gpr[R_RSP] = 0x80000;
	struct svm_vmcb v;
	uint8_t *p = (uint8_t *)&v;
	for (size_t k = 0; k < sizeof v; k++)
		p[k] = (uint8_t)rnd();
	plausible(&v);
	cpu_phys_write(&c, VMCB, &v, sizeof v);
	static uint8_t code[0x10000];
	for (size_t k = 0; k < sizeof code; k++)
		code[k] = (uint8_t)rnd();
	cpu_phys_write(&c, GCODE, code, sizeof code);
	/* Nested tables at 0x380000: 1 GiB identity pages with random extra bits. */
	uint64_t pml4 = 0x381000 | 7, pdpt = 0x87 | (rnd() % 4 ? 0 : rnd() & 0xfff0000000000078ull);
	cpu_phys_write(&c, 0x380000, &pml4, 8);
	cpu_phys_write(&c, 0x381000, &pdpt, 8);
	cpu_phys_write(&c, HOST_CODE, host, sizeof host);
	c.rip = HOST_CODE;
	cpu_run(&c, budget);
	uint64_t ec = 0;
	cpu_phys_read(&c, VMCB + offsetof(struct svm_vmcb, exitcode), &ec, 8);
	if (ec == SVM_EXIT_INVALID)
		n_invalid++;
	else if (ec)
		n_exit++;
	else
		n_other++;
	cpu_free(&c);
}

int main(int argc, char **argv)
{
	double seconds = 3;
	long iters = -1;
	for (int k = 1; k + 1 < argc; k += 2) {
		if (!strcmp(argv[k], "--seconds"))
			seconds = atof(argv[k + 1]);
		else if (!strcmp(argv[k], "--iters"))
			iters = atol(argv[k + 1]);
		else if (!strcmp(argv[k], "--seed"))
			rng = strtoull(argv[k + 1], NULL, 0) | 1;
	}
	time_t end = time(NULL) + (time_t)seconds;
	long n = 0;
	while (iters < 0 ? time(NULL) < end : n < iters) {
		one(20000);
		n++;
	}
	printf("fuzz_svm: %ld random VMCBs, no crash: last EXITCODE VMEXIT_INVALID %ld, "
	       "another #VMEXIT %ld, none (the guest ran to the budget, or EXITCODE 0) %ld\n",
	       n, n_invalid, n_exit, n_other);
	return 0;
}
