/*
 * fuzz_loader.c - the Multiboot loader on mutated images: it must answer
 * every one with a load or an error message, never a crash, an out-of-range
 * access (run it under ASan: `-L fuzz` in the sanitizer build) or a silent
 * failure.
 *
 *   fuzz_loader [--seconds S] [--iters N] [--seed X] [IMAGE...]
 *
 * Seeds: the given images (CTest passes the boot-test kernel, an ELF64 with
 * the MB1 address fields) plus small MB1 ELF32 and MB2 images built here.
 * Each round takes a seed image and applies a few mutations: random bytes,
 * bit flips, "interesting" 32-bit values (0, -1, sizes, RAM edges) written
 * at header and ELF field offsets, and truncation.  The generator is a fixed
 * xorshift, so `--seed X --iters N` replays a run exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader.h"
#include "model.h"

#define RAM (4ull << 20)
#define MAX_IMG (1u << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct seed { uint8_t *d; size_t n; };

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* A minimal MB1 ELF32: one PT_LOAD of 0x200 bytes at 1 MiB. */
static struct seed mk_elf32(void)
{
	struct seed s = { calloc(1, 0x200), 0x200 };
	memcpy(s.d, "\x7f" "ELF\x01\x01\x01", 7);
	s.d[16] = 2; s.d[18] = 3;
	put32(s.d + 24, 0x100100); put32(s.d + 28, 52);
	s.d[42] = 32; s.d[44] = 1;
	put32(s.d + 52, 1); put32(s.d + 60, 0x100000); put32(s.d + 64, 0x100000);
	put32(s.d + 68, 0x200); put32(s.d + 72, 0x1000);
	put32(s.d + 0x80, MB1_HEADER_MAGIC); put32(s.d + 0x84, 3);
	put32(s.d + 0x88, -(MB1_HEADER_MAGIC + 3));
	return s;
}

/* A minimal MB2 image with address, entry and info-request tags. */
static struct seed mk_mb2(void)
{
	struct seed s = { calloc(1, 0x400), 0x400 };
	uint8_t *h = s.d + 0x40;
	uint32_t len = 16 + 24 + 16 + 16 + 8;
	put32(h, MB2_HEADER_MAGIC); put32(h + 8, len); put32(h + 12, -(MB2_HEADER_MAGIC + len));
	uint8_t *t = h + 16;
	put32(t, 2); put32(t + 4, 24); put32(t + 8, 0x200040); put32(t + 12, 0x200000);
	put32(t + 16, 0); put32(t + 20, 0x201000);
	t += 24;
	put32(t, 3); put32(t + 4, 12); put32(t + 8, 0x200100);
	t += 16;
	put32(t, 1); put32(t + 4, 16); put32(t + 8, 6); put32(t + 12, 1);
	t += 16;
	put32(t, 0); put32(t + 4, 8);
	return s;
}

static struct seed read_seed(const char *path)
{
	struct seed s = { malloc(MAX_IMG), 0 };
	FILE *f = fopen(path, "rb");
	if (!f || !s.d) {
		fprintf(stderr, "fuzz_loader: cannot read seed '%s'\n", path);
		exit(2);
	}
	s.n = fread(s.d, 1, MAX_IMG, f);
	fclose(f);
	return s;
}

static const uint32_t interesting[] = {
	0, 1, 0xffffffffu, 0x7fffffffu, 0x80000000u, 0x100000, 0x3fffff, 0x400000, 0x401000,
	0xfffff000u, 8, 12, 24, 52, 64, 0x1000, MB1_HEADER_MAGIC, MB2_HEADER_MAGIC,
};

static void mutate(uint8_t *d, size_t *n)
{
	int k = 1 + (int)(rnd() % 4);
	for (; k > 0 && *n > 0; k--) {
		size_t at = (size_t)(rnd() % *n);
		/* half the time aim at the first 0x200 bytes: ELF and MB headers */
		if (rnd() & 1)
			at = (size_t)(rnd() % (*n < 0x200 ? *n : 0x200)) & ~(size_t)3;
		switch (rnd() % 5) {
		case 0: d[at] = (uint8_t)rnd(); break;
		case 1: d[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
		case 2:
			if (at + 4 <= *n)
				put32(d + at, interesting[rnd() % (sizeof interesting / sizeof *interesting)]);
			break;
		case 3: *n = (size_t)(rnd() % (*n + 1)); break;
		case 4:  /* keep a changed header's checksum right, to get past it */
			for (size_t o = 0; o + 12 <= *n && o < 8192; o += 4)
				if (!memcmp(d + o, "\x02\xb0\xad\x1b", 4)) {
					uint32_t f;
					memcpy(&f, d + o + 4, 4);
					put32(d + o + 8, -(MB1_HEADER_MAGIC + f));
				}
			break;
		}
	}
}

int main(int argc, char **argv)
{
	double seconds = 3;
	uint64_t iters = 200000, seed = 1;
	struct seed seeds[16];
	int nseeds = 0;
	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--seconds") && k + 1 < argc)
			seconds = atof(argv[++k]);
		else if (!strcmp(argv[k], "--iters") && k + 1 < argc)
			iters = strtoull(argv[++k], NULL, 0);
		else if (!strcmp(argv[k], "--seed") && k + 1 < argc)
			seed = strtoull(argv[++k], NULL, 0);
		else if (nseeds < 14)
			seeds[nseeds++] = read_seed(argv[k]);
	}
	seeds[nseeds++] = mk_elf32();
	seeds[nseeds++] = mk_mb2();
	rng ^= seed * 0x2545f4914f6cdd1dull;
	static struct cpu c;
	if (cpu_init(&c, cpu_model_default(), RAM) < 0)
		return 2;
	uint8_t *buf = malloc(MAX_IMG);
	struct loader_module mod = { (const uint8_t *)"module", 6, "mod args" };
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t i, loaded = 0, refused = 0;
	for (i = 0; i < iters; i++) {
		if ((i & 255) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 > seconds)
				break;
		}
		struct seed *s = &seeds[rnd() % (uint64_t)nseeds];
		size_t n = s->n;
		memcpy(buf, s->d, n);
		mutate(buf, &n);
		struct loader_image im = { buf, n, "kernel cmdline", &mod, (unsigned)(rnd() % 2),
					   (int)(rnd() & 1) };
		struct loader_boot b;
		char err[256] = "";
		if (loader_multiboot(&c, &im, &b, err, sizeof err) == 0) {
			loaded++;
			if (b.entry >= RAM || b.info >= RAM) {
				fprintf(stderr, "fuzz_loader: iteration %llu: loaded, but entry %#x / info %#x "
					"outside RAM\n", (unsigned long long)i, b.entry, b.info);
				return 1;
			}
		} else {
			refused++;
			if (err[0] == 0) {
				fprintf(stderr, "fuzz_loader: iteration %llu: refused without a message\n",
					(unsigned long long)i);
				return 1;
			}
		}
	}
	printf("fuzz_loader: seed %llu, %llu images: %llu loaded, %llu refused with a message\n",
	       (unsigned long long)seed, (unsigned long long)i, (unsigned long long)loaded,
	       (unsigned long long)refused);
	free(buf);
	for (int k = 0; k < nseeds; k++)
		free(seeds[k].d);
	cpu_free(&c);
	return 0;
}
