/*
 * model.h - CPU models: what CPUID reports and which extensions exist.
 *
 * `--cpu novt` is an x86-64 without VMX or SVM (VMX/SVM instructions #UD),
 * `vmx` a GenuineIntel part with VT-x, `svm` an AuthenticAMD part with AMD-V.
 * CPUID answers come from the model's leaf table (model.c), and claim only
 * what Nestlab implements.
 */
#ifndef NESTLAB_MODEL_H
#define NESTLAB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpuid_leaf {
	uint32_t leaf;
	uint32_t subleaf;       /* matched only when `indexed` */
	bool indexed;
	uint32_t eax, ebx, ecx, edx;
};

/* A feature of the model's virtualization extension that `--cpu
 * MODEL,-NAME` switches off, so a student sees what the hypervisor does
 * without it.  `bit` is the extension's own feature bit (for svm: CPUID
 * 8000_000Ah EDX); the model (svm/, vmx/) reads cpu_model.off. */
struct cpu_switch {
	const char *name;
	uint32_t bit;
	const char *what;
};

struct cpu_model {
	const char *name;               /* "novt", "vmx", "svm" */
	const char *description;
	bool has_vmx;
	bool has_svm;
	const struct cpuid_leaf *leaves;
	size_t nleaves;
	const struct cpu_switch *switches;   /* NULL-terminated, or NULL */
	uint32_t off;                   /* switched-off feature bits */
};

/* Look a model up by name; NULL if there is none.  "NAME,-F1,-F2" gives the
 * model with the switches F1, F2 off (NULL if it has no such switch). */
const struct cpu_model *cpu_model_find(const char *name);
/* The default model (novt). */
const struct cpu_model *cpu_model_default(void);
/* CPUID as the model answers it (out-of-range leaves as the SDM says). */
void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf,
		     uint32_t out[4]);

#endif
