/*
 * misc.c - the small fixed-function ports of the PC and of QEMU's board:
 *
 *   0xE9         debug console (Bochs/QEMU -debugcon): a byte written is
 *                printed; reading gives 0xE9, which is how guests detect it
 *   0xF4         debug exit, as QEMU's isa-debug-exit with iosize=4: a
 *                write of v (any width) ends the run.  QEMU then exits with
 *                status (v << 1) | 1; nestlab's status is v itself (see
 *                ui/main.c), so a test comparing the two compares v with
 *                (qemu_status - 1) / 2 (or wraps v to 8 bits on both sides)
 *   0x510/0x511  QEMU fw_cfg, the traditional (non-DMA) interface: write a
 *                16-bit key to 0x510, then read the item's bytes from 0x511
 *   0x60/0x64    the 8042 keyboard controller, only as far as kernels use it
 *                without a keyboard: status, command byte, self-test, the
 *                output port (A20 gate, reset line) and pulse-reset 0xFE
 *   0x92         system control port A: bit 1 A20 (always on), bit 0 reset
 *   0xCF9        reset control register: writing bit 2 with bit 1 resets
 *   0x3C2/0x3CC  VGA miscellaneous output; 0x3D4/0x3D5 CRTC index/data
 *                (cursor position 0x0E/0x0F); 0x3DA input status 1 with the
 *                retrace bits following virtual time (a 60 Hz frame)
 *
 * A reset request ends the run (m->reset_requested), as QEMU's -no-reboot
 * does.
 */
#include "machine.h"

static void end_run(struct machine *m)
{
	m->cpu.stop_request = true;
	m->cpu.block_break = true;
}

/* ---- 0xE9, 0xF4 -------------------------------------------------------------------- */

static uint32_t debugcon_read(void *dev, uint16_t port, int size)
{
	(void)dev;
	(void)port;
	(void)size;
	return 0xe9;
}

static void debugcon_write(void *dev, uint16_t port, int size, uint32_t v)
{
	(void)port;
	(void)size;
	struct machine *m = dev;
	if (m->cfg.debugcon_out) {
		fputc((int)(v & 0xff), m->cfg.debugcon_out);
		if ((v & 0xff) == '\n')
			fflush(m->cfg.debugcon_out);
	}
}

static void debug_exit_write(void *dev, uint16_t port, int size, uint32_t v)
{
	(void)port;
	(void)size;
	struct machine *m = dev;
	m->exited = true;
	m->exit_value = v;
	end_run(m);
}

/* ---- fw_cfg ------------------------------------------------------------------------ */

enum {
	FW_CFG_SIGNATURE = 0x00, FW_CFG_ID = 0x01, FW_CFG_UUID = 0x02,
	FW_CFG_RAM_SIZE = 0x03, FW_CFG_NOGRAPHIC = 0x04, FW_CFG_NB_CPUS = 0x05,
	FW_CFG_MAX_CPUS = 0x0f, FW_CFG_FILE_DIR = 0x19,
};

/* Byte `off` of item `key`; items are little-endian except the file
 * directory (big-endian count, here 0 files). */
static uint8_t fw_cfg_byte(const struct machine *m, uint16_t key, uint32_t off)
{
	uint64_t v;
	uint32_t len;
	switch (key) {
	case FW_CFG_SIGNATURE: return off < 4 ? (uint8_t)"QEMU"[off] : 0;
	case FW_CFG_ID:        v = 1; len = 4; break;      /* traditional interface only */
	case FW_CFG_RAM_SIZE:  v = m->cpu.ram_size; len = 8; break;
	case FW_CFG_NOGRAPHIC: v = 1; len = 2; break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:  v = (uint64_t)(m->cfg.ncpus > 0 ? m->cfg.ncpus : 1); len = 2; break;
	default:               return 0;                 /* UUID, FILE_DIR, unknown: zeros */
	}
	return off < len ? (uint8_t)(v >> (8 * off)) : 0;
}

static uint32_t fw_cfg_read(void *dev, uint16_t port, int size)
{
	struct machine *m = dev;
	if (port == 0x510)
		return 0xffffffffu;
	uint32_t v = 0;
	for (int k = 0; k < size; k++)      /* wider reads take successive bytes */
		v |= (uint32_t)fw_cfg_byte(m, m->fwcfg.key, m->fwcfg.offset++) << (8 * k);
	return v;
}

static void fw_cfg_write(void *dev, uint16_t port, int size, uint32_t v)
{
	(void)size;
	struct machine *m = dev;
	if (port == 0x510) {
		m->fwcfg.key = (uint16_t)v;
		m->fwcfg.offset = 0;
	}
	/* 0x511: writing items is not supported (QEMU ignores it too) */
}

/* ---- 8042 keyboard controller ------------------------------------------------------ */

static void kbc_reply(struct machine *m, uint8_t v)
{
	m->kbc.out = v;
	m->kbc.out_full = true;
}

static void kbc_output_port(struct machine *m, uint8_t v)
{
	m->kbc.output_port = v | 2;         /* A20 stays on: nestlab has no A20 mask */
	if (!(v & 1)) {                     /* reset line pulled low */
		m->reset_requested = true;
		m->reset_source = "the 8042 keyboard controller's output port (bit 0 cleared "
				  "by command 0xD1 to port 0x64)";
		end_run(m);
	}
}

static uint32_t kbc_read(void *dev, uint16_t port, int size)
{
	(void)size;
	struct machine *m = dev;
	if (port == 0x64)                   /* status: system flag, unlocked, OBF */
		return 0x14u | (m->kbc.command ? 0x08u : 0) | (m->kbc.out_full ? 0x01u : 0);
	m->kbc.out_full = false;
	return m->kbc.out;
}

static void kbc_write(void *dev, uint16_t port, int size, uint32_t val)
{
	(void)size;
	struct machine *m = dev;
	uint8_t v = (uint8_t)val;
	if (port == 0x60) {
		uint8_t cmd = m->kbc.command;
		m->kbc.command = 0;
		if (cmd == 0x60)
			m->kbc.config = v;
		else if (cmd == 0xd1)
			kbc_output_port(m, v);
		/* bytes for the keyboard itself: there is none to answer */
		return;
	}
	switch (v) {
	case 0x20: kbc_reply(m, m->kbc.config); break;
	case 0x60: case 0xd1: m->kbc.command = v; break;
	case 0xaa: kbc_reply(m, 0x55); break;       /* self-test passed */
	case 0xab: kbc_reply(m, 0x00); break;       /* interface test passed */
	case 0xd0: kbc_reply(m, m->kbc.output_port); break;
	case 0xdd: case 0xdf: break;                /* A20 off/on: it stays on */
	default:
		if ((v & 0xf0) == 0xf0 && !(v & 1)) {  /* pulse output bit 0: reset */
			m->reset_requested = true;
			m->reset_source = "the 8042 keyboard controller (command 0xFE to port 0x64)";
			end_run(m);
		}
		break;
	}
}

/* ---- port 0x92, 0xCF9 ------------------------------------------------------------- */

static uint32_t port92_read(void *dev, uint16_t port, int size)
{
	(void)dev;
	(void)port;
	(void)size;
	return 0x02;                        /* A20 enabled */
}

static void reset_write(void *dev, uint16_t port, int size, uint32_t v)
{
	(void)size;
	struct machine *m = dev;
	if ((port == 0x92 && (v & 1)) || (port == 0xcf9 && (v & 4))) {
		m->reset_requested = true;
		m->reset_source = port == 0x92 ? "port 0x92 (system control port A, bit 0)"
					       : "port 0xCF9 (reset control register, bit 2)";
		end_run(m);
	}
}

/* ---- VGA registers ----------------------------------------------------------------- */

static uint32_t vga_read(void *dev, uint16_t port, int size)
{
	(void)size;
	struct machine *m = dev;
	struct vga_text *g = &m->vga;
	switch (port) {
	case 0x3cc: return g->misc_output;
	case 0x3d4: return g->crtc_index;
	case 0x3d5: return g->crtc_index < 32 ? g->crtc[g->crtc_index] : 0xff;
	case 0x3da: {
		/* 60 Hz frames: vertical retrace (bit 3) in the last 1.4 ms of
		 * each; display disabled (bit 0) during retrace and at every
		 * line's end (31.5 kHz lines). */
		uint64_t t = machine_now(m) % 16666667ull;
		bool vr = t >= 16666667ull - 1400000ull;
		bool hblank = (machine_now(m) % 31746) >= 25000;
		return (vr ? 0x08u : 0) | (vr || hblank ? 0x01u : 0);
	}
	default: return 0xff;
	}
}

static void vga_write(void *dev, uint16_t port, int size, uint32_t v)
{
	struct machine *m = dev;
	struct vga_text *g = &m->vga;
	switch (port) {
	case 0x3c2: g->misc_output = (uint8_t)v; break;
	case 0x3d4:
		g->crtc_index = (uint8_t)v;
		if (size == 2) {                /* outw: index and data at once */
			if (g->crtc_index < 32)
				g->crtc[g->crtc_index] = (uint8_t)(v >> 8);
		}
		break;
	case 0x3d5:
		if (g->crtc_index < 32)
			g->crtc[g->crtc_index] = (uint8_t)v;
		break;
	default: break;
	}
}

void misc_attach(struct machine *m)
{
	m->kbc.config = 0x45;               /* translate, system flag, IRQ1 on */
	m->kbc.output_port = 0x03;          /* A20 on, not in reset */
	m->vga.misc_output = 0x67;          /* colour, 0x3Dx ports */
	m->vga.crtc[0x0a] = 0x0d;           /* cursor scan lines 13-14 */
	m->vga.crtc[0x0b] = 0x0e;
	machine_add_ports(m, 0xe9, 1, m, debugcon_read, debugcon_write);
	machine_add_ports(m, 0xf4, 1, m, NULL, debug_exit_write);
	machine_add_ports(m, 0x510, 2, m, fw_cfg_read, fw_cfg_write);
	machine_add_ports(m, 0x60, 1, m, kbc_read, kbc_write);
	machine_add_ports(m, 0x64, 1, m, kbc_read, kbc_write);
	machine_add_ports(m, 0x92, 1, m, port92_read, reset_write);
	machine_add_ports(m, 0xcf9, 1, m, NULL, reset_write);
	machine_add_ports(m, 0x3c2, 1, m, vga_read, vga_write);
	machine_add_ports(m, 0x3cc, 1, m, vga_read, vga_write);
	machine_add_ports(m, 0x3d4, 2, m, vga_read, vga_write);
	machine_add_ports(m, 0x3da, 1, m, vga_read, vga_write);
}
