/*
 * absent.c - instructions of features the CPU models do not offer.
 *
 * Each of these belongs to a CPUID feature that no Nestlab model reports
 * (model.c), or to a processor mode Nestlab does not have.  A real CPU
 * without the feature raises #UD for them, and so does Nestlab: that is the
 * architectural behaviour, not a placeholder.  When a model gains the
 * feature, its handler moves to the file of its class and leaves this one.
 *
 *   SMX (CPUID.1:ECX[6])        GETSEC
 *   MONITOR (CPUID.1:ECX[3])    MONITOR, MWAIT
 *   FSGSBASE (CPUID.7:EBX[0])   RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE
 *   RDRAND / RDSEED             RDRAND, RDSEED
 *   XSAVE (CPUID.1:ECX[26])     XGETBV, XSETBV
 *   SMM                         RSM (#UD outside system-management mode)
 *
 * RDPMC is different: it exists on every x86-64, but Nestlab has no
 * performance-monitoring counters (CPUID leaf 0Ah is zero), so every ECX
 * names an invalid counter: #GP(0) (SDM Vol. 2 RDPMC).
 */
#include "cpu.h"
#include "insn.h"
#include "virt.h"

#define ABSENT(name) \
	void op_##name(struct cpu *c, const struct insn *i) { (void)i; cpu_ud(c); }
ABSENT(getsec)
ABSENT(monitor)
ABSENT(mwait)
ABSENT(rdfsbase_Ry)
ABSENT(rdgsbase_Ry)
ABSENT(wrfsbase_Ry)
ABSENT(wrgsbase_Ry)
ABSENT(rdrand_Rv)
ABSENT(rdseed_Rv)
ABSENT(xgetbv)
ABSENT(xsetbv)
ABSENT(rsm)
#undef ABSENT

void op_rdpmc(struct cpu *c, const struct insn *i)
{
	virt_hook(c, RDPMC, i, 0);   /* RDPMC exiting comes before the counter check (SDM Vol. 3 26.1.1) */
	cpu_gp0(c);
}
