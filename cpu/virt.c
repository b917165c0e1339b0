/*
 * virt.c - which virtualization model a CPU model gets (virt.h), and the
 * names of the intercept events for messages and the UI.
 *
 * The models' ops tables are weak references: vmx/ and svm/ are built into
 * the same object library as cpu/, so a model that exists is found here
 * without cpu/ including any of its headers, and a tree without one still
 * links (the pointer is then NULL and the CPU model offers no extension).
 */
#include "model.h"
#include "virt.h"

const struct virt_ops *virt_ops_for(const struct cpu_model *m)
{
	if (!m)
		return NULL;
	if (m->has_vmx && &virt_ops_vmx != NULL)
		return &virt_ops_vmx;
	if (m->has_svm && &virt_ops_svm != NULL)
		return &virt_ops_svm;
	return NULL;
}

const char *virt_event_name(enum virt_event e)
{
	static const char *const names[] = {
#define X(n, s) s,
		VIRT_EVENTS(X)
#undef X
	};
	return (unsigned)e < VIRT_NEVENTS ? names[e] : "?";
}
