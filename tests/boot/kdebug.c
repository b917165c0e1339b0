/*
 * kdebug.c - boot tests of the debug facilities (SDM Vol. 3 Chapter 18):
 *
 *   debug    CR4.DE and DR4, an instruction breakpoint (a fault; RF set in
 *            the frame lets the instruction run), data write and read/write
 *            breakpoints (traps; an unaligned access that only overlaps the
 *            range), a REP STOSB element, DR7.GD, single-step with TF over
 *            POPF, MOV SS and IRETQ, INT3 stepped into its handler
 *   debugx   what QEMU TCG (7.2) does not do, so nestlab only, and the
 *            expected transcript is the SDM's, not a QEMU recording:
 *            DR7.GD (SDM 18.2.4: the next MOV DRn is a #DB fault with
 *            DR6.BD, and GD clears; QEMU ignores GD), ICEBP (SDM 18.3.1.6:
 *            a #DB trap, DR6 unchanged; QEMU raises #UD) and I/O
 *            breakpoints (R/W 10 with CR4.DE, SDM 18.2.4; QEMU ignores DR7
 *            type 10)
 *
 * Every #DB goes to db_hook, which logs the vector, where RIP was (as a
 * label of the sequences below) and DR6, then clears DR6.  Labels, not
 * addresses, are printed, so the transcript does not move with the code.
 */
#include "kernel.h"

int test_failures;

/* The sequences, each a leaf function with labels on the instructions the
 * transcript names. */
__asm__(
	".text\n"
	"ibp_fn: xor %eax, %eax\n"
	"ibp_at: mov $5, %eax\n"
	"ibp_end: ret\n"
	"wr_fn: movw $0x1234, (%rdi)\n"
	"wr_after: ret\n"
	"rd_fn: mov (%rdi), %rax\n"
	"rd_after: ret\n"
	"rep_fn: mov $0x5a, %eax\n"
	"mov $16, %ecx\n"
	"rep_at: rep stosb\n"
	"rep_after: ret\n"
	"gd_fn: mov %dr7, %rax\n"
	"or $0x2000, %rax\n"
	"mov %rax, %dr7\n"
	"gd_at: mov %dr0, %rax\n"
	"gd_after: ret\n"
	"io_fn: out %al, $0x80\n"
	"io_after: ret\n"
	"icebp_fn: .byte 0xf1\n"
	"icebp_after: ret\n"
	/* TF through POPF (no trap after the POPF that sets it, one after the
	 * POPF that clears it) and a MOV SS shadow (no trap between MOV SS and
	 * the next instruction). */
	"step_fn: pushfq\n"
	"orq $0x100, (%rsp)\n"
	"popfq\n"
	"s_nop: nop\n"
	"s_movax: mov %ss, %eax\n"
	"s_movss: mov %eax, %ss\n"
	"s_nop2: nop\n"
	"s_pushf: pushfq\n"
	"s_and: andq $~0x100, (%rsp)\n"
	"s_popf: popfq\n"
	"s_end: ret\n"
	/* IRETQ that loads TF: the first trap comes after the instruction it
	 * returns to. */
	"iret_fn: mov %rsp, %rcx\n"
	"mov %ss, %eax\n"
	"push %rax\n"
	"push %rcx\n"
	"pushfq\n"
	"orq $0x100, (%rsp)\n"
	"mov %cs, %eax\n"
	"push %rax\n"
	"lea i_nop(%rip), %rax\n"
	"push %rax\n"
	"iretq\n"
	"i_nop: nop\n"
	"i_pushf: pushfq\n"
	"i_and: andq $~0x100, (%rsp)\n"
	"i_popf: popfq\n"
	"i_end: ret\n"
	/* INT3 while stepping: its handler runs with TF clear, stepping
	 * resumes after its IRETQ. */
	"int3_fn: pushfq\n"
	"orq $0x100, (%rsp)\n"
	"popfq\n"
	"b_int3: int3\n"
	"b_nop: nop\n"
	"b_pushf: pushfq\n"
	"b_and: andq $~0x100, (%rsp)\n"
	"b_popf: popfq\n"
	"b_end: ret\n");

#define LABELS(X) X(ibp_at) X(ibp_end) X(wr_after) X(rd_after) X(rep_at) X(rep_after) \
	X(gd_at) X(gd_after) X(io_after) X(icebp_after) X(s_nop) X(s_movax) X(s_movss) \
	X(s_nop2) X(s_pushf) X(s_and) X(s_popf) X(s_end) X(i_nop) X(i_pushf) X(i_and) \
	X(i_popf) X(i_end) X(b_int3) X(b_nop) X(b_pushf) X(b_and) X(b_popf) X(b_end)
#define DECL(l) extern char l[];
LABELS(DECL)
void ibp_fn(void), wr_fn(void *), rd_fn(void *), rep_fn(void *), gd_fn(void), io_fn(void);
void icebp_fn(void), step_fn(void), iret_fn(void), int3_fn(void);
#define ENTRY(l) { #l, l },
static const struct { const char *name; const char *at; } labels[] = { LABELS(ENTRY) };

static const char *where(uint64_t rip)
{
	for (unsigned k = 0; k < sizeof labels / sizeof labels[0]; k++)
		if ((uint64_t)labels[k].at == rip)
			return labels[k].name;
	return "elsewhere";
}

/* ---- the #DB log ---------------------------------------------------------- */
#define LOG_MAX 16
static struct { uint64_t vec, rip, dr6, dr7, rcx; } dblog[LOG_MAX];
static volatile int nlog;
static volatile int set_rf;             /* IRET back with RF: the breakpoint is passed */

static uint64_t get_dr6(void) { uint64_t v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static uint64_t get_dr7(void) { uint64_t v; __asm__ volatile("mov %%dr7, %0" : "=r"(v)); return v; }
static void set_dr(int n, uint64_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" :: "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" :: "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" :: "r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%dr6" :: "r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr7" :: "r"(v)); break;
	}
}

static int db_hook(struct frame *f)
{
	if (f->vec != 1 && f->vec != 3)
		return 0;
	if (nlog < LOG_MAX) {
		dblog[nlog].vec = f->vec;
		dblog[nlog].rip = f->rip;
		dblog[nlog].dr6 = f->vec == 1 ? get_dr6() : 0;
		dblog[nlog].dr7 = get_dr7();
		dblog[nlog].rcx = f->rcx;
		nlog++;
	}
	if (f->vec == 1) {
		set_dr(6, 0);
		if (set_rf)
			f->rflags |= 1ull << 16;
	}
	return 1;
}

static void log_print(const char *what, int dr7)
{
	kprintf("%s: %u event(s)\n", what, nlog);
	for (int k = 0; k < nlog; k++) {
		kprintf("  %s at %s", dblog[k].vec == 1 ? "#DB" : "#BP", where(dblog[k].rip));
		if (dblog[k].vec == 1)
			kprintf(" dr6 %lx", dblog[k].dr6);
		if (dr7)
			kprintf(" dr7 %lx", dblog[k].dr7 & ~0x400ull);
		kprintf("\n");
	}
	nlog = 0;
}

#define L(n) (1ull << (2 * (n)))
#define RWLEN(n, rw, len) ((uint64_t)((rw) | (len) << 2) << (16 + 4 * (n)))

static uint8_t watch[64] __attribute__((aligned(64)));

static void check(int ok, const char *what)
{
	kprintf("%s: %s\n", what, ok ? "ok" : "FAILED");
	test_failures += !ok;
}

static void test_de(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	kprintf("debug: CPUID.1:EDX.DE %u\n", d >> 2 & 1);
	uint64_t cr4, v = 0;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 8));
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, fault_resume(%%rip)\n\t"
			 "mov %%dr4, %0\n1:\n\tmovq $0, fault_resume(%%rip)" : "+r"(v) :: "r11");
	fault_print("debug: MOV from DR4 with CR4.DE");
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 & ~8ull));
	__asm__ volatile("mov %%dr4, %0" : "=r"(v));
	kprintf("debug: DR4 without CR4.DE reads DR6: %lx\n", v);
}

static void test_breakpoints(void)
{
	uint32_t got;
	set_dr(0, (uint64_t)ibp_at);
	set_dr(7, L(0));
	set_rf = 1;
	__asm__ volatile("call ibp_fn" : "=a"(got) :: "rcx", "rdx", "rsi", "rdi", "r8", "r9",
			 "r10", "r11", "memory");
	set_rf = 0;
	log_print("debug: instruction breakpoint on ibp_at, RF set by the handler", 0);
	check(got == 5, "debug: the instruction ran once after the breakpoint");

	/* 4-byte write breakpoint on watch[4..7]; the word at watch[3] overlaps */
	set_dr(1, (uint64_t)&watch[4]);
	set_dr(7, L(1) | RWLEN(1, 1, 3));
	rd_fn(&watch[4]);                       /* a read: nothing */
	wr_fn(&watch[3]);
	log_print("debug: write breakpoint, 4 bytes at watch+4, word written at watch+3", 0);
	check(watch[3] == 0x34 && watch[4] == 0x12, "debug: the write was done before the trap");
	/* 8-byte read/write breakpoint: the read hits, an access beside it not */
	set_dr(1, (uint64_t)&watch[16]);
	set_dr(7, L(1) | RWLEN(1, 3, 2));
	rd_fn(&watch[24]);
	rd_fn(&watch[20]);
	log_print("debug: read/write breakpoint, 8 bytes at watch+16, reads at +24 and +20", 0);
	/* REP STOSB: a 1-byte write breakpoint on the fifth byte */
	set_dr(1, (uint64_t)&watch[36]);
	set_dr(7, L(1) | RWLEN(1, 1, 0));
	rep_fn(&watch[32]);
	kprintf("debug: rep stosb, write breakpoint on its fifth byte: %u event(s)", nlog);
	if (nlog)
		kprintf(", #DB at %s rcx %lu dr6 %lx", where(dblog[0].rip), dblog[0].rcx, dblog[0].dr6);
	kprintf("\n");
	nlog = 0;
	set_dr(7, 0);
}

static void test_step(void)
{
	step_fn();
	log_print("debug: single-step over POPF, MOV SS, POPF", 0);
	iret_fn();
	log_print("debug: single-step from an IRETQ that sets TF", 0);
	int3_fn();
	log_print("debug: single-step into INT3", 0);
}

static void test_gd_icebp(void)
{
	kprintf("debugx: expected by the SDM (QEMU TCG 7.2 ignores DR7.GD and I/O breakpoints, "
		"and raises #UD on ICEBP)\n");
	gd_fn();
	log_print("debugx: DR7.GD, then MOV from DR0", 1);
	icebp_fn();
	log_print("debugx: ICEBP (INT1)", 0);
}

static void test_io(void)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	set_dr(2, 0x80);
	set_dr(7, L(2) | RWLEN(2, 2, 0));
	io_fn();
	log_print("debugx: I/O breakpoint on port 0x80 without CR4.DE", 0);
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 8));
	io_fn();
	log_print("debugx: I/O breakpoint on port 0x80 with CR4.DE", 0);
	set_dr(2, 0x7c);
	set_dr(7, L(2) | RWLEN(2, 2, 3));
	io_fn();
	log_print("debugx: I/O breakpoint on ports 0x7c-0x7f", 0);
	set_dr(7, 0);
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
}

int run_debug_test(const char *name)
{
	trap_hook = db_hook;
	if (fs_streq(name, "debug")) {
		test_de();
		test_breakpoints();
		test_step();
	} else if (fs_streq(name, "debugx")) {
		test_gd_icebp();
		test_io();
	} else {
		trap_hook = 0;
		return 0;
	}
	trap_hook = 0;
	return 1;
}
