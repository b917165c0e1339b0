/*
 * main.c - the `nestlab` command.
 *
 *   nestlab [run] [--cpu MODEL] [--mem MB] [--append CMDLINE] [--max-insns N]
 *                 [--load ADDR] [--multiboot2] [--stats] [IMAGE [MODULE...]]
 *
 * `nestlab run IMAGE` boots IMAGE on the small PC (cpu/machine.c) as
 * `qemu-system-x86_64 -kernel IMAGE` would: a Multiboot kernel (cpu/loader.c)
 * gets the command line "IMAGE CMDLINE" (QEMU's convention for Multiboot 1,
 * with the space also when CMDLINE is empty)
 * and the modules, each "FILE [ARGS]" as QEMU's -initrd takes them, with
 * that whole string as the module's string.  With --multiboot2 (an image
 * with both headers) or an MB2-only image, the conventions are GRUB's
 * `multiboot2`/`module2`: CMDLINE alone, and ARGS alone.  An
 * image without a Multiboot header is a flat binary started in 64-bit mode
 * at CPL 0 at --load (default 0x100000).
 *
 * With no IMAGE, nestlab boots its built-in default: the hypervisor nesthv
 * with the teaching guest as its module, both built in this tree and
 * embedded in the binary (builtin_images.S; the paths "builtin:nesthv.elf"
 * and "builtin:guest.elf" name them).  On the default CPU model (novt, no
 * VMX/SVM) nesthv picks its paravirtual backend.  `--demo` runs instead the
 * small flat program of demo_guest.S on the bare interpreter.
 *
 * The guest's serial port (COM1) and debug console (port 0xE9) go to stdout;
 * nestlab's own messages go to stderr.  Exit statuses:
 *   v    the guest wrote v to port 0xF4 (QEMU's isa-debug-exit makes QEMU
 *        exit with (v << 1) | 1 instead; the boot tests compare v)
 *   64 usage error   65 bad image   66 emulator error   67 guest exception
 *   (flat binaries only: they have no IDT)   68 --max-insns reached
 *   69 HLT with interrupts off or nothing to wake it   70 triple fault
 *   71 the guest asked the board for a reset (port 0xCF9, 0x92, the 8042)
 * With --reboot a reset request or a triple fault restarts the machine
 * instead (the images loaded again, as QEMU does without -no-reboot).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader.h"
#include "machine.h"
#include "model.h"

enum {
	EXIT_USAGE = 64, EXIT_IMAGE = 65, EXIT_EMU = 66, EXIT_GUEST_EXC = 67,
	EXIT_LIMIT = 68, EXIT_HALT = 69, EXIT_TRIPLE = 70, EXIT_RESET = 71,
};

#define MAX_MODULES 32

extern const uint8_t demo_guest_start[], demo_guest_end[];
#ifdef NESTLAB_BUILTIN_IMAGES
extern const uint8_t builtin_nesthv_start[], builtin_nesthv_end[];
extern const uint8_t builtin_guest_start[], builtin_guest_end[];
#endif

struct run_opts {
	const char *cpu;
	uint64_t mem_mb;
	uint64_t max_insns;
	uint64_t load;
	bool load_given, mb2, stats, demo, reboot;
	const char *append;
	const char *image;
	const char *mods[MAX_MODULES];
	int nmods;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nestlab [run] [options] [IMAGE [MODULE...]]\n"
		"  IMAGE         a Multiboot 1/2 kernel, or a flat 64-bit binary\n"
		"                (default: nesthv with the teaching guest, built in)\n"
		"  MODULE        \"FILE [ARGS]\": a Multiboot module and its string\n"
		"  --cpu M       novt (default), vmx, svm\n"
		"  --mem MB      guest RAM in MiB (default 128, at most 3072)\n"
		"  --append S    kernel command line\n"
		"  --max-insns N stop after N instructions (exit status 68)\n"
		"  --load ADDR   load a flat binary here and start it (default 0x100000)\n"
		"  --multiboot2  use the Multiboot 2 header when an image has both\n"
		"  --stats       print instructions retired and speed on stderr\n"
		"  --demo        run the small built-in flat program instead\n"
		"  --reboot      a guest reset or triple fault restarts the machine\n"
		"                (default: stop with status 71 / 70, as QEMU -no-reboot)\n"
		"exit status: the guest's port 0xF4 value; 64 usage, 65 bad image,\n"
		"  66 emulator error, 67 guest exception (flat), 68 --max-insns,\n"
		"  69 halted for good, 70 triple fault, 71 guest reset request\n");
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

static int bad(const char *what, const char *v)
{
	fprintf(stderr, "nestlab: %s, not '%s'\n", what, v);
	return -1;
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
		} else if (strcmp(a, "--reboot") == 0) {
			o->reboot = true;
		} else if (strcmp(a, "--demo") == 0) {
			o->demo = true;
		} else if (strcmp(a, "--multiboot2") == 0) {
			o->mb2 = true;
		} else if (strcmp(a, "--cpu") == 0 && has_val) {
			o->cpu = argv[++k];
		} else if (strcmp(a, "--append") == 0 && has_val) {
			o->append = argv[++k];
		} else if (strcmp(a, "--mem") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->mem_mb) || o->mem_mb < 2 ||
			    o->mem_mb > (MACHINE_MAX_RAM >> 20))
				return bad("--mem wants 2..3072 (MiB)", argv[k]);
		} else if (strcmp(a, "--max-insns") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->max_insns) || o->max_insns == 0)
				return bad("--max-insns wants a positive number", argv[k]);
		} else if (strcmp(a, "--load") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->load))
				return bad("--load wants an address", argv[k]);
			o->load_given = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "nestlab: unknown option '%s' (or missing value)\n", a);
			return -1;
		} else if (!o->image) {
			o->image = a;
		} else if (o->nmods < MAX_MODULES) {
			o->mods[o->nmods++] = a;
		} else {
			fprintf(stderr, "nestlab: more than %d modules\n", MAX_MODULES);
			return -1;
		}
	}
	return 0;
}

/* The built-in images, by their "builtin:NAME" paths; NULL if unknown. */
static uint8_t *builtin(const char *path, size_t *len)
{
	const uint8_t *start = NULL, *end = NULL;
#ifdef NESTLAB_BUILTIN_IMAGES
	if (strcmp(path, "builtin:nesthv.elf") == 0) {
		start = builtin_nesthv_start;
		end = builtin_nesthv_end;
	} else if (strcmp(path, "builtin:guest.elf") == 0) {
		start = builtin_guest_start;
		end = builtin_guest_end;
	}
#endif
	if (!start) {
		fprintf(stderr, "nestlab: no built-in image '%s'\n", path);
		return NULL;
	}
	*len = (size_t)(end - start);
	uint8_t *copy = malloc(*len);
	if (copy)
		memcpy(copy, start, *len);
	return copy;
}

/* Read a whole file; NULL with a message on failure. */
static uint8_t *slurp(const char *path, size_t *len)
{
	if (strncmp(path, "builtin:", 8) == 0)
		return builtin(path, len);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "nestlab: cannot open '%s': %s\n", path, strerror(errno));
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
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		fprintf(stderr, "nestlab: error reading '%s'\n", path);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* Modules: "FILE [ARGS]".  The module's string is that whole string for
 * Multiboot 1 (QEMU -initrd), ARGS alone for Multiboot 2 (GRUB module2). */
static int read_modules(const struct run_opts *o, enum loader_kind kind,
			struct loader_module *m, uint8_t **bufs)
{
	for (int k = 0; k < o->nmods; k++) {
		char path[4096];
		size_t n = strcspn(o->mods[k], " ");
		if (n >= sizeof path)
			return fprintf(stderr, "nestlab: module path too long\n"), -1;
		memcpy(path, o->mods[k], n);
		path[n] = 0;
		bufs[k] = slurp(path, &m[k].len);
		if (!bufs[k])
			return -1;
		m[k].data = bufs[k];
		m[k].cmdline = o->mods[k];
		if (kind == LOADER_MB2)
			m[k].cmdline = o->mods[k][n] ? o->mods[k] + n + 1 : "";
	}
	return 0;
}

static int load(struct machine *mc, const struct run_opts *o, struct loader_boot *b)
{
	struct cpu *c = &mc->cpu;
	char err[256], *cmdline = NULL;
	size_t len = (size_t)(demo_guest_end - demo_guest_start);
	uint8_t *file = NULL, *modbuf[MAX_MODULES] = { 0 };
	struct loader_module mods[MAX_MODULES];
	int r = -1;
	if (o->image && !(file = slurp(o->image, &len)))
		return -1;
	const uint8_t *img = file ? file : demo_guest_start;
	struct loader_image im = { img, len, "", mods, (unsigned)o->nmods, o->mb2 };
	enum loader_kind kind = o->load_given || !file ? LOADER_FLAT : loader_detect(&im);
	if (kind == LOADER_FLAT) {
		if (o->nmods || o->append)
			fprintf(stderr, "nestlab: note: a flat binary gets no modules or command line\n");
		if (!o->load_given && len >= 4 && memcmp(img, "\x7f" "ELF", 4) == 0) {
			fprintf(stderr, "nestlab: '%s': an ELF file without a Multiboot header "
				"(and no --load for a flat binary)\n", o->image);
			goto out;
		}
		r = loader_flat(c, img, len, o->load, b, err, sizeof err);
	} else if (read_modules(o, kind, mods, modbuf) == 0) {
		/* MB1 (QEMU): "IMAGE ARGS"; MB2 (GRUB's multiboot2): ARGS alone. */
		const char *args = o->append ? o->append : "";
		size_t n = strlen(o->image) + strlen(args) + 2;
		cmdline = malloc(n);
		if (!cmdline)
			goto out;
		if (kind == LOADER_MB1)
			snprintf(cmdline, n, "%s %s", o->image, args);   /* QEMU: "IMAGE " even without -append */
		else
			snprintf(cmdline, n, "%s", args);
		im.cmdline = cmdline;
		r = loader_multiboot(c, &im, b, err, sizeof err);
	} else {
		goto out;
	}
	if (r < 0)
		fprintf(stderr, "nestlab: cannot load '%s': %s\n", o->image ? o->image : "demo", err);
out:
	for (int k = 0; k < o->nmods; k++)
		free(modbuf[k]);
	free(cmdline);
	free(file);
	return r;
}

/* `earlier`: instructions retired by the boots before this one (--reboot). */
static int report_stop(struct machine *m, enum cpu_stop why, uint64_t earlier)
{
	struct cpu *c = &m->cpu;
	switch (why) {
	case CPU_STOP_REQUEST:
		if (m->exited)
			return (int)(m->exit_value & 0xff);
		if (m->reset_requested) {
			fprintf(stderr, "nestlab: the guest requested a reset through %s at rip %#llx; "
				"stopped, as QEMU does with -no-reboot (--reboot restarts the machine)\n",
				m->reset_source ? m->reset_source : "the board",
				(unsigned long long)c->insn_rip);
			return EXIT_RESET;
		}
		fprintf(stderr, "nestlab: stopped at rip %#llx\n", (unsigned long long)c->rip);
		return EXIT_EMU;
	case CPU_STOP_EXCEPTION:
		fprintf(stderr, "nestlab: guest exception %d (error code %#x) at rip %#llx\n",
			c->exc_vector, c->exc_error, (unsigned long long)c->rip);
		return EXIT_GUEST_EXC;
	case CPU_STOP_ERROR:
		fprintf(stderr, "nestlab: emulator error: %s\n", c->error);
		return EXIT_EMU;
	case CPU_STOP_LIMIT:
		fprintf(stderr, "nestlab: stopped after --max-insns (%llu instructions) at rip %#llx\n",
			(unsigned long long)(earlier + c->icount), (unsigned long long)c->rip);
		return EXIT_LIMIT;
	case CPU_STOP_HLT:
		fprintf(stderr, "nestlab: guest halted with nothing to wake it, at rip %#llx\n",
			(unsigned long long)c->rip);
		return EXIT_HALT;
	case CPU_STOP_SHUTDOWN:
		fprintf(stderr, "nestlab: triple fault: the processor shut down%s%s\n",
			c->error[0] ? "\n" : "", c->error);
		return EXIT_TRIPLE;
	}
	return EXIT_EMU;
}

/* One boot: a new machine, the images loaded, run until it stops.  Returns
 * the machine (the caller reports and destroys it), NULL after a message. */
static struct machine *boot_and_run(const struct run_opts *o, const struct machine_config *cfg,
				    uint64_t budget, enum cpu_stop *why, int *status)
{
	char err[160];
	struct machine *m = machine_create(cfg, err, sizeof err);
	if (!m) {
		fprintf(stderr, "nestlab: %s\n", err);
		*status = EXIT_EMU;
		return NULL;
	}
	struct loader_boot b;
	if (load(m, o, &b) < 0) {
		machine_destroy(m);
		*status = EXIT_IMAGE;
		return NULL;
	}
	loader_enter(&m->cpu, &b);
	m->cpu.exceptions_stop = b.kind == LOADER_FLAT;   /* no IDT in a flat program */
	*why = machine_run(m, budget);
	return m;
}

/* Did this run end in a reset that --reboot turns into a new boot? */
static bool wants_reboot(const struct machine *m, enum cpu_stop why)
{
	return why == CPU_STOP_SHUTDOWN || (why == CPU_STOP_REQUEST && !m->exited && m->reset_requested);
}

int main(int argc, char **argv)
{
	struct run_opts o = { .cpu = "novt", .mem_mb = 128, .load = 0x100000 };
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
#ifdef NESTLAB_BUILTIN_IMAGES
	if (!o.image && !o.demo) {
		o.image = "builtin:nesthv.elf";
		o.mods[o.nmods++] = "builtin:guest.elf";
	}
#endif
	struct machine_config cfg;
	machine_config_default(&cfg);
	cfg.model = cpu_model_find(o.cpu);
	if (!cfg.model) {
		fprintf(stderr, "nestlab: unknown CPU model '%s' (try novt, vmx, svm)\n", o.cpu);
		return EXIT_USAGE;
	}
	cfg.ram_bytes = o.mem_mb << 20;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t total = 0;           /* instructions of the earlier boots */
	enum cpu_stop why = CPU_STOP_LIMIT;
	int status = 0;
	struct machine *m;
	for (unsigned boots = 1;; boots++) {
		uint64_t budget = o.max_insns ? o.max_insns - total : 0;
		if (!(m = boot_and_run(&o, &cfg, budget, &why, &status)))
			return status;
		if (!o.reboot || !wants_reboot(m, why) || (o.max_insns && total + m->cpu.icount >= o.max_insns))
			break;
		fflush(stdout);
		fprintf(stderr, "nestlab: %s at rip %#llx: rebooting (boot %u)\n",
			why == CPU_STOP_SHUTDOWN ? "triple fault" : "guest reset request",
			(unsigned long long)m->cpu.insn_rip, boots + 1);
		total += m->cpu.icount;
		machine_destroy(m);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fflush(stdout);
	if (o.stats) {
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
		uint64_t n = total + m->cpu.icount;
		fprintf(stderr, "nestlab: %llu instructions retired in %.3f s (%.1f MIPS)\n",
			(unsigned long long)n, s, s > 0 ? (double)n / s / 1e6 : 0.0);
	}
	status = report_stop(m, why, total);
	machine_destroy(m);
	return status;
}
