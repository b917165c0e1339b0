/*
 * dbg_tui.c - the ncurses TUI of `nestlab step` (being written; until then
 * the commands are read line by line).
 */
#include <stdio.h>

#include "step.h"

int step_tui(struct dbg *d)
{
	(void)d;
	fprintf(stderr, "nestlab step: the TUI is not built yet; use --batch or -ex\n");
	return 64;
}
