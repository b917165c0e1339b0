/*
 * lapic.c - the local APIC of the one CPU: xAPIC registers at 0xFEE00000
 * and, when IA32_APIC_BASE.EXTD is set, the same registers as x2APIC MSRs
 * 0x800 + offset/16 (SDM Vol. 3 chapter 11 "Advanced Programmable
 * Interrupt Controller", Table 11-1 and Table 11-6).
 *
 *   off   reg        off    reg                 off   reg
 *   020   ID         0F0    SVR (bit 8 enable)   320  LVT timer
 *   030   version    100..  ISR  (8 x 32 bits)   330  LVT thermal
 *   080   TPR        180..  TMR                  340  LVT perf. counters
 *   0A0   PPR (ro)   200..  IRR                  350  LVT LINT0
 *   0B0   EOI (wo)   280    ESR                  360  LVT LINT1
 *   0D0   LDR        300    ICR low              370  LVT error
 *   0E0   DFR        310    ICR high             380  timer initial count
 *                    3E0    timer divide         390  timer current count (ro)
 *                    3F0    SELF IPI (x2APIC only, wo)
 *
 * Interrupt acceptance (SDM 11.8.3): a fixed interrupt sets its IRR bit;
 * the CPU may take the highest IRR vector when its priority class (bits
 * 7:4) is above PPR's, PPR being the higher of TPR and the class of the
 * highest in-service vector.  INTA moves the vector to ISR; EOI clears the
 * highest ISR bit and, for a level-triggered vector (TMR), tells the
 * I/O APIC.  CR8 is TPR[7:4] (SDM 10.8.6.1): the CPU's cr8 field and TPR
 * are kept in step here.
 *
 * Timer (SDM 11.5.4): counts the bus clock divided by TDCR; the bus clock
 * is 1 GHz, one count per instruction at divide-by-1 (QEMU also uses 1 ns).
 * One-shot and periodic modes; TSC-deadline mode is not offered (CPUID
 * does not claim it, so LVT bit 18 is reserved and reads 0).
 *
 * IPIs: one CPU, so an IPI is for ourselves or nobody.  Fixed and NMI
 * delivery to self work (shorthand "self", "all including self", or our
 * own destination); INIT/SIPI go nowhere - fw_cfg and CMOS report one CPU.
 * The xAPIC page follows IA32_APIC_BASE (relocation, SDM 11.4.5) to any
 * physical address outside RAM; over RAM, RAM wins.  Not modelled: the
 * thermal/performance/CMCI sources, lowest-priority arbitration, remote
 * read.
 */
#include "arch.h"
#include "machine.h"

#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)
#define SVR_ENABLE     0x100u
#define LVT_MASKED     0x10000u
#define LVT_PERIODIC   0x20000u
#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u
#define ESR_ILLEGAL_REG  0x80u

static const uint32_t lvt_writable[LVT_N] = {
	0x000300ff,     /* timer: vector, mask, periodic */
	0x000107ff,     /* thermal: vector, delivery mode, mask */
	0x000107ff,     /* performance counters */
	0x0001a7ff,     /* LINT0: + polarity, trigger mode */
	0x0001a7ff,     /* LINT1 */
	0x000100ff,     /* error: vector, mask */
};

static uint64_t apic_base(const struct machine *m)
{
	return m->cpu.msr.apic_base;
}

static bool enabled(const struct machine *m)
{
	return apic_base(m) & APIC_BASE_EN;
}

static bool x2apic(const struct machine *m)
{
	return (apic_base(m) & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool sw_enabled(const struct machine *m)
{
	return m->lapic.svr & SVR_ENABLE;
}

/* ---- the 256-bit registers ------------------------------------------------------ */

static bool bit_get(const uint32_t *r, int v) { return r[v >> 5] >> (v & 31) & 1; }
static void bit_set(uint32_t *r, int v) { r[v >> 5] |= 1u << (v & 31); }
static void bit_clr(uint32_t *r, int v) { r[v >> 5] &= ~(1u << (v & 31)); }

static int highest(const uint32_t *r)
{
	for (int k = 7; k >= 0; k--)
		if (r[k])
			return k * 32 + 31 - __builtin_clz(r[k]);
	return -1;
}

/* TPR as CR8 says it is (MOV CR8 writes only the cpu field). */
static uint32_t tpr(struct machine *m)
{
	struct lapic *a = &m->lapic;
	if ((a->tpr >> 4) != (m->cpu.cr8 & 0xf))
		a->tpr = (uint32_t)(m->cpu.cr8 & 0xf) << 4;
	return a->tpr;
}

static uint32_t ppr(struct machine *m)
{
	uint32_t t = tpr(m);
	int isrv = highest(m->lapic.isr);
	uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (t & 0xf0) >= cls ? t : cls;
}

/* ---- accepting and taking interrupts ------------------------------------------------- */

static void error(struct machine *m, uint32_t bit);

void lapic_accept(struct machine *m, int vector, bool level)
{
	struct lapic *a = &m->lapic;
	if (vector < 16) {              /* vectors 0-15 are illegal (SDM 11.5.3) */
		error(m, ESR_RECV_ILLEGAL);
		return;
	}
	bit_set(a->irr, vector);
	if (level)
		bit_set(a->tmr, vector);
	else
		bit_clr(a->tmr, vector);
	machine_intr_changed(m);
}

/* An error the APIC detected: latched for the next ESR write, and sent
 * through the error LVT when it is unmasked (SDM 11.5.3).  An illegal
 * error vector is itself an error, but is not sent again. */
static void error(struct machine *m, uint32_t bit)
{
	struct lapic *a = &m->lapic;
	a->esr_pending |= bit;
	uint32_t lvt = a->lvt[LVT_ERROR];
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		lapic_accept(m, (int)(lvt & 0xff), false);
}

bool lapic_pending(const struct machine *mc)
{
	struct machine *m = (struct machine *)mc;
	if (!enabled(m) || !sw_enabled(m))
		return false;
	int v = highest(m->lapic.irr);
	return v >= 0 && ((uint32_t)v & 0xf0) > (ppr(m) & 0xf0);
}

int lapic_ack(struct machine *m)
{
	struct lapic *a = &m->lapic;
	int v = highest(a->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(m) & 0xf0))
		return (int)(a->svr & 0xff);    /* spurious (SDM 11.9) */
	bit_clr(a->irr, v);
	bit_set(a->isr, v);
	return v;
}

static void eoi(struct machine *m)
{
	struct lapic *a = &m->lapic;
	int v = highest(a->isr);
	if (v < 0)
		return;
	bit_clr(a->isr, v);
	if (bit_get(a->tmr, v))
		ioapic_eoi(m, v);
	machine_intr_changed(m);
}

bool lapic_takes_pic(const struct machine *m)
{
	if (!enabled(m))
		return true;                /* no APIC: INTR goes straight in */
	uint32_t l = m->lapic.lvt[LVT_LINT0];
	return !(l & LVT_MASKED) && ((l >> 8) & 7) == 7;
}

bool lapic_dest_match(const struct machine *m, uint32_t dest, bool logical)
{
	const struct lapic *a = &m->lapic;
	if (x2apic(m)) {
		if (!logical)
			return dest == a->id || dest == 0xffffffffu;
		uint32_t ldr = ((a->id >> 4) << 16) | (1u << (a->id & 15));
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (!logical)
		return dest == a->id || dest == 0xff;
	if (dest == 0xff)
		return true;
	uint32_t lid = a->ldr >> 24;
	if ((a->dfr >> 28) == 0xf)                      /* flat model */
		return (lid & dest) != 0;
	return (lid >> 4) == (dest >> 4) && (lid & dest & 0xf);   /* cluster */
}

/* ---- the timer --------------------------------------------------------------------- */

static uint64_t timer_div(const struct lapic *a)
{
	uint32_t d = (a->timer_divide & 3) | ((a->timer_divide >> 1) & 4);
	return d == 7 ? 1 : 2ull << d;
}

static uint32_t timer_current(const struct machine *m)
{
	const struct lapic *a = &m->lapic;
	if (a->timer_initial == 0)
		return 0;
	uint64_t ticks = (machine_now(m) - a->timer_start) / timer_div(a);
	if (a->lvt[LVT_TIMER] & LVT_PERIODIC)
		return a->timer_initial - (uint32_t)(ticks % a->timer_initial);
	return ticks >= a->timer_initial ? 0 : a->timer_initial - (uint32_t)ticks;
}

static void timer_schedule(struct machine *m)
{
	struct lapic *a = &m->lapic;
	if (a->timer_initial == 0) {
		machine_timer_set(m, MT_LAPIC, UINT64_MAX);
		return;
	}
	uint64_t period = (uint64_t)a->timer_initial * timer_div(a);
	uint64_t done = machine_now(m) - a->timer_start;
	if (!(a->lvt[LVT_TIMER] & LVT_PERIODIC)) {
		machine_timer_set(m, MT_LAPIC, done >= period ? UINT64_MAX : a->timer_start + period);
		return;
	}
	machine_timer_set(m, MT_LAPIC, a->timer_start + (done / period + 1) * period);
}

static void timer_fire(struct machine *m, void *dev)
{
	(void)dev;
	struct lapic *a = &m->lapic;
	if (!(a->lvt[LVT_TIMER] & LVT_MASKED))
		lapic_accept(m, (int)(a->lvt[LVT_TIMER] & 0xff), false);
	timer_schedule(m);
}

/* ---- IPIs ------------------------------------------------------------------------------ */

static void send_ipi(struct machine *m, uint32_t lo, uint32_t dest)
{
	int mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3, vector = (int)(lo & 0xff);
	bool to_self;
	switch (shorthand) {
	case 1: to_self = true; break;                  /* self */
	case 2: to_self = true; break;                  /* all including self */
	case 3: to_self = false; break;                 /* all excluding self */
	default: to_self = lapic_dest_match(m, dest, (lo >> 11) & 1); break;
	}
	if (mode == 0 && vector < 16) {
		error(m, ESR_SEND_ILLEGAL);
		return;
	}
	if (!to_self)
		return;
	if (mode == 0 || mode == 1)                     /* fixed, lowest priority */
		lapic_accept(m, vector, false);
	else if (mode == 4) {                           /* NMI */
		m->cpu.nmi_pending = true;
		machine_intr_changed(m);
	}
	/* INIT, SIPI, SMI to ourselves: not modelled (see the top). */
}

/* ---- register access (shared by MMIO and MSRs) ----------------------------------------- */

/* Read register number r (offset >> 4); false if there is none. */
static bool reg_read(struct machine *m, unsigned r, uint32_t *v)
{
	struct lapic *a = &m->lapic;
	bool x2 = x2apic(m);
	switch (r) {
	case 0x02: *v = x2 ? a->id : a->id << 24; return true;
	case 0x03: *v = 0x00050014; return true;        /* version 14h, max LVT 5 */
	case 0x08: *v = tpr(m); return true;
	case 0x09: if (x2) return false; *v = 0; return true;   /* APR: no x2APIC MSR 809h */
	case 0x0a: *v = ppr(m); return true;
	case 0x0d: *v = x2 ? ((a->id >> 4) << 16) | (1u << (a->id & 15)) : a->ldr; return true;
	case 0x0e: if (x2) return false; *v = a->dfr; return true;
	case 0x0f: *v = a->svr; return true;
	case 0x28: *v = a->esr; return true;
	case 0x30: *v = a->icr_lo; return true;
	case 0x31: if (x2) return false; *v = a->icr_hi; return true;
	case 0x38: *v = a->timer_initial; return true;
	case 0x39: *v = timer_current(m); return true;
	case 0x3e: *v = a->timer_divide; return true;
	default: break;
	}
	if (r >= 0x10 && r < 0x18) { *v = a->isr[r - 0x10]; return true; }
	if (r >= 0x18 && r < 0x20) { *v = a->tmr[r - 0x18]; return true; }
	if (r >= 0x20 && r < 0x28) { *v = a->irr[r - 0x20]; return true; }
	if (r >= 0x32 && r < 0x32 + LVT_N) { *v = a->lvt[r - 0x32]; return true; }
	return false;
}

static void write_lvt(struct machine *m, int n, uint32_t v)
{
	struct lapic *a = &m->lapic;
	v &= lvt_writable[n];
	if (!sw_enabled(m))
		v |= LVT_MASKED;            /* software-disabled: masks stay set */
	a->lvt[n] = v;
	if (n == LVT_TIMER)
		timer_schedule(m);
	machine_intr_changed(m);
}

static void write_svr(struct machine *m, uint32_t v)
{
	struct lapic *a = &m->lapic;
	a->svr = v & 0x3ff;
	if (!(v & SVR_ENABLE))          /* SDM 11.4.7.2: disabling masks every LVT */
		for (int n = 0; n < LVT_N; n++)
			a->lvt[n] |= LVT_MASKED;
	machine_intr_changed(m);
}

/* Write register r; false if it is read-only or absent (x2APIC: #GP). */
static bool reg_write(struct machine *m, unsigned r, uint32_t v, uint32_t hi)
{
	struct lapic *a = &m->lapic;
	bool x2 = x2apic(m);
	switch (r) {
	case 0x02: if (x2) return false; a->id = v >> 24; return true;
	case 0x08:
		a->tpr = v & 0xff;
		m->cpu.cr8 = a->tpr >> 4;
		machine_intr_changed(m);
		return true;
	case 0x0b: eoi(m); return true;
	case 0x0d: if (x2) return false; a->ldr = v & 0xff000000u; return true;
	case 0x0e: if (x2) return false; a->dfr = v | 0x0fffffffu; return true;
	case 0x0f: write_svr(m, v); return true;
	case 0x28: a->esr = a->esr_pending; a->esr_pending = 0; return true;
	case 0x30:
		a->icr_lo = v & ~0x1000u;   /* delivery status: always idle */
		if (x2)
			a->icr_hi = hi;
		send_ipi(m, a->icr_lo, x2 ? a->icr_hi : a->icr_hi >> 24);
		return true;
	case 0x31: if (x2) return false; a->icr_hi = v & 0xff000000u; return true;
	case 0x38:
		a->timer_initial = v;
		a->timer_start = machine_now(m);
		timer_schedule(m);
		return true;
	case 0x3e: {
		uint32_t cur = timer_current(m);
		a->timer_divide = v & 0xb;
		/* Go on counting from the current value at the new rate. */
		uint64_t done = (uint64_t)(a->timer_initial - cur) * timer_div(a);
		if (a->timer_initial)
			a->timer_start = done <= machine_now(m) ? machine_now(m) - done : 0;
		timer_schedule(m);
		return true;
	}
	case 0x3f: if (!x2) return false; send_ipi(m, 0x40000 | (v & 0xff), 0); return true;
	default: break;
	}
	if (r >= 0x32 && r < 0x32 + LVT_N) {
		write_lvt(m, (int)(r - 0x32), v);
		return true;
	}
	return false;
}

/* ---- xAPIC MMIO ------------------------------------------------------------------------ */

static bool mmio_active(void *dev)
{
	struct machine *m = dev;
	return enabled(m) && !x2apic(m);
}

/* Where the xAPIC page is now: IA32_APIC_BASE bits 39:12. */
static uint64_t mmio_base(void *dev)
{
	return apic_base(dev) & ~0xfffull & 0xffffffffffull;
}

/* Registers are 32 bits wide on 16-byte boundaries; a narrower read takes
 * its bytes out of the register, the unused 12 bytes of each slot read 0. */
static uint64_t lapic_mmio_read(void *dev, uint64_t off, int size)
{
	struct machine *m = dev;
	uint32_t v = 0;
	if ((off & 0xf) < 4 && !reg_read(m, (unsigned)(off >> 4), &v))
		v = 0;
	if ((off & 0xf) >= 4)
		return 0;
	uint64_t r = v >> (8 * (off & 3));
	return size >= 4 ? r : r & ((1ull << (8 * size)) - 1);
}

/* Only aligned 32-bit (or wider) writes reach a register (SDM 11.4.1). */
static void lapic_mmio_write(void *dev, uint64_t off, int size, uint64_t v)
{
	struct machine *m = dev;
	if ((off & 0xf) != 0 || size < 4)
		return;
	if (!reg_write(m, (unsigned)(off >> 4), (uint32_t)v, 0))
		error(m, ESR_ILLEGAL_REG);
}

/* ---- x2APIC MSRs (SDM 11.12.1): c->msr_hook ------------------------------------------- */

bool lapic_msr(struct machine *m, uint32_t msr, uint64_t *v, bool write)
{
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apic(m))
		return false;
	unsigned r = msr - MSR_X2APIC_FIRST;
	if (!write) {
		uint32_t lo;
		if (r == 0x0b || r == 0x3f || !reg_read(m, r, &lo))
			return false;       /* EOI and SELF IPI are write-only */
		*v = r == 0x30 ? (uint64_t)m->lapic.icr_hi << 32 | lo : lo;
		return true;
	}
	/* Writes with bits 63:32 set are #GP except for the 64-bit ICR; so are
	 * non-zero writes to EOI and ESR. */
	if (r != 0x30 && (*v >> 32))
		return false;
	if ((r == 0x0b || r == 0x28) && *v != 0)
		return false;
	if (r == 0x3f && (*v & ~0xffull))
		return false;       /* SELF IPI: bits 31:8 reserved (SDM 11.12.11) */
	if (r == 0x09 || r == 0x0a || r == 0x03 || (r >= 0x10 && r < 0x28) || r == 0x39)
		return false;       /* read-only */
	return reg_write(m, r, (uint32_t)*v, (uint32_t)(*v >> 32));
}

/* As the firmware leaves it under QEMU (SeaBIOS; read back by
 * tests/devices/probe.c): software-enabled (SVR 0x1FF), LINT0 = ExtINT and
 * LINT1 = NMI (both level), so the 8259's interrupts reach the CPU; the
 * rest as at reset (SDM 11.4.7.1). */
void lapic_attach(struct machine *m)
{
	struct lapic *a = &m->lapic;
	a->id = 0;
	a->dfr = 0xffffffffu;
	a->svr = 0x1ff;
	for (int n = 0; n < LVT_N; n++)
		a->lvt[n] = LVT_MASKED;
	a->lvt[LVT_LINT0] = 0x8700;
	a->lvt[LVT_LINT1] = 0x8400;
	m->cpu.msr.apic_base = MACHINE_LAPIC_BASE | APIC_BASE_BSP | APIC_BASE_EN;
	machine_timer_init(m, MT_LAPIC, timer_fire, NULL);
	if (machine_add_mmio(m, MACHINE_LAPIC_BASE, 0x1000, m, lapic_mmio_read, lapic_mmio_write,
			     mmio_active) == 0)
		m->mmio[m->nmmio - 1].base_of = mmio_base;
}
