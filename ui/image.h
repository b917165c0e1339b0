/*
 * image.h - reading the image and module files of `nestlab run` (image.c):
 * regular files only, never more than guest RAM, and what kind of file it is
 * when it is not a kernel (an ISO, an ELF without a Multiboot header).
 */
#ifndef NESTLAB_UI_IMAGE_H
#define NESTLAB_UI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read the whole file `path` ("builtin:NAME" for an embedded image), which
 * must be a regular file of at most `limit` bytes; `what` ("image",
 * "module") names it in messages.  NULL with a message on stderr. */
uint8_t *image_read(const char *what, const char *path, uint64_t limit, size_t *len);

/* An ISO 9660 CD image (GRUB's nesthv.iso). */
bool image_is_iso(const uint8_t *data, size_t len);
/* Starts with the ELF magic. */
bool image_is_elf(const uint8_t *data, size_t len);

#endif
