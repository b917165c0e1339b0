/*
 * names.h - exception names for nestlab's messages (names.c).
 */
#ifndef NESTLAB_UI_NAMES_H
#define NESTLAB_UI_NAMES_H

#include <stddef.h>

/* "#UD" for 6; NULL for a vector that is not an architectural exception. */
const char *ui_exc_mnemonic(int vector);
/* "#UD invalid opcode (vector 0x6)", or "vector 0x30" - written to buf. */
const char *ui_exc_describe(int vector, char *buf, size_t n);

#endif
