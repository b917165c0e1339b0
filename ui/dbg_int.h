/*
 * dbg_int.h - the inside of the debugger core, shared by its files:
 *
 *   dbg_core.c   run control: stepi/nexti/continue/until, breakpoints (per
 *                decoded block, cpu.h bp_filter), watchpoints (page_code
 *                PAGE_WATCH), the observer that fills the event log
 *   dbg_cmd.c    the command language (gdb/Bochs names) and its parser
 *   dbg_show.c   what commands print: regs, x/FMT, walk, disassembly
 *   dbg_sym.c    ELF symbols of the image and of every Multiboot module,
 *                each in its own address space
 *   dbg_world.c  which world the CPU is in, and one line per crossing
 *
 * The views (batch mode and the TUI in step.c / dbg_tui.c, later the gdb
 * stub, the SDL window and the trace) use only dbg.h.
 */
#ifndef NESTLAB_DBG_INT_H
#define NESTLAB_DBG_INT_H

#include <stdarg.h>

#include "dbg.h"
#include "machine.h"

/* ---- symbols (dbg_sym.c) ---------------------------------------------------- */

struct dbg_sym {
	uint64_t addr, size;
	const char *name;
	bool func;                     /* STT_FUNC: preferred among aliases */
};

/* One ELF file: its symbols, sorted by address, and the address range of
 * its loaded segments.  Space 0 is the image (the host, when modules are
 * there: nesthv); 1.. are the modules (the guest). */
struct dbg_space {
	char name[32];                 /* "nesthv", "guest" (file name, no .elf) */
	struct dbg_sym *syms;
	size_t nsyms;
	char *strtab;
	uint64_t lo, hi;               /* virtual range of the PT_LOAD segments */
	int64_t phys_delta;            /* vaddr - paddr of the first segment */
};

#define DBG_MAX_SPACES 8

/* Resolve a symbol name ("sym", "space:sym"); false if unknown. */
bool dbg_sym_lookup(const struct dbg *d, const char *name, uint64_t *addr, int *space);
/* Name addr as "space:sym+0x1c" (or "sym+0x1c" for the image), preferring
 * the spaces of `world`; "" if no symbol covers it.  Returns buf. */
const char *dbg_sym_name(const struct dbg *d, uint64_t addr, int prefer_space,
			 char *buf, size_t len);
void dbg_sym_free(struct dbg *d);

/* ---- worlds (dbg_world.c) --------------------------------------------------- */

enum dbg_world {
	W_NONE,          /* before the first look */
	W_HOST,          /* the image at CPL 0 with modules: the hypervisor */
	W_PV_KERNEL,     /* a module's code at CPL 3: PV guest kernel */
	W_GUEST_USER,    /* CPL 3 elsewhere, with a hypervisor */
	W_KERNEL,        /* the image at CPL 0, no modules */
	W_USER,          /* CPL 3, no modules */
	W_GUEST_VIRT,    /* VMX non-root / SVM guest mode (between VM entry and exit) */
};

enum dbg_world dbg_world_now(struct dbg *d);
/* "nesthv (host, ring 0)", "guest kernel (PV, ring 3 under nesthv)" ... */
const char *dbg_world_name(const struct dbg *d, enum dbg_world w, char *buf, size_t len);
/* The symbol space code of world w runs in (0 host, 1 guest). */
int dbg_world_space(enum dbg_world w);
/* Fill e->text: one line that explains the crossing. */
struct dbg_logent;
void dbg_explain(struct dbg *d, struct dbg_logent *e);
const char *dbg_log_text(const struct dbg *d, const struct dbg_logent *e);
/* Hypercall names (nestpv.h): NULL if n is not one. */
const char *dbg_hypercall_name(uint64_t n);
int dbg_hypercall_find(const char *name);
const char *dbg_vector_name(int v);

/* ---- the event log ------------------------------------------------------------ */

struct dbg_logent {
	uint64_t icount;               /* virtual time: instructions retired */
	struct cpu_event ev;           /* as the CPU reported it */
	enum dbg_world from, to;
	uint64_t rip_after;
	uint64_t rax, rdi, rsi, rdx, cr2;   /* at the crossing (hypercall args ...) */
	bool hypercall;                /* a PV hypercall (INT 0x82 from the guest kernel) */
	uint64_t index;                /* its place in the log, from 0 */
	int cpl_after;
	char text[320];                /* the explanation, in words: made when first
	                                  read (dbg_log_text), so logging stays cheap */
};

#define DBG_LOG_SIZE 4096              /* entries kept (a ring) */

/* ---- breakpoints and watchpoints ---------------------------------------------- */

#define DBG_MAX_BP 64

struct dbg_bp {
	int id;                        /* 0: free slot */
	bool watch;                    /* a write watchpoint */
	bool temp;                     /* nexti's return address */
	uint64_t addr, len;            /* linear address (watch: and length) */
	int space;                     /* -1 any world, else the symbol space */
	uint64_t pa[2];                /* watch: physical pages (probe walk) */
	uint8_t old[8];                /* watch: the bytes when last looked */
	uint64_t hits;
};

/* ---- until ---------------------------------------------------------------------- */

enum dbg_until {
	U_NONE, U_EXIT, U_ENTRY, U_HYPERCALL, U_EXCEPTION, U_INTERRUPT, U_SYSCALL, U_WORLD, U_ANY,
	U_BACK,          /* nexti over INT n: back in the world it left */
};

struct dbg {
	struct machine *m;
	dbg_out_fn out;
	void *out_opaque;
	bool (*poll)(void *opaque);    /* a long run asks this: true = interrupt */
	void *poll_opaque;

	struct dbg_space space[DBG_MAX_SPACES];
	int nspaces;

	/* the event log */
	struct dbg_logent *log;
	uint64_t nlog;                 /* entries ever recorded */
	uint64_t log_mark;             /* first entry of the current run */
	enum dbg_world world;          /* where the CPU is, as last seen */

	/* breakpoints, watchpoints */
	struct dbg_bp bp[DBG_MAX_BP];
	int next_bp_id;
	uint64_t bp_filter[CPU_BP_FILTER_BITS / 64];
	bool any_bp, any_watch;
	bool watch_fired;              /* on_watch: re-check the watches */
	int hit_bp;                    /* id of the breakpoint the run stopped at */

	/* until EVENT FILTER */
	enum dbg_until until;
	char until_filter[48];
	enum dbg_world until_world;    /* U_BACK: the world INT n went to */
	bool until_hit;
	uint64_t until_ent;            /* log index of the matching crossing */

	/* the end of the machine: after it, nothing runs */
	bool ended;
	char end_text[200];
	uint64_t max_insns;            /* 0: no limit */

	/* VMX non-root or SVM guest mode: from the VM entry the CPU reported
	 * to the next VM exit (CPU_ARCH_NONE: not in a guest) */
	enum cpu_event_arch virt_arch;
	/* the guest-physical step of a walk (EPT/NPT); NULL: none yet */
	bool (*gpa_walk)(struct cpu *c, uint64_t gpa, uint64_t *hpa, char *buf, size_t len);

	uint64_t last_x;               /* the address the last x/FMT looked at */

	/* the serial output (COM1, 0xE9), kept for the views */
	char *serial;
	size_t serial_len, serial_cap;
	FILE *serial_file;             /* --serial FILE, or NULL */
	FILE *serial_stream;           /* what the machine writes to (dbg_serial_stream) */
};

void dbg_printf(struct dbg *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dbg_core.c */
void dbg_observer(struct cpu *c, const struct cpu_event *ev, void *opaque);
const struct dbg_logent *dbg_log_get(const struct dbg *d, uint64_t k);
int  dbg_bp_add(struct dbg *d, uint64_t addr, int space, bool temp);
int  dbg_watch_add(struct dbg *d, uint64_t addr, uint64_t len);
bool dbg_bp_delete(struct dbg *d, int id);
bool dbg_bp_match(struct cpu *c, uint64_t rip, bool full);   /* cpu->bp_match */
void dbg_on_watch(struct cpu *c, uint64_t pa);    /* cpu->on_watch */
bool dbg_watch_check(struct dbg *d);
enum dbg_run { RUN_STEP, RUN_CONT, RUN_UNTIL };
/* Returns true if something else than the count stopped it (a
 * breakpoint, a watchpoint, `until`, the end, a key); `quiet` prints
 * nothing unless so (the inner steps of nexti N). */
bool dbg_run(struct dbg *d, enum dbg_run how, uint64_t count, bool quiet);
void dbg_report_stop(struct dbg *d, const char *why);

/* dbg_show.c */
/* Read n bytes at linear addr in the current address space (probe walk):
 * returns the number readable from the start. */
size_t dbg_read_lin(struct dbg *d, uint64_t addr, void *buf, size_t n);
bool dbg_lin_to_phys(struct dbg *d, uint64_t addr, uint64_t *pa);
void dbg_show_regs(struct dbg *d);
void dbg_show_walk(struct dbg *d, uint64_t addr);
/* Disassemble n instructions at addr (Intel syntax, with symbols);
 * `mark` is the address marked "=>". */
void dbg_show_disasm(struct dbg *d, uint64_t addr, int n, uint64_t mark);
/* One instruction at addr as text; its length (0 if unreadable). */
int  dbg_disasm_one(struct dbg *d, uint64_t addr, char *buf, size_t len);
void dbg_show_mem(struct dbg *d, uint64_t addr, int count, char fmt, int size);
/* dbg_vmcb.c: the current VMCB by field name (AMD-V). */
void dbg_show_vmcb(struct dbg *d);
/* The set bits of RFLAGS, CR0, CR4 or EFER by name (" PE ET PG"). */
enum dbg_bits { BITS_RFLAGS, BITS_CR0, BITS_CR4, BITS_EFER };
const char *dbg_bits_text(enum dbg_bits which, uint64_t v, char *buf, size_t len);

#endif
