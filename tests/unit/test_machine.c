/*
 * test_machine.c - struct machine itself (cpu/machine.c) and the small
 * ports (cpu/dev/misc.c): creation limits, the port bus, the debug console
 * and debug exit, fw_cfg, the 8042's reset and A20 paths, port 0x92, the
 * VGA text screen for the UI, timers firing at an exact instruction, and
 * two identical runs being identical.
 */
#include <string.h>

#include "machine_util.h"

static void test_create_limits(void)
{
	struct machine_config cfg;
	machine_config_default(&cfg);
	CU_ASSERT_EQUAL(cfg.ram_bytes, 64ull << 20);
	CU_ASSERT_PTR_EQUAL(cfg.serial_out, stdout);
	char err[160] = "";
	cfg.ram_bytes = 4ull << 30;
	CU_ASSERT_PTR_NULL(machine_create(&cfg, err, sizeof err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "RAM size"));
	cfg.ram_bytes = 1ull << 20;
	CU_ASSERT_PTR_NULL(machine_create(&cfg, err, sizeof err));
}

static void test_port_bus(void)
{
	struct machine *m = mu_machine(NULL, -1);
	CU_ASSERT_EQUAL(mu_in(m, 0x300, 1), 0xff);  /* nothing there */
	CU_ASSERT_EQUAL(mu_in(m, 0x300, 4), 0xffffffffu);
	CU_ASSERT_EQUAL(mu_in8(m, 0xe9), 0xe9);     /* debugcon detection */
	CU_ASSERT_EQUAL(mu_in8(m, 0x92), 0x02);     /* A20 on */
	mu_out8(m, 0x80, 0x12);                     /* POST port: dropped */
	CU_ASSERT_FALSE(m->exited);
	mu_out(m, 0xf4, 4, 0x101);
	CU_ASSERT_TRUE(m->exited);
	CU_ASSERT_EQUAL(m->exit_value, 0x101);
	CU_ASSERT_TRUE(m->cpu.stop_request);
}

static void test_debugcon(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct machine *m = mu_machine(NULL, -1);
	m->cfg.debugcon_out = f;
	mu_out8(m, 0xe9, 'h');
	mu_out8(m, 0xe9, 'i');
	fclose(f);
	CU_ASSERT_EQUAL(len, 2);
	CU_ASSERT_NSTRING_EQUAL(buf, "hi", 2);
	free(buf);
	m->cfg.debugcon_out = NULL;
}

static uint64_t fw_cfg(struct machine *m, uint16_t key, int bytes)
{
	mu_out(m, 0x510, 2, key);
	uint64_t v = 0;
	for (int k = 0; k < bytes; k++)
		v |= (uint64_t)mu_in8(m, 0x511) << (8 * k);
	return v;
}

static void test_fw_cfg(void)
{
	struct machine *m = mu_machine(NULL, -1);
	CU_ASSERT_EQUAL(fw_cfg(m, 0x00, 4), 0x554d4551);   /* "QEMU" */
	CU_ASSERT_EQUAL(fw_cfg(m, 0x01, 4), 1);
	CU_ASSERT_EQUAL(fw_cfg(m, 0x03, 8), 4ull << 20);
	CU_ASSERT_EQUAL(fw_cfg(m, 0x05, 2), 1);
	CU_ASSERT_EQUAL(fw_cfg(m, 0x19, 4), 0);            /* no files */
	CU_ASSERT_EQUAL(fw_cfg(m, 0x1234, 2), 0);
}

static void test_kbc_and_reset(void)
{
	struct machine *m = mu_machine(NULL, -1);
	CU_ASSERT_EQUAL(mu_in8(m, 0x64) & 0x03, 0);   /* buffers empty */
	mu_out8(m, 0x64, 0xaa);                       /* self-test */
	CU_ASSERT_EQUAL(mu_in8(m, 0x64) & 0x01, 1);
	CU_ASSERT_EQUAL(mu_in8(m, 0x60), 0x55);
	mu_out8(m, 0x64, 0xd0);                       /* read output port */
	CU_ASSERT_EQUAL(mu_in8(m, 0x60) & 0x03, 0x03);
	mu_out8(m, 0x64, 0xd1);                       /* write output port: A20 */
	mu_out8(m, 0x60, 0xdf);
	CU_ASSERT_FALSE(m->reset_requested);
	mu_out8(m, 0x64, 0xfe);                       /* pulse reset */
	CU_ASSERT_TRUE(m->reset_requested);
	m = mu_machine(NULL, -1);
	mu_out8(m, 0x92, 0x01);
	CU_ASSERT_TRUE(m->reset_requested);
	m = mu_machine(NULL, -1);
	mu_out8(m, 0xcf9, 0x06);
	CU_ASSERT_TRUE(m->reset_requested);
}

static void test_vga(void)
{
	struct machine *m = mu_machine(NULL, -1);
	static const uint8_t hello[] = { 'O', 0x07, 'K', 0x1f, '\n', 0x07 };
	cpu_phys_write(&m->cpu, 0xb8000 + 2 * (80 * 3 + 5), hello, sizeof hello);
	char rows[25][81];
	machine_vga_text(m, rows);
	CU_ASSERT_NSTRING_EQUAL(rows[3] + 5, "OK ", 3);
	CU_ASSERT_EQUAL(strlen(rows[24]), 80);
	uint16_t cells[25][80];
	machine_vga_cells(m, cells);
	CU_ASSERT_EQUAL(cells[3][6], 0x1f4b);
	mu_out(m, 0x3d4, 2, 0x0f | (0x47 << 8));      /* cursor low, word write */
	mu_out8(m, 0x3d4, 0x0e);
	mu_out8(m, 0x3d5, 0x01);
	CU_ASSERT_EQUAL(machine_vga_cursor(m), 0x147);
	CU_ASSERT_EQUAL(mu_in8(m, 0x3d5), 0x01);
	/* Retrace bit 3 of 0x3DA changes within a frame. */
	uint8_t a = mu_in8(m, 0x3da) & 8;
	mu_advance(m, 16666667ull - 1000);
	CU_ASSERT_NOT_EQUAL(mu_in8(m, 0x3da) & 8, a);
}

/* The firmware's data (cpu/dev/firmware.c): BIOS data area and the ACPI
 * RSDP -> RSDT -> MADT chain, each with a valid checksum. */
static uint8_t sum_bytes(struct machine *m, uint64_t pa, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t k = 0; k < n; k++)
		s = (uint8_t)(s + m->cpu.ram[pa + k]);
	return s;
}

static void test_firmware_tables(void)
{
	struct machine *m = mu_machine(NULL, -1);
	uint8_t *ram = m->cpu.ram;
	CU_ASSERT_EQUAL(ram[0x400] | ram[0x401] << 8, 0x3f8);
	CU_ASSERT_EQUAL(ram[0x413] | ram[0x414] << 8, 639);
	uint64_t rsdp = 0;
	for (uint64_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16)
		if (!memcmp(ram + a, "RSD PTR ", 8))
			rsdp = a;
	CU_ASSERT_EQUAL_FATAL(rsdp, 0xf0000);
	CU_ASSERT_EQUAL(sum_bytes(m, rsdp, 20), 0);
	uint32_t rsdt, madt, len;
	memcpy(&rsdt, ram + rsdp + 16, 4);
	memcpy(&len, ram + rsdt + 4, 4);
	CU_ASSERT_EQUAL(len, 40);
	CU_ASSERT_EQUAL(sum_bytes(m, rsdt, len), 0);
	memcpy(&madt, ram + rsdt + 36, 4);
	CU_ASSERT_NSTRING_EQUAL(ram + madt, "APIC", 4);
	memcpy(&len, ram + madt + 4, 4);
	CU_ASSERT_EQUAL(len, 44 + 8 + 12 + 10 + 6);
	CU_ASSERT_EQUAL(sum_bytes(m, madt, len), 0);
	CU_ASSERT_EQUAL(ram[madt + 44 + 8], 1);              /* the I/O APIC entry */
	CU_ASSERT_EQUAL(ram[madt + 44 + 8 + 12 + 3], 0);     /* override of IRQ0 ... */
	CU_ASSERT_EQUAL(ram[madt + 44 + 8 + 12 + 4], 2);     /* ... to GSI 2 */
}

/* A loop with the LAPIC timer armed: the event fires at exactly the
 * programmed instruction, even in the middle of a decoded block, and the
 * instruction that armed it shortens the block it is in. */
static const uint8_t loop_code[] = {
	0x67, 0xc7, 0x04, 0x25, 0x80, 0x03, 0xe0, 0xfe, 0x07, 0x00, 0x00, 0x00,
	/* mov dword [addr32 0xfee00380], 7: the timer's initial count (a32 so
	 * the displacement is not sign-extended) */
	0x48, 0xff, 0xc0,               /* inc rax */
	0x48, 0xff, 0xc3,               /* inc rbx */
	0x48, 0xff, 0xc1,               /* inc rcx */
	0xeb, 0xf5,                     /* jmp back to inc rax */
};

static uint64_t run_fingerprint(void)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_mmio_write(m, 0xfee000f0, 0x1ff);
	mu_mmio_write(m, 0xfee003e0, 0x0b);           /* divide by 1 */
	mu_mmio_write(m, 0xfee00320, 0x10040);        /* masked: count only */
	m->cpu.cpl = 0;
	cpu_phys_write(&m->cpu, UT_CODE, loop_code, sizeof loop_code);
	m->cpu.rip = UT_CODE;
	machine_run(m, 1000);
	/* registers and the timer's current count after the run */
	return m->cpu.gpr[R_RAX] << 32 ^ m->cpu.gpr[R_RCX] << 16 ^
	       mu_mmio_read(m, 0xfee00390) ^ m->cpu.icount << 48;
}

/* The machine's on_event, wrapped to record when the run loop calls it. */
static void (*real_on_event)(struct cpu *c);
static uint64_t event_at[8];
static int nevents;

static void spy_on_event(struct cpu *c)
{
	if (nevents < 8)
		event_at[nevents++] = c->icount;
	real_on_event(c);
}

static void test_exact_events(void)
{
	struct machine *m = mu_machine(NULL, -1);
	mu_mmio_write(m, 0xfee000f0, 0x1ff);
	mu_mmio_write(m, 0xfee003e0, 0x0b);
	mu_mmio_write(m, 0xfee00320, 0x30040);         /* periodic, masked */
	m->cpu.cpl = 0;
	cpu_phys_write(&m->cpu, UT_CODE, loop_code, sizeof loop_code);
	m->cpu.rip = UT_CODE;
	real_on_event = m->cpu.on_event;
	m->cpu.on_event = spy_on_event;
	nevents = 0;
	/* The MOV (instruction 0) arms the timer for icount 7, 14, 21 ...; the
	 * blocks of the loop are 4 instructions long, so every event falls in
	 * the middle of one: the run loop must cut blocks at the deadline. */
	CU_ASSERT_EQUAL(machine_run(m, 30), CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(m->lapic.timer_start, 0);
	CU_ASSERT_EQUAL_FATAL(nevents, 4);
	CU_ASSERT_EQUAL(event_at[0], 7);
	CU_ASSERT_EQUAL(event_at[1], 14);
	CU_ASSERT_EQUAL(event_at[2], 21);
	CU_ASSERT_EQUAL(event_at[3], 28);
	/* Same inputs, same run. */
	uint64_t f = run_fingerprint();
	CU_ASSERT_EQUAL(f, run_fingerprint());
	CU_ASSERT_NOT_EQUAL(f, 0);
}

/* Guest garbage: random port and MMIO accesses of every width to every
 * device, with virtual time moving on, must never crash nestlab (run under
 * ASan/UBSan too).  A fixed xorshift seed keeps it reproducible. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_device_garbage(void)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42,
					  0x43, 0x61, 0x70, 0x71, 0x3f8, 0x3f9, 0x3fa, 0x3fb,
					  0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x510, 0x511, 0x60, 0x64,
					  0x3d4, 0x3d5, 0x3da, 0x3c2, 0x3cc, 0xe9 };
	struct machine *m = mu_machine(NULL, -1);
	for (int k = 0; k < 200000; k++) {
		uint64_t r = next_rand();
		int size = 1 << (r & 3);
		if (size == 8)
			size = 4;
		uint32_t v = (uint32_t)(r >> 32);
		switch ((r >> 2) & 7) {
		case 0: case 1:
			mu_out(m, ports[(r >> 8) % (sizeof ports / sizeof ports[0])], size, v);
			break;
		case 2:
			(void)mu_in(m, ports[(r >> 8) % (sizeof ports / sizeof ports[0])], size);
			break;
		case 3:
			m->cpu.mmio_write(&m->cpu, 0xfee00000ull + ((r >> 8) & 0xfff), size, v);
			break;
		case 4:
			(void)m->cpu.mmio_read(&m->cpu, 0xfee00000ull + ((r >> 8) & 0xfff), size);
			break;
		case 5:
			m->cpu.mmio_write(&m->cpu, 0xfec00000ull + ((r >> 8) & 0x4c), size, v);
			break;
		case 6:
			machine_set_irq(m, (int)((r >> 8) & 15), (r >> 12) & 1);
			break;
		default:
			mu_advance(m, m->cpu.icount + ((r >> 8) & 0x3fff));
			if (mu_intr(m))
				(void)mu_ack(m);
			break;
		}
	}
	CU_PASS("no crash");
	CU_ASSERT(m->cpu.icount > 0);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "creation limits", test_create_limits },
		{ "port bus, debug exit", test_port_bus },
		{ "debug console 0xE9", test_debugcon },
		{ "fw_cfg", test_fw_cfg },
		{ "8042, 0x92, 0xCF9", test_kbc_and_reset },
		{ "VGA text and CRTC", test_vga },
		{ "firmware tables", test_firmware_tables },
		{ "events at exact instructions", test_exact_events },
		{ "device garbage", test_device_garbage },
		{ NULL, NULL },
	};
	return ut_main("machine", cases);
}
