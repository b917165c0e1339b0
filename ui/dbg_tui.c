/*
 * dbg_tui.c - the ncurses TUI of `nestlab step`: one view over the debugger
 * core (dbg.h), which does all the work; this file only lays out panes,
 * reads keys and hands command lines to dbg_exec().
 *
 *   +- world line: where the CPU is, in words; icount ----------------------+
 *   | disassembly around RIP (Capstone,        | registers (changed ones    |
 *   | Intel syntax, symbols, => and * marks)   | highlighted), RFLAGS, CRs  |
 *   +- event log: the latest crossings between worlds ---------------------+
 *   +- a switchable pane (Tab): output serial stack memory walk vmcs help -+
 *   | message line: the last line a command printed                        |
 *   | (nestlab) command line                                               |
 *
 * Single keys when the command line is empty: s stepi, n nexti, c continue,
 * e until the next crossing, q quit, ? help, Tab the next pane; ':' or any
 * other key starts a command, Enter on an empty line repeats the last one.
 * A running continue stops at any key.  80x24 is the least it needs (a
 * smaller terminal gets a message, and the TUI waits for a resize); more
 * room goes to the panes.  NO_COLOR (https://no-color.org) turns colours
 * off: the marks and bold remain.
 */
#include <stdlib.h>
#include <string.h>

#include "dbg_int.h"
#include "step.h"

#ifndef NESTLAB_HAVE_CURSES
int step_tui(struct dbg *d)
{
	(void)d;
	fprintf(stderr, "nestlab step: built without ncurses: no TUI (use --batch, -ex or "
		"commands on stdin)\n");
	return 64;
}
#else
#include <curses.h>

#define OUT_LINES 400

enum pane { P_OUTPUT, P_SERIAL, P_STACK, P_MEMORY, P_WALK, P_VMCS, P_HELP, P_COUNT };
static const char *const pane_names[P_COUNT] = {
	"output", "serial", "stack", "memory", "walk", "vmcs", "help",
};

struct tui {
	struct dbg *d;
	char *out[OUT_LINES];          /* command output, a ring of lines */
	int nout;
	char partial[512];
	char *cap;                     /* capture buffer (panes drawn from commands) */
	size_t cap_len, cap_size;
	bool capturing, color;
	enum pane pane;
	uint64_t code_start, code_end; /* the disassembly window */
	uint64_t old_regs[18];
	char cmd[256], last[256];
	size_t cmd_len;
};

static void add_line(struct tui *t, const char *s)
{
	free(t->out[t->nout % OUT_LINES]);
	t->out[t->nout % OUT_LINES] = strdup(s);
	t->nout++;
}

static void tui_out(void *opaque, const char *text)
{
	struct tui *t = opaque;
	if (t->capturing) {
		size_t n = strlen(text);
		if (t->cap_len + n + 1 > t->cap_size) {
			size_t sz = (t->cap_len + n + 1) * 2;
			char *p = realloc(t->cap, sz);
			if (!p)
				return;
			t->cap = p;
			t->cap_size = sz;
		}
		memcpy(t->cap + t->cap_len, text, n + 1);
		t->cap_len += n;
		return;
	}
	for (const char *p = text; *p; p++) {
		size_t n = strlen(t->partial);
		if (*p == '\n' || n + 1 >= sizeof t->partial) {
			add_line(t, t->partial);
			t->partial[0] = 0;
			if (*p == '\n')
				continue;
			n = 0;
		}
		t->partial[n] = *p;
		t->partial[n + 1] = 0;
	}
}

/* Run a command for a pane, its output captured (never in the output pane). */
static const char *capture(struct tui *t, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->cap_len = 0;
	if (t->cap)
		t->cap[0] = 0;
	uint64_t last_x = t->d->last_x;       /* a pane's x is not the user's */
	t->capturing = true;
	dbg_exec(t->d, line);
	t->capturing = false;
	t->d->last_x = last_x;
	return t->cap ? t->cap : "";
}

/* Draw text (many lines) into rows [y, y+h) of width w; from its end if tail. */
static void draw_text(int y, int h, int x, int w, const char *text, bool tail)
{
	const char *lines[256];
	int n = 0;
	for (const char *p = text; *p && n < 256;) {
		lines[n++] = p;
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	int first = tail && n > h ? n - h : 0;
	for (int k = 0; k < h && first + k < n; k++)
		mvaddnstr(y + k, x, lines[first + k], (int)strcspn(lines[first + k], "\n") < w ?
			  (int)strcspn(lines[first + k], "\n") : w);
}

static void header(int y, const char *title)
{
	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	mvaddnstr(y, 1, title, COLS - 2);
	attroff(A_REVERSE);
}

static void draw_code(struct tui *t, int y, int h, int w)
{
	struct cpu *c = &t->d->m->cpu;
	if (c->rip < t->code_start || c->rip >= t->code_end)
		t->code_start = c->rip;
	const char *text = capture(t, "disas %#llx %d", (unsigned long long)t->code_start, h);
	int k = 0;
	for (const char *p = text; *p && k < h; k++) {
		int n = (int)strcspn(p, "\n");
		bool cur = strncmp(p, "=>", 2) == 0;
		if (cur)
			attron(A_BOLD | (t->color ? COLOR_PAIR(1) : A_REVERSE));
		mvaddnstr(y + k, 0, p, n < w ? n : w);
		if (cur)
			attroff(A_BOLD | (t->color ? COLOR_PAIR(1) : A_REVERSE));
		if (k == h - 2 || !p[n])
			t->code_end = strtoull(p + 3, NULL, 16);
		p += n + (p[n] != 0);
	}
	if (k < h - 1)
		t->code_end = UINT64_MAX;      /* unreadable code: keep the window */
}

/* Registers, changed ones highlighted; two columns when there is room. */
static void draw_regs(struct tui *t, int y, int h, int x, int w)
{
	static const char *const names[18] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
		"r12", "r13", "r14", "r15", "rip", "rfl",
	};
	static const int order[17] = { 16, 0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct cpu *c = &t->d->m->cpu;
	uint64_t v[18];
	memcpy(v, c->gpr, sizeof c->gpr);
	v[16] = c->rip;
	v[17] = cpu_get_rflags(c);
	int cols = w >= 42 ? 2 : 1, row = 0;
	for (int k = 0; k < 17 && row < h; k++) {
		int r = order[k];
		bool changed = v[r] != t->old_regs[r];
		if (changed)
			attron(A_BOLD | (t->color ? COLOR_PAIR(2) : A_UNDERLINE));
		mvprintw(y + row, x + (k % cols) * 21, "%-3s %016llx", names[r], (unsigned long long)v[r]);
		if (changed)
			attroff(A_BOLD | (t->color ? COLOR_PAIR(2) : A_UNDERLINE));
		if (k % cols == cols - 1 || k == 16)
			row++;
	}
	/* RFLAGS and the control registers, decoded as far as the pane is wide */
	static const char *const more[5] = { "rfl", "cr0", "cr3", "cr4", "efer" };
	static const int which[5] = { BITS_RFLAGS, BITS_CR0, -1, BITS_CR4, BITS_EFER };
	uint64_t mv[5] = { v[17], c->cr0, c->cr3, c->cr4, c->efer };
	for (int k = 0; k < 5 && row < h; k++, row++) {
		char b[96] = "";
		if (which[k] >= 0)
			dbg_bits_text((enum dbg_bits)which[k], mv[k], b, sizeof b);
		mvprintw(y + row, x, "%-4s %llx", more[k], (unsigned long long)mv[k]);
		int used = getcurx(stdscr) - x;
		if (b[0] && used + 2 < w)
			mvaddnstr(y + row, x + used, b, w - used);
	}
	if (row < h)
		mvprintw(y + row++, x, "cpl %d cs %04x ss %04x", c->cpl, c->seg[SEG_CS].sel,
			 c->seg[SEG_SS].sel);
}

static void draw_pane(struct tui *t, int y, int h)
{
	char title[128];
	snprintf(title, sizeof title, "%s   (Tab: output serial stack memory walk vmcs help)",
		 pane_names[t->pane]);
	header(y, title);
	y++;
	h--;
	size_t len;
	switch (t->pane) {
	case P_OUTPUT: {
		int first = t->nout > h ? t->nout - h : 0;
		if (t->nout - first > OUT_LINES)
			first = t->nout - OUT_LINES;
		for (int k = first; k < t->nout; k++)
			mvaddnstr(y + k - first, 0, t->out[k % OUT_LINES], COLS);
		break;
	}
	case P_SERIAL:
		draw_text(y, h, 0, COLS, dbg_serial_text(t->d, &len), true);
		break;
	case P_STACK:
		draw_text(y, h, 0, COLS, capture(t, "x/%dgx $rsp", h * 2), false);
		break;
	case P_MEMORY:          /* where the last x/FMT looked, else at RDI */
		draw_text(y, h, 0, COLS, capture(t, "x/%dgx %#llx", h * 2, (unsigned long long)
			  (t->d->last_x ? t->d->last_x : t->d->m->cpu.gpr[R_RDI])), false);
		break;
	case P_WALK:
		draw_text(y, h, 0, COLS, capture(t, "walk $rip"), false);
		break;
	case P_VMCS:
		draw_text(y, h, 0, COLS, capture(t, "vmcs"), false);
		break;
	default:
		draw_text(y, h, 0, COLS, capture(t, "help"), false);
	}
}

static void draw(struct tui *t)
{
	erase();
	if (LINES < 24 || COLS < 80) {
		mvprintw(0, 0, "nestlab step: the terminal is %dx%d;", COLS, LINES);
		mvprintw(1, 0, "it needs 80x24 at least. Resize it, or q to quit.");
		refresh();
		return;
	}
	char w[96], title[200];
	snprintf(title, sizeof title, "world: %s   icount %llu%s", dbg_world_text(t->d, w, sizeof w),
		 (unsigned long long)t->d->m->cpu.icount, dbg_ended(t->d) ? "   (machine off)" : "");
	header(0, title);
	int avail = LINES - 3;
	int code_h = avail * 2 / 5, log_h = avail / 5 + 1;
	int pane_h = avail - code_h - log_h;
	int regs_w = COLS >= 120 ? 44 : 26;
	draw_code(t, 1, code_h, COLS - regs_w - 1);
	mvvline(1, COLS - regs_w - 1, '|', code_h);
	draw_regs(t, 1, code_h, COLS - regs_w + 1, regs_w - 1);
	header(1 + code_h, "event log (crossings between worlds; log N shows more)");
	uint64_t n = dbg_log_count(t->d);
	for (int k = 0; k < log_h - 1; k++) {
		uint64_t idx = n >= (uint64_t)(log_h - 1) ? n - (uint64_t)(log_h - 1) + (uint64_t)k : (uint64_t)k;
		char line[400];
		if (idx < n && dbg_log_line(t->d, idx, line, sizeof line))
			mvaddnstr(2 + code_h + k, 0, line, COLS);
	}
	draw_pane(t, 1 + code_h + log_h, pane_h);
	if (t->nout)
		mvaddnstr(LINES - 2, 0, t->out[(t->nout - 1) % OUT_LINES], COLS);
	mvprintw(LINES - 1, 0, "(nestlab) %s", t->cmd);
	refresh();
}

/* A running continue stops at any key. */
static bool key_pressed(void *opaque)
{
	(void)opaque;
	int ch = getch();
	return ch != ERR;
}

static bool run_cmd(struct tui *t, const char *line)
{
	struct cpu *c = &t->d->m->cpu;
	memcpy(t->old_regs, c->gpr, sizeof c->gpr);
	t->old_regs[16] = c->rip;
	t->old_regs[17] = cpu_get_rflags(c);
	if (line[0])
		snprintf(t->last, sizeof t->last, "%s", line);
	char echo[300];
	snprintf(echo, sizeof echo, "(nestlab) %s", line);
	add_line(t, echo);
	mvprintw(LINES - 2, 0, "running... (any key stops)");
	clrtoeol();
	refresh();
	nodelay(stdscr, TRUE);
	int r = dbg_exec(t->d, line);
	nodelay(stdscr, FALSE);
	if (t->partial[0]) {
		add_line(t, t->partial);
		t->partial[0] = 0;
	}
	return r == DBG_QUIT;
}

static bool on_key(struct tui *t, int ch)
{
	if (t->cmd_len == 0) {
		static const char *const keys[][2] = {
			{ "s", "stepi" }, { "n", "nexti" }, { "c", "continue" }, { "e", "until crossing" },
		};
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (ch == keys[k][0][0])
				return run_cmd(t, keys[k][1]);
		if (ch == 'q')
			return true;
		if (ch == '?') {
			t->pane = P_HELP;
			return false;
		}
		if (ch == '\t') {
			t->pane = (t->pane + 1) % P_COUNT;
			return false;
		}
		if (ch == ':')
			return false;
		if (ch == '\n' || ch == KEY_ENTER)
			return t->last[0] ? run_cmd(t, t->last) : false;
	}
	if (ch == '\n' || ch == KEY_ENTER) {
		char line[256];
		snprintf(line, sizeof line, "%s", t->cmd);
		t->cmd[0] = 0;
		t->cmd_len = 0;
		t->pane = P_OUTPUT;
		return run_cmd(t, line);
	}
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (t->cmd_len)
			t->cmd[--t->cmd_len] = 0;
	} else if (ch == 27) {
		t->cmd[0] = 0;
		t->cmd_len = 0;
	} else if (ch >= ' ' && ch < 127 && t->cmd_len + 1 < sizeof t->cmd) {
		t->cmd[t->cmd_len++] = (char)ch;
		t->cmd[t->cmd_len] = 0;
	}
	return false;
}

int step_tui(struct dbg *d)
{
	struct tui *t = calloc(1, sizeof *t);
	if (!t || !initscr()) {
		free(t);
		fprintf(stderr, "nestlab step: cannot start the terminal UI (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "unset");
		return 66;
	}
	t->d = d;
	const char *nc = getenv("NO_COLOR");
	t->color = has_colors() && !(nc && nc[0]);
	if (t->color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_BLACK, COLOR_CYAN);      /* the current instruction */
		init_pair(2, COLOR_YELLOW, -1);             /* a changed register */
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	dbg_set_output(d, tui_out, t);
	dbg_set_poll(d, key_pressed, t);
	memcpy(t->old_regs, d->m->cpu.gpr, sizeof d->m->cpu.gpr);
	t->old_regs[16] = d->m->cpu.rip;
	add_line(t, "nestlab step: s stepi, n nexti, c continue, e next crossing, q quit, ? help");
	for (;;) {
		draw(t);
		int ch = getch();
		if (ch == ERR)
			break;                  /* EOF on the terminal */
		if (ch == KEY_RESIZE)
			continue;
		if ((LINES < 24 || COLS < 80) && ch != 'q')
			continue;
		if (on_key(t, ch))
			break;
	}
	endwin();
	dbg_set_output(d, NULL, NULL);
	dbg_set_poll(d, NULL, NULL);
	for (int k = 0; k < OUT_LINES; k++)
		free(t->out[k]);
	free(t->cap);
	free(t);
	return 0;
}
#endif
