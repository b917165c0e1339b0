/*
 * devices.h - the state of each device of the small PC, and the functions
 * machine.c uses to attach them and route interrupts through them.
 *
 * Each device lives in its own file in cpu/dev/ (uart.c, pic.c, pit.c,
 * lapic.c, ioapic.c, rtc.c, misc.c) and is embedded in struct machine
 * (machine.h).  A device never reads host time: its clock is the CPU's
 * instruction count (machine_now()).
 */
#ifndef NESTLAB_DEVICES_H
#define NESTLAB_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct machine;

/* ---- 16550A UART (uart.c) ------------------------------------------------- */
#define UART_FIFO 16
struct uart16550 {
	uint16_t base;
	int irq;
	FILE *out;
	int in_fd;                  /* -1: no input (or input at its end) */
	uint8_t rx[UART_FIFO];      /* receive FIFO (one byte deep when FIFOs are off) */
	int rx_head, rx_count;
	uint8_t ier, lcr, mcr, lsr_err, scr, dll, dlm, fcr;
	bool thre_pending;          /* "transmitter holding register empty" interrupt */
	uint64_t next_poll;         /* icount before which the input is not looked at */
	uint64_t rx_last;           /* icount of the last byte received or read */
};

/* ---- 8259A PIC pair (pic.c) ------------------------------------------------ */
struct pic8259 {
	uint8_t irr, isr, imr;
	uint8_t last_level;         /* input lines as last seen: edge detection */
	uint8_t elcr;               /* edge/level control (ports 0x4D0/0x4D1) */
	uint8_t vector_base;        /* ICW2 & 0xF8 */
	uint8_t icw_step;           /* 0: ready; 2..4: expecting ICW2..ICW4 */
	bool icw4_needed, single, aeoi;
	uint8_t lowest;             /* priority rotation: IR with the lowest priority */
	bool read_isr, poll, special_mask;
	bool rotate_on_aeoi;
};
struct pic_pair {
	struct pic8259 chip[2];     /* 0: master 0x20/0x21, 1: slave 0xA0/0xA1 on IR2 */
};

/* ---- 8254 PIT (pit.c) --------------------------------------------------- */
struct pit_channel {
	uint32_t reload;            /* 1..65536 (a written 0 means 65536) */
	uint8_t mode;               /* 0..5 */
	uint8_t access;             /* 1 lobyte, 2 hibyte, 3 lo then hi */
	bool bcd;
	bool write_hi_next, read_hi_next;
	uint8_t write_lo;
	bool latched;               /* counter latch command holds `latch` */
	uint16_t latch;
	bool status_latched;
	uint8_t status;
	bool counting;              /* a count has been loaded */
	bool gate;
	uint64_t start;             /* icount at which the count began */
	uint64_t paused_ticks;      /* mode 0 with GATE low: ticks already counted */
};
struct pit8254 {
	struct pit_channel ch[3];
	uint8_t port61;             /* bit 0 GATE2, bit 1 speaker data */
};

/* ---- local APIC (lapic.c) --------------------------------------------------- */
enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };
struct lapic {
	uint32_t id;
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;  /* ESR reads what the last write latched */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_N];
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t timer_initial, timer_divide;
	uint64_t timer_start;       /* icount when the current count began */
};

/* ---- I/O APIC (ioapic.c) ------------------------------------------------------ */
#define IOAPIC_PINS 24
struct ioapic {
	uint32_t id, regsel;
	uint64_t redir[IOAPIC_PINS];
	uint32_t level;             /* input pins as last driven */
};

/* ---- HPET (hpet.c) ------------------------------------------------------------- */
#define HPET_TIMERS 3
struct hpet {
	uint64_t config, isr;
	uint64_t counter;           /* main counter when stopped, or when started */
	uint64_t started;           /* icount when the counter was last started */
	uint64_t timer_cfg[HPET_TIMERS], cmp[HPET_TIMERS];
};

/* ---- CMOS RTC and NVRAM (rtc.c) ------------------------------------------------ */
struct cmos_rtc {
	uint8_t index;
	bool nmi_disabled;
	uint8_t ram[128];
	uint64_t epoch;             /* seconds since 1970 at icount 0 */
	uint64_t periodic_next;     /* icount of the next periodic / update-ended */
	uint64_t update_next;       /* interrupt, when armed (else UINT64_MAX) */
};

/* ---- QEMU fw_cfg and the small fixed-function ports (misc.c) ------------------- */
struct fw_cfg {
	uint16_t key;
	uint32_t offset;
};
struct kbc8042 {
	uint8_t command;            /* last command awaiting a data byte, or 0 */
	uint8_t out;                /* output buffer */
	bool out_full;
	uint8_t config;             /* the controller's command byte */
	uint8_t output_port;        /* bit 0 reset line (active low), bit 1 A20 */
};
struct vga_text {
	uint8_t crtc_index;
	uint8_t crtc[32];
	uint8_t misc_output;
};

/* Attach each device to the machine (ports, MMIO, timers) in its reset state. */
void uart_attach(struct machine *m, uint16_t base, int irq, FILE *out, int in_fd);
void pic_attach(struct machine *m);
void pit_attach(struct machine *m);
void lapic_attach(struct machine *m);
void ioapic_attach(struct machine *m);
void rtc_attach(struct machine *m);
void hpet_attach(struct machine *m);
void misc_attach(struct machine *m);   /* 0xE9, 0xF4, fw_cfg, 0x92, VGA CRTC */
void firmware_attach(struct machine *m);   /* BIOS data area, ACPI RSDP/RSDT/MADT */

/* Interrupt routing (machine.c calls these). */
void pic_set_irq(struct machine *m, int irq, bool level);
bool pic_intr(const struct machine *m);          /* the master's INTR output */
int pic_ack(struct machine *m);                  /* INTA: the vector */
void ioapic_set_irq(struct machine *m, int pin, bool level);
void ioapic_eoi(struct machine *m, int vector);  /* level-triggered EOI broadcast */
bool ioapic_nmi_routed(const struct machine *m); /* some pin delivers NMIs */
/* Accept an interrupt message (from the I/O APIC or an IPI) at this APIC. */
void lapic_accept(struct machine *m, int vector, bool level);
bool lapic_dest_match(const struct machine *m, uint32_t dest, bool logical);
bool lapic_pending(const struct machine *m);     /* a fixed interrupt may be taken */
int lapic_ack(struct machine *m);
bool lapic_takes_pic(const struct machine *m);   /* LINT0 routes the PIC (ExtINT) */
bool lapic_msr(struct machine *m, uint32_t msr, uint64_t *v, bool write);

#endif
