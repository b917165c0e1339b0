/*
 * step.h - `nestlab step`: the machine of `nestlab run` under the debugger
 * core (dbg.h), driven by a script (--batch FILE, -ex CMD: plain text, as
 * gdb -batch), by commands on stdin, or by the ncurses TUI (dbg_tui.c).
 * main.c parses the run options and loads the machine; these hooks do the
 * rest.
 */
#ifndef NESTLAB_STEP_H
#define NESTLAB_STEP_H

#include <stdbool.h>

#include "dbg.h"

struct machine;

#define STEP_MAX_EX 128

struct step_opts {
	const char *batch;             /* --batch FILE: commands, one a line */
	const char *ex[STEP_MAX_EX];   /* -ex CMD ... in order */
	int nex;
	const char *serial;            /* --serial FILE: the guest's serial output */
	bool tui, no_tui;              /* --tui / --no-tui: force the choice */
};

/* An option of `nestlab step` at argv[k]: the number of words it takes,
 * 0 if it is not one, -1 (after a message) if its value is missing. */
int step_option(int argc, char **argv, int k, struct step_opts *s);
/* The debugger over m, which takes the machine's serial output. */
struct dbg *step_begin(struct machine *m, const struct step_opts *s);
/* Run the session; the exit status (0 fine, 1 a command failed, 66 cannot
 * read the batch file). */
int step_main(struct dbg *d, const struct step_opts *s);
/* The TUI (dbg_tui.c); returns the exit status. */
int step_tui(struct dbg *d);

#endif
