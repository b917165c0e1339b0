/*
 * cpu.h - the state of one emulated x86-64 processor and the interface to it.
 *
 * Nestlab's CPU is an interpreter in the style of Bochs and blink: a decoder
 * (decode.c) turns instruction bytes into a `struct insn` (insn.h); the run
 * loop (exec.c) looks decoded records up in a cache keyed by physical
 * address and calls one handler per instruction form, named in Intel operand
 * notation (op_add_Ev_Gv) and grouped by class (alu.c, shift.c, string.c ...).
 *
 * Everything architectural lives in `struct cpu`: the sixteen general
 * registers, RIP, RFLAGS (with the six arithmetic flags kept lazily, see
 * flags.h), the segment caches, control registers and virtual time.  A fault
 * inside a handler calls cpu_exception(), which unwinds to the run loop with
 * longjmp; the loop restores RIP to the start of the faulting instruction, so
 * handlers must perform every access that can fault before they commit state
 * (SDM Vol. 3 6.5: faults are reported "before the instruction").
 */
#ifndef NESTLAB_CPU_H
#define NESTLAB_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct insn;
struct cpu;
struct cpu_model;
struct dcache;
struct virt_ops;

/* General-purpose register numbers, in ModRM/REX order (SDM Vol. 2 2.1.5). */
enum cpu_gpr {
	R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI,
	R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

/* Segment registers, in the order of the Sreg field (SDM Vol. 2 3.1.1.3). */
enum cpu_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = 7 };

/* RFLAGS bits (SDM Vol. 1 3.4.3). */
#define FLAG_CF   (1ull << 0)
#define FLAG_FIXED1 (1ull << 1)
#define FLAG_PF   (1ull << 2)
#define FLAG_AF   (1ull << 4)
#define FLAG_ZF   (1ull << 6)
#define FLAG_SF   (1ull << 7)
#define FLAG_TF   (1ull << 8)
#define FLAG_IF   (1ull << 9)
#define FLAG_DF   (1ull << 10)
#define FLAG_OF   (1ull << 11)
#define FLAG_IOPL (3ull << 12)
#define FLAG_NT   (1ull << 14)
#define FLAG_RF   (1ull << 16)
#define FLAG_VM   (1ull << 17)
#define FLAG_AC   (1ull << 18)
#define FLAG_VIF  (1ull << 19)
#define FLAG_VIP  (1ull << 20)
#define FLAG_ID   (1ull << 21)
#define FLAGS_ARITH (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)

/* Exception vectors (SDM Vol. 3 Table 6-1). */
enum cpu_vector {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
	VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11,
	VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17,
	VEC_MC = 18, VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
};

/* How an event arose, numbered as the VMX interruption types (SDM Vol. 3
 * 25.8.3).  Types 4-6 come from INT n, INT1, INT3, INTO: they are traps,
 * so the instruction retires and the saved RIP is the next one. */
enum cpu_exc_type {
	EXC_TYPE_EXTINT = 0,      /* external interrupt (a stop with exceptions_stop) */
	EXC_TYPE_NMI = 2,         /* NMI (likewise) */
	EXC_TYPE_HW = 3,          /* hardware exception (a fault): RIP restored */
	EXC_TYPE_SOFT_INT = 4,    /* INT n */
	EXC_TYPE_PRIV_SOFT = 5,   /* INT1 (ICEBP) */
	EXC_TYPE_SOFT = 6,        /* INT3, INTO */
};

/* c->exc_vector values that are not x86 vectors: an emulator error (text
 * in c->error) and a VM exit the virtualization model recorded (virt.h). */
#define CPU_UNWIND_ERROR  (-1)
#define CPU_UNWIND_VMEXIT (-2)

/* The event interrupt.c is delivering, while it does (c->deliv): a VM exit
 * that arises in the middle reports it as IDT-vectoring information. */
struct cpu_delivery {
	bool active;
	int vector;
	uint8_t type;       /* VMX interruption type: 0 ext. interrupt, 2 NMI, 3-6 as cpu_exc_type */
	bool has_err;
	uint32_t err;
};

/* Code size of the current CS: what the decoder needs to know. */
enum cpu_mode { CPU_MODE16 = 0, CPU_MODE32 = 1, CPU_MODE64 = 2 };

/* Why cpu_run() returned. */
enum cpu_stop {
	CPU_STOP_LIMIT,     /* the instruction budget ran out */
	CPU_STOP_HLT,       /* HLT with nothing to wake it */
	CPU_STOP_EXCEPTION, /* exception and cpu->exceptions_stop is set */
	CPU_STOP_REQUEST,   /* something (a device, the UI) asked to stop */
	CPU_STOP_ERROR,     /* emulator error: cpu->error names it */
	CPU_STOP_SHUTDOWN,  /* triple fault: the processor shut down */
	CPU_STOP_BREAK,     /* RIP reached a debugger breakpoint (bp_match) */
};

/* Hidden part of a segment register (SDM Vol. 3 3.4.3). */
struct cpu_segment {
	uint16_t sel;
	uint16_t attr;      /* descriptor bits 40-47 and 52-55, as VMCS access rights */
	uint32_t limit;     /* expanded byte limit */
	uint64_t base;
};

/* GDTR and IDTR (SDM Vol. 3 2.4.1, 2.4.3); LDTR and TR are cpu_segments. */
struct cpu_dtable {
	uint64_t base;
	uint32_t limit;
};

/* One XMM register (or, in its low 8 bytes, an MMX register) seen as lanes.
 * Lane k of .w is bytes 2k..2k+1 in memory order: the handlers assume a
 * little-endian host (sse.h asserts it), as every x86 and ARM64 laptop is. */
union cpu_vec {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t d[4];
	uint64_t q[2];
};
_Static_assert(sizeof(union cpu_vec) == 16, "an XMM register is 16 bytes");

/* The x87/SSE state (SDM Vol. 1 10.5.1, Table 10-2): FXSAVE and FXRSTOR
 * move it; the MMX/SSE handlers (sse_*.c) execute on it. */
struct cpu_fpu {
	uint16_t fcw, fsw;
	uint8_t ftw;                  /* abridged tag word, as FXSAVE stores it */
	uint16_t fop;
	uint64_t fip, fdp;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];            /* ST0-7 / MM0-7, 10 bytes used each */
	union cpu_vec xmm[16];
};

/* MSRs kept in struct cpu (SDM Vol. 4 Table 2-2); msr.c reads and writes them. */
struct cpu_msrs {
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t apic_base, pat, misc_enable, tsc_aux;
};

/* The machine-check banks' writable state (mce.c): all empty, never raised. */
struct cpu_mce {
	uint64_t mcg_status, mcg_ctl;
	uint64_t bank_ctl[4];
};

/* Lazy arithmetic flags (see flags.h for the encoding). */
struct cpu_lazy_flags {
	uint64_t res;       /* result, sign-extended to 64 bits: gives SF, ZF, PF */
	uint64_t aux;       /* bit 63 CF, bit 62 CF^OF, bit 3 AF */
	bool live;          /* false: RFLAGS holds the arithmetic flags itself */
};

/* One software-TLB entry: linear page -> host pointer (see mem.c).  There
 * are two banks of each TLB, [0] for supervisor and [1] for user accesses
 * (mem_bank() in mem.h), so a CPL change needs no flush. */
struct cpu_tlb_entry {
	uint64_t tag_r;     /* linear page address if readable (itlb: executable), else ~0 */
	uint64_t tag_w;     /* linear page address if writable, dirty and not code, else ~0 */
	uintptr_t addend;   /* host address = linear + addend */
	uint64_t paddr;     /* physical page address | TLB_F_* flags in bits 11:0 */
};
#define CPU_TLB_SIZE 256
#define CPU_ITLB_SIZE 64

/* An I/O port handler bus; devices arrive with the small-PC work. */
typedef uint32_t (*cpu_io_read_fn)(void *opaque, uint16_t port, int size);
typedef void (*cpu_io_write_fn)(void *opaque, uint16_t port, int size, uint32_t v);

struct cpu {
	/* --- architectural state ------------------------------------------- */
	/* gpr[16] and rip, with a zero in between, viewed also as one array for
	 * effective addresses: ea_regs[REG_NONE] is 0, ea_regs[EA_RIP] is RIP. */
	union {
		uint64_t ea_regs[18];
		struct {
			uint64_t gpr[16];
			uint64_t zero_reg;    /* always 0 */
			uint64_t rip;
		};
	};
	uint64_t rflags;              /* arithmetic bits valid only if !lf.live */
	struct cpu_lazy_flags lf;
	struct cpu_segment seg[6];
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t dr[8];
	struct cpu_dtable gdtr, idtr;
	struct cpu_segment ldtr, tr;
	struct cpu_msrs msr;
	struct cpu_mce mce;
	struct cpu_fpu fpu;
	uint64_t tsc_offset;
	int cpl;
	enum cpu_mode mode;           /* from CR0.PE, EFLAGS.VM, EFER.LMA, CS.L/D */

	/* --- virtual time: retired instructions ----------------------------- */
	uint64_t icount;

	/* --- memory ----------------------------------------------------------- */
	uint8_t *ram;
	uint64_t ram_size;            /* bytes, multiple of 4096 */
	uint8_t *page_code;           /* per physical page: decoded code lives here */
	struct cpu_tlb_entry tlb[2][CPU_TLB_SIZE];    /* data: [0] supervisor, [1] user */
	struct cpu_tlb_entry itlb[2][CPU_ITLB_SIZE];  /* instruction fetch, same banks */
	uint32_t tlb_large;           /* nonzero: some entry is from a 2M/4M/1G page */
	uint64_t pdpte[4];            /* PAE paging: PDPTE registers, loaded with CR3 */
	struct dcache *dcache;        /* decoded-instruction cache (exec.c) */

	/* --- the instruction now executing ---------------------------------- */
	uint64_t insn_rip;            /* RIP of the instruction start */
	bool block_break;             /* leave the current decoded block */
	bool rf_suppress;             /* RF was 1 at its start: no instruction breakpoint */

	/* --- exceptions -------------------------------------------------------- */
	jmp_buf *unwind;              /* set by cpu_run() */
	bool exceptions_stop;         /* no IDT delivery: stop the run instead (at
	                                 interrupts too, exc_type EXTINT/NMI) */
	int exc_vector;               /* last exception raised, -1 if none */
	uint32_t exc_error;
	bool exc_has_error;
	uint8_t exc_type;             /* enum cpu_exc_type: fault or trap-style event */

	/* --- the debug registers at work (debug.h, debug.c) ------------------- */
	uint32_t dbg_active;          /* DBG_*: what DR7 enables; 0 = nothing to check */
	uint32_t dbg_hits;            /* B0-B3 of data/I/O breakpoints this instruction hit */
	uint64_t dbg_deferred;        /* DR6 bits held back by a MOV SS / POP SS shadow */

	/* --- model and environment ---------------------------------------------- */
	const struct cpu_model *model;
	void *io_opaque;
	cpu_io_read_fn io_read;
	cpu_io_write_fn io_write;
	bool halted;
	bool stop_request;
	bool shutdown;                /* triple fault (SDM Vol. 3 6.15, #DF) */

	/* --- the machine around the CPU (machine.c sets these; NULL = none) --- *
	 * Virtual time drives every device: when icount reaches event_deadline
	 * the run loop calls on_event (timers), and between blocks it asks
	 * intr_pending whether INTR is asserted and, when the CPU may take it,
	 * intr_ack for the vector (the INTA cycle).  A device that changes its
	 * interrupt line from inside an instruction (an OUT, an MMIO write) sets
	 * block_break so the CPU looks at once.  MMIO covers physical addresses
	 * outside RAM; msr_hook gets MSRs the CPU does not know (x2APIC). */
	void *env;
	uint64_t event_deadline;      /* icount of the next device event */
	void (*on_event)(struct cpu *c);
	bool (*intr_pending)(struct cpu *c);
	int (*intr_ack)(struct cpu *c);
	bool nmi_pending;
	bool nmi_blocked;              /* an NMI handler runs: no NMI until IRET */
	uint64_t intr_inhibit_until;  /* STI / MOV SS shadow: no INTR before this icount */
	uint64_t (*mmio_read)(struct cpu *c, uint64_t pa, int size);
	void (*mmio_write)(struct cpu *c, uint64_t pa, int size, uint64_t v);
	bool (*msr_hook)(struct cpu *c, uint32_t msr, uint64_t *v, bool write);
	char error[160];              /* set with CPU_STOP_ERROR */

	/* --- hardware virtualization (virt.h) ------------------------------- *
	 * icpt is zero outside guest mode: each hook costs one test then. */
	uint64_t icpt;                /* ICPT() bits of the active intercepts */
	const struct virt_ops *vops;  /* VT-x or AMD-V model, NULL: none */
	void *virt;                   /* the model's state */
	uint64_t virt_tsc_offset;     /* added to the TSC in guest mode */
	uint64_t virt_deadline;       /* icount of the next model event (timer, MTF) */
	bool virt_hold;               /* INTR and NMI held pending (AMD-V GIF = 0) */
	uint64_t cr0_locked1, cr4_locked1; /* bits MOV to CR may not clear (VMX operation) */
	struct cpu_delivery deliv;    /* the event being delivered */
	struct cpu_delivery deliv_outer; /* and the one whose delivery raised it */

	/* --- observer: who watches crossings between worlds (event.h) -------- */
	cpu_observer_fn observer;     /* NULL: nobody watches */
	void *observer_opaque;

	/* --- a debugger's breakpoints and watchpoints (ui/dbg_core.c) -------- *
	 * Checked per decoded block, never per instruction: bp_filter has one
	 * bit per linear code page, (RIP >> 12) mod 4096; a block starting on a
	 * marked page (all its instructions start on that page, dcache.h) is
	 * scanned once with bp_match(c, rip, false) - is there a breakpoint at
	 * this address? - and the answer kept in the block until bp_gen
	 * changes.  The run stops (CPU_STOP_BREAK) before an instruction at
	 * such an address if bp_match(c, rip, true) - the breakpoint's full
	 * condition (its world) - holds.  A write to a physical page marked
	 * PAGE_WATCH in page_code calls on_watch first.  NULL: none. */
	const uint64_t *bp_filter;
	uint64_t bp_gen;              /* changes whenever breakpoints change */
	bool (*bp_match)(struct cpu *c, uint64_t rip, bool full);
	void (*on_watch)(struct cpu *c, uint64_t pa);
};

#define CPU_BP_FILTER_BITS 4096
static inline bool cpu_bp_filter_test(const uint64_t *f, uint64_t rip)
{
	uint64_t p = (rip >> 12) & (CPU_BP_FILTER_BITS - 1);
	return (f[p >> 6] >> (p & 63)) & 1;
}

/* Report a crossing to the observer, if any (event.h). */
static inline void cpu_event_emit(struct cpu *c, const struct cpu_event *ev)
{
	if (__builtin_expect(c->observer != NULL, 0))
		c->observer(c, ev, c->observer_opaque);
}

/* Lifecycle. */
int  cpu_init(struct cpu *c, const struct cpu_model *model, uint64_t ram_bytes);
void cpu_free(struct cpu *c);
void cpu_reset_flat64(struct cpu *c);   /* 64-bit user-style flat state, for tests */
void cpu_set_mode(struct cpu *c, enum cpu_mode mode);
void cpu_update_mode(struct cpu *c);     /* from CR0, EFER, EFLAGS.VM, CS */

/* Run up to max_insns instructions (0: no limit). */
enum cpu_stop cpu_run(struct cpu *c, uint64_t max_insns);

/* Raise an exception from inside a handler: never returns. */
_Noreturn void cpu_exception(struct cpu *c, int vector, uint32_t error_code);
_Noreturn void cpu_exception_noerr(struct cpu *c, int vector);
#define cpu_ud(c) cpu_exception_noerr((c), VEC_UD)
#define cpu_gp0(c) cpu_exception((c), VEC_GP, 0)
/* Raise a trap-style event (INT n, INT3, INTO, INT1; control.c). */
_Noreturn void cpu_soft_event(struct cpu *c, int vector, int type);

/* Event delivery (interrupt.c): an exception recorded by cpu_exception()
 * once the run loop has unwound, and an external interrupt or NMI.  They may
 * raise further exceptions (escalating to #DF and shutdown). */
void cpu_deliver_exception(struct cpu *c);
void cpu_deliver_interrupt(struct cpu *c, int vector);
void cpu_deliver_nmi(struct cpu *c);
/* Any event by its VMX interruption type (0 external, 2 NMI, 3-6 as
 * cpu_exc_type): VM-entry event injection (vmx/entry.c). */
void cpu_deliver_event(struct cpu *c, int vector, int type, bool has_err, uint32_t err);
/* May the CPU take a maskable interrupt now (RFLAGS.IF, shadows)? */
bool cpu_intr_allowed(struct cpu *c);

/* Flags: full RFLAGS value, and writing it back (flags.c). */
uint64_t cpu_get_rflags(struct cpu *c);
void cpu_set_rflags(struct cpu *c, uint64_t v);

/* Port I/O (io.c): the one path of IN/OUT and INS/OUTS.  cpu_io_allow()
 * does the protection check (IOPL, TSS bitmap: #GP) and then the VMX/SVM
 * I/O intercept; cpu_io_read/write then reach the bus. */
struct virt_io;
void cpu_io_allow(struct cpu *c, const struct virt_io *io);
uint64_t cpu_io_read(struct cpu *c, uint16_t port, int size);
void cpu_io_write(struct cpu *c, uint16_t port, int size, uint64_t v);

/* Physical memory access for loaders and tests (bounds-checked). */
int cpu_phys_write(struct cpu *c, uint64_t pa, const void *src, size_t n);
int cpu_phys_read(struct cpu *c, uint64_t pa, void *dst, size_t n);

#endif
