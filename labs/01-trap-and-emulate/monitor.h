/* monitor.h - lab 1: a trap-and-emulate monitor (ring 0) and the
 * deprivileged guest kernel it runs (ring 3), in one 32-bit Multiboot image.
 *
 *   boot.S       Multiboot entry, exception stubs -> monitor_trap(frame)
 *   monitor.c    the machine: GDT, TSS, IDT, serial, the site table and its
 *                patching, trap dispatch, the exit
 *   emulate.c    what the student writes: classify an instruction,
 *                emulate the privileged ones (#GP) and the patched
 *                sensitive ones (#BP) against the virtual CPU below
 *   guest.c      the guest kernel: believes it runs in ring 0, checks that
 *                every system instruction tells it the truth
 *
 * The guest's view of the CPU is struct vcpu: its interrupt flag, its CR0,
 * its GDTR and IDTR, its code and stack selectors.  The real CPU keeps the
 * monitor's values (IF = 1, the monitor's GDT, selectors with RPL 3).
 */
#ifndef LAB1_MONITOR_H
#define LAB1_MONITOR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EFLAGS_CF   0x0001
#define EFLAGS_ZF   0x0040
#define EFLAGS_IF   0x0200
#define EFLAGS_IOPL 0x3000
/* What POPF may change in ring 0 apart from IF and IOPL: CF PF AF ZF SF DF OF
 * (SDM Vol. 2B, POPF; TF, NT, AC, ID are left alone here). */
#define EFLAGS_POPF_ARITH 0x0cd5

#define CR0_PE 0x01
#define CR0_MP 0x02
#define CR0_TS 0x08
#define CR0_ET 0x10

/* The guest believes it starts as a Multiboot kernel does: ring 0, flat
 * code and data at selectors 0x08 and 0x10, IF = 0, CR0 = PE | ET. */
#define GUEST_KERNEL_CS 0x08
#define GUEST_KERNEL_DS 0x10

/* The exception frame (boot.S trap_common): segment registers, PUSHAL, the
 * vector and error code, then what the CPU pushed on a ring 3 -> 0 trap. */
struct frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_ring0, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags, esp, ss;
};

struct dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

struct vcpu {
    bool vif;                 /* the guest's EFLAGS.IF */
    uint32_t cr0;             /* the guest's CR0 */
    struct dtr gdtr, idtr;    /* what the guest loaded with LGDT / LIDT */
    uint16_t cs, ss;          /* the selectors the guest believes it runs on */
    unsigned halts;           /* HLTs emulated */
};
extern struct vcpu vcpu;

enum insn_kind { INSN_UNKNOWN, INSN_PRIVILEGED, INSN_SENSITIVE };
struct insn_class {
    enum insn_kind kind;
    const char *name;         /* mnemonic, e.g. "sgdt" */
    unsigned len;             /* length in bytes */
};

/* emulate.c */
struct insn_class classify(const uint8_t *p);
bool emulate_privileged(struct frame *f, const uint8_t *p);
bool emulate_sensitive(struct frame *f, const uint8_t *p);
uint32_t *frame_reg(struct frame *f, unsigned n);
unsigned modrm_len(const uint8_t *modrm);
bool modrm_ea(const struct frame *f, const uint8_t *modrm, uint32_t *ea);

/* monitor.c */
void mprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void monitor_guest_out(struct frame *f, uint16_t port, uint8_t value);

/* format.c: a small vsnprintf (%s %c %d %u %x, width, zero padding) */
int vformat(char *buf, size_t size, const char *fmt, va_list ap);

/* guest.c */
void guest_main(void);
#define GUEST_STACK_SIZE 4096
extern uint8_t guest_stack[GUEST_STACK_SIZE];

#endif
