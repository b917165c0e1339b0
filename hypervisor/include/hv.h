/* hv.h - the small runtime every nesthv file uses.
 *
 * nesthv is freestanding: no C library, so this header supplies fixed-width
 * types (from the compiler's own freestanding headers), port I/O, MSR and
 * control-register access, the console and panic (serial.c), and the
 * exit-status convention of the debug-exit port.
 *
 * Exit status convention (QEMU `-device isa-debug-exit,iobase=0xf4,iosize=4`
 * turns an OUT of value v to port 0xF4 into process exit status (v << 1) | 1):
 *
 *   v = 0x10 + s   guest shut down with status s (0..14)   -> exit 33 + 2s
 *   v = 0x20       guest crashed (domain_crash)             -> exit 65
 *   v = 0x30       bad configuration (hv= option, no guest) -> exit 97
 *   v = 0x31       hypervisor panic                         -> exit 99
 *
 * A triple fault with -no-reboot makes QEMU exit 0, which no test accepts.
 */
#ifndef HV_H
#define HV_H

#include "fs_lib.h"     /* memset & co., fs_vformat (freestanding/) */

#define HV_EXIT_GUEST(s)   (0x10 + ((s) & 0xf))
#define HV_EXIT_CRASH      0x20
#define HV_EXIT_CONFIG     0x30
#define HV_EXIT_PANIC      0x31
#define HV_DEBUG_EXIT_PORT 0xf4

#define HV_PAGE_SIZE 4096ULL
#define HV_ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

static inline void hv_outb(uint16_t port, uint8_t v)
{ __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t hv_inb(uint16_t port)
{ uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void hv_outl(uint16_t port, uint32_t v)
{ __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline uint64_t hv_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void hv_wrmsr(uint32_t msr, uint64_t v)
{ __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }

static inline uint64_t hv_read_cr2(void)
{ uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t hv_read_cr3(void)
{ uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void hv_write_cr3(uint64_t v)
{ __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }

static inline void hv_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

/* serial.c: COM1 console and a small printf. */
void hv_serial_init(void);
void hv_putc(char c);
void hv_write(const char *s, size_t n);
void hv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_vprintf(const char *fmt, va_list ap);

/* serial.c: stopping */
struct hv_regs;
void hv_exit(unsigned v) __attribute__((noreturn));
void hv_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void hv_panic_regs(const struct hv_regs *r, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void hv_dump_regs(const struct hv_regs *r);

/* Linker-script symbols (hv.ld). */
extern char __hv_load_start[], __hv_ro_end[], __hv_load_end[], __hv_bss_end[];

#endif
