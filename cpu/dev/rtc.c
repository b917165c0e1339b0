/*
 * rtc.c - the MC146818 real-time clock and CMOS NVRAM at ports 0x70/0x71.
 *
 *   port 0x70  bit 7: NMI disable; bits 6:0: register index
 *   port 0x71  the register
 *
 *   00 seconds  02 minutes  04 hours  06 weekday (1 = Sunday)  07 day
 *   08 month    09 year     32 century     01/03/05 alarm seconds/min/hours
 *   0A status A: bit 7 UIP (update in progress), 6:4 divider, 3:0 rate
 *   0B status B: bit 7 SET, 6 PIE, 5 AIE, 4 UIE, 2 DM (binary), 1 24-hour
 *   0C status C: bit 7 IRQF, 6 PF, 5 AF, 4 UF; reading clears it (and IRQ8)
 *   0D status D: bit 7 VRT (valid RAM and time)
 *   0E-7F       NVRAM; the firmware's memory-size bytes as QEMU sets them
 *
 * Time is the fixed epoch 2024-01-01 00:00:00 UTC plus virtual time (one
 * instruction = 1 ns), so every run reads the same clock; a guest that
 * sets the clock moves the epoch.  UIP is set during the last 244 us of
 * each second, as the chip does before an update.  The periodic interrupt
 * (PIE, rate from register A) and the update-ended interrupt (UIE) raise
 * IRQ8; the alarm interrupt is not modelled.
 */
#include "machine.h"

#define RTC_EPOCH 1704067200ull     /* 2024-01-01 00:00:00 UTC */
#define NS 1000000000ull

struct rtc_time { int sec, min, hour, wday, mday, mon, year; };

/* Days since 1970-01-01 <-> civil date (the proleptic Gregorian calendar). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static uint64_t now_seconds(const struct machine *m)
{
	return m->rtc.epoch + machine_now(m) / NS;
}

static struct rtc_time split(uint64_t t)
{
	struct rtc_time r;
	int64_t days = (int64_t)(t / 86400);
	uint64_t s = t % 86400;
	r.sec = (int)(s % 60);
	r.min = (int)(s / 60 % 60);
	r.hour = (int)(s / 3600);
	r.wday = (int)((days + 4) % 7) + 1;     /* 1970-01-01 was a Thursday */
	civil_from_days(days, &r.year, &r.mon, &r.mday);
	return r;
}

static uint64_t join(const struct rtc_time *r)
{
	return (uint64_t)days_from_civil(r->year, r->mon, r->mday) * 86400 +
	       (uint64_t)(r->hour * 3600 + r->min * 60 + r->sec);
}

static bool binary(const struct machine *m) { return m->rtc.ram[0x0b] & 4; }
static bool h24(const struct machine *m) { return m->rtc.ram[0x0b] & 2; }

static uint8_t to_reg(const struct machine *m, int v)
{
	return (uint8_t)(binary(m) ? v : (v / 10) << 4 | v % 10);
}

static int from_reg(const struct machine *m, uint8_t v)
{
	return binary(m) ? v : (v >> 4) * 10 + (v & 0xf);
}

/* Hours: in 12-hour mode bit 7 is PM and 12 is written for 0. */
static uint8_t hour_reg(const struct machine *m, int h)
{
	if (h24(m))
		return to_reg(m, h);
	int h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(to_reg(m, h12) | (h >= 12 ? 0x80 : 0));
}

static int hour_from_reg(const struct machine *m, uint8_t v)
{
	if (h24(m))
		return from_reg(m, v);
	int h = from_reg(m, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

static uint8_t time_reg(struct machine *m, int idx)
{
	struct rtc_time t = split(now_seconds(m));
	switch (idx) {
	case 0x00: return to_reg(m, t.sec);
	case 0x02: return to_reg(m, t.min);
	case 0x04: return hour_reg(m, t.hour);
	case 0x06: return to_reg(m, t.wday);
	case 0x07: return to_reg(m, t.mday);
	case 0x08: return to_reg(m, t.mon);
	case 0x09: return to_reg(m, t.year % 100);
	default:   return to_reg(m, t.year / 100);  /* 0x32 century */
	}
}

/* The guest sets one field of the clock: move the epoch to match. */
static void set_time_reg(struct machine *m, int idx, uint8_t v)
{
	struct rtc_time t = split(now_seconds(m));
	switch (idx) {
	case 0x00: t.sec = from_reg(m, v) % 60; break;
	case 0x02: t.min = from_reg(m, v) % 60; break;
	case 0x04: t.hour = hour_from_reg(m, v) % 24; break;
	case 0x07: t.mday = from_reg(m, v) < 1 ? 1 : from_reg(m, v); break;
	case 0x08: t.mon = from_reg(m, v) < 1 || from_reg(m, v) > 12 ? 1 : from_reg(m, v); break;
	case 0x09: t.year = t.year / 100 * 100 + from_reg(m, v) % 100; break;
	case 0x32: t.year = from_reg(m, v) * 100 + t.year % 100; break;
	default: return;                         /* weekday follows from the date */
	}
	m->rtc.epoch = join(&t) - machine_now(m) / NS;
}

/* ---- interrupts: periodic (PIE) and update-ended (UIE) -------------------------------- */

static uint64_t period_ns(const struct machine *m)
{
	int rate = m->rtc.ram[0x0a] & 0xf;
	if (rate == 0)
		return 0;
	if (rate < 3)
		rate += 7;                           /* rates 1, 2 alias 8, 9 */
	return NS * (1ull << (rate - 1)) / 32768;
}

static void rtc_schedule(struct machine *m)
{
	uint64_t now = machine_now(m), next = UINT64_MAX;
	uint8_t b = m->rtc.ram[0x0b];
	uint64_t p = period_ns(m);
	m->rtc.periodic_next = (b & 0x40) && p ? (now / p + 1) * p : UINT64_MAX;
	m->rtc.update_next = (b & 0x10) && !(b & 0x80) ? (now / NS + 1) * NS : UINT64_MAX;
	next = m->rtc.periodic_next < m->rtc.update_next ? m->rtc.periodic_next
							 : m->rtc.update_next;
	machine_timer_set(m, MT_RTC, next);
}

static void rtc_fire(struct machine *m, void *dev)
{
	(void)dev;
	uint64_t now = machine_now(m);
	uint8_t flags = 0;
	if (now >= m->rtc.periodic_next)
		flags |= 0x40;
	if (now >= m->rtc.update_next)
		flags |= 0x10;
	if (flags) {
		m->rtc.ram[0x0c] |= (uint8_t)(flags | 0x80);
		machine_set_irq(m, 8, true);
	}
	rtc_schedule(m);
}

/* ---- ports ---------------------------------------------------------------------------- */

static uint32_t rtc_read(void *dev, uint16_t port, int size)
{
	(void)size;
	struct machine *m = dev;
	struct cmos_rtc *r = &m->rtc;
	if (port == 0x70)
		return 0xff;                         /* the index port is write-only */
	int idx = r->index;
	if (idx <= 0x09 && idx != 1 && idx != 3 && idx != 5)
		return time_reg(m, idx);
	if (idx == 0x32)
		return time_reg(m, idx);
	if (idx == 0x0a) {
		bool uip = machine_now(m) % NS >= NS - 244000;
		return (r->ram[0x0a] & 0x7f) | (uip ? 0x80 : 0);
	}
	if (idx == 0x0c) {
		uint8_t v = r->ram[0x0c];
		r->ram[0x0c] = 0;
		machine_set_irq(m, 8, false);
		return v;
	}
	return r->ram[idx];
}

static void rtc_write(void *dev, uint16_t port, int size, uint32_t val)
{
	(void)size;
	struct machine *m = dev;
	struct cmos_rtc *r = &m->rtc;
	uint8_t v = (uint8_t)val;
	if (port == 0x70) {
		r->index = v & 0x7f;
		r->nmi_disabled = v & 0x80;
		return;
	}
	int idx = r->index;
	if ((idx <= 0x09 && idx != 1 && idx != 3 && idx != 5) || idx == 0x32) {
		set_time_reg(m, idx, v);
		return;
	}
	if (idx == 0x0c || idx == 0x0d)
		return;                              /* read-only */
	if (idx == 0x0a)
		v &= 0x7f;                           /* UIP is read-only */
	r->ram[idx] = v;
	if (idx == 0x0a || idx == 0x0b)
		rtc_schedule(m);
}

/* NVRAM as QEMU's PC (hw/i386/pc.c) fills it for the firmware and OS. */
static void cmos_memory_bytes(struct machine *m)
{
	uint8_t *ram = m->rtc.ram;
	uint64_t bytes = m->cpu.ram_size;
	uint64_t ext_kb = bytes > (1 << 20) ? (bytes - (1 << 20)) / 1024 : 0;
	uint64_t above16 = bytes > (16 << 20) ? (bytes - (16 << 20)) / 65536 : 0;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	ram[0x15] = 0x80;                        /* 640 KiB of base memory */
	ram[0x16] = 0x02;
	ram[0x17] = ram[0x30] = (uint8_t)ext_kb;
	ram[0x18] = ram[0x31] = (uint8_t)(ext_kb >> 8);
	ram[0x34] = (uint8_t)above16;
	ram[0x35] = (uint8_t)(above16 >> 8);
	ram[0x5f] = (uint8_t)(m->cfg.ncpus > 0 ? m->cfg.ncpus - 1 : 0);
}

void rtc_attach(struct machine *m)
{
	struct cmos_rtc *r = &m->rtc;
	r->epoch = RTC_EPOCH;
	r->periodic_next = r->update_next = UINT64_MAX;
	r->ram[0x0a] = 0x26;                     /* 32.768 kHz divider, 1024 Hz rate */
	r->ram[0x0b] = 0x02;                     /* 24-hour, BCD */
	r->ram[0x0d] = 0x80;
	cmos_memory_bytes(m);
	machine_timer_init(m, MT_RTC, rtc_fire, NULL);
	machine_add_ports(m, 0x70, 2, m, rtc_read, rtc_write);
}
