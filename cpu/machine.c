/*
 * machine.c - the small PC: creates the CPU and its RAM, attaches the
 * devices, and is the glue between them and the run loop (exec.c).
 *
 *   port bus   IN/OUT reach cpu->io_read/io_write = bus_read/bus_write,
 *              which look the port up in a 64 KiB table of range indices.
 *   MMIO       physical addresses outside RAM reach mmio_read/mmio_write,
 *              which search a handful of ranges (LAPIC, I/O APIC).
 *   time       each device that counts time owns a timer slot; the earliest
 *              deadline goes to cpu->event_deadline, and when icount reaches
 *              it the run loop calls on_event, which fires the due timers.
 *   interrupts devices drive ISA IRQ lines (machine_set_irq); the lines go
 *              to the 8259 pair and to the I/O APIC; the local APIC merges
 *              its own IRR with the PIC's INTR (LINT0 in ExtINT mode) and
 *              answers the CPU's intr_pending / intr_ack, in QEMU's order:
 *              the APIC's vector first, then the PIC's (hw/intc/apic.c,
 *              target/i386 cpu_get_pic_interrupt).
 *
 * Nothing here reads host time; see machine.h for the clocks.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "machine.h"
#include "model.h"

void machine_config_default(struct machine_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->model = NULL;
	cfg->ram_bytes = 64ull << 20;
	cfg->serial_out = stdout;
	cfg->serial_in_fd = 0;
	cfg->debugcon_out = stdout;
	cfg->ncpus = 1;
}

/* ---- the port bus -------------------------------------------------------------- */

static uint32_t bus_read(void *opaque, uint16_t port, int size)
{
	struct machine *m = opaque;
	int k = m->port_map[port];
	if (k == 0 || !m->ports[k - 1].read)
		return 0xffffffffu;            /* nothing drives the ISA bus */
	return m->ports[k - 1].read(m->ports[k - 1].dev, port, size);
}

static void bus_write(void *opaque, uint16_t port, int size, uint32_t v)
{
	struct machine *m = opaque;
	int k = m->port_map[port];
	if (k != 0 && m->ports[k - 1].write)
		m->ports[k - 1].write(m->ports[k - 1].dev, port, size, v);
}

int machine_add_ports(struct machine *m, uint16_t first, uint16_t count, void *dev,
		      cpu_io_read_fn read, cpu_io_write_fn write)
{
	if (m->nports >= MACHINE_MAX_PORT_RANGES || (uint32_t)first + count > 65536)
		return -1;
	struct machine_ports *p = &m->ports[m->nports++];
	*p = (struct machine_ports){ first, count, dev, read, write };
	for (uint32_t port = first; port < (uint32_t)first + count; port++)
		m->port_map[port] = (uint8_t)m->nports;
	return 0;
}

/* ---- MMIO ---------------------------------------------------------------------- */

/* The range holding pa, and its base there (a range with base_of moves:
 * the local APIC's page follows IA32_APIC_BASE). */
static struct machine_mmio *mmio_find(struct machine *m, uint64_t pa, uint64_t *base)
{
	for (int k = 0; k < m->nmmio; k++) {
		struct machine_mmio *r = &m->mmio[k];
		*base = r->base_of ? r->base_of(r->dev) : r->base;
		if (pa - *base < r->size && (!r->active || r->active(r->dev)))
			return r;
	}
	return NULL;
}

static uint64_t mmio_read(struct cpu *c, uint64_t pa, int size)
{
	struct machine *m = c->env;
	uint64_t base;
	struct machine_mmio *r = mmio_find(m, pa, &base);
	if (!r || !r->read)
		return ~0ull;
	return r->read(r->dev, pa - base, size);
}

static void mmio_write(struct cpu *c, uint64_t pa, int size, uint64_t v)
{
	struct machine *m = c->env;
	uint64_t base;
	struct machine_mmio *r = mmio_find(m, pa, &base);
	if (r && r->write)
		r->write(r->dev, pa - base, size, v);
}

int machine_add_mmio(struct machine *m, uint64_t base, uint64_t size, void *dev,
		     machine_mmio_read_fn read, machine_mmio_write_fn write,
		     bool (*active)(void *dev))
{
	if (m->nmmio >= MACHINE_MAX_MMIO)
		return -1;
	m->mmio[m->nmmio++] = (struct machine_mmio){ base, size, dev, read, write, active, NULL };
	return 0;
}

/* ---- virtual time ---------------------------------------------------------------- */

static void update_deadline(struct machine *m)
{
	uint64_t d = UINT64_MAX;
	for (int k = 0; k < MT_COUNT; k++)
		if (m->timers[k].deadline < d)
			d = m->timers[k].deadline;
	/* A deadline that moved earlier must end the block now running, which
	 * was sized for the old one (exec.c run_block). */
	if (d < m->cpu.event_deadline)
		m->cpu.block_break = true;
	m->cpu.event_deadline = d;
}

void machine_timer_init(struct machine *m, enum machine_timer_id id,
			void (*fire)(struct machine *m, void *dev), void *dev)
{
	m->timers[id] = (struct machine_timer){ UINT64_MAX, fire, dev };
}

void machine_timer_set(struct machine *m, enum machine_timer_id id, uint64_t deadline)
{
	m->timers[id].deadline = deadline;
	update_deadline(m);
}

/* The run loop calls this when icount >= event_deadline: fire every due
 * timer (a timer may re-arm itself), then compute the next deadline. */
static void on_event(struct cpu *c)
{
	struct machine *m = c->env;
	for (int k = 0; k < MT_COUNT; k++) {
		struct machine_timer *t = &m->timers[k];
		if (t->deadline <= c->icount) {
			t->deadline = UINT64_MAX;
			t->fire(m, t->dev);
		}
	}
	update_deadline(m);
	/* HLT with interrupts masked can only be left by an NMI; unless an
	 * I/O APIC pin is routed as NMI, no device here raises one: report the
	 * halt (exec.c stops when nothing is scheduled) instead of skipping
	 * time for ever. */
	if (c->halted && !c->nmi_pending && !(cpu_get_rflags(c) & FLAG_IF) &&
	    !ioapic_nmi_routed(m))
		c->event_deadline = UINT64_MAX;
}

/* ---- interrupts ---------------------------------------------------------------- */

static bool intr_pending(struct cpu *c);

/* The run loop calls intr_pending between blocks only while the pointer
 * is set; it is cleared while no controller holds a request that could
 * reach the CPU, so a machine with quiet devices runs as fast as a bare
 * CPU.  TPR/CR8 and RFLAGS.IF can make a held request deliverable without
 * a device call, so "holds a request" ignores them; every device state
 * change comes here.  One path is not seen at once: a WRMSR that globally
 * disables the APIC (letting a waiting 8259 request through) takes effect
 * at the next device event - the firmware's PIT tick bounds the delay. */
void machine_intr_changed(struct machine *m)
{
	struct cpu *c = &m->cpu;
	bool any = pic_intr(m) && lapic_takes_pic(m);
	for (int k = 0; k < 8 && !any; k++)
		any = m->lapic.irr[k] != 0;
	c->intr_pending = any ? intr_pending : NULL;
	c->block_break = true;
}

void machine_set_irq(struct machine *m, int irq, bool level)
{
	if (irq < 0 || irq > 15)
		return;
	uint32_t bit = 1u << irq;
	if (!!(m->isa_irq & bit) == level)
		return;                         /* no edge, nothing changes */
	if (level)
		m->isa_irq |= bit;
	else
		m->isa_irq &= ~bit;
	pic_set_irq(m, irq, level);
	if (irq != 2)                       /* IR2 is the cascade, not an ISA line */
		ioapic_set_irq(m, irq == 0 ? 2 : irq, level);
	machine_intr_changed(m);
}

static bool intr_pending(struct cpu *c)
{
	struct machine *m = c->env;
	return lapic_pending(m) || (pic_intr(m) && lapic_takes_pic(m));
}

static int intr_ack(struct cpu *c)
{
	struct machine *m = c->env;
	int vector = -1;
	if (lapic_pending(m))
		vector = lapic_ack(m);
	else if (pic_intr(m) && lapic_takes_pic(m))
		vector = pic_ack(m);
	machine_intr_changed(m);
	return vector;
}

static bool msr_hook(struct cpu *c, uint32_t msr, uint64_t *v, bool write)
{
	return lapic_msr(c->env, msr, v, write);
}

/* ---- creating and running ---------------------------------------------------------- */

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen)
{
	if (cfg->ram_bytes < (2ull << 20) || cfg->ram_bytes > MACHINE_MAX_RAM) {
		snprintf(err, errlen, "RAM size %llu MiB is outside 2..%llu MiB",
			 (unsigned long long)(cfg->ram_bytes >> 20),
			 (unsigned long long)(MACHINE_MAX_RAM >> 20));
		return NULL;
	}
	struct machine *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory for the machine");
		return NULL;
	}
	m->cfg = *cfg;
	const struct cpu_model *model = cfg->model ? cfg->model : cpu_model_default();
	if (cpu_init(&m->cpu, model, cfg->ram_bytes) < 0) {
		snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
			 (unsigned long long)(cfg->ram_bytes >> 20));
		free(m);
		return NULL;
	}
	struct cpu *c = &m->cpu;
	c->env = m;
	c->io_opaque = m;
	c->io_read = bus_read;
	c->io_write = bus_write;
	c->mmio_read = mmio_read;
	c->mmio_write = mmio_write;
	c->on_event = on_event;
	c->intr_ack = intr_ack;
	c->msr_hook = msr_hook;
	c->event_deadline = UINT64_MAX;
	for (int k = 0; k < MT_COUNT; k++)
		m->timers[k].deadline = UINT64_MAX;

	pic_attach(m);
	ioapic_attach(m);
	lapic_attach(m);
	pit_attach(m);
	rtc_attach(m);
	hpet_attach(m);
	uart_attach(m, 0x3f8, 4, cfg->serial_out, cfg->serial_in_fd);
	misc_attach(m);
	firmware_attach(m);
	machine_intr_changed(m);
	return m;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	if (m->uart.out)
		fflush(m->uart.out);
	if (m->cfg.debugcon_out)
		fflush(m->cfg.debugcon_out);
	cpu_free(&m->cpu);
	free(m);
}

enum cpu_stop machine_run(struct machine *m, uint64_t max_insns)
{
	update_deadline(m);
	enum cpu_stop why = cpu_run(&m->cpu, max_insns);
	if (m->uart.out)
		fflush(m->uart.out);
	if (m->cfg.debugcon_out)
		fflush(m->cfg.debugcon_out);
	return why;
}

/* ---- the VGA text screen, for the UI ------------------------------------------------ */

void machine_vga_cells(const struct machine *m, uint16_t cells[25][80])
{
	const uint8_t *p = m->cpu.ram + MACHINE_VGA_TEXT;
	for (int r = 0; r < 25; r++)
		for (int col = 0; col < 80; col++, p += 2)
			cells[r][col] = (uint16_t)(p[0] | p[1] << 8);
}

void machine_vga_text(const struct machine *m, char rows[25][81])
{
	const uint8_t *p = m->cpu.ram + MACHINE_VGA_TEXT;
	for (int r = 0; r < 25; r++) {
		for (int col = 0; col < 80; col++, p += 2)
			rows[r][col] = (char)(p[0] < 0x20 || p[0] == 0x7f ? ' ' : p[0]);
		rows[r][80] = '\0';
	}
}

unsigned machine_vga_cursor(const struct machine *m)
{
	return (unsigned)(m->vga.crtc[0x0e] << 8 | m->vga.crtc[0x0f]);
}
