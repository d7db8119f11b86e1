/* replay.c - run a fuzz target's entry point over files, without libFuzzer.
 *
 * Linked with one fuzz/fuzz_*.c by any C compiler, so `make check` replays
 * the inputs of tests/regress/TARGET/ (every finding that was fixed) through
 * the same harness code that found them, under the sanitizers when the
 * build has them, with no clang needed.
 *
 *     replay FILE...     exit 0 when every file ran to the end */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		size_t cap = 1 << 16, n = 0, got;
		uint8_t *buf = malloc(cap);
		while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
			n += got;
			if (n == cap) {
				uint8_t *bigger = realloc(buf, cap *= 2);
				if (!bigger)
					free(buf);
				buf = bigger;
			}
		}
		fclose(f);
		if (!buf) {
			fprintf(stderr, "%s: out of memory\n", argv[i]);
			return 2;
		}
		/* An exact-size copy, as libFuzzer gives, so overreads are caught. */
		uint8_t *exact = malloc(n ? n : 1);
		if (!exact)
			return 2;
		memcpy(exact, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
		printf("replayed %s (%zu bytes)\n", argv[i], n);
	}
	return 0;
}
