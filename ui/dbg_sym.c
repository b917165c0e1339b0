/*
 * dbg_sym.c - the ELF symbols of the image and of every Multiboot module.
 *
 * Each ELF file is one symbol space (dbg_int.h): space 0 is the image
 * (nesthv, which runs in the host), 1.. the modules (the guest kernel, which
 * runs in the guest under PV, VMX or SVM).  A symbol is an address in the
 * space where its code runs: the debugger looks up a RIP in the space of the
 * current world first, so guest and host code that share addresses still
 * get the right names.  Names are written "space:sym" ("guest:kmain");
 * without a space, the image's symbols are tried first, then the modules'.
 *
 * Every field of the file is checked against its size before it is read
 * (ELF-64 Object File Format 1.5; System V ABI 4.1 for ELF32): a file that
 * is not ELF or is truncated gives no symbols and a note, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "dbg_int.h"

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int k = n - 1; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

static bool in_file(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

static int by_addr(const void *a, const void *b)
{
	const struct dbg_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The ELF header fields we need, for ELF32 and ELF64 alike. */
struct elf_hdr {
	bool is64;
	uint64_t shoff, phoff;
	unsigned shentsize, shnum, phentsize, phnum;
};

static bool elf_header(const uint8_t *p, size_t len, struct elf_hdr *h)
{
	if (len < 52 || memcmp(p, "\x7f" "ELF", 4) != 0 || p[5] != 1)
		return false;
	h->is64 = p[4] == 2;
	if (h->is64 && len < 64)
		return false;
	h->phoff = h->is64 ? rd(p + 32, 8) : rd(p + 28, 4);
	h->shoff = h->is64 ? rd(p + 40, 8) : rd(p + 32, 4);
	h->phentsize = (unsigned)rd(p + (h->is64 ? 54 : 42), 2);
	h->phnum = (unsigned)rd(p + (h->is64 ? 56 : 44), 2);
	h->shentsize = (unsigned)rd(p + (h->is64 ? 58 : 46), 2);
	h->shnum = (unsigned)rd(p + (h->is64 ? 60 : 48), 2);
	return true;
}

/* The PT_LOAD range: where the file's code and data live when they run. */
static void load_range(const uint8_t *p, size_t len, const struct elf_hdr *h, struct dbg_space *s)
{
	s->lo = UINT64_MAX;
	s->hi = 0;
	for (unsigned k = 0; k < h->phnum; k++) {
		uint64_t off = h->phoff + (uint64_t)k * h->phentsize;
		if (!in_file(len, off, h->is64 ? 56 : 32) || rd(p + off, 4) != 1)
			continue;
		uint64_t va = h->is64 ? rd(p + off + 16, 8) : rd(p + off + 8, 4);
		uint64_t pa = h->is64 ? rd(p + off + 24, 8) : rd(p + off + 12, 4);
		uint64_t msz = h->is64 ? rd(p + off + 40, 8) : rd(p + off + 20, 4);
		if (s->lo == UINT64_MAX)
			s->phys_delta = (int64_t)(va - pa);
		if (va < s->lo)
			s->lo = va;
		if (va + msz > s->hi)
			s->hi = va + msz;
	}
	if (s->lo == UINT64_MAX)
		s->lo = 0;
}

/* Read SHT_SYMTAB (with its string table) into s; false if there is none. */
static bool read_symtab(const uint8_t *p, size_t len, const struct elf_hdr *h, struct dbg_space *s)
{
	unsigned shsz = h->is64 ? 64 : 40, esz = h->is64 ? 24 : 16;
	for (unsigned k = 0; k < h->shnum; k++) {
		uint64_t off = h->shoff + (uint64_t)k * h->shentsize;
		if (h->shentsize < shsz || !in_file(len, off, shsz) || rd(p + off + 4, 4) != 2)
			continue;
		uint64_t so = h->is64 ? rd(p + off + 24, 8) : rd(p + off + 16, 4);
		uint64_t ssz = h->is64 ? rd(p + off + 32, 8) : rd(p + off + 20, 4);
		unsigned link = (unsigned)rd(p + off + (h->is64 ? 40 : 24), 4);
		uint64_t loff = h->shoff + (uint64_t)link * h->shentsize;
		if (link >= h->shnum || !in_file(len, loff, shsz) || !in_file(len, so, ssz))
			return false;
		uint64_t to = h->is64 ? rd(p + loff + 24, 8) : rd(p + loff + 16, 4);
		uint64_t tsz = h->is64 ? rd(p + loff + 32, 8) : rd(p + loff + 20, 4);
		if (!in_file(len, to, tsz) || tsz == 0)
			return false;
		s->strtab = malloc(tsz + 1);
		s->syms = calloc(ssz / esz + 1, sizeof *s->syms);
		if (!s->strtab || !s->syms)
			return false;
		memcpy(s->strtab, p + to, tsz);
		s->strtab[tsz] = 0;
		for (uint64_t e = so; e + esz <= so + ssz; e += esz) {
			uint64_t name = rd(p + e, 4);
			unsigned info = p[e + (h->is64 ? 4 : 12)];
			unsigned shndx = (unsigned)rd(p + e + (h->is64 ? 6 : 14), 2);
			uint64_t val = h->is64 ? rd(p + e + 8, 8) : rd(p + e + 4, 4);
			uint64_t size = h->is64 ? rd(p + e + 16, 8) : rd(p + e + 8, 4);
			unsigned type = info & 0xf;     /* NOTYPE 0, OBJECT 1, FUNC 2 */
			if (name == 0 || name >= tsz || type > 2 || shndx == 0 || shndx >= 0xff00 ||
			    s->strtab[name] == '.' || s->strtab[name] == '$')
				continue;
			s->syms[s->nsyms++] = (struct dbg_sym){ val, size, s->strtab + name, type == 2 };
		}
		qsort(s->syms, s->nsyms, sizeof *s->syms, by_addr);
		return true;
	}
	return false;
}

void dbg_add_image(struct dbg *d, const char *path, const uint8_t *data, size_t len)
{
	if (d->nspaces >= DBG_MAX_SPACES)
		return;
	struct dbg_space *s = &d->space[d->nspaces];
	memset(s, 0, sizeof *s);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : strchr(path, ':') ? strchr(path, ':') + 1 : path;
	size_t n = strcspn(base, ". ");
	if (n >= sizeof s->name)
		n = sizeof s->name - 1;
	memcpy(s->name, base, n);
	struct elf_hdr h;
	if (!elf_header(data, len, &h)) {
		dbg_printf(d, "note: '%s' is not an ELF file: no symbols for it\n", path);
	} else {
		load_range(data, len, &h, s);
		if (!read_symtab(data, len, &h, s))
			dbg_printf(d, "note: '%s' has no symbol table\n", path);
	}
	d->nspaces++;
}

void dbg_sym_free(struct dbg *d)
{
	for (int k = 0; k < d->nspaces; k++) {
		free(d->space[k].syms);
		free(d->space[k].strtab);
	}
	d->nspaces = 0;
}

/* The symbol covering addr in space s (NULL if none): the last symbol at or
 * below addr, if addr is within its size (or, sizeless, within the space). */
static const struct dbg_sym *covering(const struct dbg_space *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nsyms;
	if (addr < s->lo || addr >= s->hi)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct dbg_sym *y = &s->syms[lo - 1];
	/* among aliases, prefer a function, then a sized symbol */
	for (size_t k = lo - 1; k > 0 && s->syms[k - 1].addr == y->addr; k--) {
		const struct dbg_sym *z = &s->syms[k - 1];
		if (z->func > y->func || (z->func == y->func && z->size > y->size))
			y = z;
	}
	if (y->size && addr - y->addr >= y->size)
		return NULL;
	return y;
}

const char *dbg_sym_name(const struct dbg *d, uint64_t addr, int prefer, char *buf, size_t len)
{
	buf[0] = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < d->nspaces; k++) {
			if ((pass == 0) != (k == prefer))
				continue;
			const struct dbg_space *s = &d->space[k];
			uint64_t a = addr;
			/* The host image before paging runs at its load (physical)
			 * addresses: nesthv's 32-bit boot code.  Only then: with
			 * paging on, such an address is someone else's (the guest's). */
			if (k == 0 && (addr < s->lo || addr >= s->hi) && s->phys_delta &&
			    !(d->m->cpu.cr0 & (1ull << 31)))
				a = addr + (uint64_t)s->phys_delta;
			const struct dbg_sym *y = covering(s, a);
			if (!y)
				continue;
			const char *pfx = k == 0 ? "" : s->name;
			if (a == y->addr)
				snprintf(buf, len, "%s%s%s", pfx, *pfx ? ":" : "", y->name);
			else
				snprintf(buf, len, "%s%s%s+%#llx", pfx, *pfx ? ":" : "", y->name,
					 (unsigned long long)(a - y->addr));
			return buf;
		}
	}
	return buf;
}

bool dbg_sym_lookup(const struct dbg *d, const char *name, uint64_t *addr, int *space)
{
	const char *colon = strchr(name, ':');
	int only = -1;
	if (colon) {
		for (int k = 0; k < d->nspaces; k++)
			if ((size_t)(colon - name) == strlen(d->space[k].name) &&
			    strncmp(name, d->space[k].name, (size_t)(colon - name)) == 0)
				only = k;
		if (only < 0 && strncmp(name, "host:", 5) == 0)
			only = 0;
		if (only < 0 && strncmp(name, "guest:", 6) == 0 && d->nspaces > 1)
			only = 1;
		if (only < 0)
			return false;
		name = colon + 1;
	}
	for (int k = 0; k < d->nspaces; k++) {
		if (only >= 0 && k != only)
			continue;
		const struct dbg_space *s = &d->space[k];
		for (size_t j = 0; j < s->nsyms; j++)
			if (strcmp(s->syms[j].name, name) == 0) {
				*addr = s->syms[j].addr;
				*space = k;
				return true;
			}
	}
	return false;
}
