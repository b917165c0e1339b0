/*
 * image.c - reading the files `nestlab run` is given (the image and its
 * modules) without trusting them.
 *
 * A file named on the command line may be anything: /dev/zero (endless),
 * a FIFO (blocks), a directory, a 4 GiB sparse file, the GRUB ISO the
 * README builds for lab servers, or a text file.  An image or a module can
 * never be larger than guest RAM, so the size is checked before a byte is
 * read, only regular files are read, and at most RAM + 1 bytes are ever
 * read (a file that grows meanwhile is still refused, not read without
 * end).  The "builtin:NAME" paths are the images embedded in the binary
 * (ui/builtin_images.S).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#ifdef NESTLAB_BUILTIN_IMAGES
extern const uint8_t builtin_nesthv_start[], builtin_nesthv_end[];
extern const uint8_t builtin_guest_start[], builtin_guest_end[];
#endif

/* The built-in images, by their "builtin:NAME" paths; NULL if unknown. */
static uint8_t *builtin(const char *path, size_t *len)
{
	const uint8_t *start = NULL, *end = NULL;
#ifdef NESTLAB_BUILTIN_IMAGES
	if (strcmp(path, "builtin:nesthv.elf") == 0) {
		start = builtin_nesthv_start;
		end = builtin_nesthv_end;
	} else if (strcmp(path, "builtin:guest.elf") == 0) {
		start = builtin_guest_start;
		end = builtin_guest_end;
	}
#endif
	if (!start) {
		fprintf(stderr, "nestlab: no built-in image '%s'\n", path);
		return NULL;
	}
	*len = (size_t)(end - start);
	uint8_t *copy = malloc(*len ? *len : 1);
	if (copy)
		memcpy(copy, start, *len);
	return copy;
}

/* Read up to `want` bytes; returns the count, or -1 on a read error. */
static long long read_upto(int fd, uint8_t *buf, size_t want)
{
	size_t n = 0;
	while (n < want) {
		ssize_t got = read(fd, buf + n, want - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	return (long long)n;
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ?
	       "a character device" : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ?
	       "a socket" : "not a regular file";
}

uint8_t *image_read(const char *what, const char *path, uint64_t limit, size_t *len)
{
	if (strncmp(path, "builtin:", 8) == 0)
		return builtin(path, len);
	/* O_NONBLOCK: opening a FIFO with no writer must not hang before the
	 * fstat below can refuse it. */
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "nestlab: cannot open %s '%s': %s\n", what, path, strerror(errno));
		return NULL;
	}
	struct stat st;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "nestlab: cannot stat %s '%s': %s\n", what, path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "nestlab: %s '%s' is %s: nestlab reads only regular files\n",
			what, path, kind_of(st.st_mode));
		goto fail;
	}
	if ((uint64_t)st.st_size > limit) {
		fprintf(stderr, "nestlab: %s '%s' is %llu bytes, more than guest RAM (%llu MiB): "
			"it cannot fit (try a larger --mem)\n", what, path,
			(unsigned long long)st.st_size, (unsigned long long)(limit >> 20));
		goto fail;
	}
	/* One byte more than RAM tells a file that grew since fstat. */
	size_t cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		fprintf(stderr, "nestlab: out of memory reading %s '%s'\n", what, path);
		goto fail;
	}
	long long n = read_upto(fd, buf, cap);
	if (n < 0) {
		fprintf(stderr, "nestlab: error reading %s '%s': %s\n", what, path, strerror(errno));
		goto fail;
	}
	if ((size_t)n == cap) {
		fprintf(stderr, "nestlab: %s '%s' grew while it was read\n", what, path);
		goto fail;
	}
	close(fd);
	*len = (size_t)n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* ISO 9660 (ECMA-119 8.1): the first volume descriptor at sector 16 (byte
 * 0x8000) carries the standard identifier "CD001" at offset 1. */
bool image_is_iso(const uint8_t *data, size_t len)
{
	return len >= 0x8006 && memcmp(data + 0x8001, "CD001", 5) == 0;
}

bool image_is_elf(const uint8_t *data, size_t len)
{
	return len >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0;
}
