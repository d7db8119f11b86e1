/* fuzz_signatures.c - the signature file reader, merged into a loaded set.
 *
 * The input is one signature file loaded on top of a small set, so both
 * the line parser and the cross-file conflict checks run. A file that fails
 * must name a line within the file and leave the set as it was; one that
 * loads must answer lookups. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"
#include "signatures.h"

static const char base[] =
	"domain apple.com apple\n"
	"domain push.apple.com push\n"
	"host captive.apple.com captive-portal\n"
	"prefix 17.0.0.0/8 apple\n"
	"prefix 2620:149::/32 apple\n"
	"asn 714 apple\n"
	"port tcp/5223 push\n";

static const char *const names[] = {
	"apple.com", "www.APPLE.com.", "init.push.apple.com", "captive.apple.com",
	"x.captive.apple.com", "icloud.com", "", ".", "..", "com", "a.b.c.d.e.f.g",
};

static const char *const addrs[] = {
	"17.1.2.3", "10.0.0.1", "2620:149::1", "::ffff:17.0.0.1", "::", "255.255.255.255",
};

static void lookups(const struct sigset *s, const uint8_t *data, size_t size)
{
	struct domain_match dm;
	struct addr_match am;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sigset_match_domain(s, names[i], &dm))
			FUZZ_ASSERT(dm.pattern && dm.service != SVC_NONE);
	/* The input's first line as a name, too. */
	char name[300];
	size_t n = 0;
	while (n < size && n < sizeof(name) - 1 && data[n] != '\n' && data[n] != '\0') {
		name[n] = (char)data[n];
		n++;
	}
	name[n] = '\0';
	(void)sigset_match_domain(s, name, &dm);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct ip_addr a;
		FUZZ_ASSERT(addr_parse(addrs[i], &a));
		if (sigset_match_addr(s, &a, &am))
			FUZZ_ASSERT(prefix_contains(&am.prefix, &a));
	}
	for (unsigned port = 0; port < 65536; port += 4093)
		(void)sigset_match_port(s, (uint8_t)(port & 1 ? 6 : 17), (uint16_t)port);
	(void)sigset_match_asn(s, 714);
	(void)sigset_match_asn(s, (uint32_t)size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigset *s = sigset_new();
	struct sig_error err;
	struct sigset_counts before, after;

	if (!s)
		return 0;
	FUZZ_ASSERT(sigset_load_string(s, base, sizeof(base) - 1, "base.sig", &err));
	sigset_get_counts(s, &before);
	char *text = (char *)fuzz_dup(data, size);
	if (!text) {
		sigset_free(s);
		return 0;
	}
	memset(&err, 0, sizeof(err));
	if (sigset_load_string(s, text, size, "fuzz.sig", &err)) {
		lookups(s, data, size);
	} else {
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		FUZZ_ASSERT(err.line >= 0 && (size_t)err.line <= lines);
		FUZZ_ASSERT(strcmp(err.file, "fuzz.sig") == 0);
		FUZZ_ASSERT(err.msg[0] && strnlen(err.msg, sizeof(err.msg)) < sizeof(err.msg));
		sigset_get_counts(s, &after);
		FUZZ_ASSERT(memcmp(&before, &after, sizeof(before)) == 0);
		lookups(s, data, size);
	}
	free(text);
	sigset_free(s);
	return 0;
}
