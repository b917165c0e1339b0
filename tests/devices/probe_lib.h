/*
 * probe_lib.h - what the device probe kernels (probe.c, irq.c) share: a
 * Multiboot 1 header and entry, port and MMIO access, COM1 output, and a
 * bounded wait.  Freestanding 32-bit code; include it in exactly one file
 * per kernel.
 */
#ifndef PROBE_LIB_H
#define PROBE_LIB_H

#include <stdint.h>

/* ---- port and MMIO access ------------------------------------------------------ */
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t rd(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

#define COM1 0x3f8
#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u

/* ---- output -------------------------------------------------------------------- */
static inline void putc_(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static inline void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static inline void hex(uint32_t v, int digits)
{
	for (int k = digits - 1; k >= 0; k--)
		putc_("0123456789abcdef"[(v >> (4 * k)) & 0xf]);
}

/* "name v1 v2 ...\n" with each value in `digits` hex digits */
static inline void line(const char *name, int n, const uint32_t *v, int digits)
{
	puts_(name);
	for (int k = 0; k < n; k++) {
		putc_(' ');
		hex(v[k], digits);
	}
	putc_('\n');
}
#define LINE(name, digits, ...) do { \
	const uint32_t v_[] = { __VA_ARGS__ }; \
	line(name, (int)(sizeof v_ / sizeof v_[0]), v_, digits); } while (0)

static inline const char *yes(int c) { return c ? "yes" : "NO"; }

/* Poll for a condition a bounded number of times (QEMU runs in real time,
 * nestlab in virtual time: both get there well within the bound). */
#define WAIT(cond) ({ uint32_t n_ = 0; while (!(cond) && ++n_ < 50000000u) ; (cond); })

/* The entry: QEMU -kernel and `nestlab run` enter in 32-bit protected
 * mode with interrupts off, EBX = the Multiboot information; set a stack
 * and call probe_main(info). */
__attribute__((section(".multiboot"), used, aligned(4)))
static const uint32_t mb_header[3] = { 0x1badb002, 0x3, -(0x1badb002u + 0x3) };
uint8_t probe_stack[8192] __attribute__((aligned(16)));
void probe_main(uint32_t mbi);
__asm__(".text\n.global probe_start\nprobe_start:\n"
	"cli\n"
	"movl $probe_stack + 8192, %esp\n"
	"pushl %ebx\n"
	"call probe_main\n"
	"1: hlt\njmp 1b\n");

static inline void probe_exit(uint32_t v)
{
	outl(0xf4, v);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static inline void serial_init(void)
{
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);
	outb(COM1 + 2, 0x07);
	outb(COM1 + 4, 0x0b);
}

#endif
