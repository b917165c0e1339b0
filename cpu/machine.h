/*
 * machine.h - the small PC around the CPU: RAM, the I/O port bus, MMIO,
 * virtual time, the interrupt wiring and the devices.
 *
 *                     +------------- struct machine -------------+
 *   IN/OUT  --------> | port bus: port -> device callbacks        |
 *   MMIO (pa >= RAM)->| mmio ranges: LAPIC 0xFEE00000, IOAPIC     |
 *                     |   0xFEC00000                              |
 *   icount ---------> | timers: PIT, LAPIC timer, UART, RTC ...   |
 *                     |   -> cpu.event_deadline / cpu.on_event    |
 *                     |                                           |
 *   ISA IRQ lines:  UART(4) PIT(0) RTC(8) ...                     |
 *        |                 |                                      |
 *        +--> 8259 PIC pair --INTR--> LAPIC LINT0 (ExtINT) --+    |
 *        +--> I/O APIC (IRQ0 -> pin 2) ----> LAPIC IRR ------+--> cpu.intr_pending
 *                                                                 cpu.intr_ack
 *
 * Using it (the `nestlab run` command, tests):
 *
 *   struct machine_config cfg;
 *   machine_config_default(&cfg);          64 MiB, serial on stdout/stdin
 *   cfg.ram_bytes = 128 << 20;
 *   char err[160];
 *   struct machine *m = machine_create(&cfg, err, sizeof err);
 *   ... load an image into m->cpu.ram (cpu_phys_write), set m->cpu's
 *       registers for the entry state ...
 *   enum cpu_stop why = machine_run(m, max_insns);   0 = no limit
 *   if (m->exited) exit status = m->exit_value  (guest wrote port 0xF4)
 *   if (m->reset_requested) the guest asked for a reset (the run ended)
 *   machine_destroy(m);
 *
 * The devices and low memory start as SeaBIOS leaves them under QEMU
 * (cpu/dev/: 8259 at vectors 08h/70h, PIT tick running, LAPIC enabled,
 * BIOS data area, ACPI MADT), so a kernel that QEMU -kernel starts finds
 * the same machine here (tests/devices compares the two).  HLT with
 * RFLAGS.IF = 0 ends a run (CPU_STOP_HLT) unless an I/O APIC pin is routed
 * as NMI: nothing else could wake the CPU.
 *
 * Virtual time (DESIGN: determinism): one retired instruction is one
 * nanosecond.  The TSC ticks once per instruction (1 GHz, system.c), the
 * local APIC's bus clock is 1 GHz as in QEMU, the PIT counts at
 * 1.193182 MHz and the RTC derives its clock from a fixed epoch plus
 * icount.  Nothing reads host time, so two runs with the same input are
 * identical instruction for instruction.  Serial input is read from a file
 * descriptor at instants fixed by virtual time; it is deterministic when the
 * input is all there (a file, /dev/null, a closed pipe), not when a person
 * types it.
 */
#ifndef NESTLAB_MACHINE_H
#define NESTLAB_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu.h"
#include "dev/devices.h"

/* Physical layout of the PC (what a Multiboot memory map describes). */
#define MACHINE_LOWMEM_TOP   0x9fc00ull       /* usable low RAM ends (EBDA above) */
#define MACHINE_HIGHMEM_BASE 0x100000ull      /* RAM continues at 1 MiB */
#define MACHINE_VGA_TEXT     0xb8000ull       /* 80x25 text, 2 bytes per cell */
#define MACHINE_IOAPIC_BASE  0xfec00000ull
#define MACHINE_HPET_BASE    0xfed00000ull
#define MACHINE_LAPIC_BASE   0xfee00000ull
#define MACHINE_MAX_RAM      0xc0000000ull    /* 3 GiB: RAM ends below the MMIO hole */

/* Virtual time: instructions are nanoseconds. */
#define MACHINE_NS_PER_INSN  1
#define MACHINE_PIT_HZ       1193182ull

struct machine_config {
	const struct cpu_model *model;   /* NULL: cpu_model_default() */
	uint64_t ram_bytes;              /* multiple of 4 KiB, <= MACHINE_MAX_RAM */
	FILE *serial_out;                /* COM1 output; NULL: no output */
	int serial_in_fd;                /* COM1 input; -1: none */
	FILE *debugcon_out;              /* port 0xE9 output; NULL: dropped */
	int ncpus;                       /* reported by fw_cfg and CMOS; only 1 runs */
};

/* 64 MiB, serial output to stdout, input from stdin (fd 0), 0xE9 to stdout. */
void machine_config_default(struct machine_config *cfg);

/* ---- the port bus and MMIO (devices register here) ------------------------ */
typedef uint64_t (*machine_mmio_read_fn)(void *dev, uint64_t offset, int size);
typedef void (*machine_mmio_write_fn)(void *dev, uint64_t offset, int size, uint64_t v);

struct machine_ports {
	uint16_t first, count;
	void *dev;
	cpu_io_read_fn read;             /* NULL: reads float (all ones) */
	cpu_io_write_fn write;           /* NULL: writes dropped */
};

struct machine_mmio {
	uint64_t base, size;
	void *dev;
	machine_mmio_read_fn read;
	machine_mmio_write_fn write;
	bool (*active)(void *dev);       /* NULL: always decoded */
	uint64_t (*base_of)(void *dev);  /* non-NULL: the range moves (LAPIC) */
};

#define MACHINE_MAX_PORT_RANGES 32
#define MACHINE_MAX_MMIO 8

/* ---- virtual-time timers: one slot per device that needs one -------------- */
enum machine_timer_id {
	MT_PIT, MT_LAPIC, MT_UART, MT_RTC, MT_PORT61, MT_COUNT
};

struct machine_timer {
	uint64_t deadline;               /* icount at which to fire; UINT64_MAX = off */
	void (*fire)(struct machine *m, void *dev);
	void *dev;
};

struct machine {
	struct cpu cpu;                  /* cpu.env points back here */
	struct machine_config cfg;

	/* the guest wrote v to port 0xF4 (isa-debug-exit): the run ended */
	bool exited;
	uint32_t exit_value;
	/* the guest asked for a reset (port 0x92 bit 0, 0xCF9, 8042 command
	 * 0xFE): the run ended, as QEMU's does with -no-reboot */
	bool reset_requested;
	const char *reset_source;        /* which port, in words, for the message */

	/* buses */
	uint8_t port_map[65536];         /* port -> index + 1 in ports[], 0 = none */
	struct machine_ports ports[MACHINE_MAX_PORT_RANGES];
	int nports;
	struct machine_mmio mmio[MACHINE_MAX_MMIO];
	int nmmio;

	/* virtual time */
	struct machine_timer timers[MT_COUNT];

	/* ISA interrupt lines, bit n = IRQ n asserted (level as devices drive it) */
	uint32_t isa_irq;

	/* devices (cpu/dev/ files) */
	struct pic_pair pic;
	struct pit8254 pit;
	struct uart16550 uart;
	struct lapic lapic;
	struct ioapic ioapic;
	struct cmos_rtc rtc;
	struct hpet hpet;
	struct fw_cfg fwcfg;
	struct kbc8042 kbc;
	struct vga_text vga;
};

/* Create a machine: RAM, every device at its PC address in the state the
 * firmware (SeaBIOS under QEMU) leaves it in.  The CPU is left as
 * cpu_init() made it (flat 64-bit); the loader sets the entry state.
 * Returns NULL with a message in err on failure. */
struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen);
void machine_destroy(struct machine *m);

/* Run up to max_insns instructions (0: no limit).  CPU_STOP_REQUEST with
 * m->exited set means the guest wrote its exit value to port 0xF4; with
 * m->reset_requested, that it asked the board for a reset. */
enum cpu_stop machine_run(struct machine *m, uint64_t max_insns);

/* The VGA text screen as the UI shows it: 25 rows of 80 characters (code
 * page 437 bytes, NUL-terminated rows; control bytes become spaces), and
 * the raw cells (character | attribute << 8). */
void machine_vga_text(const struct machine *m, char rows[25][81]);
void machine_vga_cells(const struct machine *m, uint16_t cells[25][80]);
/* Cursor position (row * 80 + column) from the CRTC registers 0x0E/0x0F. */
unsigned machine_vga_cursor(const struct machine *m);

/* ---- for devices ------------------------------------------------------------ */
int machine_add_ports(struct machine *m, uint16_t first, uint16_t count, void *dev,
		      cpu_io_read_fn read, cpu_io_write_fn write);
int machine_add_mmio(struct machine *m, uint64_t base, uint64_t size, void *dev,
		     machine_mmio_read_fn read, machine_mmio_write_fn write,
		     bool (*active)(void *dev));
void machine_timer_init(struct machine *m, enum machine_timer_id id,
			void (*fire)(struct machine *m, void *dev), void *dev);
/* Arm (or with UINT64_MAX disarm) a timer at an absolute icount. */
void machine_timer_set(struct machine *m, enum machine_timer_id id, uint64_t deadline);
/* Virtual time now: instructions retired so far. */
static inline uint64_t machine_now(const struct machine *m) { return m->cpu.icount; }

/* Drive ISA IRQ line `irq` (0-15) to `level`: goes to the 8259 pair and to
 * the I/O APIC (IRQ0 on pin 2, the others on their own number).  An edge
 * device pulses it (1 then 0). */
void machine_set_irq(struct machine *m, int irq, bool level);
/* Something changed an interrupt input: let the CPU look at once. */
void machine_intr_changed(struct machine *m);

#endif
