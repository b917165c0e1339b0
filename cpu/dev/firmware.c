/*
 * firmware.c - what the firmware leaves in low memory for an operating
 * system to find, as SeaBIOS does under QEMU (there is no BIOS code here:
 * nestlab starts a Multiboot kernel directly, so only the data is built):
 *
 *   0x00400  BIOS data area: COM1 at 0x3F8, EBDA segment, 639 KiB of base
 *            memory, the equipment word, the 80x25 colour text mode
 *   0x9FC00  extended BIOS data area (1 KiB; first byte = its size in KiB)
 *   0xF0000  RSDP "RSD PTR " (revision 0, ACPI 1.0), where an OS searches
 *            for it (the 16-byte boundaries of 0xE0000-0xFFFFF)
 *   0xF0040  RSDT -> 0xF0080 MADT (ACPI 6.5 5.2.7, 5.2.12)
 *
 * The MADT describes this machine: one processor (local APIC ID 0, the
 * local APIC at 0xFEE00000), the I/O APIC (ID 0, 0xFEC00000, GSI base 0),
 * the PC's interrupt source override ISA IRQ0 -> GSI 2 (the PIT on pin 2,
 * ioapic.c), LINT1 as NMI, and the PC-AT flag (a dual 8259 is present).
 * QEMU's MADT also has level-trigger overrides for the PCI interrupt lines
 * 5, 9, 10, 11; nestlab has no PCI, so they are left out.  There is no
 * FADT, HPET or MP table.  All of it lies in regions the Multiboot memory
 * map reports as reserved (loader_mbi.c: 0x9FC00-0xA0000, 0xF0000-1 MiB).
 */
#include <string.h>

#include "machine.h"

#define RSDP_AT 0xf0000u
#define RSDT_AT 0xf0040u
#define MADT_AT 0xf0080u

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* The byte that makes the sum of p[0..n-1] zero (ACPI 5.2.5.3, 5.2.6). */
static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t k = 0; k < n; k++)
		s = (uint8_t)(s + p[k]);
	return (uint8_t)-s;
}

/* The 36-byte system description table header (ACPI 5.2.6). */
static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "NESTLB", 6);              /* OEM ID */
	memcpy(t + 16, "NESTLAB ", 8);            /* OEM table ID */
	put32(t + 24, 1);                         /* OEM revision */
	memcpy(t + 28, "NLAB", 4);                /* creator ID */
	put32(t + 32, 1);
}

static uint32_t build_madt(uint8_t *t)
{
	uint8_t *e = t + 44;
	put32(t + 36, (uint32_t)MACHINE_LAPIC_BASE);
	put32(t + 40, 1);                         /* PCAT_COMPAT: 8259s present */
	/* processor local APIC: UID 0, APIC ID 0, enabled */
	e[0] = 0; e[1] = 8; e[2] = 0; e[3] = 0; put32(e + 4, 1); e += 8;
	/* I/O APIC: ID 0, address, GSI base 0 */
	e[0] = 1; e[1] = 12; e[2] = 0; e[3] = 0;
	put32(e + 4, (uint32_t)MACHINE_IOAPIC_BASE); put32(e + 8, 0); e += 12;
	/* interrupt source override: bus 0 (ISA) IRQ 0 -> GSI 2, conforming */
	e[0] = 2; e[1] = 10; e[2] = 0; e[3] = 0; put32(e + 4, 2); put16(e + 8, 0); e += 10;
	/* local APIC NMI: all processors (0xFF), flags 0, LINT1 */
	e[0] = 4; e[1] = 6; e[2] = 0xff; put16(e + 3, 0); e[5] = 1; e += 6;
	uint32_t len = (uint32_t)(e - t);
	sdt_header(t, "APIC", len, 1);
	t[9] = checksum(t, len);
	return len;
}

static void build_acpi(uint8_t *ram)
{
	uint8_t *madt = ram + MADT_AT, *rsdt = ram + RSDT_AT, *rsdp = ram + RSDP_AT;
	build_madt(madt);
	sdt_header(rsdt, "RSDT", 36 + 4, 1);
	put32(rsdt + 36, MADT_AT);
	rsdt[9] = checksum(rsdt, 40);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "NESTLB", 6);
	rsdp[15] = 0;                             /* revision 0: 20-byte RSDP */
	put32(rsdp + 16, RSDT_AT);
	rsdp[8] = checksum(rsdp, 20);
}

/* BIOS data area (the IBM PC layout every OS-dev reference lists). */
static void build_bda(uint8_t *ram)
{
	put16(ram + 0x400, 0x3f8);                /* COM1 base; COM2-4 absent */
	put16(ram + 0x40e, (uint16_t)(MACHINE_LOWMEM_TOP >> 4));   /* EBDA segment */
	put16(ram + 0x410, 0x0220);               /* one serial port, 80x25 colour */
	put16(ram + 0x413, (uint16_t)(MACHINE_LOWMEM_TOP >> 10));  /* 639 KiB */
	ram[0x449] = 0x03;                        /* video mode 3 */
	put16(ram + 0x44a, 80);                   /* columns */
	put16(ram + 0x463, 0x3d4);                /* CRTC base port */
	ram[0x484] = 24;                          /* rows - 1 */
	ram[MACHINE_LOWMEM_TOP] = 1;              /* EBDA size in KiB */
}

void firmware_attach(struct machine *m)
{
	build_bda(m->cpu.ram);
	build_acpi(m->cpu.ram);
}
