/*
 * dbg_core.c - run control for the debugger: step, continue, until, stop.
 *
 * Everything runs through machine_run(), in slices, so a view can
 * interrupt a long run (poll) and the same commands always stop at the same
 * instruction: virtual time is instructions retired.  Three things stop a
 * run besides the instruction count:
 *
 *   breakpoints  the CPU's run loop checks them per decoded block (cpu.h
 *                bp_filter: one bit per linear code page; only blocks on a
 *                marked page are scanned, with bp_match), so continue with
 *                breakpoints set keeps the headless speed;
 *   watchpoints  the physical pages of a watched range are marked
 *                PAGE_WATCH (dcache.h): writes to them leave the fast path
 *                and call on_watch, which asks for a stop after the
 *                instruction; the core then compares the bytes (gdb's rule:
 *                a watchpoint reports a change of value);
 *   crossings    the CPU's observer (cpu/event.h) logs every crossing with
 *                its virtual time, and stops the run when it is what
 *                `until` waits for.
 *
 * The first instruction of a run is always executed without breakpoints,
 * so `continue` from a breakpoint leaves it (as gdb steps over it).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbg_int.h"
#include "dcache.h"
#include "nestpv.h"

void dbg_printf(struct dbg *d, const char *fmt, ...)
{
	char small[1024], *buf = small;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof small && (buf = malloc((size_t)n + 1))) {
		va_start(ap, fmt);
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
	} else if (!buf) {
		buf = small;
	}
	if (d->out)
		d->out(d->out_opaque, buf);
	else
		fputs(buf, stdout);
	if (buf != small)
		free(buf);
}

/* ---- the event log ------------------------------------------------------------- */

const struct dbg_logent *dbg_log_get(const struct dbg *d, uint64_t k)
{
	if (k >= d->nlog || d->nlog - k > DBG_LOG_SIZE)
		return NULL;
	return &d->log[k % DBG_LOG_SIZE];
}

static bool filter_is(const char *f, const char *name)
{
	return name && strcasecmp(f, name) == 0;
}

/* Does crossing e end `until`?  FILTER narrows it by name or number. */
static bool until_match(struct dbg *d, const struct dbg_logent *e)
{
	const struct cpu_event *ev = &e->ev;
	const char *f = d->until_filter;
	bool any = !f[0];
	char *end;
	unsigned long long num = strtoull(f, &end, 0);
	bool isnum = f[0] && !*end;
	bool pv = d->nspaces > 1;
	switch (d->until) {
	case U_ANY:
		return true;
	case U_BACK:          /* the INT took us to until_world; now it is left */
		if (d->until_world == W_NONE) {
			d->until_world = e->to;
			return false;
		}
		return e->from == d->until_world && e->to != d->until_world;
	case U_WORLD:
		return e->from != e->to || ev->kind == CPU_EV_VMEXIT || ev->kind == CPU_EV_VMENTRY;
	case U_EXIT:
		if (ev->kind == CPU_EV_VMEXIT)
			return any || filter_is(f, ev->name) || (isnum && num == ev->reason);
		return pv && e->to == W_HOST && e->from != W_HOST &&
		       (any || strcasestr(dbg_log_text(d, e), f) != NULL);
	case U_ENTRY:
		return ev->kind == CPU_EV_VMENTRY || (pv && e->from == W_HOST && e->to != W_HOST);
	case U_HYPERCALL:
		if (ev->kind == CPU_EV_VMEXIT && ((ev->arch == CPU_ARCH_VMX && ev->reason == 18) ||
						  (ev->arch == CPU_ARCH_SVM && ev->reason == 0x81)))
			return any || (isnum && num == e->rax);
		return e->hypercall && (any || (isnum && num == e->rax) ||
					filter_is(f, dbg_hypercall_name(e->rax)));
	case U_EXCEPTION:
		if (ev->kind != CPU_EV_EXCEPTION)
			return false;
		if (any || (isnum && num == (unsigned long long)ev->vector))
			return true;
		const char *vn = dbg_vector_name(ev->vector);
		return vn && (filter_is(f, vn) || filter_is(f, vn + 1));
	case U_INTERRUPT:
		return (ev->kind == CPU_EV_INTERRUPT || ev->kind == CPU_EV_NMI) &&
		       (any || (isnum && num == (unsigned long long)ev->vector));
	case U_SYSCALL:
		return ev->kind == CPU_EV_SYSCALL ||
		       (ev->kind == CPU_EV_SOFTINT && ev->vector == PV_SYSCALL_VECTOR);
	default:
		return false;
	}
}

void dbg_observer(struct cpu *c, const struct cpu_event *ev, void *opaque)
{
	struct dbg *d = opaque;
	struct dbg_logent *e = &d->log[d->nlog % DBG_LOG_SIZE];
	e->icount = c->icount;
	e->ev = *ev;
	e->from = d->world != W_NONE ? d->world : dbg_world_now(d);
	if (ev->kind == CPU_EV_VMENTRY)
		d->virt_arch = ev->arch != CPU_ARCH_NONE ? ev->arch : CPU_ARCH_VMX;
	else if (ev->kind == CPU_EV_VMEXIT || ev->kind == CPU_EV_RESET)
		d->virt_arch = CPU_ARCH_NONE;
	e->to = dbg_world_now(d);
	e->rip_after = c->rip;
	e->rax = c->gpr[R_RAX];
	e->rdi = c->gpr[R_RDI];
	e->rsi = c->gpr[R_RSI];
	e->rdx = c->gpr[R_RDX];
	e->cr2 = c->cr2;
	e->hypercall = ev->kind == CPU_EV_SOFTINT && ev->vector == PV_HYPERCALL_VECTOR &&
		       e->from == W_PV_KERNEL;
	e->index = d->nlog;
	e->cpl_after = c->cpl;
	e->text[0] = 0;
	d->nlog++;
	d->world = e->to;
	if (d->until != U_NONE && !d->until_hit && until_match(d, e)) {
		d->until_hit = true;
		d->until_ent = d->nlog - 1;
		c->stop_request = true;
	}
}

/* ---- breakpoints and watchpoints ------------------------------------------------ */

bool dbg_bp_match(struct cpu *c, uint64_t rip, bool full)
{
	struct dbg *d = c->observer_opaque;
	for (int k = 0; k < DBG_MAX_BP; k++) {
		const struct dbg_bp *b = &d->bp[k];
		if (b->id && !b->watch && b->addr == rip &&
		    (!full || b->space < 0 || dbg_world_space(dbg_world_now(d)) == b->space))
			return true;
	}
	return false;
}

void dbg_on_watch(struct cpu *c, uint64_t pa)
{
	struct dbg *d = c->observer_opaque;
	(void)pa;
	d->watch_fired = true;
	c->stop_request = true;
}

static void bp_refresh(struct dbg *d)
{
	d->m->cpu.bp_gen++;           /* the blocks' scans are out of date */
	memset(d->bp_filter, 0, sizeof d->bp_filter);
	d->any_bp = d->any_watch = false;
	for (int k = 0; k < DBG_MAX_BP; k++) {
		const struct dbg_bp *b = &d->bp[k];
		if (!b->id)
			continue;
		if (b->watch) {
			d->any_watch = true;
			continue;
		}
		uint64_t p = (b->addr >> 12) & (CPU_BP_FILTER_BITS - 1);
		d->bp_filter[p >> 6] |= 1ull << (p & 63);
		d->any_bp = true;
	}
}

static struct dbg_bp *bp_slot(struct dbg *d)
{
	for (int k = 0; k < DBG_MAX_BP; k++)
		if (!d->bp[k].id) {
			memset(&d->bp[k], 0, sizeof d->bp[k]);
			d->bp[k].id = ++d->next_bp_id;
			return &d->bp[k];
		}
	dbg_printf(d, "error: too many breakpoints and watchpoints (at most %d)\n", DBG_MAX_BP);
	return NULL;
}

int dbg_bp_add(struct dbg *d, uint64_t addr, int space, bool temp)
{
	struct dbg_bp *b = bp_slot(d);
	if (!b)
		return -1;
	b->addr = addr;
	b->space = space;
	b->temp = temp;
	bp_refresh(d);
	return b->id;
}

static void watch_mark(struct dbg *d, uint64_t pa, bool on)
{
	struct cpu *c = &d->m->cpu;
	uint8_t *pc = &c->page_code[pa >> 12];
	if (on) {
		*pc |= PAGE_WATCH;
		cpu_tlb_protect_code(c, pa);
		return;
	}
	for (int k = 0; k < DBG_MAX_BP; k++)
		if (d->bp[k].id && d->bp[k].watch &&
		    ((d->bp[k].pa[0] >> 12) == (pa >> 12) || (d->bp[k].pa[1] >> 12) == (pa >> 12)))
			return;
	*pc &= (uint8_t)~PAGE_WATCH;
}

int dbg_watch_add(struct dbg *d, uint64_t addr, uint64_t len)
{
	uint64_t pa0, pa1;
	if (len == 0 || len > 8) {
		dbg_printf(d, "error: a watchpoint covers 1 to 8 bytes, not %llu\n",
			   (unsigned long long)len);
		return -1;
	}
	if (!dbg_lin_to_phys(d, addr, &pa0) || !dbg_lin_to_phys(d, addr + len - 1, &pa1) ||
	    pa0 >= d->m->cpu.ram_size || pa1 >= d->m->cpu.ram_size) {
		dbg_printf(d, "error: %#llx is not mapped to RAM in the current address space\n",
			   (unsigned long long)addr);
		return -1;
	}
	struct dbg_bp *b = bp_slot(d);
	if (!b)
		return -1;
	b->watch = true;
	b->addr = addr;
	b->len = len;
	b->space = -1;
	b->pa[0] = pa0;
	b->pa[1] = pa1 - (len - 1);    /* where byte 0 would be, on the second page */
	for (uint64_t k = 0; k < len; k++) {
		uint64_t pa = ((pa0 + k) >> 12) == (pa0 >> 12) ? pa0 + k : b->pa[1] + k;
		b->old[k] = d->m->cpu.ram[pa];
	}
	watch_mark(d, pa0, true);
	watch_mark(d, pa1, true);
	bp_refresh(d);
	return b->id;
}

bool dbg_bp_delete(struct dbg *d, int id)
{
	for (int k = 0; k < DBG_MAX_BP; k++) {
		struct dbg_bp *b = &d->bp[k];
		if (b->id != id || id == 0)
			continue;
		b->id = 0;
		if (b->watch) {
			watch_mark(d, b->pa[0], false);
			watch_mark(d, b->pa[1] + b->len - 1, false);
		}
		bp_refresh(d);
		return true;
	}
	return false;
}

bool dbg_bp_at(const struct dbg *d, uint64_t addr)
{
	for (int k = 0; k < DBG_MAX_BP; k++)
		if (d->bp[k].id && !d->bp[k].watch && !d->bp[k].temp && d->bp[k].addr == addr)
			return true;
	return false;
}

/* After a write to a watched page: did a watched value change?  Reports
 * the first that did and takes its new value as the old one. */
bool dbg_watch_check(struct dbg *d)
{
	for (int k = 0; k < DBG_MAX_BP; k++) {
		struct dbg_bp *b = &d->bp[k];
		if (!b->id || !b->watch)
			continue;
		uint8_t now[8];
		for (uint64_t j = 0; j < b->len; j++) {
			uint64_t pa = ((b->pa[0] + j) >> 12) == (b->pa[0] >> 12) ? b->pa[0] + j : b->pa[1] + j;
			now[j] = d->m->cpu.ram[pa];
		}
		if (memcmp(now, b->old, b->len) == 0)
			continue;
		uint64_t o = 0, n = 0;
		for (uint64_t j = b->len; j-- > 0;) {
			o = o << 8 | b->old[j];
			n = n << 8 | now[j];
		}
		char at[96];
		dbg_addr_name(d, d->m->cpu.insn_rip, at, sizeof at);
		dbg_printf(d, "watchpoint %d: %#llx (%llu bytes) changed: old %#llx, new %#llx, "
			   "written by the instruction at %#llx%s%s%s\n", b->id,
			   (unsigned long long)b->addr, (unsigned long long)b->len,
			   (unsigned long long)o, (unsigned long long)n,
			   (unsigned long long)d->m->cpu.insn_rip, at[0] ? " <" : "", at, at[0] ? ">" : "");
		memcpy(b->old, now, b->len);
		b->hits++;
		return true;
	}
	return false;
}
