/*
 * kernel.h - the boot-test kernel (tests/boot): a freestanding x86-64
 * Multiboot kernel that exercises the small PC and prints what it sees on
 * COM1.  The same image runs under `nestlab run` and on QEMU TCG, and the
 * boot tests require both transcripts to equal tests/boot/expected/NAME.txt.
 *
 * bootinfo.c Multiboot 1 / 2 boot information
 * kernel.c   serial console, printing, IDT/TSS, trap dispatch, kmain
 * ktests.c   the tests: modes, paging, faults, rings, syscall, timers, devices
 * kdebug.c   the debug facilities: DR0-DR7 breakpoints, single-step, ICEBP
 * kpc.c      local APIC conformance, CPUID time leaves
 * entry.S    Multiboot header, real-mode trip, long-mode climb, stubs
 */
#ifndef BOOT_KERNEL_H
#define BOOT_KERNEL_H

#include <stdint.h>
#include "fs_lib.h"      /* memset & co., the formatter (freestanding/) */

#define KCODE 0x08
#define KDATA 0x10
#define UCODE 0x2b
#define UDATA 0x23
#define TSS_SEL 0x30

/* What isr_common pushes, lowest address first. */
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vec, err, rip, cs, rflags, rsp, ss;
};

/* Port I/O and MSRs. */
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint64_t rdmsr(uint32_t m)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t m, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint32_t mmio_rd(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_wr(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* bootinfo.c: the Multiboot 1 or 2 information, read into one record. */
#define BOOT_MAX_MODS 8
struct bootmod { uint32_t start, end; const char *string; };
struct bootinfo {
	int protocol;                   /* 1 or 2 */
	const char *cmdline;
	uint32_t mem_lower, nmods;
	struct bootmod mods[BOOT_MAX_MODS];
	uint64_t ram_at_1m;             /* length of the RAM entry at 1 MiB, or 0 */
};
extern struct bootinfo bootinfo;
int bootinfo_read(uint32_t magic, uint32_t info);

/* kernel.c */
void kprintf(const char *fmt, ...);
void kexit(uint32_t v) __attribute__((noreturn));
void set_gate(int vec, void *handler, int dpl, int ist);
void pic_init(uint8_t mask_master);
extern volatile uint64_t irq_ticks[256];

/* Fault capture: run `code` expecting a fault; the trap handler records it
 * and resumes at the label after it. */
struct fault_rec { int hit; uint64_t vec, err, cr2, cs; };
extern volatile struct fault_rec last_fault;
extern volatile uint64_t fault_resume;
void fault_print(const char *what);
/* Set by a test to see traps first; returns nonzero if it took the trap. */
extern int (*trap_hook)(struct frame *f);

/* entry.S */
extern uint64_t pml4[512], pdpt[512], pd[4 * 512];
extern uint8_t isr_table[];
extern uint64_t tss_desc[2];
extern uint8_t user_stack_top[], syscall_stack_top[];
extern volatile uint16_t rm_result;
void enter_user(void (*rip)(void), void *rsp);
void user_exit(void) __attribute__((noreturn));
void syscall_entry(void);
uint64_t compat_probe(void);
extern uint32_t pg32_result[3];
void bench_int3(uint64_t n);
void bench_bp_stub(void);
void bench_roundtrip(uint64_t n);
void bench_sys_entry(void);

/* ktests.c */
void run_test(const char *name, const char *arg);
/* kdebug.c: test=debug, test=debugx */
int run_debug_test(const char *name);
/* kpc.c: test=apicconf, test=pcx */
int run_pc_test(const char *name);
extern int test_failures;
long syscall_c(long nr, long arg);
void user_trap(struct frame *f);

#endif
