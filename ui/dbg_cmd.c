/*
 * dbg_cmd.c - the debugger's command language, with the names gdb and Bochs
 * users know (help prints the list).  One line is one command; words are
 * separated by blanks; addresses are numbers (0x... hex, else decimal),
 * registers ($rip, $rsp ...), symbols ("kmain", "guest:kmain") and sums of
 * these ("guest:kmain+0x10").  A bad command, address or symbol prints one
 * line starting "error:" and changes nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbg_int.h"

static const char help_text[] =
	"Running (virtual time = instructions retired; the same commands stop at the same place):\n"
	"  stepi [N]   s    execute N instructions (default 1), into calls and traps\n"
	"  nexti [N]   n    the same, but over CALL and INT n (a hypercall returns first)\n"
	"  continue    c    run until a breakpoint, a watchpoint or the end\n"
	"  until EVENT [FILTER]   run until a crossing between worlds:\n"
	"        exit [REASON]      VM exit (PV: any trap from the guest into nesthv)\n"
	"        entry              VM entry (PV: nesthv returns to the guest)\n"
	"        hypercall [NAME|N] e.g. until hypercall mmu_update\n"
	"        exception [#PF|14] interrupt [VECTOR]  syscall  world  crossing (any)\n"
	"Breakpoints:\n"
	"  break ADDR|SYMBOL  b   e.g. break guest:kmain (stops only in that world)\n"
	"  watch ADDR [LEN]       stop when a write changes LEN (1-8) bytes at ADDR\n"
	"  delete N           d   remove breakpoint or watchpoint N\n"
	"  info break             list them\n"
	"Looking:\n"
	"  regs (info registers)  registers, RFLAGS/CR0/CR4/EFER decoded\n"
	"  x/FMT ADDR             memory: FMT = [count][x d u i s][b h w g], e.g. x/4gx $rsp, x/5i $rip\n"
	"  disas [ADDR [N]]       disassemble (default: around RIP)\n"
	"  walk ADDR              the page walk of a linear address, each level decoded\n"
	"  info world             where the CPU is, in words\n"
	"  log [N]                the last N crossings (default 20) with their virtual time\n"
	"  vmcb | vmcs            the current VMCB (--cpu svm) / VMCS by field name\n"
	"  serial                 the guest's serial output so far\n"
	"  help                   this text        quit  q   leave\n";

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* The next word of *p into buf; false if none. */
static bool word(const char **p, char *buf, size_t len)
{
	skip_ws(p);
	size_t n = 0;
	while (**p && **p != ' ' && **p != '\t') {
		if (n + 1 < len)
			buf[n++] = **p;
		(*p)++;
	}
	buf[n] = 0;
	return n > 0;
}

static bool reg_value(struct dbg *d, const char *name, uint64_t *v)
{
	static const char *const gpr[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	struct cpu *c = &d->m->cpu;
	for (int k = 0; k < 16; k++)
		if (strcasecmp(name, gpr[k]) == 0)
			return *v = c->gpr[k], true;
	if (strcasecmp(name, "rip") == 0 || strcasecmp(name, "pc") == 0)
		return *v = c->rip, true;
	if (strcasecmp(name, "cr3") == 0)
		return *v = c->cr3, true;
	if (strcasecmp(name, "cr2") == 0)
		return *v = c->cr2, true;
	return false;
}

/* One term: a number, a $register or a symbol; *space = the symbol's. */
static bool term(struct dbg *d, const char *t, uint64_t *v, int *space)
{
	char *end;
	if (isdigit((unsigned char)t[0])) {
		errno = 0;
		*v = strtoull(t, &end, 0);
		return !*end && !errno;
	}
	if (t[0] == '$')
		return reg_value(d, t + 1, v);
	return dbg_sym_lookup(d, t, v, space);
}

/* ADDR: term [(+|-) term]...  Prints the error itself. */
static bool parse_addr(struct dbg *d, const char *s, uint64_t *addr, int *space)
{
	char t[128];
	uint64_t sum = 0;
	int sign = 1;
	*space = -1;
	if (*s == '*')
		s++;
	if (!*s) {
		dbg_printf(d, "error: an address is missing\n");
		return false;
	}
	while (*s) {
		size_t n = strcspn(s, "+-");
		if (n == 0 || n >= sizeof t) {
			dbg_printf(d, "error: bad address '%s'\n", s);
			return false;
		}
		memcpy(t, s, n);
		t[n] = 0;
		uint64_t v;
		if (!term(d, t, &v, space)) {
			if (isdigit((unsigned char)t[0]) || t[0] == '$')
				dbg_printf(d, "error: bad address '%s'\n", t);
			else
				dbg_printf(d, "error: no symbol '%s' (in nesthv or its modules)\n", t);
			return false;
		}
		sum += sign > 0 ? v : -v;
		s += n;
		if (*s)
			sign = *s++ == '+' ? 1 : -1;
	}
	*addr = sum;
	return true;
}

static bool parse_count(struct dbg *d, const char *s, uint64_t *n)
{
	char *end;
	errno = 0;
	*n = strtoull(s, &end, 0);
	if (*s == '-' || *end || errno || *n == 0) {
		dbg_printf(d, "error: bad count '%s' (a positive number)\n", s);
		return false;
	}
	return true;
}

static int cmd_step(struct dbg *d, const char *args, bool over)
{
	char w[64];
	uint64_t n = 1;
	if (word(&args, w, sizeof w) && !parse_count(d, w, &n))
		return DBG_ERROR;
	if (!over) {
		dbg_run(d, RUN_STEP, n, false);
		return DBG_OK;
	}
	for (uint64_t k = 0; k < n && !d->ended; k++) {
		bool quiet = k + 1 < n, stopped;
		char text[128];
		uint64_t rip = d->m->cpu.rip;
		int len = dbg_disasm_one(d, rip, text, sizeof text);
		if (len > 0 && (strncmp(text, "call", 4) == 0 || strncmp(text, "int ", 4) == 0)) {
			/* Over a call: to its return address.  Over INT n (a
			 * hypercall, a system call) also to the first crossing out
			 * of the world the INT went to: the return, which may go
			 * elsewhere (the PV iret hypercall, a bounced trap). */
			enum dbg_world w = dbg_world_now(d);
			int id = dbg_bp_add(d, rip + (uint64_t)len, dbg_world_space(w), true);
			if (id < 0)
				return DBG_ERROR;
			if (text[0] == 'i') {
				d->until = U_BACK;
				d->until_world = W_NONE;
			}
			stopped = dbg_run(d, RUN_CONT, 0, quiet);
			dbg_bp_delete(d, id);
		} else {
			stopped = dbg_run(d, RUN_STEP, 1, quiet);
		}
		if (stopped && quiet)
			break;
	}
	return DBG_OK;
}

static int cmd_until(struct dbg *d, const char *args)
{
	static const struct { const char *name; enum dbg_until u; } ev[] = {
		{ "exit", U_EXIT }, { "entry", U_ENTRY }, { "hypercall", U_HYPERCALL },
		{ "exception", U_EXCEPTION }, { "interrupt", U_INTERRUPT }, { "syscall", U_SYSCALL },
		{ "world", U_WORLD }, { "crossing", U_ANY },
	};
	char w[64], f[64] = "";
	if (!word(&args, w, sizeof w)) {
		dbg_printf(d, "error: until what? exit, entry, hypercall, exception, interrupt, "
			   "syscall, world or crossing\n");
		return DBG_ERROR;
	}
	word(&args, f, sizeof f);
	for (size_t k = 0; k < sizeof ev / sizeof ev[0]; k++) {
		if (strcasecmp(w, ev[k].name) != 0)
			continue;
		if (ev[k].u == U_HYPERCALL && f[0] && !isdigit((unsigned char)f[0]) &&
		    dbg_hypercall_find(f) < 0) {
			dbg_printf(d, "error: no hypercall '%s' (see pv/include/nestpv.h)\n", f);
			return DBG_ERROR;
		}
		d->until = ev[k].u;
		snprintf(d->until_filter, sizeof d->until_filter, "%s", f);
		dbg_run(d, RUN_UNTIL, 0, false);
		return DBG_OK;
	}
	dbg_printf(d, "error: unknown event '%s' (exit, entry, hypercall, exception, interrupt, "
		   "syscall, world, crossing)\n", w);
	return DBG_ERROR;
}

static int cmd_break(struct dbg *d, const char *args, bool watch)
{
	char w[128], l[32];
	uint64_t addr, len = 8;
	int space;
	if (!word(&args, w, sizeof w)) {
		dbg_printf(d, "error: %s where? an address or a symbol\n", watch ? "watch" : "break");
		return DBG_ERROR;
	}
	if (!parse_addr(d, w, &addr, &space))
		return DBG_ERROR;
	if (watch) {
		if (word(&args, l, sizeof l) && !parse_count(d, l, &len))
			return DBG_ERROR;
		int id = dbg_watch_add(d, addr, len);
		if (id < 0)
			return DBG_ERROR;
		dbg_printf(d, "watchpoint %d: writes to %#llx, %llu bytes\n", id,
			   (unsigned long long)addr, (unsigned long long)len);
		return DBG_OK;
	}
	int id = dbg_bp_add(d, addr, space, false);
	if (id < 0)
		return DBG_ERROR;
	char s[96], wn[64] = "any world";
	dbg_sym_name(d, addr, space < 0 ? 0 : space, s, sizeof s);
	if (space >= 0)
		snprintf(wn, sizeof wn, "%s code", d->space[space].name);
	dbg_printf(d, "breakpoint %d at %#llx%s%s%s (%s)\n", id, (unsigned long long)addr,
		   s[0] ? " <" : "", s, s[0] ? ">" : "", wn);
	return DBG_OK;
}

static int cmd_info(struct dbg *d, const char *args)
{
	char w[32], buf[96];
	word(&args, w, sizeof w);
	if (strncmp(w, "break", 5) == 0 || strcmp(w, "watch") == 0 || strcmp(w, "b") == 0) {
		int n = 0;
		for (int k = 0; k < DBG_MAX_BP; k++) {
			const struct dbg_bp *b = &d->bp[k];
			if (!b->id || b->temp)
				continue;
			dbg_sym_name(d, b->addr, b->space < 0 ? 0 : b->space, buf, sizeof buf);
			dbg_printf(d, "%d %s %#llx%s%s%s hits %llu\n", b->id, b->watch ? "watch" : "break",
				   (unsigned long long)b->addr, buf[0] ? " <" : "", buf, buf[0] ? ">" : "",
				   (unsigned long long)b->hits);
			n++;
		}
		if (!n)
			dbg_printf(d, "no breakpoints or watchpoints\n");
	} else if (strcmp(w, "world") == 0) {
		struct cpu *c = &d->m->cpu;
		static const char *const modes[3] = { "16-bit", "32-bit", "64-bit" };
		dbg_printf(d, "world: %s\n", dbg_world_text(d, buf, sizeof buf));
		dbg_printf(d, "cpl %d, %s code, paging %s, cs 0x%04x, icount %llu, %llu crossings logged\n",
			   c->cpl, modes[c->mode], c->cr0 & (1ull << 31) ? "on" : "off", c->seg[SEG_CS].sel,
			   (unsigned long long)c->icount, (unsigned long long)d->nlog);
	} else if (strncmp(w, "reg", 3) == 0) {
		dbg_show_regs(d);
	} else {
		dbg_printf(d, "error: info what? break, world or registers\n");
		return DBG_ERROR;
	}
	return DBG_OK;
}

/* x/FMT ADDR: count, format letter, size letter, in any order. */
static int cmd_x(struct dbg *d, const char *fmtp, const char *args)
{
	int count = 1, size = 8;
	char fmt = 'x', w[128];
	if (*fmtp == '/') {
		fmtp++;
		if (isdigit((unsigned char)*fmtp))
			count = (int)strtol(fmtp, (char **)&fmtp, 10);
		for (; *fmtp; fmtp++) {
			switch (*fmtp) {
			case 'x': case 'd': case 'u': case 'i': case 's': fmt = *fmtp; break;
			case 'b': size = 1; break;
			case 'h': size = 2; break;
			case 'w': size = 4; break;
			case 'g': size = 8; break;
			default:
				dbg_printf(d, "error: bad format letter '%c' (x d u i s, sizes b h w g)\n", *fmtp);
				return DBG_ERROR;
			}
		}
	}
	if (count <= 0 || count > 4096) {
		dbg_printf(d, "error: count must be 1..4096\n");
		return DBG_ERROR;
	}
	uint64_t addr;
	int space;
	if (!word(&args, w, sizeof w)) {
		dbg_printf(d, "error: x where? an address\n");
		return DBG_ERROR;
	}
	if (!parse_addr(d, w, &addr, &space))
		return DBG_ERROR;
	d->last_x = addr;
	dbg_show_mem(d, addr, count, fmt, size);
	return DBG_OK;
}

static int cmd_log(struct dbg *d, const char *args)
{
	char w[32];
	uint64_t n = 20;
	if (word(&args, w, sizeof w) && !parse_count(d, w, &n))
		return DBG_ERROR;
	if (d->nlog == 0)
		dbg_printf(d, "no crossings yet\n");
	uint64_t first = d->nlog > n ? d->nlog - n : 0;
	if (d->nlog - first > DBG_LOG_SIZE)
		first = d->nlog - DBG_LOG_SIZE;
	for (uint64_t k = first; k < d->nlog; k++) {
		char line[400], wf[64], wt[64];
		const struct dbg_logent *e = dbg_log_get(d, k);
		dbg_log_line(d, k, line, sizeof line);
		dbg_printf(d, "%s\n      %s -> %s\n", line, dbg_world_name(d, e->from, wf, sizeof wf),
			   dbg_world_name(d, e->to, wt, sizeof wt));
	}
	return DBG_OK;
}

static int cmd_addr1(struct dbg *d, const char *args, const char *what, uint64_t *addr)
{
	char w[128];
	int space;
	if (!word(&args, w, sizeof w)) {
		dbg_printf(d, "error: %s what? an address\n", what);
		return DBG_ERROR;
	}
	return parse_addr(d, w, addr, &space) ? DBG_OK : DBG_ERROR;
}

int dbg_exec(struct dbg *d, const char *line)
{
	char cmd[64];
	const char *p = line;
	if (!word(&p, cmd, sizeof cmd) || cmd[0] == '#')
		return DBG_OK;
	char fmt[64] = "";
	if (cmd[0] == 'x' && cmd[1] == '/') {      /* x/FMT: the format is part of the word */
		snprintf(fmt, sizeof fmt, "%s", cmd + 1);
		cmd[1] = 0;
	}
	uint64_t a, n;
	char w[64];
	if (!strcmp(cmd, "stepi") || !strcmp(cmd, "si") || !strcmp(cmd, "s") || !strcmp(cmd, "step"))
		return cmd_step(d, p, false);
	if (!strcmp(cmd, "nexti") || !strcmp(cmd, "ni") || !strcmp(cmd, "n") || !strcmp(cmd, "next"))
		return cmd_step(d, p, true);
	if (!strcmp(cmd, "continue") || !strcmp(cmd, "c") || !strcmp(cmd, "cont")) {
		dbg_run(d, RUN_CONT, 0, false);
		return DBG_OK;
	}
	if (!strcmp(cmd, "until"))
		return cmd_until(d, p);
	if (!strcmp(cmd, "break") || !strcmp(cmd, "b") || !strcmp(cmd, "lb") || !strcmp(cmd, "vb"))
		return cmd_break(d, p, false);
	if (!strcmp(cmd, "watch"))
		return cmd_break(d, p, true);
	if (!strcmp(cmd, "delete") || !strcmp(cmd, "d") || !strcmp(cmd, "del")) {
		if (!word(&p, w, sizeof w) || !parse_count(d, w, &n))
			return w[0] ? DBG_ERROR : (dbg_printf(d, "error: delete which? a number\n"), DBG_ERROR);
		if (!dbg_bp_delete(d, (int)n)) {
			dbg_printf(d, "error: no breakpoint or watchpoint %llu\n", (unsigned long long)n);
			return DBG_ERROR;
		}
		dbg_printf(d, "deleted %llu\n", (unsigned long long)n);
		return DBG_OK;
	}
	if (!strcmp(cmd, "x"))
		return cmd_x(d, fmt, p);
	if (!strcmp(cmd, "regs") || !strcmp(cmd, "r") || !strcmp(cmd, "registers")) {
		dbg_show_regs(d);
		return DBG_OK;
	}
	if (!strcmp(cmd, "info") || !strcmp(cmd, "i"))
		return cmd_info(d, p);
	if (!strcmp(cmd, "walk") || !strcmp(cmd, "page")) {
		if (cmd_addr1(d, p, "walk", &a) != DBG_OK)
			return DBG_ERROR;
		dbg_show_walk(d, a);
		return DBG_OK;
	}
	if (!strcmp(cmd, "disas") || !strcmp(cmd, "disassemble") || !strcmp(cmd, "u")) {
		int space;
		a = d->m->cpu.rip;
		n = 10;
		if (word(&p, w, sizeof w) && !parse_addr(d, w, &a, &space))
			return DBG_ERROR;
		if (word(&p, w, sizeof w) && (!parse_count(d, w, &n) || n > 4096))
			return DBG_ERROR;
		dbg_show_disasm(d, a, (int)n, d->m->cpu.rip);
		return DBG_OK;
	}
	if (!strcmp(cmd, "log"))
		return cmd_log(d, p);
	if (!strcmp(cmd, "vmcb")) {
		dbg_show_vmcb(d);
		return DBG_OK;
	}
	if (!strcmp(cmd, "vmcs")) {
		dbg_printf(d, "no VMCS is current (this build has no VT-x model yet)\n");
		return DBG_OK;
	}
	if (!strcmp(cmd, "serial")) {
		size_t len;
		const char *s = dbg_serial_text(d, &len);
		dbg_printf(d, "%s%s", s, len && s[len - 1] != '\n' ? "\n" : "");
		return DBG_OK;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "?") || !strcmp(cmd, "h")) {
		dbg_printf(d, "%s", help_text);
		return DBG_OK;
	}
	if (!strcmp(cmd, "quit") || !strcmp(cmd, "q") || !strcmp(cmd, "exit"))
		return DBG_QUIT;
	dbg_printf(d, "error: unknown command '%s' (try help)\n", cmd);
	return DBG_ERROR;
}
