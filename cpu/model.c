/*
 * model.c - the CPU models (model.h): what CPUID answers for `novt`, `vmx`
 * and `svm`.
 *
 * Rule: CPUID claims only what Nestlab implements.  After the instruction
 * core (issue 2) that is: long mode (LM), CMOV, CMPXCHG8B (CX8),
 * CMPXCHG16B (CX16), TSC and RDTSCP, POPCNT, LZCNT, MOVBE, LAHF/SAHF in
 * 64-bit mode, NX and SYSCALL.  System mode (issue 3) adds PSE, PSE-36,
 * PAE, PGE, 1 GiB pages, PAT, MSR, CLFLUSH and FXSR, and the machine's
 * local APIC adds APIC and x2APIC (not the TSC-deadline timer), and the
 * MMX/SSE work (issue 16) adds MMX.  Deliberately absent until they run:
 * the x87 FPU bit and SSE/SSE2 (their moves and integer forms execute, the
 * floating-point arithmetic does not yet), BMI1 (it would promise ANDN,
 * BEXTR ... and not only TZCNT), MTRR.  MCE and MCA are claimed: the banks
 * exist and stay empty (mce.c).
 * `vmx` adds VT-x (vmx/, which sets CPUID.1:ECX.VMX through cpu/virt.h);
 * `svm` differs from `novt` only in vendor and brand until AMD-V lands.
 *
 * Leaves (SDM Vol. 2 CPUID, AMD APM Vol. 3 Appendix E):
 *
 *   0           max basic leaf (Intel 16h, AMD 1), vendor string in EBX EDX ECX
 *   1           family/model/stepping in EAX, feature bits in ECX and EDX
 *   7.0         structured extended features (Intel): SMEP, SMAP, UMIP
 *   15h         TSC / crystal ratio (Intel): 1/1 of a 1 GHz crystal
 *   16h         base, maximum and bus frequency (Intel): 1000 MHz each
 *   80000000    max extended leaf (80000008); AMD repeats the vendor
 *   80000001    extended features (LM, NX, SYSCALL, RDTSCP, LAHF, LZCNT)
 *   80000002-4  brand string, 48 bytes, "Nestlab virtual CPU (novt)" ...
 *   80000005-7  cache / power-management data: none (all zero)
 *   80000008    address sizes: 48-bit linear, 40-bit physical
 *
 * A leaf above the maximum (basic or extended) returns the data of the
 * highest basic leaf, as Intel documents ("If a value entered for CPUID.EAX
 * is higher than the maximum input value for basic or extended function
 * for that processor then the data for the highest basic information leaf
 * is returned").  QEMU does the same for every vendor, and so do we.  A
 * leaf inside the range that the table does not list returns zeros.
 */
#include <string.h>

#include "model.h"

#include "arch/svm.h"

/* Leaf 1 EDX, ECX */
#define F1D_DE     (1u << 2)     /* debugging extensions: CR4.DE, I/O breakpoints (debug.c) */
#define F1D_PSE    (1u << 3)     /* 4 MiB pages, CR4.PSE (paging.c) */
#define F1D_TSC    (1u << 4)
#define F1D_MSR    (1u << 5)     /* RDMSR/WRMSR (msr.c) */
#define F1D_PAE    (1u << 6)     /* PAE paging (paging.c) */
#define F1D_MCE    (1u << 7)     /* machine-check exception, CR4.MCE (mce.c) */
#define F1D_CX8    (1u << 8)
#define F1D_APIC   (1u << 9)     /* local APIC (machine: cpu/dev/lapic.c) */
#define F1D_SEP    (1u << 11)    /* SYSENTER/SYSEXIT (syscall.c) */
#define F1D_PGE    (1u << 13)    /* global pages, CR4.PGE (mem.c) */
#define F1D_MCA    (1u << 14)    /* machine-check architecture: MCG_CAP, banks (mce.c) */
#define F1D_CMOV   (1u << 15)
#define F1D_PAT    (1u << 16)    /* IA32_PAT MSR (msr.c; types not modelled) */
#define F1D_PSE36  (1u << 17)    /* 4 MiB pages above 4 GiB (paging.c) */
#define F1D_CLFSH  (1u << 19)    /* CLFLUSH (cr.c); line size in leaf 1 EBX */
#define F1D_MMX    (1u << 23)    /* MMX (sse_int.c, sse_move.c, sse_shuf.c) */
#define F1D_FXSR   (1u << 24)    /* FXSAVE/FXRSTOR, CR4.OSFXSR (fxsave.c) */
#define F1B_CLFLUSH_8 (8u << 8)  /* EBX[15:8]: CLFLUSH line = 8 quadwords */
#define F1C_CX16   (1u << 13)
#define F1C_MOVBE  (1u << 22)
#define F1C_POPCNT (1u << 23)
#define F1C_X2APIC (1u << 21)    /* x2APIC MSRs (lapic.c via msr_hook; msr.c lets EXTD be set) */
/* Leaf 80000001h EDX, ECX */
#define F81D_SYSCALL (1u << 11)
#define F81D_NX      (1u << 20)
#define F81D_PG1G    (1u << 26)   /* 1 GiB pages (paging.c) */
#define F81D_RDTSCP  (1u << 27)
#define F81D_LM      (1u << 29)
#define F81C_LAHF    (1u << 0)
#define F81C_LZCNT   (1u << 5)    /* Intel: LZCNT; AMD: ABM (LZCNT + POPCNT) */

#define LEAF1_EDX (F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE | F1D_MCE | F1D_CX8 | \
		   F1D_APIC | F1D_SEP | F1D_PGE | F1D_MCA | F1D_CMOV | F1D_PAT | F1D_PSE36 | \
		   F1D_CLFSH | F1D_MMX | F1D_FXSR)
#define LEAF1_EBX F1B_CLFLUSH_8
#define LEAF1_ECX (F1C_CX16 | F1C_X2APIC | F1C_MOVBE | F1C_POPCNT)
#define EXT1_EDX  (F81D_SYSCALL | F81D_NX | F81D_PG1G | F81D_RDTSCP | F81D_LM)
/* AMD repeats leaf 1 EDX bits 0-9, 12-17, 23 and 24 in 80000001h EDX (APM
 * Vol. 3 E.4.2); the other positions mean other things there. */
#define AMD_EXT1_MIRROR 0x0183f3ffu
#define EXT1_ECX  (F81C_LAHF | F81C_LZCNT)

/* Leaf 7 subleaf 0 EBX, ECX */
#define F7B_SMEP   (1u << 7)     /* CR4.SMEP: no supervisor fetch from user pages (paging.c) */
#define F7B_SMAP   (1u << 20)    /* CR4.SMAP, CLAC/STAC (paging.c, system.c) */
#define F7C_UMIP   (1u << 2)     /* CR4.UMIP: SGDT SIDT SLDT SMSW STR #GP at CPL > 0 (desc.c, cr.c) */
#define LEAF7_EBX (F7B_SMEP | F7B_SMAP)
#define LEAF7_ECX F7C_UMIP

/* Time (SDM Vol. 2 CPUID leaves 15h, 16h): virtual time is one instruction
 * per nanosecond, so the TSC and the local APIC timer's clock both run at
 * 1 GHz.  Leaf 15h says so as a 1 GHz crystal with a TSC ratio of 1/1
 * (Linux then takes both the TSC and the APIC timer rate from it without
 * calibrating); leaf 16h gives the same in MHz. */
#define CRYSTAL_HZ 1000000000u
#define TSC_MHZ    1000u

/* Four ASCII characters as the little-endian register value CPUID gives. */
#define S4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* "GenuineIntel" and "AuthenticAMD", split EBX, EDX, ECX. */
#define INTEL_EBX S4('G', 'e', 'n', 'u')
#define INTEL_EDX S4('i', 'n', 'e', 'I')
#define INTEL_ECX S4('n', 't', 'e', 'l')
#define AMD_EBX   S4('A', 'u', 't', 'h')
#define AMD_EDX   S4('e', 'n', 't', 'i')
#define AMD_ECX   S4('c', 'A', 'M', 'D')

/* Signatures: Intel family 6 model 0Fh stepping 1; AMD family 17h
 * (base 0Fh + extended 08h) model 01h stepping 1 (SDM Figure 3-6). */
#define INTEL_SIG 0x000006f1u
#define AMD_SIG   0x00800f11u

/* The brand-string leaves are not in the tables: brand_leaf() builds them
 * from the model's name. */
static const struct cpuid_leaf intel_leaves[] = {
	{ 0x00000000u, 0, false, 0x16, INTEL_EBX, INTEL_ECX, INTEL_EDX },
	{ 0x00000001u, 0, false, INTEL_SIG, LEAF1_EBX, LEAF1_ECX, LEAF1_EDX },
	{ 0x00000007u, 0, true, 0, LEAF7_EBX, LEAF7_ECX, 0 },
	{ 0x00000015u, 0, false, 1, 1, CRYSTAL_HZ, 0 },
	{ 0x00000016u, 0, false, TSC_MHZ, TSC_MHZ, TSC_MHZ, 0 },
	{ 0x80000000u, 0, false, 0x80000008u, 0, 0, 0 },
	{ 0x80000001u, 0, false, 0, 0, EXT1_ECX, EXT1_EDX },
	{ 0x80000008u, 0, false, 0x00003028u, 0, 0, 0 },
};

/* AMD mirrors leaf 1's EDX bits 0-17 in 80000001h EDX (APM Vol. 3 E.4.2). */
static const struct cpuid_leaf amd_leaves[] = {
	{ 0x00000000u, 0, false, 1, AMD_EBX, AMD_ECX, AMD_EDX },
	{ 0x00000001u, 0, false, AMD_SIG, LEAF1_EBX, LEAF1_ECX, LEAF1_EDX },
	{ 0x80000000u, 0, false, 0x8000000au, AMD_EBX, AMD_ECX, AMD_EDX },
	{ 0x80000001u, 0, false, AMD_SIG, 0, EXT1_ECX, EXT1_EDX | (LEAF1_EDX & AMD_EXT1_MIRROR) },
	{ 0x80000008u, 0, false, 0x00003028u, 0, 0, 0 },
};

#define NLEAVES(a) (sizeof(a) / sizeof((a)[0]))

/* `--cpu svm,-npt` ...: bits of CPUID 8000_000Ah EDX (include/arch/svm.h). */
static const struct cpu_switch svm_switches[] = {
	{ "npt", SVM_FEAT_NP, "nested paging" },
	{ "nrips", SVM_FEAT_NRIPS, "next RIP saved on #VMEXIT" },
	{ "decode", SVM_FEAT_DECODEASSIST, "decode assists" },
	{ "flushbyasid", SVM_FEAT_FLUSHBYASID, "TLB flush by ASID" },
	{ NULL, 0, NULL },
};

/* `--cpu vmx,-ept` ...: the VT-x model's VMXF_* bits (vmx/vmx.h). */
static const struct cpu_switch vmx_switches[] = {
	{ "ept", 1u << 0, "extended page tables (and so unrestricted guest)" },
	{ "vpid", 1u << 1, "virtual-processor identifiers" },
	{ "ug", 1u << 2, "unrestricted guest" },
	{ "timer", 1u << 3, "VMX-preemption timer" },
	{ "lock", 1u << 4, "IA32_FEATURE_CONTROL locked by firmware (off: left unlocked)" },
	{ NULL, 0, NULL },
};

/* has_vmx / has_svm: the VT-x (vmx/) and AMD-V (svm/) models add their
 * CPUID bits themselves (virt.h, ops->cpuid). */
static const struct cpu_model models[] = {
	{ "novt", "x86-64 without VMX or SVM (GenuineIntel)", false, false,
	  intel_leaves, NLEAVES(intel_leaves), NULL, 0 },
	{ "vmx", "GenuineIntel with VT-x: EPT, VPID, unrestricted guest, preemption timer", true, false,
	  intel_leaves, NLEAVES(intel_leaves), vmx_switches, 0 },
	{ "svm", "AuthenticAMD with AMD-V (NPT, NRIPS, decode assists)", false, true,
	  amd_leaves, NLEAVES(amd_leaves), svm_switches, 0 },
};

static const struct cpu_model *find_base(const char *name, size_t len)
{
	for (size_t k = 0; k < NLEAVES(models); k++)
		if (strlen(models[k].name) == len && strncmp(models[k].name, name, len) == 0)
			return &models[k];
	return NULL;
}

/* The bit of switch `name` (len bytes) in model m, 0 if none. */
static uint32_t switch_bit(const struct cpu_model *m, const char *name, size_t len)
{
	for (const struct cpu_switch *w = m->switches; w && w->name; w++)
		if (strlen(w->name) == len && strncmp(w->name, name, len) == 0)
			return w->bit;
	return 0;
}

const struct cpu_model *cpu_model_find(const char *name)
{
	/* A few variants live here at once (a run needs one; tests a few). */
	static struct cpu_model variants[8];
	static unsigned next;
	if (!name)
		return NULL;
	const char *comma = strchr(name, ',');
	const struct cpu_model *base = find_base(name, comma ? (size_t)(comma - name) : strlen(name));
	if (!base || !comma)
		return base;
	struct cpu_model v = *base;
	for (const char *p = comma; *p == ','; ) {
		const char *f = p + 1, *end = strchr(f, ',');
		size_t len = end ? (size_t)(end - f) : strlen(f);
		uint32_t bit = len > 1 && f[0] == '-' ? switch_bit(base, f + 1, len - 1) : 0;
		if (!bit)
			return NULL;
		v.off |= bit;
		p = f + len;
	}
	struct cpu_model *slot = &variants[next++ % NLEAVES(variants)];
	*slot = v;
	return slot;
}

const struct cpu_model *cpu_model_default(void)
{
	return &models[0];
}

/* Leaves 80000002h-80000004h: "Nestlab virtual CPU (<name>)", NUL-padded
 * to 48 bytes, 16 bytes per leaf in EAX EBX ECX EDX order. */
static void brand_leaf(const struct cpu_model *m, uint32_t leaf, uint32_t out[4])
{
	char brand[48];
	memset(brand, 0, sizeof brand);
	size_t n = strlen("Nestlab virtual CPU (");
	memcpy(brand, "Nestlab virtual CPU (", n);
	size_t len = strlen(m->name);
	if (len > 47 - n - 1)
		len = 47 - n - 1;
	memcpy(brand + n, m->name, len);
	brand[n + len] = ')';
	memcpy(out, brand + 16 * (leaf - 0x80000002u), 16);
}

static const struct cpuid_leaf *find_leaf(const struct cpu_model *m, uint32_t leaf,
					  uint32_t subleaf)
{
	for (size_t k = 0; k < m->nleaves; k++) {
		const struct cpuid_leaf *l = &m->leaves[k];
		if (l->leaf == leaf && (!l->indexed || l->subleaf == subleaf))
			return l;
	}
	return NULL;
}

static uint32_t max_leaf(const struct cpu_model *m, uint32_t base)
{
	const struct cpuid_leaf *l = find_leaf(m, base, 0);
	return l ? l->eax : 0;
}

void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf,
		     uint32_t out[4])
{
	if (!m)
		m = cpu_model_default();
	uint32_t max_basic = max_leaf(m, 0), max_ext = max_leaf(m, 0x80000000u);
	bool ext = leaf >= 0x80000000u;
	if ((!ext && leaf > max_basic) || (ext && leaf > max_ext))
		leaf = max_basic;
	memset(out, 0, 4 * sizeof out[0]);
	if (leaf >= 0x80000002u && leaf <= 0x80000004u) {
		brand_leaf(m, leaf, out);
		return;
	}
	const struct cpuid_leaf *l = find_leaf(m, leaf, subleaf);
	if (l) {
		out[0] = l->eax;
		out[1] = l->ebx;
		out[2] = l->ecx;
		out[3] = l->edx;
	}
}
