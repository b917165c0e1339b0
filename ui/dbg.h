/*
 * dbg.h - the debugger core: what every view of `nestlab step` uses.
 *
 * The core stops, steps and resumes one machine at instruction granularity
 * (deterministically: virtual time is instructions retired), keeps
 * breakpoints and watchpoints, records every crossing between worlds that
 * the CPU reports (cpu/event.h) in an event log, resolves the ELF symbols of
 * the image and its modules, and answers the command language of `help`
 * (gdb and Bochs names: stepi, nexti, continue, until, break, watch, x, regs,
 * walk, log, vmcs, vmcb, info world ...).  It knows nothing of terminals:
 * every line it prints goes to the output function a view installs.  The
 * batch mode and the ncurses TUI (step.c, dbg_tui.c) are such views; the gdb
 * stub, the SDL window and the trace export are meant to be the next.
 */
#ifndef NESTLAB_DBG_H
#define NESTLAB_DBG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct dbg;
struct machine;

typedef void (*dbg_out_fn)(void *opaque, const char *text);

/* A debugger over machine m (already loaded, at its entry state).  It
 * installs itself as the CPU's observer. */
struct dbg *dbg_create(struct machine *m);
void dbg_destroy(struct dbg *d);
/* The ELF symbols of the image (first call: the host, or the only kernel)
 * and of each module (later calls), named after `path`.  Files that are no
 * ELF are noted and skipped. */
void dbg_add_image(struct dbg *d, const char *path, const uint8_t *data, size_t len);
void dbg_set_output(struct dbg *d, dbg_out_fn fn, void *opaque);
/* A long run (continue, until) calls poll now and then; true stops it. */
void dbg_set_poll(struct dbg *d, bool (*poll)(void *opaque), void *opaque);
void dbg_set_max_insns(struct dbg *d, uint64_t n);
/* The guest's serial output also goes to f (--serial FILE). */
void dbg_set_serial_file(struct dbg *d, FILE *f);
/* A FILE the machine writes its serial output to: the core keeps it (for
 * the serial pane and the `serial` command) and copies it to the file. */
FILE *dbg_serial_stream(struct dbg *d);
const char *dbg_serial_text(const struct dbg *d, size_t *len);

enum { DBG_OK = 0, DBG_ERROR = 1, DBG_QUIT = 2 };
/* Run one command line; DBG_ERROR if the command was bad (the message is
 * printed), DBG_QUIT for quit. */
int dbg_exec(struct dbg *d, const char *line);

/* For views: the world in words, where the CPU is, the latest log lines. */
const char *dbg_world_text(struct dbg *d, char *buf, size_t len);
bool dbg_ended(const struct dbg *d);
uint64_t dbg_log_count(const struct dbg *d);
/* Log entry k (0 = the first ever) as one line; NULL if no longer kept. */
const char *dbg_log_line(const struct dbg *d, uint64_t k, char *buf, size_t len);
/* An address as "sym+0x1c" in the current world ("" if none). */
const char *dbg_addr_name(struct dbg *d, uint64_t addr, char *buf, size_t len);
/* Is there a breakpoint at addr? */
bool dbg_bp_at(const struct dbg *d, uint64_t addr);

#endif
