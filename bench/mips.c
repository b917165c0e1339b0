/*
 * mips.c - how fast does the interpreter run ordinary integer code?
 *
 *   bench/mips [--iterations N]
 *
 * Runs the 20-instruction loop of mips_loop.S in flat 64-bit mode and prints
 * the instructions retired per second of host time.  This is a benchmark
 * program, not a test: the figure depends on the host.  The reference
 * figures for the same kind of loop on this class of machine are Bochs 2.7
 * about 94 MIPS and QEMU TCG about 2,300 MIPS; the target is >= 280 MIPS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "model.h"

extern const uint8_t mips_loop_start[], mips_loop_end[];

#define CODE_AT 0x100000
#define DATA_AT 0x200000

/* Seconds of this thread's CPU time: on a shared machine it ignores the time
 * the benchmark spends waiting for a core (wall time is printed too). */
static double now(clockid_t clk)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int run_once(uint64_t iterations, double *mips, double *wall_mips, uint64_t *insns)
{
	static struct cpu c;
	if (cpu_init(&c, cpu_model_default(), 4 << 20) < 0)
		return -1;
	cpu_phys_write(&c, CODE_AT, mips_loop_start, (size_t)(mips_loop_end - mips_loop_start));
	c.exceptions_stop = true;
	c.cpl = 0;
	c.rip = CODE_AT;
	c.gpr[R_RDI] = DATA_AT;
	c.gpr[R_R12] = iterations;
	c.gpr[R_RCX] = 0x12345678;
	double w0 = now(CLOCK_MONOTONIC), t0 = now(CLOCK_THREAD_CPUTIME_ID);
	enum cpu_stop why = cpu_run(&c, 0);
	double w1 = now(CLOCK_MONOTONIC), t1 = now(CLOCK_THREAD_CPUTIME_ID);
	if (why != CPU_STOP_HLT) {
		fprintf(stderr, "mips: the loop did not end with HLT (stop %d, vector %d, rip %#llx: %s)\n",
			why, c.exc_vector, (unsigned long long)c.rip, c.error);
		cpu_free(&c);
		return -1;
	}
	*insns = c.icount;
	*mips = (double)c.icount / (t1 - t0) / 1e6;
	*wall_mips = (double)c.icount / (w1 - w0) / 1e6;
	cpu_free(&c);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t iterations = 10000000;
	for (int k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--iterations") == 0 && k + 1 < argc) {
			iterations = strtoull(argv[++k], NULL, 0);
		} else {
			fprintf(stderr, "usage: mips [--iterations N]\n");
			return 2;
		}
	}
	double best = 0, best_wall = 0;
	uint64_t insns = 0;
	for (int round = 0; round < 3; round++) {
		double mips, wall;
		if (run_once(iterations, &mips, &wall, &insns) < 0)
			return 1;
		if (mips > best)
			best = mips;
		if (wall > best_wall)
			best_wall = wall;
	}
	printf("nestlab interpreter: %.0f MIPS per CPU second (%.0f by wall clock); best of 3 runs, "
	       "%llu instructions each, 20-instruction ALU/load/store/branch loop\n",
	       best, best_wall, (unsigned long long)insns);
	printf("for comparison (README.md, \"Benchmarks\"): Bochs 2.7 ~94 MIPS and QEMU TCG "
	       "~2300 MIPS where they were measured; nestlab's target is >= 280 MIPS\n");
	return 0;
}
