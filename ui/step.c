/*
 * step.c - `nestlab step [run options] [--batch FILE] [-ex CMD]... [--serial
 * FILE] [IMAGE [MODULE...]]`.
 *
 * With --batch or -ex the commands run in order without a terminal and
 * their output is plain text on stdout, as with `gdb -batch`: that is what
 * tests and lab graders use.  Otherwise, on a terminal, the ncurses TUI
 * opens (dbg_tui.c); with stdin not a terminal, commands are read from it a
 * line at a time.  The guest's serial output never goes to stdout here (it
 * would mix with the debugger's): it is kept for the `serial` command and
 * the TUI's serial pane, and written to --serial FILE as it comes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"
#include "step.h"

int step_option(int argc, char **argv, int k, struct step_opts *s)
{
	const char *a = argv[k];
	bool has = k + 1 < argc;
	if (!strcmp(a, "--tui"))
		return s->tui = true, 1;
	if (!strcmp(a, "--no-tui"))
		return s->no_tui = true, 1;
	if (strcmp(a, "--batch") && strcmp(a, "-ex") && strcmp(a, "--ex") && strcmp(a, "--serial"))
		return 0;
	if (!has) {
		fprintf(stderr, "nestlab step: %s needs a value\n", a);
		return -1;
	}
	if (!strcmp(a, "--batch")) {
		s->batch = argv[k + 1];
	} else if (!strcmp(a, "--serial")) {
		s->serial = argv[k + 1];
	} else if (s->nex < STEP_MAX_EX) {
		s->ex[s->nex++] = argv[k + 1];
	} else {
		fprintf(stderr, "nestlab step: more than %d -ex commands\n", STEP_MAX_EX);
		return -1;
	}
	return 2;
}

struct dbg *step_begin(struct machine *m, const struct step_opts *s)
{
	struct dbg *d = dbg_create(m);
	if (!d) {
		fprintf(stderr, "nestlab step: out of memory\n");
		return NULL;
	}
	if (s->serial) {
		FILE *f = strcmp(s->serial, "-") ? fopen(s->serial, "w") : stderr;
		if (!f) {
			fprintf(stderr, "nestlab step: cannot write '%s': %s\n", s->serial, strerror(errno));
			dbg_destroy(d);
			return NULL;
		}
		setvbuf(f, NULL, _IOLBF, 0);
		dbg_set_serial_file(d, f);
	}
	FILE *out = dbg_serial_stream(d);
	if (!out) {
		fprintf(stderr, "nestlab step: cannot capture the serial output\n");
		dbg_destroy(d);
		return NULL;
	}
	m->uart.out = out;
	m->cfg.debugcon_out = out;
	return d;
}

/* One command, echoed as gdb -batch does not, but as a transcript needs:
 * "(nestlab) CMD" before its output. */
static int run_line(struct dbg *d, const char *line, bool echo, int *errors)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", line);
	buf[strcspn(buf, "\r\n")] = 0;
	const char *p = buf + strspn(buf, " \t");
	if (!*p || *p == '#')
		return DBG_OK;
	if (echo) {
		printf("(nestlab) %s\n", p);
		fflush(stdout);
	}
	int r = dbg_exec(d, p);
	if (r == DBG_ERROR)
		(*errors)++;
	fflush(stdout);
	return r;
}

static int from_stream(struct dbg *d, FILE *f, bool echo, bool prompt, int *errors)
{
	char line[1024];
	for (;;) {
		if (prompt) {
			fputs("(nestlab) ", stdout);
			fflush(stdout);
		}
		if (!fgets(line, sizeof line, f))
			return DBG_QUIT;        /* EOF on the command input: leave */
		if (!strchr(line, '\n') && !feof(f)) {
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			printf("error: command line longer than %zu characters\n", sizeof line - 2);
			(*errors)++;
			continue;
		}
		if (run_line(d, line, echo, errors) == DBG_QUIT)
			return DBG_QUIT;
	}
}

int step_main(struct dbg *d, const struct step_opts *s)
{
	int errors = 0, r = DBG_OK;
	bool batch = s->batch || s->nex;
	char w[96];
	if (batch)
		printf("world: %s\n", dbg_world_text(d, w, sizeof w));
	if (s->batch) {
		FILE *f = strcmp(s->batch, "-") ? fopen(s->batch, "r") : stdin;
		if (!f) {
			fprintf(stderr, "nestlab step: cannot read '%s': %s\n", s->batch, strerror(errno));
			return 66;
		}
		r = from_stream(d, f, true, false, &errors);
		if (f != stdin)
			fclose(f);
	}
	for (int k = 0; k < s->nex && r != DBG_QUIT; k++)
		r = run_line(d, s->ex[k], true, &errors);
	if (!batch) {
		if (!s->no_tui && (s->tui || (isatty(0) && isatty(1))))
			return step_tui(d);
		dbg_exec(d, "info world");
		from_stream(d, stdin, false, isatty(0), &errors);
	}
	return errors ? 1 : 0;
}
