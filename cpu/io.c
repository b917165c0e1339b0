/*
 * io.c - IN and OUT: the processor's side of the I/O port space.
 *
 * Ports are a separate 64 KiB address space reached only by IN/OUT and
 * INS/OUTS, all through cpu_io_allow() (protection, then the VMX/SVM
 * intercept) before they touch the bus.  The machine (devices, or for now the `nestlab` command's debug
 * ports 0xE9 and 0xF4) plugs handlers into c->io_read / c->io_write; with
 * none, reads give all ones and writes are dropped, as an empty ISA bus does.
 *
 * Protection (SDM Vol. 1 19.5): in protected mode, with CPL > IOPL (and
 * always in virtual-8086 mode), an access is allowed only if the TSS I/O
 * permission bitmap clears every bit of the ports it touches.  The bitmap
 * starts at the 16-bit offset stored at TSS+66h; bits beyond the TSS limit
 * count as set (#GP(0)), and a 16-bit TSS has no bitmap at all.
 *
 *   TSS + iomap_base + port/8:  [7 ... 0][15 ... 8]   bit (port & 7) first
 *
 *   E4 ib  IN AL, imm8      EC  IN AL, DX       (E5/ED: AX or EAX by 66)
 *   E6 ib  OUT imm8, AL     EE  OUT DX, AL      (E7/EF: AX or EAX by 66)
 */
#include "arch.h"
#include "debug.h"
#include "flags.h"
#include "seg.h"
#include "virt.h"

/* The bitmap check: every bit for port..port+size-1 must be clear.  Two
 * bytes are always read, as the CPU does (SDM Vol. 1 19.5.2), so a bitmap
 * needs its last byte inside the limit; the TSS reads are implicit
 * supervisor accesses. */
static void io_bitmap_check(struct cpu *c, uint16_t port, int size)
{
	unsigned type = c->tr.attr & SEG_ATTR_TYPE;
	if (!(c->tr.attr & SEG_ATTR_P) || (type != 9 && type != 11) || c->tr.limit < 0x67)
		cpu_gp0(c);
	uint64_t base = c->tr.base;
	if (!(c->efer & EFER_LMA))
		base = (uint32_t)base;
	uint32_t off = (uint32_t)sys_read(c, base + 0x66, 2) + port / 8u;
	if (off + 1 > c->tr.limit)
		cpu_gp0(c);
	uint32_t bits = (uint32_t)sys_read(c, base + off, 2);
	if (bits & (((1u << size) - 1) << (port & 7)))
		cpu_gp0(c);
}

/* The one path of every port access (IN, OUT, INS, OUTS), in the order
 * the manuals give: the protection check first (#GP(0) has priority over
 * a VM exit, SDM Vol. 3 26.1.1; APM Vol. 2 15.10.2), then the VMX/SVM I/O
 * intercept, and only then (the caller) memory and the bus. */
void cpu_io_allow(struct cpu *c, const struct virt_io *io)
{
	if (c->cr0 & CR0_PE) {
		int iopl = (int)((c->rflags & FLAG_IOPL) >> 12);
		if (c->cpl > iopl || (c->rflags & FLAG_VM))
			io_bitmap_check(c, io->port, io->size);
	}
	virt_hook(c, IO, NULL, (uint64_t)(uintptr_t)io);
	if (unlikely(c->dbg_active & DBG_IO))
		dbg_io_access(c, io->port, io->size);    /* I/O breakpoints (debug.c) */
}

uint64_t cpu_io_read(struct cpu *c, uint16_t port, int size)
{
	if (!c->io_read)
		return size_mask(size);
	return c->io_read(c->io_opaque, port, size) & size_mask(size);
}

void cpu_io_write(struct cpu *c, uint16_t port, int size, uint64_t v)
{
	if (c->io_write)
		c->io_write(c->io_opaque, port, size, (uint32_t)(v & size_mask(size)));
}

/* IN/OUT move 1, 2 or 4 bytes: 64-bit operand size does not exist for them. */
static int io_size(const struct insn *i)
{
	return i->osize == 8 ? 4 : i->osize;
}

/* A 32-bit IN zero-extends into RAX like any 32-bit register write. */
static void in_to_rax(struct cpu *c, uint16_t port, int size, bool imm)
{
	struct virt_io io = { .port = port, .size = (uint8_t)size, .in = true, .imm = imm };
	cpu_io_allow(c, &io);
	reg_write(c, R_RAX, size, cpu_io_read(c, port, size));
}

static void out_from_rax(struct cpu *c, uint16_t port, int size, bool imm)
{
	struct virt_io io = { .port = port, .size = (uint8_t)size, .imm = imm };
	cpu_io_allow(c, &io);
	cpu_io_write(c, port, size, c->gpr[R_RAX]);
}

void op_in_AL_Ib(struct cpu *c, const struct insn *i)
{
	in_to_rax(c, (uint16_t)(i->imm & 0xff), 1, true);
}

void op_in_eAX_Ib(struct cpu *c, const struct insn *i)
{
	in_to_rax(c, (uint16_t)(i->imm & 0xff), io_size(i), true);
}

void op_in_AL_DX(struct cpu *c, const struct insn *i)
{
	(void)i;
	in_to_rax(c, (uint16_t)c->gpr[R_RDX], 1, false);
}

void op_in_eAX_DX(struct cpu *c, const struct insn *i)
{
	in_to_rax(c, (uint16_t)c->gpr[R_RDX], io_size(i), false);
}

void op_out_Ib_AL(struct cpu *c, const struct insn *i)
{
	out_from_rax(c, (uint16_t)(i->imm & 0xff), 1, true);
}

void op_out_Ib_eAX(struct cpu *c, const struct insn *i)
{
	out_from_rax(c, (uint16_t)(i->imm & 0xff), io_size(i), true);
}

void op_out_DX_AL(struct cpu *c, const struct insn *i)
{
	(void)i;
	out_from_rax(c, (uint16_t)c->gpr[R_RDX], 1, false);
}

void op_out_DX_eAX(struct cpu *c, const struct insn *i)
{
	out_from_rax(c, (uint16_t)c->gpr[R_RDX], io_size(i), false);
}
