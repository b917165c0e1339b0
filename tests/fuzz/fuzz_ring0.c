/*
 * fuzz_ring0.c - random code executed with full privilege on the whole
 * small PC (struct machine: devices, MMIO, interrupts): nestlab must never
 * crash, hang past its budget or touch memory it does not own (run it under
 * ASan: `-L fuzz` in the sanitizer build).  Any way the run stops is fine -
 * a triple fault, HLT, the budget, port 0xF4, an emulator error naming what
 * is missing - as long as it stops cleanly.
 *
 *   fuzz_ring0 [--seconds S] [--iters N] [--seed X] [--insns N]
 *
 * Each iteration builds a fresh machine (2 MiB) and one of three starts:
 *   0  32-bit protected mode, paging off (the Multiboot entry state), random
 *      code at once;
 *   1  ring0_stub.S climbs to long mode (GDT, 4-level identity map, IDT
 *      whose 256 gates point into the random code, TSS with RSP0 and IST)
 *      and jumps to the random code in ring 0;
 *   2  the same, entered in ring 3 with IRETQ (faults go to random handlers).
 * Random code: 64 KiB at 0x10000, with random general registers.  The
 * generator is a fixed xorshift: `--seed X --iters N` replays a run.
 *
 * Low-memory map: 0xfd0 ring-3 flag, 0xfd8 code address, 0xfe0 IDT pointer,
 * 0xff0 GDT pointer, 0x1000 GDT, 0x2000 IDT, 0x3000 TSS, 0x4000-0x6fff
 * page tables, 0x8000 the stub, 0x10000 the random code, stacks below 0x80000.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "loader.h"
#include "machine.h"

#define CODE 0x10000u
#define CODE_LEN 0x10000u

extern const uint8_t ring0_stub_start[], ring0_stub_end[];

/* The time bound holds even inside one long run: a REP string instruction
 * with a huge RCX into MMIO retires one chunk of 65536 elements per counted
 * instruction (string.c), so a budget of instructions can mean minutes.
 * So each run also has a host-time limit (RUN_MS): SIGALRM asks the running
 * machine to stop at its next block boundary. */
#define RUN_MS 250
static struct cpu *volatile running;
static volatile sig_atomic_t cut;

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
static void w32(struct cpu *c, uint64_t pa, uint32_t v) { cpu_phys_write(c, pa, &v, 4); }
static void w16(struct cpu *c, uint64_t pa, uint16_t v) { cpu_phys_write(c, pa, &v, 2); }

static void build_tables(struct cpu *c)
{
	static const uint64_t gdt[] = {
		0, 0x00209A0000000000ull, 0x00CF92000000FFFFull, 0x00CFFA000000FFFFull,
		0x00CFF2000000FFFFull, 0x0020FA0000000000ull, 0, 0, 0x00CF9A000000FFFFull,
	};
	cpu_phys_write(c, 0x1000, gdt, sizeof gdt);
	uint64_t tss = 0x3000, lim = 103;           /* 64-bit TSS descriptor at 0x30 */
	w64(c, 0x1030, lim | (tss & 0xffffff) << 16 | 0x89ull << 40);
	w64(c, 0x1038, 0);
	w16(c, 0xff0, sizeof gdt - 1);
	w64(c, 0xff2, 0x1000);
	for (int v = 0; v < 256; v++) {                /* gates into the random code */
		uint64_t h = CODE + rnd() % CODE_LEN;
		uint8_t type = (uint8_t)(0x8e | (rnd() % 4 == 0 ? 0x60 : 0) | (rnd() % 8 == 0 ? 1 : 0));
		w64(c, 0x2000 + 16 * v, (h & 0xffff) | 0x08ull << 16 | (uint64_t)(rnd() % 3) << 32 |
		    (uint64_t)type << 40 | ((h >> 16) & 0xffff) << 48);
		w64(c, 0x2008 + 16 * v, h >> 32);
	}
	w16(c, 0xfe0, 256 * 16 - 1);
	w64(c, 0xfe2, 0x2000);
	w64(c, 0x3004, 0x7f000);                       /* RSP0 */
	w64(c, 0x3024, 0x7e000);                       /* IST1 */
	w64(c, 0x302c, 0x7d000);                       /* IST2 */
	w16(c, 0x3066, 104);                           /* no I/O bitmap */
	w64(c, 0x4000, 0x5000 | 7);                    /* PML4 -> PDPT -> PD, 2 MiB pages */
	w64(c, 0x5000, 0x6000 | 7);
	for (int k = 0; k < 512; k++)
		w64(c, 0x6000 + 8 * k, (uint64_t)k << 21 | 0x87);
}

/* One run; returns the stop reason. */
static enum cpu_stop one(int start, uint64_t insns, struct machine_config *cfg, char *why, size_t n)
{
	char err[160];
	struct machine *m = machine_create(cfg, err, sizeof err);
	if (!m) {
		fprintf(stderr, "fuzz_ring0: %s\n", err);
		exit(2);
	}
	struct cpu *c = &m->cpu;
	uint8_t code[CODE_LEN];
	for (size_t k = 0; k < CODE_LEN; k += 8) {
		uint64_t r = rnd();
		memcpy(code + k, &r, 8);
	}
	cpu_phys_write(c, CODE, code, CODE_LEN);
	build_tables(c);
	cpu_phys_write(c, 0x8000, ring0_stub_start, (size_t)(ring0_stub_end - ring0_stub_start));
	w64(c, 0xfd8, CODE + rnd() % 256);
	w32(c, 0xfd0, start == 2);
	struct loader_boot b = { .kind = LOADER_MB1, .entry = start ? 0x8000 : CODE,
				 .magic = MB1_BOOT_MAGIC, .info = 0x9000 };
	loader_enter(c, &b);
	for (int r = 0; r < 16; r++)
		if (r != R_RSP || start == 0)
			c->gpr[r] = rnd() % 3 ? rnd() % 0x100000 : rnd();
	c->gpr[R_RSP] = start ? c->gpr[R_RSP] : 0x70000;
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
	uint64_t iters = 100000, seed = 1, insns = 5000;
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
	cfg.ram_bytes = 2u << 20;
	cfg.serial_out = NULL;
	cfg.debugcon_out = NULL;
	cfg.serial_in_fd = -1;
	uint64_t count[6] = { 0 }, i;
	char why[160], first_error[160] = "";
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signal(SIGALRM, on_alarm);
	uint64_t ncut = 0;
	for (i = 0; i < iters; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 > seconds)
			break;
		enum cpu_stop s = one((int)(i % 3), insns, &cfg, why, sizeof why);
		count[s]++;
		ncut += cut;
		if (s == CPU_STOP_ERROR && !first_error[0])
			snprintf(first_error, sizeof first_error, "%s", why);
	}
	printf("fuzz_ring0: seed %llu, %llu runs of up to %llu instructions (%llu cut at %d ms): "
	       "%llu budget, %llu hlt, %llu stop/0xF4, %llu triple fault, %llu emulator error\n",
	       (unsigned long long)seed, (unsigned long long)i, (unsigned long long)insns,
	       (unsigned long long)ncut, RUN_MS,
	       (unsigned long long)count[CPU_STOP_LIMIT], (unsigned long long)count[CPU_STOP_HLT],
	       (unsigned long long)count[CPU_STOP_REQUEST], (unsigned long long)count[CPU_STOP_SHUTDOWN],
	       (unsigned long long)count[CPU_STOP_ERROR]);
	if (first_error[0])
		printf("fuzz_ring0: first emulator error: %s\n", first_error);
	return 0;
}
