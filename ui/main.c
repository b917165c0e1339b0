/*
 * main.c - the `nestlab` command.
 *
 *   nestlab [run] [--cpu MODEL] [--mem MB] [--append CMDLINE] [--max-insns N]
 *                 [--load ADDR] [--multiboot2] [--stats] [IMAGE [MODULE...]]
 *   nestlab step  [the same] [--batch FILE] [-ex CMD]... [--serial FILE]
 *
 * `nestlab step` runs the same machine under the debugger (step.c, dbg.h).
 * `nestlab run IMAGE` boots IMAGE on the small PC (cpu/machine.c) as
 * `qemu-system-x86_64 -kernel IMAGE` would: a Multiboot kernel (cpu/loader.c)
 * gets the command line "IMAGE CMDLINE" (QEMU's convention for Multiboot 1,
 * with the space also when CMDLINE is empty)
 * and the modules, each "FILE [ARGS]" as QEMU's -initrd takes them, with
 * that whole string as the module's string.  With --multiboot2 (an image
 * with both headers) or an MB2-only image, the conventions are GRUB's
 * `multiboot2`/`module2`: CMDLINE alone, and ARGS alone.  An
 * image without a Multiboot header is a flat binary (a note says so) started
 * at --load (default 0x100000) in 64-bit mode at CPL 0 with paging on
 * (cpu/loader.h); it has no IDT, so its first exception or interrupt ends
 * the run, named.  ui/image.c reads the files: regular files no larger than
 * guest RAM.
 *
 * With no IMAGE, nestlab boots its built-in default: the hypervisor nesthv
 * with the teaching guest as its module, both built in this tree and
 * embedded in the binary (builtin_images.S; the paths "builtin:nesthv.elf"
 * and "builtin:guest.elf" name them).  On the default CPU model (novt, no
 * VMX/SVM) nesthv picks its paravirtual backend.  `--demo` runs instead the
 * small flat program of demo_guest.S on the bare interpreter.
 *
 * The guest's serial port (COM1) and debug console (port 0xE9) go to stdout;
 * nestlab's own messages go to stderr.  Exit statuses (0-63 the guest's,
 * 64-79 nestlab's own):
 *   v    the guest wrote v < 64 to port 0xF4 (QEMU's isa-debug-exit makes
 *        QEMU exit with (v << 1) | 1 instead; the boot tests compare v)
 *   64 usage error   65 bad image   66 emulator error   67 guest exception
 *   or interrupt (flat binaries only: they have no IDT)   68 --max-insns
 *   69 HLT with interrupts off or nothing to wake it   70 triple fault
 *   71 the guest asked the board for a reset (port 0xCF9, 0x92, the 8042)
 *   72 the guest wrote v >= 64 (printed; it would collide with the above)
 * With --reboot a reset request or a triple fault restarts the machine
 * instead (the images loaded again, as QEMU does without -no-reboot).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image.h"
#include "loader.h"
#include "machine.h"
#include "model.h"
#include "names.h"
#include "step.h"

enum {
	EXIT_USAGE = 64, EXIT_IMAGE = 65, EXIT_EMU = 66, EXIT_GUEST_EXC = 67,
	EXIT_LIMIT = 68, EXIT_HALT = 69, EXIT_TRIPLE = 70, EXIT_RESET = 71,
	EXIT_GUEST_RANGE = 72,
};

#define MAX_MODULES 32

extern const uint8_t demo_guest_start[], demo_guest_end[];

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
	bool step;                     /* nestlab step: under the debugger */
	struct step_opts step_opts;
	struct dbg *dbg;               /* step: gets the images' symbols */
	int step_status;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nestlab [run] [options] [IMAGE [MODULE...]]\n"
		"       nestlab step [options] [--batch FILE] [-ex CMD]... [--serial FILE]\n"
		"                    [--tui|--no-tui] [IMAGE [MODULE...]]   (the debugger: help)\n"
		"  IMAGE         a Multiboot 1/2 kernel, or a flat 64-bit binary\n"
		"                (default: nesthv with the teaching guest, built in)\n"
		"  MODULE        \"FILE [ARGS]\": a Multiboot module and its string\n"
		"  --cpu M       novt (default), vmx, svm\n"
		"  --mem MB      guest RAM in MiB (default 128, at most 3072)\n"
		"  --append S    kernel command line\n"
		"  --max-insns N stop after N instructions (exit status 68)\n"
		"  --load ADDR   run IMAGE as a flat binary loaded here (default 0x100000)\n"
		"  --multiboot2  use the Multiboot 2 header when an image has both\n"
		"  --stats       print instructions retired and speed on stderr\n"
		"  --demo        run the small built-in flat program instead (no IMAGE)\n"
		"  --reboot      a guest reset or triple fault restarts the machine\n"
		"                (default: stop with status 71 / 70, as QEMU -no-reboot)\n"
		"  numbers are decimal; --load also takes 0x...; at most 32 modules\n"
		"exit status: the guest's port 0xF4 value (0-63); 64 usage, 65 bad image,\n"
		"  66 emulator error, 67 guest exception (flat), 68 --max-insns,\n"
		"  69 halted for good, 70 triple fault, 71 guest reset request,\n"
		"  72 guest value 64 or more\n");
}

/* Decimal, or hex with 0x for an address (`hex`): a leading 0 is never
 * octal ("--mem 010" is 10 MiB). */
static int parse_u64(const char *s, uint64_t *out, bool hex)
{
	char *end;
	int base = hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
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
	else if (k < argc && strcmp(argv[k], "step") == 0)
		o->step = true, k++;
	for (; k < argc; k++) {
		const char *a = argv[k];
		bool has_val = k + 1 < argc;
		int n = o->step ? step_option(argc, argv, k, &o->step_opts) : 0;
		if (n < 0)
			return -1;
		if (n > 0) {
			k += n - 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
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
			if (parse_u64(argv[++k], &o->mem_mb, false) || o->mem_mb < 2 ||
			    o->mem_mb > (MACHINE_MAX_RAM >> 20))
				return bad("--mem wants 2..3072 (MiB)", argv[k]);
		} else if (strcmp(a, "--max-insns") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->max_insns, false) || o->max_insns == 0)
				return bad("--max-insns wants a positive number", argv[k]);
		} else if (strcmp(a, "--load") == 0 && has_val) {
			if (parse_u64(argv[++k], &o->load, true))
				return bad("--load wants an address (0x100000 or decimal)", argv[k]);
			o->load_given = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "nestlab: unknown option '%s' (or missing value)\n", a);
			return -1;
		} else if (!o->image) {
			o->image = a;
		} else if (o->nmods < MAX_MODULES) {
			o->mods[o->nmods++] = a;
		} else {
			fprintf(stderr, "nestlab: more than %d modules (nestlab's limit)\n", MAX_MODULES);
			return -1;
		}
	}
	if (o->demo && o->image) {
		fprintf(stderr, "nestlab: --demo runs the built-in program: it takes no IMAGE ('%s')\n",
			o->image);
		return -1;
	}
	return 0;
}

/* Modules: "FILE [ARGS]".  The module's string is that whole string for
 * Multiboot 1 (QEMU -initrd), ARGS alone for Multiboot 2 (GRUB module2).
 * Blanks before FILE are dropped (a shell line such as " guest.elf"). */
static int read_modules(const struct run_opts *o, enum loader_kind kind,
			struct loader_module *m, uint8_t **bufs)
{
	for (int k = 0; k < o->nmods; k++) {
		char path[4096];
		const char *s = o->mods[k] + strspn(o->mods[k], " \t");
		size_t n = strcspn(s, " \t");
		if (n == 0)
			return fprintf(stderr, "nestlab: module %d is an empty string: "
				       "\"FILE [ARGS]\" wanted\n", k + 1), -1;
		if (n >= sizeof path)
			return fprintf(stderr, "nestlab: module path too long\n"), -1;
		memcpy(path, s, n);
		path[n] = 0;
		bufs[k] = image_read("module", path, o->mem_mb << 20, &m[k].len);
		if (!bufs[k])
			return -1;
		m[k].data = bufs[k];
		m[k].cmdline = s;
		if (kind == LOADER_MB2)
			m[k].cmdline = s[n] ? s + n + 1 : "";
	}
	return 0;
}

/* A file without a Multiboot header runs as a flat binary: say so, since a
 * student who gave the wrong file (the ISO, a text file) would otherwise
 * see only the exception its bytes raise.  Returns -1 to refuse the file. */
static int flat_check(const struct run_opts *o, const uint8_t *img, size_t len, bool mb)
{
	if (!o->image)
		return 0;                                   /* --demo */
	if (!o->load_given && image_is_iso(img, len)) {
		fprintf(stderr, "nestlab: '%s' is an ISO 9660 CD image, not a kernel: boot it on "
			"QEMU (qemu-system-x86_64 -cdrom FILE -serial stdio), on Bochs or on a lab "
			"server (README.md); nestlab boots the kernel inside it directly: "
			"nestlab run build/images/nesthv.elf build/images/guest.elf\n", o->image);
		return -1;
	}
	if (!o->load_given && image_is_elf(img, len)) {
		fprintf(stderr, "nestlab: '%s': an ELF file without a Multiboot header "
			"(and no --load for a flat binary)\n", o->image);
		return -1;
	}
	if (mb)
		fprintf(stderr, "nestlab: note: '%s' has a Multiboot header, but --load runs it "
			"as a flat binary at %#llx\n", o->image, (unsigned long long)o->load);
	else if (!o->load_given)
		fprintf(stderr, "nestlab: note: '%s' has no Multiboot header: running it as a flat "
			"binary at %#llx in 64-bit mode (docs/architecture.md, \"Loading\")\n",
			o->image, (unsigned long long)o->load);
	if (o->nmods || o->append)
		fprintf(stderr, "nestlab: note: a flat binary gets no modules or command line\n");
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
	if (o->image && !(file = image_read("image", o->image, o->mem_mb << 20, &len)))
		return -1;
	const uint8_t *img = file ? file : demo_guest_start;
	struct loader_image im = { img, len, "", mods, (unsigned)o->nmods, o->mb2 };
	enum loader_kind kind = !file ? LOADER_FLAT : loader_detect(&im);
	if (kind == LOADER_FLAT || o->load_given) {
		if (flat_check(o, img, len, kind != LOADER_FLAT) < 0)
			goto out;
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
		for (int k = 0; r >= 0 && o->dbg && k <= o->nmods; k++)
			dbg_add_image(o->dbg, k ? o->mods[k - 1] : o->image, k ? modbuf[k - 1] : img,
				      k ? mods[k - 1].len : len);
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

/* The guest's port-0xF4 value v is the exit status when it is below 64;
 * 64 and up are nestlab's own statuses (and a status has 8 bits), so a
 * larger value exits with EXIT_GUEST_RANGE and is printed instead. */
static int guest_status(uint32_t v)
{
	if (v < EXIT_USAGE)
		return (int)v;
	fprintf(stderr, "nestlab: the guest wrote %u (%#x) to port 0xf4: exit statuses from 64 "
		"up are nestlab's own, so it exits with %d\n", v, v, EXIT_GUEST_RANGE);
	return EXIT_GUEST_RANGE;
}

/* The ISA IRQ behind an interrupt vector, from the 8259s' vector bases;
 * -1 if it did not come from them. */
static int pic_irq(const struct machine *m, int vector)
{
	for (int k = 0; k < 2; k++) {
		int base = m->pic.chip[k].vector_base;
		if (vector >= base && vector < base + 8)
			return 8 * k + vector - base;
	}
	return -1;
}

/* A flat binary runs without IDT delivery: its first exception or
 * interrupt ends the run, named (SDM Vol. 3 Table 6-1). */
static void report_flat_event(const struct machine *m)
{
	const struct cpu *c = &m->cpu;
	char name[64];
	unsigned long long rip = c->rip;
	if (c->exc_type == EXC_TYPE_EXTINT || c->exc_type == EXC_TYPE_NMI) {
		int irq = c->exc_type == EXC_TYPE_EXTINT ? pic_irq(m, c->exc_vector) : -1;
		static const char *const irq_names[16] = { [0] = " (the PIT timer)",
			[1] = " (the keyboard)", [4] = " (COM1)", [8] = " (the RTC)" };
		if (c->exc_type == EXC_TYPE_NMI)
			fprintf(stderr, "nestlab: an NMI arrived at rip %#llx", rip);
		else if (irq >= 0)
			fprintf(stderr, "nestlab: IRQ %d%s arrived at interrupt vector %#x (the 8259 "
				"PIC's vector base is %#x) at rip %#llx", irq, irq_names[irq] ?
				irq_names[irq] : "", c->exc_vector, c->exc_vector - irq % 8, rip);
		else
			fprintf(stderr, "nestlab: an interrupt arrived at vector %#x at rip %#llx",
				c->exc_vector, rip);
		fprintf(stderr, ", but a flat binary has no IDT: nestlab stops at its first "
			"interrupt or exception (keep interrupts off with CLI)\n");
		return;
	}
	fprintf(stderr, "nestlab: guest exception %s", ui_exc_describe(c->exc_vector, name,
								     sizeof name));
	if (c->exc_has_error)
		fprintf(stderr, ", error code %#x", c->exc_error);
	if (c->exc_vector == VEC_PF)
		fprintf(stderr, ", cr2 %#llx", (unsigned long long)c->cr2);
	fprintf(stderr, " at rip %#llx: a flat binary has no IDT, so nestlab stops at its "
		"first exception\n", rip);
}

/* `earlier`: instructions retired by the boots before this one (--reboot). */
static int report_stop(struct machine *m, enum cpu_stop why, uint64_t earlier)
{
	struct cpu *c = &m->cpu;
	switch (why) {
	case CPU_STOP_REQUEST:
		if (m->exited)
			return guest_status(m->exit_value);
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
		report_flat_event(m);
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
	case CPU_STOP_BREAK:         /* only a debugger sets breakpoints */
		fprintf(stderr, "nestlab: stopped at a breakpoint at rip %#llx\n", (unsigned long long)c->rip);
		return EXIT_EMU;
	case CPU_STOP_SHUTDOWN:
		fprintf(stderr, "nestlab: triple fault: the processor shut down%s%s\n",
			c->error[0] ? "\n" : "", c->error);
		return EXIT_TRIPLE;
	}
	return EXIT_EMU;
}

/* One boot: a new machine, the images loaded, run until it stops.  Returns
 * the machine (the caller reports and destroys it), NULL after a message. */
static struct machine *boot_and_run(struct run_opts *o, const struct machine_config *cfg,
				    uint64_t budget, enum cpu_stop *why, int *status)
{
	char err[160];
	struct machine *m = machine_create(cfg, err, sizeof err);
	if (!m) {
		fprintf(stderr, "nestlab: %s\n", err);
		*status = EXIT_EMU;
		return NULL;
	}
	if (o->step && !(o->dbg = step_begin(m, &o->step_opts))) {
		machine_destroy(m);
		*status = EXIT_EMU;
		return NULL;
	}
	struct loader_boot b;
	if (load(m, o, &b) < 0) {
		dbg_destroy(o->dbg);
		machine_destroy(m);
		*status = EXIT_IMAGE;
		return NULL;
	}
	loader_enter(&m->cpu, &b);
	m->cpu.exceptions_stop = b.kind == LOADER_FLAT;   /* no IDT in a flat program */
	if (o->step) {              /* the debugger runs it, command by command */
		dbg_set_max_insns(o->dbg, budget);
		o->step_status = step_main(o->dbg, &o->step_opts);
		*why = CPU_STOP_REQUEST;
		return m;
	}
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
		fprintf(stderr, "nestlab: unknown CPU model '%s' (try novt, vmx, svm; switches: svm,-npt,-nrips,-decode,-flushbyasid)\n", o.cpu);
		return EXIT_USAGE;
	}
	cfg.ram_bytes = o.mem_mb << 20;
	if (o.step)
		cfg.serial_in_fd = -1;   /* stdin carries the debugger's commands */

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
		if (o.step || !o.reboot || !wants_reboot(m, why) || (o.max_insns && total + m->cpu.icount >= o.max_insns))
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
	status = o.step ? o.step_status : report_stop(m, why, total);
	dbg_destroy(o.dbg);
	machine_destroy(m);
	/* The guest's console is the transcript a student reads or a grader
	 * checks: output that could not be written (a full disk, /dev/full, a
	 * closed pipe) is an error, not a silent success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "nestlab: the guest's console output to stdout was lost: %s\n",
			strerror(errno));
		return EXIT_EMU;
	}
	return status;
}
