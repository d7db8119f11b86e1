/* fuzz_policy.c - policy groups from prefix lists, and address matching.
 *
 * Input: lines; each three lines are one group (name, hosts, exempt), at
 * most eight groups. Every line is also read as an address and as a prefix,
 * and what reads must print and read back the same. The input's bytes,
 * 16 at a time, are then matched against the policy. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"
#include "policy.h"

static void round_trip(const char *s)
{
	struct ip_addr a, b;
	struct ip_prefix p;
	char text[ADDR_STRLEN];
	if (addr_parse(s, &a)) {
		addr_format(&a, text);
		FUZZ_ASSERT(addr_parse(text, &b) && addr_eq(&a, &b));
	}
	if (prefix_parse(s, &p)) {
		FUZZ_ASSERT(p.len <= 128);
		FUZZ_ASSERT(prefix_contains(&p, &p.addr));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct policy *pol = policy_new();
	char *line[24];
	size_t n = 0;
	char err[256];

	if (!text || !pol) {
		free(text);
		policy_free(pol);
		return 0;
	}
	for (char *s = text; n < 24;) {
		line[n++] = s;
		char *nl = strchr(s, '\n');
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	for (size_t i = 0; i < n; i++) {
		round_trip(line[i]);
		(void)policy_check_list(line[i], err, sizeof(err));
	}
	for (size_t i = 0; i + 1 < n; i += 3) {
		const char *exempt = i + 2 < n ? line[i + 2] : NULL;
		if (!policy_add_group(pol, line[i], line[i + 1], exempt, err, sizeof(err)))
			FUZZ_ASSERT(err[0] && strnlen(err, sizeof(err)) < sizeof(err));
	}
	size_t groups = policy_group_count(pol);
	for (size_t off = 0; off < size; off += 16) {
		uint8_t raw[16] = { 0 };
		memcpy(raw, data + off, size - off < 16 ? size - off : 16);
		struct ip_addr a6, a4;
		addr_from_v6(&a6, raw);
		addr_from_v4(&a4, raw);
		const struct ip_addr *as[2] = { &a6, &a4 };
		for (int k = 0; k < 2; k++) {
			const char *g = policy_match(pol, as[k]);
			if (!g)
				continue;
			bool known = groups == 0 && strcmp(g, POLICY_ALL) == 0;
			for (size_t i = 0; i < groups && !known; i++)
				known = strcmp(g, policy_group_name(pol, i)) == 0;
			FUZZ_ASSERT(known);
		}
	}
	policy_free(pol);
	free(text);
	return 0;
}
