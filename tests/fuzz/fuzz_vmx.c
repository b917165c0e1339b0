/*
 * fuzz_vmx.c - random VMCS contents and random VMX instruction sequences
 * in ring 0 on `--cpu vmx` (issue 8 section 3): the emulator never crashes
 * or hangs, and every VM entry either succeeds or fails with a named rule.
 * Run it under ASan too (`-L fuzz` in the sanitizer build).
 *
 *   fuzz_vmx [--seconds S] [--iters N] [--seed X] [--insns N]
 *
 * Each iteration builds a fresh machine (2 MiB, --cpu vmx) already in
 * 64-bit ring 0 with CR4.VMXE (identity-mapped 2 MiB page), and a program
 * of random steps, each one of: VMXON / VMCLEAR / VMPTRLD / VMPTRST of one
 * of a few regions (good, misaligned, outside RAM, wrong revision),
 * VMWRITE of a field (a valid template value, a bit flip, or random bits)
 * or of a random encoding, VMREAD, VMLAUNCH / VMRESUME, VMXOFF, VMCALL,
 * INVEPT / INVVPID with random operands.  HOST_RIP points back into the
 * program, GUEST_RIP into random code; EPT tables map the first 2 MiB with
 * random rights now and then.  The generator is a fixed xorshift:
 * `--seed X --iters N` replays a run.
 *
 * Memory: 0x1000 PML4, 0x2000 PDPT, 0x3000 PD (the host's tables), 0x4000
 * EPT PML4, 0x5000 EPT PDPT, 0x6000 EPT PD, 0x10000 VMXON region, 0x11000
 * and 0x12000 VMCS regions, 0x13000 operand slots, 0x14000-0x17fff bitmaps,
 * 0x7000 IDT, 0x1e000 the fault handler's counter and step table,
 * 0x1f000 the fault handler (any exception resumes at one of 64 step
 * starts), 0x20000 the program, 0x60000 random guest code, stacks below
 * 0x80000.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "arch.h"
#include "arch/vmx.h"
#include "cr.h"
#include "machine.h"
#include "model.h"

#define PROG 0x20000u
#define PROG_LEN 0x30000u
#define GCODE 0x60000u
#define SLOTS 0x13000u
#define RUN_MS 250
#define HANDLER 0x1f000u      /* every IDT gate: pick a step to go on from */
#define CNT 0x1e000u          /* the handler's counter, then 64 step addresses */

static struct cpu *volatile running;
static volatile sig_atomic_t cut;
static uint64_t entries_ok, entries_failed, unnamed;

static void on_alarm(int sig)
{
	(void)sig;
	cut = 1;
	struct cpu *c = running;
	if (c) {
		c->stop_request = true;
		c->block_break = true;
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void w64(struct cpu *c, uint64_t pa, uint64_t v) { cpu_phys_write(c, pa, &v, 8); }

/* Every entry failure the model reports must name its rule. */
static void observe(struct cpu *c, const struct cpu_event *ev, void *opaque)
{
	(void)c;
	(void)opaque;
	if (ev->kind == CPU_EV_VMENTRY)
		entries_ok++;
	if (ev->kind == CPU_EV_VMENTRY_FAIL) {
		entries_failed++;
		if (!ev->rule || !ev->section)
			unnamed++;
	}
}

/* A VMCS that would enter: a 64-bit host and a 64-bit guest on EPT. */
static const struct { uint32_t enc; uint64_t v; } tmpl[] = {
	{ VMCS_PIN_BASED_CONTROLS, 0x16 | PIN_EXTINT_EXITING },
	{ VMCS_PROC_BASED_CONTROLS, 0x04006172 | PROC_HLT_EXITING | PROC_SECONDARY | PROC_USE_IO_BITMAPS |
	  PROC_USE_MSR_BITMAPS },
	{ VMCS_PROC_BASED_CONTROLS2, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED },
	{ VMCS_EXIT_CONTROLS, 0x36dfb | EXIT_HOST_64BIT },
	{ VMCS_ENTRY_CONTROLS, 0x11fb | ENTRY_IA32E_GUEST },
	{ VMCS_IO_BITMAP_A, 0x14000 }, { VMCS_IO_BITMAP_B, 0x15000 }, { VMCS_MSR_BITMAP, 0x16000 },
	{ VMCS_EPT_POINTER, 0x4000 | 6 | 3 << 3 }, { VMCS_VPID, 1 },
	{ VMCS_EXCEPTION_BITMAP, 0 }, { VMCS_GUEST_PREEMPTION_TIMER, 50 },
	{ VMCS_HOST_CR0, 0x80000031 }, { VMCS_HOST_CR3, 0x1000 }, { VMCS_HOST_CR4, 0x2020 },
	{ VMCS_HOST_CS_SEL, 0x08 }, { VMCS_HOST_SS_SEL, 0x10 }, { VMCS_HOST_DS_SEL, 0x10 },
	{ VMCS_HOST_ES_SEL, 0x10 }, { VMCS_HOST_TR_SEL, 0x30 }, { VMCS_HOST_RSP, 0x7f000 },
	{ VMCS_HOST_GDTR_BASE, 0x800 }, { VMCS_HOST_IDTR_BASE, 0x7000 }, { VMCS_HOST_TR_BASE, 0x3000 },
	{ VMCS_GUEST_CS_SEL, 0x08 }, { VMCS_GUEST_CS_AR, 0xa09b }, { VMCS_GUEST_CS_LIMIT, 0xffffffff },
	{ VMCS_GUEST_SS_SEL, 0x10 }, { VMCS_GUEST_SS_AR, 0xc093 }, { VMCS_GUEST_SS_LIMIT, 0xffffffff },
	{ VMCS_GUEST_DS_SEL, 0x10 }, { VMCS_GUEST_DS_AR, 0xc093 }, { VMCS_GUEST_DS_LIMIT, 0xffffffff },
	{ VMCS_GUEST_ES_AR, 0x10000 }, { VMCS_GUEST_FS_AR, 0x10000 }, { VMCS_GUEST_GS_AR, 0x10000 },
	{ VMCS_GUEST_LDTR_AR, 0x10000 }, { VMCS_GUEST_TR_AR, 0x8b }, { VMCS_GUEST_TR_LIMIT, 0x67 },
	{ VMCS_GUEST_CR0, 0x80000031 }, { VMCS_GUEST_CR3, 0x1000 }, { VMCS_GUEST_CR4, 0x2020 },
	{ VMCS_GUEST_IA32_EFER, 0x500 }, { VMCS_GUEST_RSP, 0x7e000 }, { VMCS_GUEST_RIP, GCODE },
	{ VMCS_GUEST_RFLAGS, 0x202 }, { VMCS_VMCS_LINK_POINTER, ~0ull }, { VMCS_GUEST_DR7, 0x400 },
	{ VMCS_ENTRY_INTR_INFO, 0 }, { VMCS_GUEST_ACTIVITY_STATE, 0 },
};
#define NTMPL (sizeof tmpl / sizeof tmpl[0])

struct prog {
	uint8_t *b;
	size_t n;
};

static void emit(struct prog *p, const void *bytes, size_t k)
{
	if (p->n + k <= PROG_LEN) {
		memcpy(p->b + p->n, bytes, k);
		p->n += k;
	}
}

static void mov_imm(struct prog *p, unsigned reg, uint64_t v)   /* mov r64, imm64 */
{
	uint8_t b[10] = { 0x48, (uint8_t)(0xb8 + reg) };
	memcpy(b + 2, &v, 8);
	emit(p, b, 10);
}

/* One random step of the program. */
static void step(struct prog *p)
{
	static const uint64_t regions[] = { 0x10000, 0x11000, 0x12000, 0x11004, 0x7ff000, 1ull << 41 };
	uint64_t r = rnd();
	switch (r % 14) {
	case 0: case 1: case 2: case 3: case 4: {     /* VMWRITE */
		unsigned k = (unsigned)(rnd() % NTMPL);
		uint64_t enc = tmpl[k].enc, v = tmpl[k].v;
		switch (rnd() % 8) {
		case 0: v ^= 1ull << (rnd() % 64); break;
		case 1: v = rnd(); break;
		case 2: enc = rnd() % 8 ? (rnd() & 0x6c1f) : rnd(); break;
		default: break;
		}
		if (enc == VMCS_HOST_RIP)
			enc = VMCS_GUEST_RIP;
		mov_imm(p, 0, enc);
		mov_imm(p, 1, v);
		emit(p, "\x0f\x79\xc1", 3);             /* vmwrite rax, rcx */
		break;
	}
	case 5:                                          /* VMREAD */
		mov_imm(p, 0, rnd() % 4 ? tmpl[rnd() % NTMPL].enc : rnd() & 0x6fff);
		emit(p, "\x0f\x78\xc1", 3);             /* vmread rcx, rax */
		break;
	case 6: case 7: {                                /* VMXON/VMCLEAR/VMPTRLD/VMPTRST */
		static const uint8_t ops[4][4] = { { 0xf3, 0x0f, 0xc7, 0x33 }, { 0x66, 0x0f, 0xc7, 0x33 },
						   { 0x90, 0x0f, 0xc7, 0x33 }, { 0x90, 0x0f, 0xc7, 0x3b } };
		mov_imm(p, 3, SLOTS + 8 * (rnd() % 6));     /* rbx -> one region pointer */
		emit(p, ops[rnd() % 4], 4);
		break;
	}
	case 8: case 9: {                                /* VMLAUNCH / VMRESUME, HOST_RIP after it */
		mov_imm(p, 0, VMCS_HOST_RIP);
		mov_imm(p, 1, PROG + p->n + 10 + 3 + 3);
		emit(p, "\x0f\x79\xc1", 3);
		emit(p, r & 16 ? "\x0f\x01\xc2" : "\x0f\x01\xc3", 3);
		break;
	}
	case 10:
		emit(p, rnd() % 2 ? "\x0f\x01\xc4" : "\x0f\x01\xc1", 3);   /* VMXOFF / VMCALL */
		break;
	case 11: case 12:                                /* INVEPT / INVVPID [rbx], rax */
		mov_imm(p, 0, rnd() % 5);
		mov_imm(p, 3, SLOTS + 0x100);
		emit(p, rnd() % 2 ? "\x66\x0f\x38\x80\x03" : "\x66\x0f\x38\x81\x03", 5);
		break;
	default:                                         /* a random region pointer */
		mov_imm(p, 3, SLOTS + 8 * (rnd() % 6));
		mov_imm(p, 0, regions[rnd() % 6]);
		emit(p, "\x48\x89\x03", 3);             /* mov [rbx], rax */
		break;
	}
	(void)regions;
}

/* The fault handler: counter += 1; rsp := 0x7f000; jump to step[counter % 64]. */
static const uint8_t handler[] = {
	0x48, 0x8b, 0x04, 0x25, 0x00, 0xe0, 0x01, 0x00,     /* mov rax, [CNT] */
	0x48, 0xff, 0xc0,                                   /* inc rax */
	0x48, 0x89, 0x04, 0x25, 0x00, 0xe0, 0x01, 0x00,     /* mov [CNT], rax */
	0x83, 0xe0, 0x3f,                                   /* and eax, 63 */
	0x48, 0x8b, 0x04, 0xc5, 0x08, 0xe0, 0x01, 0x00,     /* mov rax, [CNT + 8 + rax * 8] */
	0x48, 0xc7, 0xc4, 0x00, 0xf0, 0x07, 0x00,           /* mov rsp, 0x7f000 */
	0xff, 0xe0,                                         /* jmp rax */
};

static void setup(struct cpu *c)
{
	cpu_phys_write(c, HANDLER, handler, sizeof handler);
	for (int v = 0; v < 256; v++) {
		w64(c, 0x7000 + 16 * (uint64_t)v, (HANDLER & 0xffff) | 0x08ull << 16 | 0x8eull << 40 |
		    (uint64_t)(HANDLER >> 16) << 48);
		w64(c, 0x7008 + 16 * (uint64_t)v, 0);
	}
	c->idtr = (struct cpu_dtable){ 0x7000, 256 * 16 - 1 };
	w64(c, 0x1000, 0x2000 | 3);
	w64(c, 0x2000, 0x3000 | 3);
	w64(c, 0x3000, 0x83);                          /* 2 MiB identity, RW */
	static const uint64_t gdt[] = { 0, 0x00209A0000000000ull, 0x00CF92000000FFFFull, 0, 0, 0,
					0x0000890000000067ull | 0x3000ull << 16, 0 };
	cpu_phys_write(c, 0x800, gdt, sizeof gdt);
	w64(c, 0x4000, 0x5000 | 7);                    /* EPT: identity 2 MiB, sometimes odd rights */
	w64(c, 0x5000, 0x6000 | 7);
	w64(c, 0x6000, rnd() % 4 ? 0x80 | 7 | 6 << 3 : rnd());
	uint32_t rev = rnd() % 8 ? 0x4e4c0001u : (uint32_t)rnd();
	cpu_phys_write(c, 0x10000, &rev, 4);
	rev = 0x4e4c0001u;
	cpu_phys_write(c, 0x11000, &rev, 4);
	cpu_phys_write(c, 0x12000, &rev, 4);
	static const uint64_t ptrs[6] = { 0x10000, 0x11000, 0x12000, 0x11004, 0x7ff000, 1ull << 41 };
	cpu_phys_write(c, SLOTS, ptrs, sizeof ptrs);
	w64(c, SLOTS + 0x100, rnd() % 2 ? 0x4000 | 6 | 3 << 3 : rnd());
	w64(c, SLOTS + 0x108, rnd());
	uint8_t bm[0x4000];
	for (size_t k = 0; k < sizeof bm; k++)
		bm[k] = (uint8_t)(rnd() % 4 ? 0 : rnd());
	cpu_phys_write(c, 0x14000, bm, sizeof bm);
	uint8_t g[0x1000];
	for (size_t k = 0; k < sizeof g; k += 8) {
		uint64_t v = rnd();
		memcpy(g + k, &v, 8);
	}
	cpu_phys_write(c, GCODE, g, sizeof g);

	/* 64-bit ring 0, paging on, VMXE: as a hypervisor is before VMXON. */
	c->cr3 = 0x1000;
	c->cr4 = CR4_PAE | CR4_VMXE;
	c->efer = EFER_LME | EFER_LMA | EFER_NXE;
	c->cr0 = CR0_PE | CR0_NE | CR0_ET | CR0_PG;
	c->gdtr = (struct cpu_dtable){ 0x800, sizeof gdt - 1 };
	c->seg[SEG_CS] = (struct cpu_segment){ 0x08, 0xa09b, 0xffffffff, 0 };
	for (int s = 0; s < 6; s++)
		if (s != SEG_CS)
			c->seg[s] = (struct cpu_segment){ 0x10, 0xc093, 0xffffffff, 0 };
	c->tr = (struct cpu_segment){ 0x30, 0x8b, 0x67, 0x3000 };
	c->cpl = 0;
	c->rflags = FLAG_FIXED1;
	c->gpr[R_RSP] = 0x7f000;
	c->rip = PROG;
	cpu_system_state_loaded(c);
}

static enum cpu_stop one(uint64_t insns, struct machine_config *cfg, char *why, size_t n)
{
	char err[160];
	struct machine *m = machine_create(cfg, err, sizeof err);
	if (!m) {
		fprintf(stderr, "fuzz_vmx: %s\n", err);
		exit(2);
	}
	struct cpu *c = &m->cpu;
	c->observer = observe;
	setup(c);
	static uint8_t code[PROG_LEN];
	struct prog p = { code, 0 };
	/* VMXON [slot 0], VMCLEAR/VMPTRLD [slot 1], the template: an entry can work. */
	static const uint8_t start[][4] = { { 0xf3, 0x0f, 0xc7, 0x33 }, { 0x66, 0x0f, 0xc7, 0x33 },
					    { 0x90, 0x0f, 0xc7, 0x33 } };
	mov_imm(&p, 3, SLOTS);
	emit(&p, start[0], 4);
	mov_imm(&p, 3, SLOTS + 8);
	emit(&p, start[1], 4);
	emit(&p, start[2], 4);
	for (unsigned k = 0; k < NTMPL; k++) {
		mov_imm(&p, 0, tmpl[k].enc);
		mov_imm(&p, 1, tmpl[k].v);
		emit(&p, "\x0f\x79\xc1", 3);
	}
	uint64_t steps[64];
	unsigned nsteps = 0;
	while (p.n + 64 < PROG_LEN) {
		if (nsteps < 64 && rnd() % 16 == 0)
			steps[nsteps++] = PROG + p.n;
		step(&p);
	}
	while (nsteps < 64)
		steps[nsteps++] = PROG;
	w64(c, CNT, 0);
	cpu_phys_write(c, CNT + 8, steps, sizeof steps);
	cpu_phys_write(c, PROG, code, p.n);
	struct itimerval it = { .it_value = { .tv_usec = RUN_MS * 1000 } }, off = { 0 };
	cut = 0;
	running = c;
	setitimer(ITIMER_REAL, &it, NULL);
	enum cpu_stop s = machine_run(m, insns);
	setitimer(ITIMER_REAL, &off, NULL);
	running = NULL;
	snprintf(why, n, "%s", s == CPU_STOP_ERROR ? c->error : "");
	machine_destroy(m);
	return s;
}

int main(int argc, char **argv)
{
	double seconds = 3;
	uint64_t iters = 100000, seed = 1, insns = 20000;
	for (int k = 1; k + 1 < argc; k += 2) {
		if (!strcmp(argv[k], "--seconds"))
			seconds = atof(argv[k + 1]);
		else if (!strcmp(argv[k], "--iters"))
			iters = strtoull(argv[k + 1], NULL, 0);
		else if (!strcmp(argv[k], "--seed"))
			seed = strtoull(argv[k + 1], NULL, 0);
		else if (!strcmp(argv[k], "--insns"))
			insns = strtoull(argv[k + 1], NULL, 0);
	}
	rng ^= seed * 0x2545f4914f6cdd1dull;
	struct machine_config cfg;
	machine_config_default(&cfg);
	cfg.model = cpu_model_find("vmx");
	cfg.ram_bytes = 2u << 20;
	cfg.serial_out = NULL;
	cfg.debugcon_out = NULL;
	cfg.serial_in_fd = -1;
	uint64_t count[6] = { 0 }, i, ncut = 0;
	char why[160], first_error[160] = "";
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signal(SIGALRM, on_alarm);
	for (i = 0; i < iters; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 > seconds)
			break;
		enum cpu_stop s = one(insns, &cfg, why, sizeof why);
		count[s]++;
		ncut += cut;
		if (s == CPU_STOP_ERROR && !first_error[0])
			snprintf(first_error, sizeof first_error, "%s", why);
	}
	printf("fuzz_vmx: seed %llu, %llu runs of up to %llu instructions (%llu cut at %d ms): "
	       "%llu budget, %llu hlt, %llu stop/0xF4, %llu triple fault, %llu emulator error; "
	       "VM entries %llu, failed entries %llu (%llu without a named rule)\n",
	       (unsigned long long)seed, (unsigned long long)i, (unsigned long long)insns,
	       (unsigned long long)ncut, RUN_MS,
	       (unsigned long long)count[CPU_STOP_LIMIT], (unsigned long long)count[CPU_STOP_HLT],
	       (unsigned long long)count[CPU_STOP_REQUEST], (unsigned long long)count[CPU_STOP_SHUTDOWN],
	       (unsigned long long)count[CPU_STOP_ERROR], (unsigned long long)entries_ok,
	       (unsigned long long)entries_failed, (unsigned long long)unnamed);
	if (first_error[0])
		printf("fuzz_vmx: first emulator error: %s\n", first_error);
	/* The test fails if an entry failed without naming its rule, or if no
	 * entry ever succeeded or failed (the generator would be broken). */
	return unnamed || !entries_ok || !entries_failed ? 1 : 0;
}
