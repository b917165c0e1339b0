/*
 * main.c - the `nestlab` command.
 *
 *   nestlab [run] [--cpu MODEL] [--mem MB] [--max-insns N] [--load ADDR]
 *                 [--stats] [IMAGE]
 *
 * For now an IMAGE is a flat binary, loaded at --load (default 0x100000) and
 * started there in flat 64-bit mode; Multiboot images, devices and the
 * step-through UI arrive with later work.  With no IMAGE, nestlab runs its
 * built-in demo program (demo_guest.S).
 *
 * The guest talks to us through two ports, as under QEMU and Bochs:
 *   0xE9  debug console: each byte written goes to stdout
 *   0xF4  debug exit: writing v ends the run with exit status v
 * nestlab's own messages go to stderr.  Exit statuses of nestlab itself:
 *   v    the guest wrote v to port 0xF4
 *   64   usage error        65  bad image        66  emulator error
 *   67   guest exception    68  --max-insns reached  69  HLT with nothing to wake it
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "flags.h"
#include "model.h"

enum {
	EXIT_USAGE = 64, EXIT_IMAGE = 65, EXIT_EMU = 66, EXIT_GUEST_EXC = 67,
	EXIT_LIMIT = 68, EXIT_HALT = 69,
};

extern const uint8_t demo_guest_start[], demo_guest_end[];

struct run_opts {
	const char *cpu;
	uint64_t mem_mb;
	uint64_t max_insns;
	uint64_t load;
	const char *image;
	bool stats;
};

struct io_state {
	bool exited;
	int status;
	struct cpu *cpu;
};

static uint32_t io_read(void *opaque, uint16_t port, int size)
{
	(void)opaque;
	(void)port;
	return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
}

static void io_write(void *opaque, uint16_t port, int size, uint32_t v)
{
	struct io_state *io = opaque;
	(void)size;
	if (port == 0xe9) {
		putchar((int)(v & 0xff));
	} else if (port == 0xf4) {
		io->exited = true;
		io->status = (int)(v & 0xff);
		io->cpu->stop_request = true;
		io->cpu->block_break = true;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nestlab [run] [--cpu MODEL] [--mem MB] [--max-insns N]\n"
		"               [--load ADDR] [--stats] [IMAGE]\n"
		"  IMAGE       flat 64-bit binary (default: the built-in demo)\n"
		"  --cpu       novt (default), vmx, svm\n"
		"  --mem       guest RAM in MiB (default 64)\n"
		"  --max-insns stop after N instructions (exit status 68)\n"
		"  --load      load and start address (default 0x100000)\n"
		"  --stats     print instructions retired and speed on stderr\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	int k = 1;
	if (k < argc && strcmp(argv[k], "run") == 0)
		k++;
	for (; k < argc; k++) {
		const char *a = argv[k];
		bool has_val = k + 1 < argc;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--stats") == 0) {
			o->stats = true;
		} else if (strcmp(a, "--cpu") == 0 && has_val) {
			o->cpu = argv[++k];
		} else if (strcmp(a, "--mem") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->mem_mb) || o->mem_mb < 2 || o->mem_mb > 65536)
				return fprintf(stderr, "nestlab: --mem wants 2..65536 (MiB), not '%s'\n", argv[k]), -1;
		} else if (strcmp(a, "--max-insns") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->max_insns) || o->max_insns == 0)
				return fprintf(stderr, "nestlab: --max-insns wants a positive number, not '%s'\n", argv[k]), -1;
		} else if (strcmp(a, "--load") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->load))
				return fprintf(stderr, "nestlab: --load wants an address, not '%s'\n", argv[k]), -1;
		} else if (a[0] == '-') {
			return fprintf(stderr, "nestlab: unknown option '%s' (or missing value)\n", a), -1;
		} else if (!o->image) {
			o->image = a;
		} else {
			return fprintf(stderr, "nestlab: more than one image: '%s'\n", a), -1;
		}
	}
	return 0;
}

/* Read a whole file; NULL with a message on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "nestlab: cannot open image '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				fprintf(stderr, "nestlab: out of memory reading '%s'\n", path);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int load_image(struct cpu *c, const struct run_opts *o)
{
	const uint8_t *img = demo_guest_start;
	size_t len = (size_t)(demo_guest_end - demo_guest_start);
	uint8_t *file = NULL;
	if (o->image) {
		file = read_file(o->image, &len);
		if (!file)
			return -1;
		if (len == 0) {
			fprintf(stderr, "nestlab: image '%s' is empty\n", o->image);
			free(file);
			return -1;
		}
		img = file;
	}
	if (cpu_phys_write(c, o->load, img, len) < 0) {
		fprintf(stderr, "nestlab: image of %zu bytes does not fit in RAM at %#llx "
			"(RAM is %llu MiB)\n", len, (unsigned long long)o->load,
			(unsigned long long)(c->ram_size >> 20));
		free(file);
		return -1;
	}
	free(file);
	return 0;
}

static void report_stop(struct cpu *c, enum cpu_stop why)
{
	switch (why) {
	case CPU_STOP_EXCEPTION:
		fprintf(stderr, "nestlab: guest exception %d (error code %#x) at rip %#llx\n",
			c->exc_vector, c->exc_error, (unsigned long long)c->rip);
		break;
	case CPU_STOP_ERROR:
		fprintf(stderr, "nestlab: emulator error: %s\n", c->error);
		break;
	case CPU_STOP_LIMIT:
		fprintf(stderr, "nestlab: stopped after --max-insns (%llu instructions) at rip %#llx\n",
			(unsigned long long)c->icount, (unsigned long long)c->rip);
		break;
	case CPU_STOP_HLT:
		fprintf(stderr, "nestlab: guest halted with nothing to wake it, at rip %#llx\n",
			(unsigned long long)c->rip);
		break;
	case CPU_STOP_SHUTDOWN:
		fprintf(stderr, "nestlab: triple fault: the processor shut down at rip %#llx\n",
			(unsigned long long)c->rip);
		break;
	case CPU_STOP_REQUEST:
		break;
	}
}

int main(int argc, char **argv)
{
	struct run_opts o = { .cpu = "novt", .mem_mb = 64, .load = 0x100000 };
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const struct cpu_model *model = cpu_model_find(o.cpu);
	if (!model) {
		fprintf(stderr, "nestlab: unknown CPU model '%s' (try novt, vmx, svm)\n", o.cpu);
		return EXIT_USAGE;
	}
	static struct cpu cpu;
	if (cpu_init(&cpu, model, o.mem_mb << 20) < 0) {
		fprintf(stderr, "nestlab: cannot allocate %llu MiB of guest RAM\n",
			(unsigned long long)o.mem_mb);
		return EXIT_EMU;
	}
	if (load_image(&cpu, &o) < 0)
		return EXIT_IMAGE;
	struct io_state io = { .cpu = &cpu };
	cpu.io_opaque = &io;
	cpu.io_read = io_read;
	cpu.io_write = io_write;
	cpu.exceptions_stop = true;
	cpu.cpl = 0;                    /* a flat image runs as a ring-0 program */
	cpu.rip = o.load;
	cpu.gpr[R_RSP] = o.load;        /* stack grows down below the image */

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum cpu_stop why = cpu_run(&cpu, o.max_insns);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fflush(stdout);
	if (o.stats) {
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
		fprintf(stderr, "nestlab: %llu instructions retired in %.3f s (%.1f MIPS)\n",
			(unsigned long long)cpu.icount, s, s > 0 ? (double)cpu.icount / s / 1e6 : 0.0);
	}
	int status;
	if (why == CPU_STOP_REQUEST && io.exited)
		status = io.status;
	else {
		report_stop(&cpu, why);
		status = why == CPU_STOP_EXCEPTION ? EXIT_GUEST_EXC
		       : why == CPU_STOP_LIMIT ? EXIT_LIMIT
		       : why == CPU_STOP_HLT ? EXIT_HALT : EXIT_EMU;
	}
	cpu_free(&cpu);
	return status;
}
