/*
 * dbg_run.c - the debugger's life cycle and its runs: creating it over a
 * machine, one run (stepi N, continue, until) in slices of machine_run(),
 * and what it prints when the machine stops.  Breakpoints, watchpoints and
 * the event log are in dbg_core.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dbg_int.h"

#define SLICE (1ull << 20)            /* instructions between polls */

static ssize_t serial_write(void *cookie, const char *buf, size_t n)
{
	struct dbg *d = cookie;
	if (d->serial_file)
		fwrite(buf, 1, n, d->serial_file);
	if (d->serial_len + n + 1 > d->serial_cap) {
		size_t cap = (d->serial_len + n + 1) * 2;
		char *p = realloc(d->serial, cap);
		if (!p)
			return (ssize_t)n;    /* keep running; the pane misses this piece */
		d->serial = p;
		d->serial_cap = cap;
	}
	memcpy(d->serial + d->serial_len, buf, n);
	d->serial_len += n;
	d->serial[d->serial_len] = 0;
	return (ssize_t)n;
}

FILE *dbg_serial_stream(struct dbg *d)
{
	cookie_io_functions_t io = { .write = serial_write };
	FILE *f = fopencookie(d, "w", io);
	if (f)
		setvbuf(f, NULL, _IOLBF, 0);
	d->serial_stream = f;
	return f;
}

const char *dbg_serial_text(const struct dbg *d, size_t *len)
{
	*len = d->serial_len;
	return d->serial ? d->serial : "";
}

void dbg_set_serial_file(struct dbg *d, FILE *f) { d->serial_file = f; }
void dbg_set_output(struct dbg *d, dbg_out_fn fn, void *opaque) { d->out = fn; d->out_opaque = opaque; }
void dbg_set_max_insns(struct dbg *d, uint64_t n) { d->max_insns = n; }
bool dbg_ended(const struct dbg *d) { return d->ended; }
uint64_t dbg_log_count(const struct dbg *d) { return d->nlog; }

void dbg_set_poll(struct dbg *d, bool (*poll)(void *), void *opaque)
{
	d->poll = poll;
	d->poll_opaque = opaque;
}

struct dbg *dbg_create(struct machine *m)
{
	struct dbg *d = calloc(1, sizeof *d);
	if (!d || !(d->log = calloc(DBG_LOG_SIZE, sizeof *d->log))) {
		free(d);
		return NULL;
	}
	d->m = m;
	struct cpu *c = &m->cpu;
	c->observer = dbg_observer;
	c->observer_opaque = d;
	return d;
}

void dbg_destroy(struct dbg *d)
{
	if (!d)
		return;
	struct cpu *c = &d->m->cpu;
	c->observer = NULL;
	c->bp_filter = NULL;
	c->bp_match = NULL;
	c->on_watch = NULL;
	/* The machine must not write to a stream whose cookie is gone. */
	if (d->serial_stream) {
		if (d->m->uart.out == d->serial_stream)
			d->m->uart.out = NULL;
		if (d->m->cfg.debugcon_out == d->serial_stream)
			d->m->cfg.debugcon_out = NULL;
		fclose(d->serial_stream);
	}
	if (d->serial_file && d->serial_file != stderr)
		fclose(d->serial_file);
	dbg_sym_free(d);
	free(d->log);
	free(d->serial);
	free(d);
}

const char *dbg_world_text(struct dbg *d, char *buf, size_t len)
{
	if (d->world == W_NONE)
		d->world = dbg_world_now(d);
	enum dbg_world w = dbg_world_now(d);
	dbg_world_name(d, w, buf, len);
	size_t n = strlen(buf);
	if (w == W_GUEST_VIRT && n > 1 && n + 10 < len)      /* "guest (VMX non-root, ring 0)" */
		snprintf(buf + n - 1, len - n + 1, ", ring %d)", d->m->cpu.cpl);
	return buf;
}

const char *dbg_addr_name(struct dbg *d, uint64_t addr, char *buf, size_t len)
{
	return dbg_sym_name(d, addr, dbg_world_space(dbg_world_now(d)), buf, len);
}

const char *dbg_log_line(const struct dbg *d, uint64_t k, char *buf, size_t len)
{
	const struct dbg_logent *e = dbg_log_get(d, k);
	if (!e)
		return NULL;
	snprintf(buf, len, "[%llu] %s", (unsigned long long)e->icount, dbg_log_text(d, e));
	return buf;
}

/* The machine is over: nothing can run any more. */
static void __attribute__((format(printf, 2, 3))) end(struct dbg *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->end_text, sizeof d->end_text, fmt, ap);
	va_end(ap);
	d->ended = true;
	dbg_printf(d, "%s\n", d->end_text);
}

/* Why the run stopped, as a line (or none for a plain step). */
static void stop_reason(struct dbg *d, enum cpu_stop why, bool counted_out)
{
	struct cpu *c = &d->m->cpu;
	char at[96];
	switch (why) {
	case CPU_STOP_BREAK:
		for (int k = 0; k < DBG_MAX_BP; k++) {
			struct dbg_bp *b = &d->bp[k];
			if (!b->id || b->watch || b->addr != c->rip)
				continue;
			b->hits++;
			d->hit_bp = b->id;
			if (b->temp) {
				dbg_bp_delete(d, b->id);
			} else {
				dbg_addr_name(d, c->rip, at, sizeof at);
				dbg_printf(d, "breakpoint %d, %#llx%s%s%s\n", b->id,
					   (unsigned long long)c->rip, at[0] ? " <" : "", at, at[0] ? ">" : "");
			}
			break;
		}
		break;
	case CPU_STOP_REQUEST:
		if (d->m->exited)
			end(d, "the guest wrote %u to port 0xf4 (debug exit): the machine is off",
			    d->m->exit_value);
		else if (d->m->reset_requested)
			end(d, "the guest asked for a reset: the machine is off");
		break;
	case CPU_STOP_HLT:
		end(d, "HLT with nothing left to wake the CPU, at rip %#llx", (unsigned long long)c->rip);
		break;
	case CPU_STOP_SHUTDOWN:
		end(d, "triple fault: the processor shut down (at rip %#llx)", (unsigned long long)c->rip);
		break;
	case CPU_STOP_ERROR:
		end(d, "emulator error at rip %#llx: %s", (unsigned long long)c->rip, c->error);
		break;
	case CPU_STOP_EXCEPTION:
		end(d, "exception %d in a flat program (it has no IDT)", c->exc_vector);
		break;
	case CPU_STOP_LIMIT:
		if (!counted_out && d->max_insns && c->icount >= d->max_insns)
			end(d, "--max-insns reached: %llu instructions", (unsigned long long)c->icount);
		break;
	}
}

void dbg_report_stop(struct dbg *d, const char *why)
{
	struct cpu *c = &d->m->cpu;
	char w[96];
	if (why)
		dbg_printf(d, "%s\n", why);
	if (d->ended)
		return;
	dbg_show_disasm(d, c->rip, 1, c->rip);
	dbg_printf(d, "world: %s   icount %llu\n", dbg_world_text(d, w, sizeof w),
		   (unsigned long long)c->icount);
}

/* Run up to `count` instructions (RUN_STEP) or until something stops the
 * machine; then say why and where. */
bool dbg_run(struct dbg *d, enum dbg_run how, uint64_t count, bool quiet)
{
	struct cpu *c = &d->m->cpu;
	if (d->ended) {
		dbg_printf(d, "error: the machine is not running (%s)\n", d->end_text);
		return true;
	}
	if (d->world == W_NONE)
		d->world = dbg_world_now(d);
	uint64_t mark = d->nlog, left = how == RUN_STEP ? count : UINT64_MAX;
	d->hit_bp = 0;
	d->until_hit = false;
	d->watch_fired = false;
	enum cpu_stop why = CPU_STOP_LIMIT;
	bool interrupted = false, watched = false;
	for (bool first = true; left > 0; first = false) {
		uint64_t slice = first ? 1 : left < SLICE ? left : SLICE;
		if (d->max_insns) {
			if (c->icount >= d->max_insns)
				break;
			if (slice > d->max_insns - c->icount)
				slice = d->max_insns - c->icount;
		}
		/* Breakpoints count from the second instruction on. */
		c->bp_filter = !first && d->any_bp ? d->bp_filter : NULL;
		c->bp_match = dbg_bp_match;
		c->on_watch = d->any_watch ? dbg_on_watch : NULL;
		uint64_t before = c->icount;
		why = machine_run(d->m, slice);
		uint64_t ran = c->icount - before;
		left -= ran < left ? ran : left;
		if (why == CPU_STOP_REQUEST && d->watch_fired && !d->m->exited) {
			d->watch_fired = false;
			if ((watched = dbg_watch_check(d)))
				break;
			why = CPU_STOP_LIMIT;
		}
		if (why != CPU_STOP_LIMIT || d->until_hit)
			break;
		if (how != RUN_STEP && d->poll && d->poll(d->poll_opaque)) {
			interrupted = true;
			break;
		}
	}
	c->bp_filter = NULL;
	c->bp_match = NULL;
	bool counted_out = how == RUN_STEP && left == 0;
	/* nexti's own stops (its return-address breakpoint, the return into
	 * the world an INT n left) are the expected end, nothing special. */
	bool own = (why == CPU_STOP_BREAK && !dbg_bp_at(d, c->rip)) ||
		   (d->until_hit && d->until == U_BACK);
	bool special = !own && (d->until_hit || watched || interrupted || why != CPU_STOP_LIMIT ||
				(!counted_out && how == RUN_STEP));
	if (quiet && !special) {
		d->until = U_NONE;
		return false;
	}
	/* The crossings of a short step are worth a line each; a long run's
	 * are in the log. */
	if (how == RUN_STEP && count <= 64)
		for (uint64_t k = mark; k < d->nlog; k++) {
			char line[400];
			if (dbg_log_line(d, k, line, sizeof line))
				dbg_printf(d, "%s\n", line);
		}
	if (d->until_hit) {
		char line[400];
		if (dbg_log_line(d, d->until_ent, line, sizeof line))
			dbg_printf(d, "%s\n", line);
	}
	if (!d->until_hit && !watched)
		stop_reason(d, why, counted_out);
	d->until = U_NONE;
	dbg_report_stop(d, interrupted ? "interrupted" : NULL);
	return special;
}
