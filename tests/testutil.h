/* testutil.h - shared scaffolding for the Check unit tests. */
#ifndef APPLEMON_TESTUTIL_H
#define APPLEMON_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Each test file defines `Suite *make_suite(void)` and ends with TEST_MAIN. */
#define TEST_MAIN(make_suite_fn)                                        \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(make_suite_fn());          \
		srunner_run_all(sr, CK_NORMAL);                         \
		int failed = srunner_ntests_failed(sr);                 \
		srunner_free(sr);                                       \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;            \
	}

/* The ../shared corpus folder, or NULL when it is absent (tests using it
 * print that they skip). APPLEMON_SHARED overrides the location. */
static inline const char *shared_corpus_dir(void)
{
	static char path[512];
	const char *env = getenv("APPLEMON_SHARED");
	snprintf(path, sizeof(path), "%s/corpus", env ? env : "../shared");
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "SKIP: %s absent, corpus tests skipped\n", path);
		return NULL;
	}
	return path;
}

#endif
