/* fuzz_config.c - the INI configuration reader (libinih and our checks).
 *
 * A failure must say "fuzz.conf:LINE: message" with LINE inside the input
 * (or name the file without a line); a success must leave values inside
 * their documented ranges. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct config c;
	char err[1024];

	if (!text)
		return 0;
	config_init(&c);
	err[0] = '\0';
	if (config_load_string(&c, text, "fuzz.conf", err, sizeof(err))) {
		FUZZ_ASSERT(c.n_outputs <= CONFIG_MAX_OUTPUTS);
		FUZZ_ASSERT(c.flows_max > 0 && c.dns_cache_max > 0);
		FUZZ_ASSERT(strnlen(c.sensor_name, sizeof(c.sensor_name)) < sizeof(c.sensor_name));
		for (size_t i = 0; i < policy_group_count(c.policy); i++)
			FUZZ_ASSERT(policy_group_name(c.policy, i) != NULL);
	} else {
		FUZZ_ASSERT(strncmp(err, "fuzz.conf:", 10) == 0);
		long line = strtol(err + 10, NULL, 10);
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		FUZZ_ASSERT(line >= 0 && (size_t)line <= lines);
	}
	config_free(&c);
	free(text);
	return 0;
}
