/*
 * dbg_show.c - what the debugger prints about the machine: registers with
 * RFLAGS, CR0, CR4 and EFER decoded bit by bit, memory (x/FMT), the page
 * walk of a linear address level by level, and disassembly (Capstone,
 * Intel syntax) with symbols and breakpoints marked.
 *
 * Memory is read as the CPU would see it now: linear addresses through the
 * current CR3 with paging_walk() in probe mode (no A/D bits set, no fault
 * raised), physical addresses only inside RAM (a debugger must not read a
 * device register: reads can have side effects).
 */
#include <string.h>
#ifdef NESTLAB_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

#include "arch.h"
#include "dbg_int.h"
#include "mem.h"
#include "paging.h"

bool dbg_lin_to_phys(struct dbg *d, uint64_t addr, uint64_t *pa)
{
	struct cpu *c = &d->m->cpu;
	if (!(c->cr0 & CR0_PG)) {
		*pa = addr;             /* no paging: linear addresses are 32 bits */
		return addr <= 0xffffffffull;
	}
	struct pg_walk w;
	if (!paging_walk(c, addr, ACC_READ, false, true, &w))
		return false;
	*pa = w.pa;
	return true;
}

size_t dbg_read_lin(struct dbg *d, uint64_t addr, void *buf, size_t n)
{
	struct cpu *c = &d->m->cpu;
	size_t done = 0;
	while (done < n) {
		uint64_t a = addr + done, pa;
		size_t chunk = 4096 - (a & 0xfff);
		if (chunk > n - done)
			chunk = n - done;
		if (!dbg_lin_to_phys(d, a, &pa) || pa >= c->ram_size || c->ram_size - pa < chunk)
			break;
		memcpy((uint8_t *)buf + done, c->ram + pa, chunk);
		done += chunk;
	}
	return done;
}

/* ---- registers -------------------------------------------------------------------- */

static void bits(char *buf, size_t len, uint64_t v, const char *const names[64])
{
	size_t n = 0;
	buf[0] = 0;
	for (int k = 0; k < 64 && n + 8 < len; k++)
		if (names[k] && (v >> k & 1))
			n += (size_t)snprintf(buf + n, len - n, " %s", names[k]);
}

static const char *const rflags_names[64] = {
	[0] = "CF", [2] = "PF", [4] = "AF", [6] = "ZF", [7] = "SF", [8] = "TF", [9] = "IF",
	[10] = "DF", [11] = "OF", [14] = "NT", [16] = "RF", [17] = "VM", [18] = "AC",
	[19] = "VIF", [20] = "VIP", [21] = "ID",
};
static const char *const cr0_names[64] = {
	[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET", [5] = "NE", [16] = "WP",
	[18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG",
};
static const char *const cr4_names[64] = {
	[0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE", [5] = "PAE", [6] = "MCE",
	[7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT", [11] = "UMIP",
	[13] = "VMXE", [14] = "SMXE", [16] = "FSGSBASE", [17] = "PCIDE", [18] = "OSXSAVE",
	[20] = "SMEP", [21] = "SMAP",
};
static const char *const efer_names[64] = {
	[0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE", [12] = "SVME",
};

const char *dbg_bits_text(enum dbg_bits which, uint64_t v, char *buf, size_t len)
{
	static const char *const *const tables[4] = { rflags_names, cr0_names, cr4_names, efer_names };
	bits(buf, len, v, tables[which]);
	return buf;
}

void dbg_show_regs(struct dbg *d)
{
	static const char *const gpr[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	static const char *const segn[6] = { "es", "cs", "ss", "ds", "fs", "gs" };
	struct cpu *c = &d->m->cpu;
	char b[160], s[96];
	for (int k = 0; k < 16; k++)
		dbg_printf(d, "%-3s 0x%016llx%s", gpr[k], (unsigned long long)c->gpr[k],
			   k % 4 == 3 ? "\n" : "  ");
	dbg_addr_name(d, c->rip, s, sizeof s);
	dbg_printf(d, "rip 0x%016llx%s%s%s\n", (unsigned long long)c->rip, s[0] ? " <" : "", s,
		   s[0] ? ">" : "");
	uint64_t f = cpu_get_rflags(c);
	bits(b, sizeof b, f, rflags_names);
	dbg_printf(d, "rflags %#llx [%s ] IOPL=%d\n", (unsigned long long)f, b, (int)(f >> 12 & 3));
	for (int k = 0; k < 6; k++)
		dbg_printf(d, "%s 0x%04x%s", segn[k], c->seg[k].sel, k == 5 ? "" : "  ");
	dbg_printf(d, "   fs.base %#llx  gs.base %#llx\n", (unsigned long long)c->seg[SEG_FS].base,
		   (unsigned long long)c->seg[SEG_GS].base);
	bits(b, sizeof b, c->cr0, cr0_names);
	dbg_printf(d, "cr0 %#llx [%s ]  cr2 %#llx  cr3 %#llx\n", (unsigned long long)c->cr0, b,
		   (unsigned long long)c->cr2, (unsigned long long)c->cr3);
	bits(b, sizeof b, c->cr4, cr4_names);
	dbg_printf(d, "cr4 %#llx [%s ]", (unsigned long long)c->cr4, b);
	bits(b, sizeof b, c->efer, efer_names);
	dbg_printf(d, "  efer %#llx [%s ]\n", (unsigned long long)c->efer, b);
	static const char *const modes[3] = { "16-bit", "32-bit", "64-bit" };
	dbg_printf(d, "cpl %d  %s code  gdtr %#llx/%#x  idtr %#llx/%#x  tr 0x%04x\n", c->cpl,
		   modes[c->mode], (unsigned long long)c->gdtr.base, c->gdtr.limit,
		   (unsigned long long)c->idtr.base, c->idtr.limit, c->tr.sel);
}

/* ---- the page walk ------------------------------------------------------------------ */

static void show_entry(struct dbg *d, const char *lvl, unsigned idx, uint64_t epa, uint64_t e)
{
	static const char *const en[64] = {
		[0] = "P", [1] = "RW", [2] = "US", [3] = "PWT", [4] = "PCD", [5] = "A", [6] = "D",
		[7] = "PS", [8] = "G", [63] = "XD",
	};
	char b[64];
	bits(b, sizeof b, e, en);
	dbg_printf(d, "  %-5s[%3u] at %#llx: 0x%016llx [%s ] -> %#llx\n", lvl, idx,
		   (unsigned long long)epa, (unsigned long long)e, b,
		   (unsigned long long)(e & PG_PHYS_MASK & ~0xfffull));
}

void dbg_show_walk(struct dbg *d, uint64_t addr)
{
	struct cpu *c = &d->m->cpu;
	enum pg_mode mode = paging_mode(c);
	if (mode == PG_NONE) {
		dbg_printf(d, "walk %#llx: paging is off (CR0.PG = 0): physical = linear = %#llx\n",
			   (unsigned long long)addr, (unsigned long long)(uint32_t)addr);
		return;
	}
	static const char *const names[3][4] = {
		{ "PDE", "PTE" }, { "PDPTE", "PDE", "PTE" }, { "PML4E", "PDPTE", "PDE", "PTE" },
	};
	static const char *const modename[3] = { "32-bit", "PAE", "4-level" };
	int m = mode - PG_32;
	struct pg_walk w;
	memset(&w, 0, sizeof w);
	bool ok = paging_walk(c, addr, ACC_READ, false, true, &w);
	dbg_printf(d, "walk %#llx: %s paging, CR3 = %#llx (SDM Vol. 3 4.%d)\n",
		   (unsigned long long)addr, modename[m], (unsigned long long)c->cr3,
		   mode == PG_32 ? 3 : mode == PG_PAE ? 4 : 5);
	int first = mode == PG_PAE ? 1 : 0;
	if (mode == PG_PAE) {
		unsigned i = (unsigned)(addr >> 30 & 3);
		show_entry(d, "PDPTE", i, c->cr3 + i * 8, c->pdpte[i]);
	}
	int nlv = mode == PG_32 ? 2 : mode == PG_PAE ? 3 : 4;
	for (int k = 0; k < w.levels && k < 4; k++) {
		int lv = first + k;
		if (lv >= nlv)
			break;
		int shift = mode == PG_32 ? 22 - 10 * lv : 39 - 9 * (lv + (mode == PG_PAE));
		unsigned idx = (unsigned)(addr >> shift) & (mode == PG_32 ? 0x3ff : 0x1ff);
		show_entry(d, names[m][lv], idx, w.entry_pa[k], w.entry[k]);
	}
	if (!ok) {
		dbg_printf(d, "  => no translation: a %s access would raise #PF, error code %#x%s\n",
			   "supervisor read", w.pfec, w.pfec & 1 ? " (rights or reserved bits)"
			   : " (an entry is not present)");
		return;
	}
	dbg_printf(d, "  => physical %#llx (%llu KiB page%s%s%s)\n", (unsigned long long)w.pa,
		   (unsigned long long)(w.size >> 10), w.user ? ", user" : ", supervisor",
		   w.write ? ", writable" : ", read-only", w.nx ? ", no-execute" : "");
	uint64_t hpa;
	char note[160];
	if (d->gpa_walk && d->gpa_walk(c, w.pa, &hpa, note, sizeof note))
		dbg_printf(d, "  => through EPT/NPT: host physical %#llx (%s)\n",
			   (unsigned long long)hpa, note);
}

/* ---- memory and disassembly ---------------------------------------------------------- */

#ifdef NESTLAB_HAVE_CAPSTONE
static csh cs_handle[3];
#endif

int dbg_disasm_one(struct dbg *d, uint64_t addr, char *buf, size_t len)
{
	struct cpu *c = &d->m->cpu;
	uint8_t code[16];
	size_t n = dbg_read_lin(d, addr, code, sizeof code);
	snprintf(buf, len, "(not mapped)");
	if (n == 0)
		return 0;
#ifndef NESTLAB_HAVE_CAPSTONE
	(void)c;
	snprintf(buf, len, "(bytes) %02x %02x %02x %02x", code[0], n > 1 ? code[1] : 0,
		 n > 2 ? code[2] : 0, n > 3 ? code[3] : 0);
	return 1;
#else
	static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	if (!cs_handle[c->mode] && cs_open(CS_ARCH_X86, modes[c->mode], &cs_handle[c->mode]) != CS_ERR_OK) {
		snprintf(buf, len, "(no disassembler)");
		return 0;
	}
	cs_insn *insn;
	size_t got = cs_disasm(cs_handle[c->mode], code, n, addr, 1, &insn);
	if (got == 0) {
		snprintf(buf, len, "(bad) %02x", code[0]);
		return 1;
	}
	snprintf(buf, len, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "", insn[0].op_str);
	int l = insn[0].size;
	cs_free(insn, got);
	return l;
#endif
}

void dbg_show_disasm(struct dbg *d, uint64_t addr, int n, uint64_t mark)
{
	for (int k = 0; k < n; k++) {
		char text[128], sym[96];
		int l = dbg_disasm_one(d, addr, text, sizeof text);
		dbg_addr_name(d, addr, sym, sizeof sym);
		dbg_printf(d, "%s%s%#llx%s%s%s:  %s\n", addr == mark ? "=>" : "  ",
			   dbg_bp_at(d, addr) ? "*" : " ", (unsigned long long)addr,
			   sym[0] ? " <" : "", sym, sym[0] ? ">" : "", text);
		if (l <= 0)
			break;
		addr += (uint64_t)l;
	}
}

void dbg_show_mem(struct dbg *d, uint64_t addr, int count, char fmt, int size)
{
	if (fmt == 'i') {
		dbg_show_disasm(d, addr, count, d->m->cpu.rip);
		return;
	}
	if (fmt == 's') {
		char s[256];
		size_t n = dbg_read_lin(d, addr, s, sizeof s - 1);
		s[n] = 0;
		if (n == 0) {
			dbg_printf(d, "error: cannot read %#llx: not mapped to RAM\n", (unsigned long long)addr);
			return;
		}
		dbg_printf(d, "%#llx: \"%.*s\"\n", (unsigned long long)addr, (int)strcspn(s, "\n"), s);
		return;
	}
	int per = 16 / size;
	for (int k = 0; k < count; k++) {
		uint64_t a = addr + (uint64_t)k * (uint64_t)size, v = 0;
		uint8_t b[8];
		if (dbg_read_lin(d, a, b, (size_t)size) < (size_t)size) {
			dbg_printf(d, "%serror: cannot read %#llx: not mapped to RAM\n", k % per ? "\n" : "",
				   (unsigned long long)a);
			return;
		}
		for (int j = size - 1; j >= 0; j--)
			v = v << 8 | b[j];
		if (k % per == 0)
			dbg_printf(d, "%#llx:", (unsigned long long)a);
		if (fmt == 'd')
			dbg_printf(d, " %lld", (long long)(size == 8 ? (int64_t)v : size == 4 ? (int32_t)v
					: size == 2 ? (int16_t)v : (int8_t)v));
		else if (fmt == 'u')
			dbg_printf(d, " %llu", (unsigned long long)v);
		else
			dbg_printf(d, " 0x%0*llx", size * 2, (unsigned long long)v);
		if (k % per == per - 1 || k == count - 1)
			dbg_printf(d, "\n");
	}
}
