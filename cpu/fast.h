/*
 * fast.h - specialised handlers for hot forms (see fast.c).
 */
#ifndef NESTLAB_FAST_H
#define NESTLAB_FAST_H

#include "insn.h"

/* A narrower handler doing exactly what i->op's handler does for this
 * record, or NULL.  `i` must already be prepared by dcache.c. */
insn_handler_fn fast_handler(const struct insn *i);

#endif
